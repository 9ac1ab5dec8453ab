#!/usr/bin/env bash
# Builds the one-folder bundle from a clean virtual environment, prints its size, and runs the
# bundled app's smoke check (open the window offscreen, run one job on the built-in sandbox).
# Usage: bash packaging/build.sh            (output in packaging/dist/job-console/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work="$here/build"
rm -rf "$work" "$here/dist"
python3 -m venv "$work/venv"
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
pip install -q --upgrade pip
pip install -q "$root" "pyinstaller>=6.5"
# The README's first command is this install: the installed app must pass the smoke check too.
QT_QPA_PLATFORM=offscreen JOB_CONSOLE_HOME="$work/smoke-installed" timeout 120 job-console --smoke
echo "installed app smoke check passed"
pyinstaller --noconfirm --clean --log-level WARN \
  --workpath "$work/pyinstaller" --distpath "$here/dist" "$here/job-console.spec"
bundle="$here/dist/job-console"
echo "bundle: $bundle"
echo "bundle size: $(du -sh "$bundle" | cut -f1) ($(find "$bundle" -type f | wc -l) files)"
"$bundle/job-console" --version
QT_QPA_PLATFORM=offscreen JOB_CONSOLE_HOME="$work/smoke-home" timeout 120 "$bundle/job-console" --smoke
echo "bundle smoke check passed"
