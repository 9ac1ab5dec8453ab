"""``job-console engine``: the window's engine process, hidden from ``--help``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from gui.cli import build_parser, named_verb
from gui.core.engine.process.remote import engine_command
from gui.core.storage.store import DB_FILENAME


def test_the_engine_verb_is_not_in_help_but_parses() -> None:
    parser = build_parser()
    assert "engine" not in parser.format_help()
    assert named_verb(["engine", "--data-dir", "D"]) == "engine"
    after = parser.parse_args(["engine", "--data-dir", "D"])
    assert (after.verb, after.data_dir) == ("engine", "D")
    before = parser.parse_args(["--data-dir", "E", "engine"])  # the top-level option is kept
    assert (before.verb, before.data_dir) == ("engine", "E")


@pytest.mark.slow
def test_the_engine_process_ends_cleanly_when_its_window_goes_away(data_dir: Path) -> None:
    process = subprocess.Popen(
        engine_command(data_dir), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(b'{"id": 1, "op": "no-such-op"}\n')
        process.stdin.flush()
        lines = [json.loads(process.stdout.readline()) for _ in range(2)]
        assert {"event": "started"} in lines
        [reply] = [line for line in lines if line.get("id") == 1]
        assert reply["error"]["type"] == "ValueError"
        assert "has no command 'no-such-op'" in reply["error"]["message"]
        with sqlite3.connect(data_dir / DB_FILENAME) as conn:
            assert conn.execute("SELECT kind FROM consoles").fetchall() == [("window",)]
        process.stdin.close()  # the window is gone
        assert process.wait(timeout=60) == 0
        assert process.stdout.read() == b""  # nothing after: no stray print on the wire
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        assert conn.execute("SELECT kind FROM consoles").fetchall() == []  # the lease released
