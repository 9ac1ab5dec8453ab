"""Which verb a command line names: the window's start imports no verb's module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gui.cli import VERBS, build_parser, named_verb, window_defaults


@pytest.mark.parametrize(
    ("argv", "verb"),
    [
        ([], None),
        (["--data-dir", "/tmp/x"], None),
        (["--data-dir", "run"], None),  # a folder named like a verb is a value, not the verb
        (["--profile=run", "--smoke"], None),
        (["--prof", "sandbox"], None),  # argparse's abbreviations take their value too
        (["run", "body.json", "--sync"], "run"),
        (["--data-dir", "/tmp/x", "validate", "a.json"], "validate"),
    ],
)
def test_named_verb_reads_the_top_level_like_the_parser(argv: list[str], verb: str | None) -> None:
    assert named_verb(argv) == verb
    assert build_parser().parse_args(argv).verb == verb  # as the whole parser reads it


def test_the_window_start_builds_the_parser_without_any_verb_module() -> None:
    probe = (
        "import sys\n"
        "from gui.cli import build_parser, named_verb\n"
        "args = build_parser(only=()).parse_args(['--data-dir', 'somewhere'])\n"
        "assert args.verb is None and args.data_dir == 'somewhere'\n"
        f"print(' '.join(m for m, _ in {list(VERBS.values())!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == []


def test_cli_help_imports_no_qt() -> None:
    # At run time, not in the import graph (lint-imports sees gui.cli's lazy import of gui.app):
    # building the whole parser loads no PySide6, so every verb starts without Qt.
    script = (
        "import sys\n"
        "from gui.cli import build_parser\n"
        "build_parser()\n"
        "print(any(m.startswith('PySide6') for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_no_argument_means_what_the_parser_makes_of_none() -> None:
    # The launcher's start skips the parser: its stand-in must read the same.
    assert vars(window_defaults()) == vars(build_parser().parse_args([]))
    assert vars(window_defaults()) == vars(build_parser(only=()).parse_args([]))


def test_a_named_verb_gets_its_own_options_only() -> None:
    args = build_parser(only=("sandbox",)).parse_args(["sandbox", "--workers", "3"])
    assert args.verb == "sandbox" and args.workers == 3
