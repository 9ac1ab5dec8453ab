"""Validation of the editor's text, off the Qt thread.

``ValidationWorker`` debounces the editor's text changes and validates the latest text on a
``gui.ui.tasks`` thread; results for text that has changed since are dropped (a generation
counter), so a 20 MB body never freezes typing and never paints stale diagnostics.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from gui.core.limits import Operation
from gui.ui.request.text.editor import EditorMark
from gui.ui.request.text.folding import FoldedText, Span, shown_offset
from gui.ui.tasks import run_in_background

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from gui.core.request.placeholders import Context
    from gui.core.request.validation import ValidationResult

__all__ = [
    "DEBOUNCE_MS",
    "ValidationOutcome",
    "ValidationWorker",
    "editor_marks",
]

DEBOUNCE_MS = 250
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


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
    generation: int,
    source: str | FoldedText,
    operation: Operation,
    pool: ProcessPoolExecutor | None,
    placeholders: Context | None = None,
) -> ValidationOutcome:
    # A folded text is checked whole (its real size, its real strings), then its diagnostics are
    # placed on the text as shown.
    parts, spans = source.expand_parts() if isinstance(source, FoldedText) else ([source], [])
    if pool is None:
        text = parts[0] if len(parts) == 1 else "".join(parts)
        # Imported by the first validation, on its worker: the window's start doesn't wait.
        from gui.core.request.validation import validate_text

        result = validate_text(text, operation, placeholders)
        complete = True
    else:
        # This thread waits on the child without holding the GIL; the Qt thread stays free.
        from gui.core.request.child import validate_in_child

        result = validate_in_child(pool, parts, operation, placeholders)
        complete = False
    shown = parts[0]
    if spans:
        assert isinstance(source, FoldedText)
        shown = source.shown
        result = _placed_on_shown(result, shown, spans)
    return ValidationOutcome(generation, operation, result, editor_marks(shown, result), complete)


def _placed_on_shown(result: ValidationResult, shown: str, spans: list[Span]) -> ValidationResult:
    """The diagnostics of an expanded text moved to the text as shown: one inside a folded string
    marks its chip; lines are the same (a chip holds no line break), columns are counted again."""
    moved = []
    for diagnostic in result.diagnostics:
        start = shown_offset(spans, diagnostic.offset)
        end = max(shown_offset(spans, diagnostic.offset + diagnostic.length), start + 1)
        line_start = shown.rfind("\n", 0, start) + 1
        moved.append(
            dataclasses.replace(
                diagnostic, offset=start, length=end - start, column=start - line_start + 1
            )
        )
    return dataclasses.replace(result, diagnostics=moved)


class ValidationWorker(QObject):
    """Debounced validation of the editor's text, off the Qt thread."""

    sig_validation_finished = Signal(object)
    """The latest text's validation is ready (a ``ValidationOutcome``); stale ones never arrive."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.generation = 0
        self.latest: ValidationOutcome | None = None
        self._text_source: Callable[[], str | FoldedText] | None = None
        self._operation: Operation = "run"
        self._running = False
        self._rerun = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self.placeholders: Context | None = None
        """The values and folder placeholders are checked with (the profile's variables, the
        file's folder): a known variable is not warned about. Files are sized, never read."""

    def _process_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # "spawn": the child must not inherit a copy of this process's Qt and threads.
            # Imported for the first big text only: multiprocessing is slow to import.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def close(self) -> None:
        """Stop the child process (if a big text ever started one); a validation that was using
        it then fails, which is not reported."""
        self._timer.stop()
        self._closed = True
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

    def schedule(self, text_source: Callable[[], str | FoldedText], operation: Operation) -> None:
        """The text changed: validate ``text_source()`` once typing pauses for ``DEBOUNCE_MS``."""
        self.generation += 1
        self._text_source = text_source
        self._operation = operation
        self._timer.start()

    def validate_now(
        self, text_source: Callable[[], str | FoldedText], operation: Operation
    ) -> None:
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
        generation, operation, context = self.generation, self._operation, self.placeholders
        text = self._text_source()
        length = text.full_length() if isinstance(text, FoldedText) else len(text)
        pool = self._process_pool() if length > PROCESS_THRESHOLD_CHARS else None
        self._running = True
        run_in_background(
            lambda: _validate(generation, text, operation, pool, context),
            self._on_validation_finished,
            self._on_validation_failed,
            context=self,
        )

    def _ran(self) -> None:
        self._running = False
        if self._rerun:
            self._rerun = False
            self._on_timer_timeout()

    def _on_validation_failed(self, error: BaseException) -> None:
        self._ran()
        if self._closed:
            # close() stopped the child while this validation used it (cancelled in it, or not
            # let in any more): nobody waits for its result.
            return
        raise error  # a validator bug: let it show rather than silently keep old results

    def _on_validation_finished(self, outcome: ValidationOutcome) -> None:
        self._ran()
        if outcome.generation != self.generation:
            return  # the text changed while this ran
        self.latest = outcome
        self.sig_validation_finished.emit(outcome)
