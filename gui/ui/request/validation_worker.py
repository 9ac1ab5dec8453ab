"""Work the Qt thread must not do itself: validating, reading files, parsing big documents.

``BackgroundTasks`` runs a function on a worker thread and hands its result (or its exception) to a
callback on the Qt thread. ``ValidationWorker`` debounces the editor's text changes and
validates the latest text there; results for text that has changed since are dropped (a generation
counter), so a 20 MB body never freezes typing and never paints stale diagnostics.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal

from gui.core.limits import Operation
from gui.ui.request.editor import EditorMark
from gui.ui.runtime import FOREGROUND

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from gui.core.request.validation import ValidationResult

__all__ = [
    "DEBOUNCE_MS",
    "BackgroundTasks",
    "ValidationOutcome",
    "ValidationWorker",
    "editor_marks",
]

DEBOUNCE_MS = 250
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class _Relay(QObject):
    """Lives on the Qt thread; its signal, emitted from a worker, is delivered there (queued)."""

    sig_finished = Signal(object, object, object)
    """A task ended: (callback, result, exception)."""


class _Task(QRunnable):
    def __init__(self, relay: _Relay, function: Callable[[], Any], callback: Callable[..., None]):
        super().__init__()
        self.relay = relay
        self.function = function
        self.callback = callback

    def run(self) -> None:
        FOREGROUND.pass_through()  # the window's start and its bursts of work go first
        try:
            result = self.function()
        except Exception as exc:  # handed to the Qt thread; the callback decides what to show
            self.relay.sig_finished.emit(self.callback, None, exc)
        else:
            self.relay.sig_finished.emit(self.callback, result, None)


class BackgroundTasks(QObject):
    """A small thread pool whose results come back on the Qt thread.

    ``run(function, callback)`` calls ``function()`` on a worker, then ``callback(result, error)``
    on the Qt thread, with exactly one of the two not None (``error`` is the exception raised).
    """

    def __init__(self, parent: QObject | None = None, *, threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._relay = _Relay(self)
        # Queued even when emitted on the Qt thread (a future already done when ``when_done`` is
        # called): a callback never runs inside the call that asked for it.
        self._relay.sig_finished.connect(
            self._on_relay_finished, Qt.ConnectionType.QueuedConnection
        )
        self.pending = 0
        self._closed = False

    def run(
        self, function: Callable[[], Any], callback: Callable[[Any, Exception | None], None]
    ) -> None:
        if self._closed:
            return
        self.pending += 1
        self.pool.start(_Task(self._relay, function, callback))

    def when_done(
        self, future: Future[Any], callback: Callable[[Any, Exception | None], None]
    ) -> None:
        """Call ``callback(result, error)`` on the Qt thread once ``future`` (from the engine's
        thread or any other) is done. Never blocks."""
        if self._closed:
            return
        self.pending += 1
        relay = self._relay

        def deliver(done: Future[Any]) -> None:
            try:
                result, error = done.result(), None
            except Exception as exc:
                result, error = None, exc
            try:
                relay.sig_finished.emit(callback, result, error)
            except RuntimeError:
                pass  # the window (and its relay) is gone; nobody is left to tell

        future.add_done_callback(deliver)

    def _on_relay_finished(self, callback: Any, result: Any, error: Any) -> None:
        self.pending -= 1
        if not self._closed:
            callback(result, error)

    def close(self, timeout_ms: int = 5000) -> None:
        """Drop queued tasks, wait for running ones; callbacks are not called any more."""
        self._closed = True
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)


@dataclass(frozen=True, slots=True)
class ValidationOutcome:
    """The validation of one version of the editor's text.

    ``complete`` is False for a big text validated in the child process: ``result.body`` then
    holds the options but not the ``input`` (parse the text when the whole body is needed).
    """

    generation: int
    operation: Operation
    result: ValidationResult
    marks: list[EditorMark]
    complete: bool = True


def editor_marks(text: str, result: ValidationResult) -> list[EditorMark]:
    """Place diagnostics in a Qt document (Qt counts UTF-16 units, the validator code points)."""
    marks = []
    diagnostics = sorted(result.diagnostics, key=lambda d: d.offset)
    ascii_text = text.isascii()
    shift = 0  # astral characters (two UTF-16 units each) before the previous offset
    previous = 0
    for diagnostic in diagnostics:
        start = diagnostic.offset
        end = start + max(diagnostic.length, 1)
        start_shift = end_shift = shift
        if not ascii_text:
            start_shift = shift + len(_ASTRAL.findall(text, previous, start))
            end_shift = start_shift + len(_ASTRAL.findall(text, start, end))
            shift, previous = start_shift, start
        marks.append(
            EditorMark(
                diagnostic.severity,
                start + start_shift,
                end + end_shift,
                diagnostic.line,
                diagnostic.column,
                diagnostic.message,
                diagnostic.code,
            )
        )
    return marks


# Texts longer than this are validated in a child process (see ``gui.core.request.child``).
PROCESS_THRESHOLD_CHARS = 2 * 1024 * 1024


def _validate(
    generation: int, text: str, operation: Operation, pool: ProcessPoolExecutor | None
) -> ValidationOutcome:
    if pool is None:
        # Imported by the first validation, on its worker: the window's start doesn't wait.
        from gui.core.request.validation import validate_text

        result = validate_text(text, operation)
        return ValidationOutcome(generation, operation, result, editor_marks(text, result))
    # This thread waits on the child without holding the GIL; the Qt thread stays free.
    from gui.core.request.child import validate_light

    light = pool.submit(validate_light, text, operation).result()
    return ValidationOutcome(generation, operation, light, editor_marks(text, light), False)


class ValidationWorker(QObject):
    """Debounced validation of the editor's text, off the Qt thread."""

    sig_validation_finished = Signal(object)
    """The latest text's validation is ready (a ``ValidationOutcome``); stale ones never arrive."""

    def __init__(self, tasks: BackgroundTasks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.generation = 0
        self.latest: ValidationOutcome | None = None
        self._text_source: Callable[[], str] | None = None
        self._operation: Operation = "run"
        self._running = False
        self._rerun = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._pool: ProcessPoolExecutor | None = None

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": the child must not inherit a copy of this process's Qt and threads.
            # Imported for the first big text only: multiprocessing is slow to import.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        """Stop the child process (if a big text ever started one)."""
        self._timer.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    @property
    def busy(self) -> bool:
        """True while a newer text than the last result waits to be validated."""
        return self._timer.isActive() or self._running or self._rerun

    @property
    def current(self) -> ValidationOutcome | None:
        """The last result if it describes the text as it is now, else None."""
        if self.latest is not None and self.latest.generation == self.generation:
            return self.latest
        return None

    def schedule(self, text_source: Callable[[], str], operation: Operation) -> None:
        """The text changed: validate ``text_source()`` once typing pauses for ``DEBOUNCE_MS``."""
        self.generation += 1
        self._text_source = text_source
        self._operation = operation
        self._timer.start()

    def validate_now(self, text_source: Callable[[], str], operation: Operation) -> None:
        """Validate without waiting for the pause (a file was loaded, the operation changed)."""
        self.schedule(text_source, operation)
        self._timer.stop()
        self._on_timer_timeout()

    def _on_timer_timeout(self) -> None:
        if self._text_source is None:
            return
        if self._running:
            # One validation at a time: a 20 MB body must not pile up copies; rerun at the end.
            self._rerun = True
            return
        generation, operation = self.generation, self._operation
        text = self._text_source()
        pool = self._process_pool() if len(text) > PROCESS_THRESHOLD_CHARS else None
        self._running = True
        self.tasks.run(
            lambda: _validate(generation, text, operation, pool),
            self._on_tasks_validation_finished,
        )

    def _on_tasks_validation_finished(self, outcome: Any, error: Exception | None) -> None:
        self._running = False
        if self._rerun:
            self._rerun = False
            self._on_timer_timeout()
        if error is not None:
            raise error  # a validator bug: let it show rather than silently keep old results
        assert isinstance(outcome, ValidationOutcome)
        if outcome.generation != self.generation:
            return  # the text changed while this ran
        self.latest = outcome
        self.sig_validation_finished.emit(outcome)
