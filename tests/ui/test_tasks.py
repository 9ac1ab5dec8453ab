"""gui.ui.tasks: work off the Qt thread, answers on it, never inside the call, never for a deleted
receiver, failures never lost, and only the latest of a ``Latest`` heard."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import shiboken6
from PySide6.QtCore import QObject, Qt
from pytestqt.qtbot import QtBot

from gui.ui import tasks
from gui.ui.tasks import Lane, Latest, run_in_background, when_done

TIMEOUT_MS = 10_000


def settled() -> bool:
    return tasks.pending() == 0


def test_the_task_runs_on_a_worker_and_its_answer_on_the_qt_thread(qtbot: QtBot) -> None:
    receiver = QObject()
    ran_on: list[threading.Thread] = []
    answers: list[tuple[int, threading.Thread]] = []

    def work() -> int:
        ran_on.append(threading.current_thread())
        return 42

    future = run_in_background(
        work, lambda value: answers.append((value, threading.current_thread())), context=receiver
    )
    future.result(timeout=30)
    assert answers == []  # never inside the call that asked, even when the work is done
    qtbot.waitUntil(lambda: bool(answers), timeout=TIMEOUT_MS)
    assert answers == [(42, threading.main_thread())]
    assert ran_on[0] is not threading.main_thread()
    qtbot.waitUntil(settled, timeout=TIMEOUT_MS)


def test_a_future_made_elsewhere_is_answered_on_the_qt_thread(qtbot: QtBot) -> None:
    receiver = QObject()
    answers: list[tuple[str, threading.Thread]] = []
    future: Future[str] = Future()
    when_done(
        future, lambda value: answers.append((value, threading.current_thread())), context=receiver
    )
    ender = threading.Thread(target=future.set_result, args=("ready",), name="engine-loop")
    ender.start()
    ender.join()
    qtbot.waitUntil(lambda: bool(answers), timeout=TIMEOUT_MS)
    assert answers == [("ready", threading.main_thread())]


def test_no_answer_for_a_receiver_deleted_meanwhile(qtbot: QtBot) -> None:
    receiver = QObject()
    release = threading.Event()
    answers: list[object] = []
    future = run_in_background(
        lambda: release.wait(30), answers.append, answers.append, context=receiver
    )
    shiboken6.delete(receiver)  # the dialog was closed while its work ran
    release.set()
    assert future.result(timeout=30) is True
    qtbot.waitUntil(settled, timeout=TIMEOUT_MS)  # the answer was delivered, and dropped
    assert answers == []


def test_a_failure_goes_to_on_failed_on_the_qt_thread(qtbot: QtBot) -> None:
    receiver = QObject()
    failures: list[tuple[str, threading.Thread]] = []
    run_in_background(
        lambda: 1 // 0,
        lambda _value: failures.append(("done?", threading.current_thread())),
        lambda error: failures.append((type(error).__name__, threading.current_thread())),
        context=receiver,
    )
    qtbot.waitUntil(lambda: bool(failures), timeout=TIMEOUT_MS)
    assert failures == [("ZeroDivisionError", threading.main_thread())]


def test_a_failure_without_on_failed_is_reported_not_lost(qtbot: QtBot) -> None:
    receiver = QObject()
    with qtbot.captureExceptions() as raised:
        run_in_background(lambda: 1 // 0, context=receiver)
        qtbot.waitUntil(settled, timeout=TIMEOUT_MS)
    assert [type(error).__name__ for _kind, error, _tb in raised] == ["ZeroDivisionError"]


def test_only_the_latest_answer_is_heard(qtbot: QtBot) -> None:
    receiver = QObject()
    latest = Latest()
    first_started, first_may_end = threading.Event(), threading.Event()
    answers: list[str] = []

    def first_task() -> str:
        first_started.set()
        first_may_end.wait(30)
        return "first"

    first = run_in_background(first_task, answers.append, context=receiver, latest=latest)
    assert first_started.wait(30)  # running: too late to cancel
    run_in_background(lambda: "second", answers.append, context=receiver, latest=latest)
    qtbot.waitUntil(lambda: bool(answers), timeout=TIMEOUT_MS)
    first_may_end.set()
    assert first.result(timeout=30) == "first"  # it ran to its end: only its answer is dropped
    qtbot.waitUntil(settled, timeout=TIMEOUT_MS)
    assert answers == ["second"]


def test_an_older_task_not_started_yet_is_cancelled(qtbot: QtBot) -> None:
    receiver = QObject()
    latest = Latest()
    lane_free = threading.Event()
    ran: list[str] = []
    answers: list[str] = []
    blocker = run_in_background(lambda: lane_free.wait(30), context=receiver, lane=Lane.SERIAL)

    def search(name: str) -> str:
        ran.append(name)
        return name

    older = run_in_background(
        lambda: search("p"), answers.append, context=receiver, lane=Lane.SERIAL, latest=latest
    )
    newer = run_in_background(
        lambda: search("png"), answers.append, context=receiver, lane=Lane.SERIAL, latest=latest
    )
    lane_free.set()
    assert blocker.result(timeout=30) is True
    assert newer.result(timeout=30) == "png"
    qtbot.waitUntil(settled, timeout=TIMEOUT_MS)
    assert older.cancelled() and ran == ["png"] and answers == ["png"]


def test_dropped_answers_never_arrive(qtbot: QtBot) -> None:
    receiver = QObject()
    latest = Latest()
    future: Future[str] = Future()
    answers: list[str] = []
    when_done(future, answers.append, context=receiver, latest=latest)
    latest.drop()  # e.g. another profile is shown now
    future.set_result("for the profile shown before")
    qtbot.waitUntil(settled, timeout=TIMEOUT_MS)
    assert answers == [] and not future.cancelled()  # a foreign future is never cancelled


class _Listener(QObject):
    """A Python-owned QObject (no parent), as a bridge or a dialog of a test is."""

    def __init__(self, results: list[int]) -> None:
        super().__init__()
        self.results = results

    def on_result(self, value: int) -> None:
        self.results.append(value)


def _end_then_let_go(handoff: list[Future[int]], delivered: threading.Event) -> None:
    future = handoff.pop()
    future.set_result(7)
    delivered.wait(30)
    del future  # like the engine's loop: this thread drops the last reference to the future


def test_qt_objects_held_for_an_answer_are_let_go_on_the_qt_thread(qtbot: QtBot) -> None:
    """A Python-owned QObject deleted on another thread leaves its running timers registered with
    the Qt thread, which crashes when they fire: the segfault of a bridge let go by the engine's
    loop (``QObject::killTimer: Timers cannot be stopped from another thread``)."""
    died_on: list[str] = []
    results: list[int] = []
    listener = _Listener(results)
    listener.destroyed.connect(
        lambda: died_on.append(threading.current_thread().name), Qt.ConnectionType.DirectConnection
    )
    future: Future[int] = Future()
    when_done(future, listener.on_result, context=listener)
    handoff = [future]
    del future, listener  # the test (a window) is done with them: only when_done holds them now
    delivered = threading.Event()
    ender = threading.Thread(target=_end_then_let_go, args=(handoff, delivered), name="ender")
    ender.start()
    try:
        qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    finally:
        delivered.set()
        ender.join()
    assert results == [7]
    assert died_on == ["MainThread"]


def test_a_future_already_done_is_answered_later_not_inside_the_call(qtbot: QtBot) -> None:
    receiver = QObject()
    done: Future[str] = Future()
    done.set_result("ready")
    answers: list[str] = []
    when_done(done, answers.append, context=receiver)
    assert answers == []  # the caller can still connect its signals first
    qtbot.waitUntil(lambda: answers == ["ready"], timeout=TIMEOUT_MS)
