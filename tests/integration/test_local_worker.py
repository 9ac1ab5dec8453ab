"""A real worker (``workers/handler.py``, the official ``runpod`` package) behind a local profile.

The console's launcher starts ``python handler.py --rp_serve_api ...``; a job then runs through the
window's code path (the local worker panel, the profile's target and the engine) and through
``job-console run --profile``; each result must be the handler's, never the server's later
``{"status": "FAILED", "error": "Job ID not found"}``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.profiles.profiles import Profile, ProfileStore, make_key_provider
from gui.core.profiles.s3refs import make_body_resolver
from gui.core.profiles.secrets import SecretStore
from gui.core.records import JobRecord, JobState
from gui.core.storage.history import HistoryReader
from gui.core.storage.store import DB_FILENAME
from gui.sandbox import SandboxServer
from gui.ui.profiles.local_worker import LocalWorker, LocalWorkerPanel

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HANDLER = Path(__file__).parent / "workers" / "handler.py"
EXPECTED = {"echo": "hello worker", "sum": 6, "worker": "local-test"}
BODY = {"input": {"prompt": "hello worker", "numbers": [1, 2, 3]}}
# Importing runpod and starting uvicorn takes a few seconds on a busy machine.
READY_TIMEOUT_MS = 90_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def worker_profile(data_dir: Path) -> Profile:
    # The Python that has runpod (the test extra installs it): a worker author's own venv's.
    profile = Profile(
        "worker", "local", handler=str(HANDLER), python=sys.executable, port=_free_port()
    )
    ProfileStore(data_dir).add(profile)
    return profile


@pytest.fixture
def running_worker(qtbot: QtBot, worker_profile: Profile) -> Iterator[LocalWorker]:
    worker = LocalWorker(worker_profile, ready_timeout_ms=READY_TIMEOUT_MS)
    output: list[str] = []
    worker.sig_output_received.connect(output.append)
    with qtbot.waitSignal(worker.sig_ready, timeout=READY_TIMEOUT_MS + 5_000) as ready:
        worker.start()
    assert ready.args == [f"http://127.0.0.1:{worker_profile.port}"]
    try:
        yield worker
    finally:
        worker.stop()
        assert not worker.running
    assert "--rp_serve_api" in "".join(output)


def _late_answer(base_url: str, job_id: str) -> dict[str, object]:
    """What the worker's server says about a job once it has answered it: the quirk itself."""
    answer = httpx.post(f"{base_url}/status/{job_id}", timeout=10).json()
    assert isinstance(answer, dict)
    return answer


def test_a_job_from_the_window_path_keeps_the_handler_result(
    qtbot: QtBot, worker_profile: Profile, data_dir: Path
) -> None:
    """The window's path: the local worker panel starts the worker, the profile becomes a target
    at the URL it serves, the engine has the window's options; it submits and follows the job."""
    panel = LocalWorkerPanel()
    panel.set_profile(worker_profile)
    assert panel.worker is not None
    panel.worker._ready_timeout_ms = READY_TIMEOUT_MS
    with qtbot.waitSignal(panel.sig_worker_ready, timeout=READY_TIMEOUT_MS + 5_000) as ready:
        panel.start()
    assert ready.args is not None and ready.args[0] == worker_profile.name
    target = worker_profile.to_target(ready.args[1])
    assert target.kind == "local"
    secrets = SecretStore()
    engine = Engine(
        data_dir,
        key_provider=make_key_provider(ProfileStore(data_dir, secrets), secrets),
        body_resolver=make_body_resolver(secrets),
        sandbox=SandboxServer,
    )
    engine.start()
    try:
        submitted: JobRecord = engine.submit(target, BODY).result(timeout=30)
        assert submitted.job_id and submitted.job_id.startswith("test-")

        def finished() -> JobRecord:
            (record,) = [job for job in engine.jobs() if job.local_id == submitted.local_id]
            assert record.terminal
            return record

        qtbot.waitUntil(lambda: bool(finished()), timeout=60_000)
        assert finished().state is JobState.COMPLETED
        assert finished().output == EXPECTED
        # The server has forgotten the job by now; that answer must not reach the record.
        assert _late_answer(target.base_url, submitted.job_id) == {
            "id": submitted.job_id,
            "status": "FAILED",
            "error": "Job ID not found",
        }
        engine.flush().result(timeout=30)
    finally:
        engine.close()
        panel.shutdown()
    # The history as the next start finds it (an ended job lives in the store).
    with HistoryReader(data_dir / DB_FILENAME) as reader:
        (row,) = reader.page()
        record = reader.get(row.local_id)
    assert record is not None
    assert (record.state, record.output, record.error) == (JobState.COMPLETED, EXPECTED, None)


