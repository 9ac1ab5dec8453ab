"""The engine process answers every command the window uses: the account's (with a key typed in a
form, which reaches the request and no log), the webhook listener's (its deliveries told back as
``DeliveriesStored`` and read from the store), and which open jobs a quit would end. A real
``job-console engine`` subprocess on a temporary data folder, sandboxes over loopback."""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import httpx
import pytest

from gui.core.account.diagnosis import WaitDiagnosis, WaitKind
from gui.core.engine.process.remote import RemoteEngine
from gui.core.errors import AccountError, AccountUnavailable, ListenerPortTaken
from gui.core.events import DeliveriesStored
from gui.core.records import JobState
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import Target
from gui.core.webhooks.address import ListenerSettings
from gui.core.webhooks.deliveries import DeliveryStore
from gui.core.webhooks.listener import find_free_port
from gui.sandbox import SandboxConfig, SandboxThread
from tests.support import engine_fixtures
from tests.support.account_helpers import SCENARIO_ENDPOINTS
from tests.support.engine_fixtures import running_engine
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

TYPED_KEY = "typed-in-the-form-5f2c9a7e1d"
BUILTIN = Target("Sandbox", "sandbox", "", "sandbox")  # as the window names it


remote = engine_fixtures.remote


class Delivered:
    """The delivery ids a RemoteEngine's subscriber was told."""

    def __init__(self, engine: RemoteEngine) -> None:
        self.ids: list[int] = []
        self._lock = threading.Lock()
        engine.subscribe(self._on_event)

    def _on_event(self, event: object) -> None:
        if isinstance(event, DeliveriesStored):
            with self._lock:
                self.ids.extend(event.ids)

    def count(self) -> int:
        with self._lock:
            return len(self.ids)


