"""``job-console run BATCH.jsonl`` streamed: the engine holds at most the ``--in-flight`` window
of jobs however long the batch, every line is printed once with its ``line``, and a batch
interrupted half-way records the lines it never sent as NOT_SENT, for ``resume --resend-not-sent``.
Against a sandbox over loopback and the real history file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gui.cli import main
from gui.core.engine.engine import Engine
from gui.core.events import EngineEvent
from gui.core.storage.store import DB_FILENAME
from gui.sandbox import SandboxConfig, SandboxThread
from tests.support.engine_fixtures import watch_held_jobs


def write_batch(folder: Path, count: int) -> Path:
    path = folder / "batch.jsonl"
    path.write_text("".join(json.dumps({"input": {"n": n}}) + "\n" for n in range(count)))
    return path


def states(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())


def test_a_long_batch_holds_at_most_its_window_of_jobs_and_prints_each_line_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    held = watch_held_jobs(monkeypatch)
    batch = write_batch(tmp_path, 150)
    with SandboxThread(SandboxConfig(workers=8, default_duration_s=0.01)) as server:
        target = ["--endpoint", "ep", "--base-url", server.base_url]
        assert main(["run", str(batch), *target, "--in-flight", "10"]) == 0
    out, err = capsys.readouterr()
    printed = [json.loads(line) for line in out.splitlines()]
    assert sorted(s["line"] for s in printed) == list(range(1, 151))
    assert all(s["output"] == {"n": s["line"] - 1} for s in printed)
    assert "150/150 finished" in err and "150 job(s): 150 reached the endpoint" in err
    assert held.events > 150 and 1 <= held.peak <= 10  # the ended jobs were let go
    assert states(data_dir) == {"COMPLETED": 150}  # the store holds every one


def test_an_interrupted_batch_records_its_unsent_lines_and_resume_sends_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    jobs, window = 60, 4
    held = watch_held_jobs(monkeypatch)
    watched_start = Engine.start
    completed = 0

    def start(self: Engine, *, wait: bool = True) -> Any:
        def on_event(event: EngineEvent) -> None:
            nonlocal completed
            record = getattr(event, "record", None)
            if record is not None and str(record.state) == "COMPLETED":
                completed += 1
                if completed == 5:  # SIGTERM to this process: the run's handler stops it
                    os.kill(os.getpid(), signal.SIGTERM)

        if self.kind == "run":
            self.subscribe(on_event)
        return watched_start(self, wait=wait)

    monkeypatch.setattr(Engine, "start", start)
    batch = write_batch(tmp_path, jobs)
    with SandboxThread(SandboxConfig(workers=2, default_duration_s=0.05)) as server:
        target = ["--endpoint", "ep", "--base-url", server.base_url]
        assert main(["run", str(batch), *target, "--in-flight", str(window)]) == 143
        out, err = capsys.readouterr()
        printed = [json.loads(line) for line in out.splitlines()]
        assert sorted(s["line"] for s in printed) == list(range(1, jobs + 1))  # each line once
        never_sent = [s for s in printed if s["status"] == "NOT_SENT"]
        assert len(never_sent) >= jobs - 5 - window  # the lines not read yet are recorded
        for status in never_sent:
            assert "interrupted (SIGTERM)" in status["note"] and status["id"] is None
            assert status["request"] == {"input": {"n": status["line"] - 1}}
        assert f"{len(never_sent)} not sent" in err
        # The queued jobs stay followed until the end, beside the window recording the unsent
        # lines (each let go once printed): never more than twice the window.
        assert 1 <= held.peak <= 2 * window
        assert sum(states(data_dir).values()) == jobs
        assert states(data_dir)["NOT_SENT"] == len(never_sent)

        assert main(["resume", "--resend-not-sent", "--timeout", "120"]) == 0
    out, err = capsys.readouterr()
    assert f"sending {len(never_sent)} NOT_SENT job(s) again" in err
    assert states(data_dir) == {"COMPLETED": jobs}
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        inputs = [json.loads(r)["input"]["n"] for (r,) in conn.execute("SELECT request FROM jobs")]
    assert sorted(inputs) == list(range(jobs))


def test_a_batch_whose_timeout_passes_records_the_lines_not_sent_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps({"input": {"n": n, "sandbox": {"duration": 30}}}) + "\n"
                             for n in range(3)))  # fmt: skip
    assert main(["run", str(batch), "--in-flight", "1", "--timeout", "1"]) == 1
    out, err = capsys.readouterr()
    printed = {s["line"]: s for s in map(json.loads, out.splitlines())}
    assert sorted(printed) == [1, 2, 3]
    assert printed[1]["status"] in ("IN_QUEUE", "IN_PROGRESS") and printed[1]["id"]
    for line in (2, 3):
        assert printed[line]["status"] == "NOT_SENT"
        assert "--timeout of 1 s passed before this request left" in printed[line]["note"]
    assert "--timeout passed with 1 job not finished" in err
    assert "3 job(s): 1 reached the endpoint" in err and "2 not sent" in err
