"""An engine killed with SIGKILL while 500 jobs are in flight: a new engine finishes every one.

A subprocess engine submits 500 jobs to a sandbox living in this test process, waits until the
history holds every job id (the store's flush), says so, and is killed at once, while the jobs are
still queued and running. A second engine on the same data folder reloads the history, resumes
polling, and follows all 500 to COMPLETED; the history holds each job exactly once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gui.core.engine.engine import Engine
from gui.core.engine.tracker import PollPolicy
from gui.core.records import JobRecord, JobState
from gui.core.storage.history import HistoryReader
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import Target
from gui.sandbox import SandboxConfig, SandboxServer, SandboxThread
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

JOBS = 500

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from gui.core.engine.engine import Engine
    from gui.core.targets import Target

    data_dir, base_url, jobs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    engine = Engine(data_dir)
    engine.start()
    target = Target(name="crash", kind="cloud", base_url=base_url, endpoint_id="ep")
    futures = [engine.submit(target, {"input": {"n": n}}) for n in range(jobs)]
    for future in futures:
        future.result()
    engine.flush().result()
    print("SUBMITTED", flush=True)
    time.sleep(600)  # killed long before this ends
    """
)


@pytest.mark.integration
def test_sigkill_mid_flight_then_restart_finishes_every_job(data_dir: Path) -> None:
    # 500 jobs of 0.3 s on 20 workers: about 7.5 s of work, so most are in flight at the kill.
    config = SandboxConfig(workers=20, default_duration_s=0.3)
    with SandboxThread(config) as server:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), server.base_url, str(JOBS)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line.strip() == "SUBMITTED", f"child said {line!r}"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        assert child.returncode == -signal.SIGKILL

        with sqlite3.connect(data_dir / DB_FILENAME) as conn:
            open_at_kill = conn.execute(
                "SELECT count(*) FROM jobs WHERE state IN ('IN_QUEUE', 'IN_PROGRESS')"
            ).fetchone()[0]
        assert open_at_kill > JOBS // 2, "the jobs should still be in flight at the kill"

        target = Target(name="crash", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        engine = Engine(
            data_dir,
            sandbox=SandboxServer,
            poll_policy=PollPolicy(first_s=0.1, min_s=0.1, max_s=1.0),
        )
        engine.start()
        try:
            wait_until(
                lambda: all(r.terminal for r in engine.jobs()),
                "every job ended after the restart",
                timeout=60,
            )
            engine.flush().result(timeout=30)
            records = _whole_history(data_dir)  # the engine holds only the unfinished jobs
            health = engine.health(target).result(timeout=10)
        finally:
            engine.close()

    assert len(records) == JOBS
    assert all(r.state == JobState.COMPLETED for r in records)
    assert sorted(r.output["n"] for r in records) == list(range(JOBS))
    assert health["jobs"]["completed"] == JOBS  # the sandbox ran each job once: none resent
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT job_id) FROM jobs"
        ).fetchone()
    assert rows == distinct == JOBS


CHILD_MID_SUBMIT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from gui.core.engine.engine import Engine
    from gui.core.targets import Target

    data_dir, base_url, jobs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    engine = Engine(data_dir)
    engine.start()
    target = Target(name="crash", kind="cloud", base_url=base_url, endpoint_id="ep")
    futures = [engine.submit(target, {"input": {"n": n}}) for n in range(jobs)]
    while sum(f.done() for f in futures) < jobs // 4:
        time.sleep(0.01)
    engine.flush().result()
    print("HALFWAY", flush=True)
    time.sleep(600)
    """
)


@pytest.mark.integration
def test_sigkill_while_sending_leaves_no_job_open_and_none_unaccounted(data_dir: Path) -> None:
    """Killed while requests are on the wire: jobs whose answer never came are NOT_SENT with a
    note (the endpoint may have queued some of them), every other job is followed to its end."""
    from gui.sandbox import FaultConfig

    config = SandboxConfig(workers=50, default_duration_s=0.2,
                           faults=FaultConfig(latency_ms=(20, 200)))  # fmt: skip
    with SandboxThread(config) as server:
        target = Target(name="crash", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD_MID_SUBMIT, str(data_dir), server.base_url, str(JOBS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "HALFWAY"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)

        engine = Engine(
            data_dir,
            sandbox=SandboxServer,
            poll_policy=PollPolicy(first_s=0.1, min_s=0.1, max_s=1.0),
        )
        engine.start()
        try:
            wait_until(
                lambda: all(r.terminal for r in engine.jobs()),
                "every job ended after the restart",
                timeout=60,
            )
            engine.flush().result(timeout=30)
            records = _whole_history(data_dir)  # the engine holds only the unfinished jobs

            def sandbox_idle() -> dict[str, Any] | None:
                """The sandbox's health once it ran every job it queued (some queued by requests
                whose answer was lost with the killed console)."""
                health: dict[str, Any] = engine.health(target).result(timeout=10)
                jobs = health["jobs"]
                return health if jobs["inQueue"] == jobs["inProgress"] == 0 else None

            health = wait_until(sandbox_idle, "the sandbox ran every job it queued", timeout=60)
        finally:
            engine.close()

    states = {r.state for r in records}
    assert states <= {JobState.COMPLETED, JobState.NOT_SENT}, states
    completed = [r for r in records if r.state == JobState.COMPLETED]
    not_sent = [r for r in records if r.state == JobState.NOT_SENT]
    assert len(completed) >= JOBS // 4 and all(r.job_id for r in completed)
    assert all(r.job_id is None and "stopped while" in (r.note or "") for r in not_sent)
    ran = health["jobs"]["completed"]
    # Every job the sandbox ran is in the history: followed to COMPLETED, or NOT_SENT saying so.
    assert len(completed) <= ran <= len(completed) + len(not_sent)


def _whole_history(data_dir: Path) -> list[JobRecord]:
    """Every job of the history file, whole."""
    with HistoryReader(data_dir / DB_FILENAME) as reader:
        rows = reader.page(limit=reader.count())
        found = [reader.get(row.local_id) for row in rows]
    return [record for record in found if record is not None]
