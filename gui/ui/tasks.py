"""The window's one way to background work, on the model of Anki's ``aqt.taskman``.

The Qt thread never waits on the disk and never parses a large document: it hands such work here
and hears back on the Qt thread::

    run_in_background(lambda: format_raw(body), self._on_formatted, self._on_failed, context=self)

- ``run_in_background(task, on_done, on_failed, *, context, lane, latest)`` runs ``task()`` on a
  worker thread, then ``on_done(result)`` or ``on_failed(error)`` on the Qt thread.
- ``when_done(future, on_done, on_failed, *, context, latest)`` does the second half for a
  ``concurrent.futures.Future`` made elsewhere (an engine command's answer, a network pool).

The rules every answer follows:

- It runs on the Qt thread, through the event loop: never inside the call that asked for it (a
  caller can connect its signals after asking), whichever thread ends the work.
- It does not run once ``context`` (a ``QObject``: the widget the answer is for) is deleted.
- A failure is never lost: without ``on_failed`` it goes to ``sys.excepthook`` on the Qt thread (in
  tests, pytest-qt fails the test). A cancelled task answers nothing.
- With ``latest`` (a ``Latest``), only the newest task asked through it is heard: asking again
  cancels the older ones not started yet and drops the answers of the others ("latest wins", e.g.
  the output of the job selected before this one). ``Latest.drop()`` drops them all.

Lanes (``Lane``) keep kinds of work apart: ``SHARED`` (four threads: formatting, reading and
writing files, validating, the keyring), ``SERIAL`` (one thread, in order: searches, so a
search typed letter by letter never runs beside its predecessors) and ``HISTORY`` (one thread: the
job table's reads of the history). Work on every lane first passes the start gate
(``runtime.START``): until the window has first painted it waits instead of competing with the
window's start for the GIL.

Network calls are the engine's, not this module's: the window asks the engine through the bridge
(``gui.ui.bridge``), whose answers come back through ``when_done``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from enum import Enum
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

from gui.ui.runtime import START

__all__ = ["Lane", "Latest", "pending", "run_in_background", "when_done"]

T = TypeVar("T")


class Lane(Enum):
    """Which threads run a task: (thread name prefix, thread count)."""

    SHARED = ("ui-background", 4)
    """Most work. Four threads: the two pools this replaced had two each (one for the window's
    validation and file reads, one for formatting outputs and exports)."""

    SERIAL = ("ui-serial", 1)
    """One task at a time, in the order asked: searches of a document."""

    HISTORY = ("ui-history", 1)
    """One thread for the job table's reads of the history file (``gui.ui.jobs.model``): its
    reader's connection is used by one thread at a time, and its pages are read in the order asked,
    never behind a document search."""


_executors: dict[Lane, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()
_pending = 0  # answers on their way (changed on the Qt thread only)


def _executor(lane: Lane) -> ThreadPoolExecutor:
    with _executors_lock:
        executor = _executors.get(lane)
        if executor is None:
            prefix, threads = lane.value
            executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=prefix)
            _executors[lane] = executor
        return executor


def pending() -> int:
    """How many answers are on their way: tasks or futures whose ``on_done`` or ``on_failed``
    has neither run nor been dropped yet (for tests and benchmarks waiting for quiet)."""
    return _pending


class Latest:
    """Only the newest task asked through it is heard ("latest wins"). Use it on the Qt thread.

    Asking for a new task drops every older one: an older task not started yet is cancelled
    (only tasks of ``run_in_background``: a future made elsewhere, e.g. an engine command, is never
    cancelled, its answer only dropped), and no older answer runs.
    """

    def __init__(self) -> None:
        self._generation = 0
        self._cancellable: Future[Any] | None = None

    def drop(self) -> None:
        """Hear none of the tasks asked so far (what they were for is gone)."""
        self._generation += 1
        if self._cancellable is not None:
            self._cancellable.cancel()  # does nothing once it runs
            self._cancellable = None

    def _begin(self, cancellable: Future[Any] | None) -> int:
        self.drop()
        self._cancellable = cancellable
        return self._generation

    def _is_current(self, generation: int) -> bool:
        return generation == self._generation


class _QtThreadCalls(QObject):
    """Runs closures on the Qt thread: emitted from any thread, delivered through the event loop
    (queued even when emitted on the Qt thread, so never inside the emitting call)."""

    _sig_call_requested: Signal = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._sig_call_requested.connect(
            self._on_call_requested, Qt.ConnectionType.QueuedConnection
        )

    def post(self, call: Callable[[], None]) -> None:
        self._sig_call_requested.emit(call)

    def _on_call_requested(self, call: Callable[[], None]) -> None:
        call()


_qt_thread_calls: _QtThreadCalls | None = None


def _calls() -> _QtThreadCalls:
    global _qt_thread_calls
    if _qt_thread_calls is None:
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("Background work with answers on the Qt thread needs a QApplication")
        _qt_thread_calls = _QtThreadCalls()
        _qt_thread_calls.moveToThread(app.thread())
    return _qt_thread_calls


def run_in_background(
    task: Callable[[], T],
    on_done: Callable[[T], None] | None = None,
    on_failed: Callable[[BaseException], None] | None = None,
    *,
    context: QObject,
    lane: Lane = Lane.SHARED,
    latest: Latest | None = None,
) -> Future[T]:
    """Run ``task()`` on a ``lane`` thread; then ``on_done(result)`` or ``on_failed(error)`` on the
    Qt thread, unless ``context`` was deleted or ``latest`` moved on. Call it on the Qt thread.
    The returned future is the task's (tests wait on it; cancelling it answers nothing)."""

    def gated() -> T:
        START.pass_through()  # the window's start goes first
        return task()

    if latest is not None:
        latest.drop()  # before submitting: a serial lane skips the older one at once
    future = _executor(lane).submit(gated)
    ticket = latest._begin(future) if latest is not None else 0
    _watch(future, on_done, on_failed, context, latest, ticket)
    return future


