"""The webhookLog panel over a real DeliveryStore: rows, details, copy, replay to a receiver."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtGui import QGuiApplication

from gui.core.engine.engine import Engine
from gui.core.webhooks.deliveries import Delivery, DeliveryStore
from gui.ui.webhooks.log import (
    DELIVERY_ROLE,
    MAX_ROWS,
    DeliveryColumn,
    DeliveryTableModel,
    WebhookLog,
    format_size,
)
from tests.support import engine_fixtures
from tests.support.listener_helpers import ThreadedListener

engine = engine_fixtures.engine

COMPLETED = {"id": "job-1", "status": "COMPLETED", "output": {"text": "é done"}, "delayTime": 5}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DeliveryStore]:
    opened = DeliveryStore(tmp_path / "jobs.sqlite3")
    yield opened
    opened.close()


def add(store: DeliveryStore, payload: dict[str, Any]) -> Delivery:
    raw = json.dumps(payload)
    return store.add(
        payload=payload,
        size=len(raw),
        remote="127.0.0.1",
        headers={"Content-Type": "application/json", "User-Agent": "RunPod"},
        job_id=payload.get("id"),
        status=payload.get("status"),
    )


def make_log(qtbot: Any, store: DeliveryStore, engine: Engine | None = None) -> WebhookLog:
    log = WebhookLog(store, replay=engine.replay_delivery if engine is not None else None)
    qtbot.addWidget(log)
    return log


def cells(log: WebhookLog, row: int) -> list[str]:
    model = log.model
    return [model.data(model.index(row, column)) for column in DeliveryColumn]


def test_the_model_passes_qtmodeltester(qtmodeltester: Any, store: DeliveryStore) -> None:
    model = DeliveryTableModel()
    first = add(store, COMPLETED)
    model.set_deliveries([first, add(store, {**COMPLETED, "id": "job-2"})])
    qtmodeltester.check(model)
    repeat = add(store, COMPLETED)
    model.add_deliveries([repeat, Delivery(**{**_fields(first), "matched_local_id": "L1"})])
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert model.data(model.index(0, 0), DELIVERY_ROLE).id == repeat.id  # newest first
    assert model.data(model.index(2, DeliveryColumn.MATCHED)) == "yes"  # updated in place


def _fields(delivery: Delivery) -> dict[str, Any]:
    return {name: getattr(delivery, name) for name in Delivery.__slots__}  # type: ignore[attr-defined]


def test_rows_show_time_job_status_size_matched_and_repeat(
    qtbot: Any, store: DeliveryStore
) -> None:
    first = add(store, COMPLETED)
    store.set_matched(first.id, "local-1")
    add(store, COMPLETED)  # RunPod's retry
    add(store, {"output": 42})
    log = make_log(qtbot, store)
    qtbot.waitUntil(lambda: log.model.rowCount() == 3)
    newest, repeat, original = cells(log, 0), cells(log, 1), cells(log, 2)
    assert newest[DeliveryColumn.JOB_ID] == "(no id)"
    assert newest[DeliveryColumn.MATCHED] == "unmatched"
    assert repeat[DeliveryColumn.REPEAT] == f"repeat of #{first.id}"
    assert original[1:] == ["job-1", "COMPLETED", format_size(first.size), "yes", ""]
    assert original[DeliveryColumn.TIME]  # e.g. 14:03:27
    assert log.objectName() == "webhookLogView"


def test_deliveries_posted_from_another_thread_arrive_in_batches(
    qtbot: Any, store: DeliveryStore
) -> None:
    log = make_log(qtbot, store)
    qtbot.waitUntil(lambda: log.model.rowCount() == 0)
    inserts: list[int] = []
    log.model.rowsInserted.connect(lambda _parent, first, last: inserts.append(last - first + 1))

    def listener_thread() -> None:
        for i in range(200):
            log.post_delivery(add(store, {**COMPLETED, "id": f"job-{i}"}))

    sender = threading.Thread(target=listener_thread)
    sender.start()
    sender.join()
    qtbot.waitUntil(lambda: log.model.rowCount() == 200)
    assert cells(log, 0)[DeliveryColumn.JOB_ID] == "job-199"
    assert len(inserts) < 20  # batched, not one insert per delivery
    assert all(log.model.delivery_at(r).payload is None for r in range(200))  # no payloads kept


def test_the_model_keeps_only_the_latest_rows(store: DeliveryStore) -> None:
    model = DeliveryTableModel()
    base = add(store, COMPLETED)
    many = [Delivery(**{**_fields(base), "id": base.id + i}) for i in range(MAX_ROWS + 10)]
    model.add_deliveries(many)
    assert model.rowCount() == MAX_ROWS
    assert model.delivery_at(0).id == base.id + MAX_ROWS + 9


def select_row(qtbot: Any, log: WebhookLog, row: int) -> None:
    log.table.selectRow(row)
    qtbot.waitUntil(lambda: log.copy_button.isEnabled())


def test_selecting_shows_the_payload_and_headers_and_copy_copies_it(
    qtbot: Any, store: DeliveryStore
) -> None:
    delivery = add(store, COMPLETED)
    log = make_log(qtbot, store)
    qtbot.waitUntil(lambda: log.model.rowCount() == 1)
    assert not log.copy_button.isEnabled()
    select_row(qtbot, log, 0)
    shown = log.payload_view.toPlainText()
    assert '"status": "COMPLETED"' in shown and "é done" in shown  # pretty-printed
    assert "User-Agent: RunPod" in log.headers_view.toPlainText()
    log.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert json.loads(copied) == COMPLETED
    assert copied == store.get_raw(delivery.id)


class Receiver:
    """A plain HTTP receiver on loopback that records POSTs; it can be held to answer later."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.release = threading.Event()
        self.release.set()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(self.rfile.read(length))
                receiver.release.wait(10)
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def test_replay_sends_the_stored_payload_through_the_engine(
    qtbot: Any, store: DeliveryStore, receiver: Receiver, engine: Engine
) -> None:
    delivery = add(store, COMPLETED)
    log = make_log(qtbot, store, engine)
    qtbot.waitUntil(lambda: log.model.rowCount() == 1)
    select_row(qtbot, log, 0)
    log.replay_url.setText(receiver.url)
    receiver.release.clear()  # the receiver holds its answer: the window must stay responsive
    log.replay_button.click()
    qtbot.waitUntil(lambda: len(receiver.bodies) == 1)
    assert not log.replay_button.isEnabled()
    assert "Replaying" in log.status_label.text()
    ticks: list[int] = []
    qtbot.waitUntil(lambda: ticks.append(1) or len(ticks) > 3)  # the Qt loop keeps turning
    with qtbot.waitSignal(log.sig_replay_finished, timeout=10_000) as finished:
        receiver.release.set()
    assert finished.args[0].startswith(f"Replayed to {receiver.url}: HTTP 202")
    assert receiver.bodies[0].decode() == store.get_raw(delivery.id)
    assert log.replay_button.isEnabled()


