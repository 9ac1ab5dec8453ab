"""``job-console run`` stopped by a signal, and a killed batch taken over by ``job-console resume``.

Real subprocesses, real signals, a sandbox over loopback and the real SQLite history:

- SIGTERM (or SIGINT) while a batch is being sent: the console stops sending, records each job
  truthfully (sent jobs keep their id; the others are NOT_SENT with a note saying the console was
  interrupted, and whether the request had left), closes its HTTP sessions, and exits 143 (130).
- SIGKILL while a batch runs: ``job-console resume`` on the same data folder follows every job to
  its end, and the sandbox ran each once.
"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gui.core.storage.store import DB_FILENAME
from gui.sandbox import FaultConfig, SandboxConfig, SandboxThread
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def console(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gui", "--data-dir", str(data_dir), *args]


def write_batch(folder: Path, bodies: list[dict[str, object]]) -> Path:
    path = folder / "batch.jsonl"
    path.write_text("".join(json.dumps(body) + "\n" for body in bodies), encoding="utf-8")
    return path


def count_rows(data_dir: Path, where: str) -> int:
    """Rows of the history matching ``where``; 0 while the file does not exist yet."""
    if not (data_dir / DB_FILENAME).exists():
        return 0
    try:
        with sqlite3.connect(data_dir / DB_FILENAME) as conn:
            return int(conn.execute(f"SELECT count(*) FROM jobs WHERE {where}").fetchone()[0])
    except sqlite3.OperationalError:  # the table is being created
        return 0


@pytest.mark.integration
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_batch_stops_sending_and_records_every_job_truthfully(
    data_dir: Path, tmp_path: Path, signum: int, code: int
) -> None:
    jobs = 300  # more than the 200 requests the client keeps in flight: some wait their turn
    name = signal.Signals(signum).name
    batch = write_batch(tmp_path, [{"input": {"n": n}} for n in range(jobs)])
    faults = FaultConfig(latency_ms=(300, 1200))
    with SandboxThread(SandboxConfig(workers=50, default_duration_s=5, faults=faults)) as server:
        child = subprocess.Popen(
            console(data_dir, "run", str(batch), "--endpoint", "ep", "--base-url", server.base_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(
                lambda: count_rows(data_dir, "job_id IS NOT NULL") > 0, "a job was sent", timeout=60
            )
            child.send_signal(signum)
            out, err = child.communicate(timeout=90)
        finally:
            child.kill()
        time.sleep(1.5)  # requests that were on the wire reach their handler (latency <= 1.2 s)
        queued = server.server.routes.endpoints["ep"].job_count

    assert child.returncode == code, err
    assert "Traceback" not in err and "Unclosed" not in err, err
    statuses = [json.loads(line) for line in out.splitlines()]
    assert len(statuses) == jobs
    sent = [s for s in statuses if s["status"] != "NOT_SENT"]
    not_sent = [s for s in statuses if s["status"] == "NOT_SENT"]
    assert sent and not_sent
    assert all(s["id"] for s in sent) and all(s["id"] is None for s in not_sent)
    on_the_wire = [s for s in not_sent if "on its way" in s["note"]]
    never_left = [s for s in not_sent if "never saw it" in s["note"]]
    assert len(on_the_wire) + len(never_left) == len(not_sent)
    for status in not_sent:
        assert f"interrupted ({name})" in status["note"]
        assert "closed the connection" not in status["note"]
        assert status["line"] == status["request"]["input"]["n"] + 1
    assert f"interrupted ({name})" in err and f"{len(not_sent)} not sent" in err
    # The history says the same: nothing left SUBMITTING, every NOT_SENT without an id.
    assert count_rows(data_dir, "state = 'SUBMITTING'") == 0
    assert count_rows(data_dir, "state = 'NOT_SENT' AND job_id IS NULL") == len(not_sent)
    assert count_rows(data_dir, "job_id IS NOT NULL") == len(sent)
    # The sandbox queued every job that got an id, and otherwise only requests cut off on the wire.
    assert len(sent) <= queued <= len(sent) + len(on_the_wire)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.integration
def test_a_killed_batch_is_followed_to_its_end_by_resume(data_dir: Path, tmp_path: Path) -> None:
    jobs = 20
    port = free_port()
    serve = ["sandbox", "--port", str(port), "--workers", "10", "--duration", "2", "--quiet"]
    sandbox = subprocess.Popen(
        console(data_dir, *serve),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: answers(port), "the sandbox listens", timeout=60)
        base_url = f"http://127.0.0.1:{port}/v2"
        batch = write_batch(tmp_path, [{"input": {"n": n}} for n in range(jobs)])
        run = subprocess.Popen(
            console(data_dir, "run", str(batch), "--endpoint", "ep", "--base-url", base_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(
                lambda: count_rows(data_dir, "job_id IS NOT NULL") == jobs, "all sent", timeout=60
            )
        finally:
            run.send_signal(signal.SIGKILL)
            run.wait(timeout=10)
        assert run.returncode == -signal.SIGKILL
        # 20 jobs of 2 s on 10 workers: most are still queued or running at the kill.
        assert count_rows(data_dir, "state IN ('IN_QUEUE', 'IN_PROGRESS')") > jobs // 2

        resumed = subprocess.run(
            console(data_dir, "resume"), capture_output=True, text=True, timeout=120
        )
        import httpx

        health = httpx.get(f"{base_url}/ep/health", timeout=10).json()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)

    assert resumed.returncode == 0, resumed.stderr
    statuses = [json.loads(line) for line in resumed.stdout.splitlines()]
    assert len(statuses) == jobs and {s["status"] for s in statuses} == {"COMPLETED"}
    assert sorted(s["output"]["n"] for s in statuses) == list(range(jobs))
    assert f"following {jobs} job(s)" in resumed.stderr
    assert health["jobs"]["completed"] == jobs  # each job ran once: none was sent again
    assert count_rows(data_dir, "state = 'COMPLETED'") == jobs
