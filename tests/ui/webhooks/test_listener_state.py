"""The window's side of the webhook listener works the same over an engine on a thread of its own
process and over one in a process of its own: the listener serves in the engine, each delivery it
stores comes to the window as an event (``EngineBridge.sig_deliveries_stored``), and the window
reads it, and the count, from the history file with its own reader."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from pytestqt.qtbot import QtBot

from gui.core.engine.process.remote import RemoteEngine
from gui.core.profiles.secrets import SecretStore
from gui.core.webhooks.address import ListenerSettings
from gui.core.webhooks.deliveries import Delivery
from gui.core.webhooks.listener import find_free_port
from gui.ui.bridge import EngineBridge, EngineLike
from gui.ui.webhooks.listener_state import ListenerState
from gui.ui.webhooks.log import WebhookLog
from tests.support.engine_fixtures import running_engine

TIMEOUT_MS = 60_000  # the engine process's first start imports the HTTP stack in a cold Python


@pytest.fixture(
    params=["thread", pytest.param("process", marks=pytest.mark.slow)],
)
def engine(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[EngineLike]:
    with ExitStack() as stack:
        if request.param == "thread":
            yield stack.enter_context(running_engine(data_dir))
            return
        remote = RemoteEngine(data_dir)
        stack.callback(remote.close)
        remote.start().result(timeout=TIMEOUT_MS / 1000)
        yield remote


def test_a_delivery_reaches_the_window_through_the_event_and_the_store(
    qtbot: QtBot, engine: EngineLike
) -> None:
    bridge = EngineBridge(engine)
    state = ListenerState(bridge, SecretStore(), ListenerSettings("127.0.0.1", find_free_port()))
    counts: list[int] = []
    state.sig_received_changed.connect(counts.append)
    try:
        with qtbot.waitSignal(state.sig_started, timeout=TIMEOUT_MS):
            state.start()
        assert state.url is not None and state.info is not None
        log = WebhookLog(state.store, replay=bridge.replay_delivery)
        qtbot.addWidget(log)
        state.sig_deliveries_stored.connect(log.add_deliveries)

        payload = {"id": "job-from-outside", "status": "COMPLETED", "output": {"n": 1}}
        with qtbot.waitSignal(state.sig_deliveries_stored, timeout=TIMEOUT_MS) as told:
            assert httpx.post(state.url, json=payload, timeout=10).status_code == 200
        [delivery] = told.args[0]
        assert isinstance(delivery, Delivery)
        assert (delivery.job_id, delivery.status) == ("job-from-outside", "COMPLETED")
        assert delivery.matched_local_id is None  # no job of the history has that id
        assert state.received == 1 and counts[-1] == 1
        qtbot.waitUntil(lambda: log.model.rowCount() == 1, timeout=TIMEOUT_MS)
        assert state.store.get_raw(delivery.id) is not None  # its payload, read from the file
    finally:
        state.close()
        bridge.close()
    with pytest.raises(RuntimeError, match="not read any more"):
        state.store.count()