@pytest.mark.parametrize("url", ["", "ftp://example.test/x", "not a url", "http://"])
def test_replay_refuses_what_is_not_an_http_url(
    qtbot: Any, store: DeliveryStore, receiver: Receiver, url: str, engine: Engine
) -> None:
    add(store, COMPLETED)
    log = make_log(qtbot, store, engine)
    qtbot.waitUntil(lambda: log.model.rowCount() == 1)
    select_row(qtbot, log, 0)
    log.replay_url.setText(url)
    log.replay_button.click()
    assert "http:// or https:// URL" in log.status_label.text()
    assert receiver.bodies == []


def test_replay_to_nothing_says_no_answer_came(
    qtbot: Any, store: DeliveryStore, engine: Engine
) -> None:
    add(store, COMPLETED)
    log = make_log(qtbot, store, engine)
    qtbot.waitUntil(lambda: log.model.rowCount() == 1)
    select_row(qtbot, log, 0)
    closed = Receiver()
    url = closed.url
    closed.close()  # nothing listens there any more
    log.replay_url.setText(url)
    with qtbot.waitSignal(log.sig_replay_finished, timeout=15_000) as finished:
        log.replay_button.click()
    assert finished.args[0].startswith("Could not replay the delivery: No answer from")
    assert "Check that the receiver is running" in log.status_label.text()


def test_without_a_replay_the_replay_button_stays_off(qtbot: Any, store: DeliveryStore) -> None:
    add(store, COMPLETED)
    log = make_log(qtbot, store)
    qtbot.waitUntil(lambda: log.model.rowCount() == 1)
    select_row(qtbot, log, 0)
    qtbot.waitUntil(log.copy_button.isEnabled)
    assert not log.replay_button.isEnabled()


def test_follow_shows_a_listeners_deliveries_until_the_panel_is_gone(
    qtbot: Any, store: DeliveryStore
) -> None:
    subscribers: list[Any] = []

    def subscribe(callback: Any) -> Any:
        subscribers.append(callback)
        return lambda: subscribers.remove(callback)

    log = WebhookLog(store)
    log.follow(subscribe)
    for callback in list(subscribers):
        callback(add(store, COMPLETED))
    qtbot.waitUntil(lambda: log.model.rowCount() == 1)
    log.deleteLater()
    qtbot.waitUntil(lambda: subscribers == [])


def test_a_real_listeners_deliveries_appear_as_they_arrive(qtbot: Any, tmp_path: Path) -> None:
    with ThreadedListener(tmp_path / "live.sqlite3") as served:
        log = make_log(qtbot, served.store)
        log.follow(served.listener.subscribe)  # the subscriber runs on the listener's loop thread
        for _ in range(2):  # a delivery and RunPod's retry of it
            answer = httpx.post(served.listener.url, json=COMPLETED, timeout=10)
            assert answer.status_code == 200
        qtbot.waitUntil(lambda: log.model.rowCount() == 2)
        assert cells(log, 0)[DeliveryColumn.REPEAT].startswith("repeat of #")
        assert cells(log, 1)[DeliveryColumn.MATCHED] == "yes"  # ThreadedListener knows every id
        log.close()
        log.deleteLater()
        qtbot.waitUntil(lambda: served.listener.subscriber_count == 1)  # ThreadedListener's own


def test_a_whole_runpod_job_id_fits_on_one_line(qtbot: Any, store: DeliveryStore) -> None:
    job_id = "sync-60902e6c-08a1-426e-9cb9-9eaec90f5e2b-u1"
    add(store, {**COMPLETED, "id": job_id})
    log = make_log(qtbot, store)
    qtbot.waitUntil(lambda: log.model.rowCount() == 1)
    table = log.table
    assert not table.wordWrap()
    width = table.horizontalHeader().sectionSize(DeliveryColumn.JOB_ID)
    assert width > table.fontMetrics().horizontalAdvance(job_id)
