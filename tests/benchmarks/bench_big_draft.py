"""Start-up with a big saved draft (a body holding a base64 image), run by hand.

    python tests/benchmarks/bench_big_draft.py [--runs 5] [--draft-mb 11]

``bench_startup.py``'s approach: each program started afresh several times in alternation, the
time measured from spawning the process to a line it prints, medians reported:
- ``job-console`` on a data folder without a draft (it opens the first example);
- ``job-console`` on a data folder whose draft holds a ``--draft-mb`` body on one line.
Each prints ``startup-idle`` once its window is shown with its event loop idle, then
``draft-shown`` once the editor holds its text (the draft, or the example). Issue 13: an 11 MB
draft held the start some 5 s; the window must show as soon as without one, the draft after.
To compare with a version before the change, run this file with that version first on
PYTHONPATH (its ``gui`` is imported instead). Nothing is asserted: the figures are printed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_startup import install_kind, probe_environment

# The app as a launcher starts it, with a probe in place of the start-up probe: it reports the
# window shown and idle, then the editor's text in place (polled: the check must not change
# how the text arrives), then quits.
APP = """
import sys
from PySide6.QtCore import QTimer
import gui.smoke

def probe(app, window=None):
    poll = QTimer(app)

    def text_shown():
        request = window.request
        if not request.editor.document().isEmpty() and not getattr(request, "restoring", False):
            poll.stop()
            print("draft-shown", flush=True)
            app.quit()

    def report():
        print("startup-idle", flush=True)
        poll.timeout.connect(text_shown)
        poll.start(5)
        text_shown()

    QTimer.singleShot(0, lambda: QTimer.singleShot(0, report))

gui.smoke.install_startup_probe = probe
from gui.cli import main
sys.exit(main([]))
"""


def write_big_draft(data_dir: Path, megabytes: float) -> int:
    from gui.ui.request.drafts import DRAFT_FILE, write_draft

    image = base64.b64encode(os.urandom(int(megabytes * 1_000_000 * 3 / 4))).decode()
    write_draft(data_dir, json.dumps({"input": {"image": image}}), None, False, None)
    return (data_dir / DRAFT_FILE).stat().st_size


def time_once(env: dict[str, str]) -> dict[str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", APP], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    figures: dict[str, float] = {}
    for line in process.stdout:
        if line.startswith("startup-idle") and "idle" not in figures:
            figures["idle"] = time.perf_counter() - started
        elif line.startswith("draft-shown") and "text" not in figures:
            figures["text"] = time.perf_counter() - started
    process.wait(timeout=300)
    if "idle" not in figures or "text" not in figures:
        raise SystemExit(f"the app never reported its window and text (exit {process.returncode})")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--draft-mb", type=float, default=11.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = probe_environment(tmp)
        plain, drafted = Path(tmp, "plain"), Path(tmp, "drafted")
        plain.mkdir()
        drafted.mkdir()
        size = write_big_draft(drafted, options.draft_mb)
        programs = {
            "job-console, no draft": dict(env, JOB_CONSOLE_HOME=str(plain)),
            f"job-console, {size / 1e6:.1f} MB draft": dict(env, JOB_CONSOLE_HOME=str(drafted)),
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in programs}
        for program_env in programs.values():  # warm the file cache once
            time_once(program_env)
        for _ in range(options.runs):
            for name, program_env in programs.items():
                runs[name].append(time_once(program_env))
    print(f"start-up, median of {options.runs} runs (offscreen), {install_kind()}:")
    base = statistics.median(figures["idle"] for figures in runs["job-console, no draft"])
    for name, figures in runs.items():
        idle = statistics.median(f["idle"] for f in figures)
        text = statistics.median(f["text"] for f in figures)
        print(
            f"  {name:28s} window shown and idle {idle * 1000:6.0f} ms ({idle / base:4.2f}x "
            f"without a draft); its text in the editor {text * 1000:6.0f} ms"
        )


if __name__ == "__main__":
    main()
