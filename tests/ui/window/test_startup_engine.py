"""The window shows before the engine has loaded the history, and nothing is lost by that.

``Engine.start(wait=False)`` returns at once; work asked for while the history loads waits for it,
and the job table is filled once the engine is ready (issue 8: start-up time).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from gui.app import _FirstPaint, create_window
from gui.core.engine.engine import Engine
from gui.core.records import JobRecord, JobState
from gui.core.storage.store import JobStore
from gui.core.targets import SANDBOX_ENDPOINT_ID, SANDBOX_PROFILE, Target
from gui.sandbox import SandboxServer
from tests.support.waiting import wait_until

HISTORY = 300


def _fill_history(data_dir: Path, count: int) -> None:
    target = Target(SANDBOX_PROFILE, "sandbox", "", SANDBOX_ENDPOINT_ID)
    store = JobStore(data_dir / "jobs.sqlite3")
    now = time.time() - 600
    for index in range(count):
        store.save(
            JobRecord(
                local_id=uuid.uuid4().hex,
                profile=SANDBOX_PROFILE,
                endpoint_id=SANDBOX_ENDPOINT_ID,
                operation="run",
                request={"input": {"n": index}},
                submitted_at=now + index,
                state=JobState.COMPLETED,
                job_id=f"job-{index}",
                finished_at=now + index + 1,
            ),
            target,
        )
    store.flush().result(timeout=30)
    store.close()


@pytest.fixture
def held_load(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Loading the history waits until the test sets the event (so 'still loading' is certain)."""
    release = threading.Event()
    load = JobStore.load

    def held(store: JobStore, **options: object) -> object:
        assert release.wait(timeout=30), "the test never released the history load"
        return load(store, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(JobStore, "load", held)
    yield release
    release.set()


def test_work_asked_for_while_the_history_loads_waits_for_it(
    data_dir: Path, held_load: threading.Event
) -> None:
    _fill_history(data_dir, HISTORY)
    engine = Engine(data_dir, sandbox=SandboxServer, rate_limits=None)
    try:
        started = engine.start(wait=False)
        assert started is engine.started
        assert not started.done()
        assert engine.jobs() == []
        target = engine.sandbox_target().result(timeout=30)
        submitted = engine.submit(target, {"input": {"prompt": "early"}})
        time.sleep(0.05)  # give it a chance to run too soon: it must still be waiting
        assert not submitted.done()
        held_load.set()
        started.result(timeout=30)
        record = submitted.result(timeout=30)
        assert record.state != JobState.NOT_SENT
        # The engine holds the job it sent; the ended history stays in the store.
        assert {job.local_id for job in engine.jobs()} == {record.local_id}
    finally:
        held_load.set()
        engine.close()


def test_a_failed_start_fails_the_started_future_and_early_work(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(store: JobStore, **options: object) -> object:
        raise OSError("disk gone")

    monkeypatch.setattr(JobStore, "load", broken)
    engine = Engine(data_dir, sandbox=SandboxServer, rate_limits=None)
    try:
        started = engine.start(wait=False)
        with pytest.raises(OSError, match="disk gone"):
            started.result(timeout=30)
        with pytest.raises(OSError, match="disk gone"):
            engine.cancel("nothing").result(timeout=30)
    finally:
        engine.close()


def test_the_window_shows_first_and_fills_the_table_when_the_history_is_in(
    qtbot: QtBot, data_dir: Path, held_load: threading.Event
) -> None:
    _fill_history(data_dir, HISTORY)
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    window.show()
    assert window.jobs_panel is not None
    model = window.jobs_panel.model
    # The table reads the history file itself: it fills while the engine is still loading.
    qtbot.waitUntil(lambda: model.rowCount() == HISTORY, timeout=15_000)
    assert not window.engine.started.done()  # the window did not wait for the engine
    assert window.jobs_panel.counts_label.text() != ""
    held_load.set()
    window.close()


def test_work_asked_for_before_the_loop_exists_runs_once_it_does(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine's thread imports asyncio and makes its loop while the caller goes on: calls made
    # meanwhile are handed to the loop later.
    from gui.core.engine import loop_thread

    async def answer() -> str:
        return "from the loop"

    async def never() -> None:
        await asyncio.sleep(3600)

    go, making = threading.Event(), threading.Event()

    def slow_loop() -> asyncio.AbstractEventLoop:
        making.set()
        go.wait(30)
        return asyncio.new_event_loop()

    monkeypatch.setattr(loop_thread, "new_loop", slow_loop)
    engine = Engine(data_dir, sandbox=SandboxServer, rate_limits=None)
    try:
        engine.start(wait=False)
        early = engine.submit_coroutine(answer())
        dropped = engine.submit_coroutine(never())
        assert dropped.cancel()  # a caller may give up on early work before the loop runs
        wait_until(making.is_set, "the engine's thread is making its loop")
        assert not early.done()  # no loop has run it yet
    finally:
        go.set()
    try:
        assert early.result(timeout=30) == "from the loop"
        engine.started.result(timeout=30)
        tasks = engine.submit_coroutine(_pending_tasks()).result(timeout=30)
        assert not any("never" in name for name in tasks)  # the dropped one never ran on
    finally:
        engine.close()


async def _pending_tasks() -> list[str]:
    return [repr(task.get_coro()) for task in asyncio.all_tasks()]


def test_the_window_start_gate_opens_once_the_window_has_painted(
    qtbot: QtBot, qapp: QApplication
) -> None:
    opened: list[bool] = []
    widget = QLabel("painted")
    qtbot.addWidget(widget)
    _FirstPaint(qapp, widget, lambda: opened.append(widget.isVisible()))
    qtbot.wait(50)
    assert opened == []  # nothing painted yet: still closed
    widget.show()
    qtbot.waitUntil(lambda: opened == [True], timeout=5000)
    widget.update()
    qtbot.wait(50)
    assert opened == [True]  # once only


def test_the_window_start_gate_opens_even_if_nothing_ever_paints(
    qtbot: QtBot, qapp: QApplication
) -> None:
    opened: list[int] = []
    widget = QLabel("never shown")
    qtbot.addWidget(widget)
    _FirstPaint(qapp, widget, lambda: opened.append(1), limit_ms=100)
    qtbot.waitUntil(lambda: opened == [1], timeout=5000)


def test_the_window_start_gate_opens_if_the_window_is_gone_before_it_paints(
    qtbot: QtBot, qapp: QApplication
) -> None:
    opened: list[int] = []
    widget = QLabel("closed at once")
    _FirstPaint(qapp, widget, lambda: opened.append(1), limit_ms=100)
    widget.deleteLater()
    qtbot.waitUntil(lambda: opened == [1], timeout=5000)


def test_a_loop_that_cannot_be_made_fails_early_work_and_close_returns(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui.core.engine import loop_thread

    def broken() -> asyncio.AbstractEventLoop:
        raise OSError("no selector")

    monkeypatch.setattr(loop_thread, "new_loop", broken)
    engine = Engine(data_dir, sandbox=SandboxServer, rate_limits=None)
    started = engine.start(wait=False)
    with pytest.raises(OSError, match="no selector"):
        started.result(timeout=30)
    engine.close()  # returns: nothing waits for a loop that never came
    with pytest.raises(RuntimeError):
        engine.submit_coroutine(asyncio.sleep(0))
