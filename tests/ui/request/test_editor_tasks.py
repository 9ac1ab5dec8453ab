"""BackgroundTasks: work off the Qt thread, answers on it, never synchronously, none after close."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QCoreApplication
from pytestqt.qtbot import QtBot

from gui.ui.request.validation_worker import BackgroundTasks


def test_run_answers_on_the_qt_thread(qtbot: QtBot) -> None:
    tasks = BackgroundTasks()
    answers: list[tuple[Any, Any, threading.Thread]] = []
    worker_threads: list[threading.Thread] = []

    def work() -> int:
        worker_threads.append(threading.current_thread())
        return 42

    tasks.run(
        work, lambda result, error: answers.append((result, error, threading.current_thread()))
    )
    qtbot.waitUntil(lambda: bool(answers), timeout=5000)
    assert answers == [(42, None, threading.main_thread())]
    assert worker_threads[0] is not threading.main_thread()

    tasks.run(lambda: 1 / 0, lambda result, error: answers.append((result, error, None)))
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=5000)
    assert isinstance(answers[1][1], ZeroDivisionError)
    tasks.close()


def test_done_future_is_answered_later_not_inside_the_call(qtbot: QtBot) -> None:
    tasks = BackgroundTasks()
    done: Future[str] = Future()
    done.set_result("ready")
    answers: list[Any] = []
    tasks.when_done(done, lambda result, error: answers.append(result))
    assert answers == []  # the caller can still connect its signals first
    qtbot.waitUntil(lambda: answers == ["ready"], timeout=5000)
    tasks.close()


def test_no_answer_after_close(qtbot: QtBot) -> None:
    tasks = BackgroundTasks()
    pending: Future[str] = Future()
    answers: list[Any] = []
    tasks.when_done(pending, lambda result, error: answers.append(result))
    tasks.close()
    setter = threading.Thread(target=pending.set_result, args=("late",))
    setter.start()
    setter.join()
    QCoreApplication.processEvents()  # delivers anything queued by now
    assert answers == []