def when_done(
    future: Future[T],
    on_done: Callable[[T], None] | None = None,
    on_failed: Callable[[BaseException], None] | None = None,
    *,
    context: QObject,
    latest: Latest | None = None,
) -> None:
    """When ``future`` (ended on any thread) is done, ``on_done(result)`` or ``on_failed(error)``
    on the Qt thread, unless ``context`` was deleted or ``latest`` moved on. Call it on the Qt
    thread. ``future`` itself is never cancelled here."""
    ticket = latest._begin(None) if latest is not None else 0
    _watch(future, on_done, on_failed, context, latest, ticket)


def _watch(
    future: Future[T],
    on_done: Callable[[T], None] | None,
    on_failed: Callable[[BaseException], None] | None,
    context: QObject,
    latest: Latest | None,
    ticket: int,
) -> None:
    global _pending
    calls = _calls()
    _pending += 1
    # The thread that ends the future (the engine's loop, a pool worker) may also drop the last
    # reference to it. Whatever that frees must not be a QObject: a Python-owned one (a bridge or
    # a dialog without a parent, or one a callback holds) would be deleted on that thread, its
    # running QTimers left registered with the Qt thread, which crashes when they fire. So that
    # thread only ever holds this box, and the Qt thread empties it.
    box: list[Any] = [on_done, on_failed, context, latest]

    def deliver(finished: Future[T]) -> None:  # on the Qt thread
        global _pending
        _pending -= 1
        done_callback, failed_callback, owner, newest = box
        box.clear()
        if finished.cancelled() or not shiboken6.isValid(owner):
            return
        if newest is not None and not newest._is_current(ticket):
            return  # a newer task replaced this one
        error = finished.exception()
        if error is None:
            if done_callback is not None:
                done_callback(finished.result())
        elif failed_callback is not None:
            failed_callback(error)
        else:
            sys.excepthook(type(error), error, error.__traceback__)

    future.add_done_callback(lambda finished: calls.post(lambda: deliver(finished)))
