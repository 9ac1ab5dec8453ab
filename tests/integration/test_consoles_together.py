"""Several consoles on one data folder at once: real ``job-console run`` subprocesses, a window's
engine in this process, a sandbox over loopback and the real SQLite history.

Every job is followed once and ends in its true state; no console writes a false NOT_SENT step
into another's job; a killed batch is taken over by the console still running; and the window
shows the jobs another process adds, as they change.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gui.core.engine import leases
from gui.core.engine.engine import Engine
from gui.core.events import EngineEvent, JobAdded, JobChanged
from gui.core.records import JobState
from gui.core.storage.store import DB_FILENAME
from gui.sandbox import FaultConfig, SandboxConfig, SandboxServer, SandboxThread
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def console(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gui", "--data-dir", str(data_dir), *args]


def write_batch(path: Path, jobs: int, tag: str) -> Path:
    path.write_text(
        "".join(json.dumps({"input": {"tag": tag, "n": n}}) + "\n" for n in range(jobs)),
        encoding="utf-8",
    )
    return path


def rows(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    if not (data_dir / DB_FILENAME).exists():
        return []
    try:
        with sqlite3.connect(data_dir / DB_FILENAME) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the tables are being made
        return []


def count(data_dir: Path, where: str) -> int:
    found = rows(data_dir, f"SELECT count(*) FROM jobs WHERE {where}")
    return int(found[0][0]) if found else 0  # type: ignore[call-overload]


def false_steps(data_dir: Path) -> list[tuple[object, ...]]:
    """History steps NOT_SENT of jobs that have an id: a console called a sent job unsent."""
    return rows(
        data_dir,
        "SELECT h.local_id FROM job_history h JOIN jobs j ON j.local_id = h.local_id "
        "WHERE h.state = 'NOT_SENT' AND j.job_id IS NOT NULL",
    )


def sandbox() -> SandboxThread:
    # Slow answers to /run: many jobs stay SUBMITTING for a while, as with a busy endpoint.
    faults = FaultConfig(latency_ms=(200, 900))
    return SandboxThread(SandboxConfig(workers=40, default_duration_s=0.5, faults=faults))


@pytest.mark.integration
def test_a_window_opened_during_a_cli_batch_shows_its_jobs_live_and_takes_none(
    data_dir: Path, tmp_path: Path
) -> None:
    jobs = 120
    batch = write_batch(tmp_path / "batch.jsonl", jobs, "cli")
    seen: dict[str, JobState] = {}

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, JobAdded | JobChanged):
            seen[event.record.local_id] = event.record.state

    with sandbox() as server:
        run = subprocess.Popen(
            console(data_dir, "run", str(batch), "--endpoint", "ep", "--base-url", server.base_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(
                lambda: count(data_dir, "state = 'SUBMITTING'") > 0,
                "the batch is sending",
                timeout=120,
            )
            window = Engine(data_dir, sandbox=SandboxServer)
            window.subscribe(on_event)
            window.start()
            try:
                out, err = run.communicate(timeout=180)
                ended = {"COMPLETED"}
                wait_until(
                    lambda: len(seen) == jobs and set(map(str, seen.values())) == ended,
                    "the window saw every job of the batch end",
                    timeout=120,
                )
                taken = window.resumed
            finally:
                window.close()
        finally:
            run.kill()
    assert run.returncode == 0, err
    statuses = [json.loads(line) for line in out.splitlines()]
    assert [s["status"] for s in statuses] == ["COMPLETED"] * jobs
    assert taken == ()
    assert false_steps(data_dir) == []
    assert count(data_dir, "state = 'COMPLETED'") == jobs
    assert server.server.routes.endpoints["ep"].job_count == jobs  # each sent once


@pytest.mark.integration
def test_two_cli_batches_on_one_folder_each_follow_their_own_jobs(
    data_dir: Path, tmp_path: Path
) -> None:
    jobs = 80

    def start(tag: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            console(
                data_dir,
                "run",
                str(write_batch(tmp_path / f"{tag}.jsonl", jobs, tag)),
                "--endpoint",
                "ep",
                "--base-url",
                server.base_url,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    with sandbox() as server:
        runs = [start("a")]
        try:
            wait_until(
                lambda: count(data_dir, "state = 'SUBMITTING'") > 0,
                "batch a is sending",
                timeout=120,
            )
            runs.append(start("b"))
            results = [run.communicate(timeout=180) for run in runs]
        finally:
            for run in runs:
                run.kill()
    for run, (out, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
        assert [json.loads(line)["status"] for line in out.splitlines()] == ["COMPLETED"] * jobs
    assert false_steps(data_dir) == []
    assert rows(data_dir, "SELECT count(*) FROM job_history WHERE state = 'NOT_SENT'") == [(0,)]
    assert count(data_dir, "state = 'COMPLETED'") == 2 * jobs


@pytest.mark.integration
def test_a_killed_batch_is_taken_over_by_the_window_that_runs_beside_it(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "HEARTBEAT_S", 0.2)
    jobs = 30
    batch = write_batch(tmp_path / "batch.jsonl", jobs, "killed")
    config = SandboxConfig(workers=10, default_duration_s=2)
    with SandboxThread(config) as server:
        run = subprocess.Popen(
            console(data_dir, "run", str(batch), "--endpoint", "ep", "--base-url", server.base_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(
                lambda: count(data_dir, "job_id IS NOT NULL") == jobs, "all sent", timeout=120
            )
            window = Engine(data_dir, sandbox=SandboxServer)
            window.start()
            try:
                assert window.resumed == ()  # the batch is alive: its jobs are its own
                run.send_signal(signal.SIGKILL)
                run.wait(timeout=10)
                wait_until(
                    lambda: count(data_dir, "state = 'COMPLETED'") == jobs,
                    "the window followed the killed batch's jobs to their end",
                    timeout=120,
                )
                states = {r.state for r in window.jobs()}
            finally:
                window.close()
        finally:
            run.kill()
    assert states == {JobState.COMPLETED}
    assert false_steps(data_dir) == []
    assert server.server.routes.endpoints["ep"].job_count == jobs