def test_a_job_through_the_cli_keeps_the_handler_result(
    running_worker: LocalWorker, worker_profile: Profile, data_dir: Path, tmp_path: Path
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(BODY))
    result = subprocess.run(
        [sys.executable, "-m", "gui", "run", str(request), "--profile", worker_profile.name],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    final = json.loads(result.stdout)
    assert final["status"] == "COMPLETED"
    assert final["output"] == EXPECTED
    assert _late_answer(running_worker.url, final["id"])["error"] == "Job ID not found"
    checked = subprocess.run(
        [sys.executable, "-m", "gui", "profile", "test", worker_profile.name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "the worker's test server answers" in checked.stdout


def test_the_panel_shows_the_worker_and_stops_it(qtbot: QtBot, worker_profile: Profile) -> None:
    panel = LocalWorkerPanel()
    qtbot.addWidget(panel)
    panel.set_profile(worker_profile)
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert panel.worker is not None
    panel.worker._ready_timeout_ms = READY_TIMEOUT_MS
    with qtbot.waitSignal(panel.sig_worker_ready, timeout=READY_TIMEOUT_MS + 5_000) as ready:
        panel.start_button.click()
    assert ready.args == ["worker", f"http://127.0.0.1:{worker_profile.port}"]
    assert "serving at" in panel.status.text() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: "Uvicorn running" in panel.log.toPlainText(), timeout=10_000)
    with qtbot.waitSignal(panel.sig_worker_stopped, timeout=10_000):
        panel.stop_button.click()
    assert "stopped" in panel.status.text()
    assert panel.start_button.isEnabled()
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"http://127.0.0.1:{worker_profile.port}/run", json=BODY, timeout=5)


def test_a_busy_port_or_missing_handler_is_said_plainly(qtbot: QtBot, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        busy = LocalWorker(Profile("w", "local", handler=str(HANDLER), port=port))
        with qtbot.waitSignal(busy.sig_stopped, timeout=5_000) as stopped:
            busy.start()
        assert stopped.args[0] == -1 and "already in use" in stopped.args[1]
    missing = LocalWorker(Profile("w", "local", handler=str(tmp_path / "nope.py"), port=port))
    with qtbot.waitSignal(missing.sig_stopped, timeout=5_000) as stopped:
        missing.start()
    assert "does not exist" in stopped.args[1]


def test_a_handler_that_crashes_at_start_is_reported(qtbot: QtBot, tmp_path: Path) -> None:
    broken = tmp_path / "handler.py"
    broken.write_text("raise SystemExit('no model weights here')\n")
    worker = LocalWorker(
        Profile("w", "local", handler=str(broken), python=sys.executable, port=_free_port())
    )
    output: list[str] = []
    worker.sig_output_received.connect(output.append)
    with qtbot.waitSignal(worker.sig_stopped, timeout=30_000) as stopped:
        worker.start()
    assert stopped.args[0] == 1 and "before it served" in stopped.args[1]
    qtbot.waitUntil(lambda: "no model weights here" in "".join(output), timeout=5_000)