def test_the_account_commands_cross_with_a_typed_key_that_no_log_holds(
    remote: RemoteEngine,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    config = SandboxConfig(
        endpoints=list(SCENARIO_ENDPOINTS), api_key=TYPED_KEY, workers=2, default_duration_s=0.05
    )
    with SandboxThread(config) as server:
        url = server.base_url  # its management API (/v2) too
        target = Target("cloud", "cloud", server.base_url, "crashy")

        endpoints = remote.account_endpoints(target, lambda: TYPED_KEY, url).result(timeout=30)
        with running_engine(data_dir / "in-process") as engine:  # the same question, here
            expected = engine.account_endpoints(target, lambda: TYPED_KEY, url).result(30)
        assert endpoints == expected  # the same answer, whole
        assert {"sandbox", "crashy", "idle7d", "rollout", "lb"} <= {e.id for e in endpoints}

        status = remote.endpoint_status(target, lambda: TYPED_KEY, url, 120.0).result(timeout=30)
        assert status.endpoint.id == "crashy" and status.diagnosis.kind is WaitKind.UNHEALTHY
        assert status.workers.workers and all(
            worker.status == "UNHEALTHY" for worker in status.workers.workers
        )
        assert status.summary.startswith(f"{len(status.workers.workers)} active worker")

        checked = remote.check_connection(target, lambda: TYPED_KEY).result(timeout=30)
        assert checked.ok, checked.message
        refused = remote.check_connection(target, lambda: "a-wrong-key").result(timeout=30)
        assert (refused.ok, refused.status_code) == (False, 401)
        with pytest.raises(AccountError) as wrong:
            remote.account_endpoints(target, lambda: "a-wrong-key", url).result(timeout=30)
        assert wrong.value.status_code == 401
        # No key typed and none in the engine process's keyring: said in words, as in-process.
        with pytest.raises(AccountUnavailable, match="cloud has no API key: add one in Profiles"):
            remote.account_endpoints(target, lambda: None, url).result(timeout=30)
        with pytest.raises(AccountUnavailable, match="cloud has no API key"):
            remote.endpoint_status(target, None, url).result(timeout=30)

    diagnosis = remote.wait_diagnosis(BUILTIN, 45.0).result(timeout=30)
    assert isinstance(diagnosis, WaitDiagnosis) and diagnosis.reason

    remote.flush().result(timeout=30)
    out, err = capfd.readouterr()
    assert TYPED_KEY not in caplog.text + out + err
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert TYPED_KEY.encode() not in path.read_bytes(), path


def test_the_key_is_asked_for_off_the_callers_thread(remote: RemoteEngine) -> None:
    asked_on: list[str] = []

    def key() -> str | None:
        asked_on.append(threading.current_thread().name)
        return None

    remote.check_connection(BUILTIN, key).result(timeout=30)
    assert len(asked_on) == 1 and asked_on[0] != threading.current_thread().name


def test_the_listener_serves_in_the_engine_process_and_its_deliveries_are_told(
    remote: RemoteEngine, data_dir: Path
) -> None:
    delivered = Delivered(remote)
    port = find_free_port()
    info = remote.start_listener(ListenerSettings("127.0.0.1", port), fallback=False).result(30)
    assert (info.host, info.port, info.served_by) == ("127.0.0.1", port, None)
    assert info.url.startswith(f"http://127.0.0.1:{port}/") and info.webhook_url == info.url

    # The built-in sandbox reports to the listener when a request names no webhook.
    target = remote.sandbox_target().result(timeout=30)
    sent = remote.submit(target, {"input": {"prompt": "hi"}}).result(timeout=30)
    wait_until(lambda: delivered.count() == 1, "the sandbox's delivery was told")
    store = DeliveryStore(data_dir / DB_FILENAME)  # the window's own reader of the file
    try:
        [delivery] = [store.get(delivery_id) for delivery_id in delivered.ids]
        assert delivery is not None
        assert (delivery.job_id, delivery.matched_local_id) == (sent.job_id, sent.local_id)
        assert delivery.status == JobState.COMPLETED.value

        renewed = remote.renew_listener_token().result(timeout=30)
        assert renewed is not None and renewed.port == port and renewed.url != info.url
        assert httpx.post(info.url, json={"id": "x", "status": "COMPLETED"}).status_code == 404
        replayed = remote.replay_delivery(renewed.url, store.get_raw(delivery.id) or "")
        assert "200" in replayed.result(timeout=30)
        wait_until(lambda: delivered.count() == 2, "the replayed delivery was told")
        assert store.count() == 2

        public = ListenerSettings("127.0.0.1", port, "https://abc.example.com")
        tunnelled = remote.reconfigure_listener(public).result(timeout=30)
        assert tunnelled.url == renewed.url  # the same listener, behind a tunnel now
        assert tunnelled.webhook_url.startswith("https://abc.example.com/")
    finally:
        store.close()

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        moved = remote.reconfigure_listener(ListenerSettings("127.0.0.1", busy))
        with pytest.raises(ListenerPortTaken, match=f"Port {busy} on 127.0.0.1 is already in use"):
            moved.result(timeout=30)
    error = moved.exception()
    assert isinstance(error, ListenerPortTaken) and isinstance(error.suggested_port, int)
    assert error.suggested_port != busy  # what the settings dialog offers instead


def test_open_sandbox_jobs_are_the_built_in_sandboxs_unfinished_ones(
    remote: RemoteEngine,
) -> None:
    with SandboxThread(SandboxConfig(workers=2)) as server:
        cloud = Target("cloud", "cloud", server.base_url, "ep")
        sandbox = remote.sandbox_target().result(timeout=30)
        slow = {"input": {"sandbox": {"duration": 60}}}
        in_sandbox = remote.submit(sandbox, slow).result(timeout=30)
        elsewhere = remote.submit(cloud, slow).result(timeout=30)
        wait_until(
            lambda: (
                {in_sandbox.local_id, elsewhere.local_id} <= {r.local_id for r in remote.jobs()}
            ),
            "both jobs told",
        )
        assert [r.local_id for r in remote.open_sandbox_jobs()] == [in_sandbox.local_id]
        remote.cancel(in_sandbox.local_id).result(timeout=30)
        wait_until(lambda: remote.open_sandbox_jobs() == [], "the cancelled job left the list")
        remote.cancel(elsewhere.local_id).result(timeout=30)
