"""The batch dialog: several dropped files, or a ``.jsonl`` file, checked and submitted together.

Each body's placeholders are filled as Submit fills them (the selected profile's variables, files
beside the body's file), and the history keeps the template (``origin``); a placeholder without a
value makes that body invalid."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.core.errors import ConsoleError
from gui.core.limits import Operation
from gui.core.records import JobRecord, JobState
from gui.core.redact import redact_body
from gui.core.request.placeholders import Context, Scope, expand_body
from gui.core.request.reading import is_jsonl, jsonl_lines
from gui.core.request.validation import Diagnostic, read_request_file, validate_text
from gui.core.wording import counted
from gui.ui.tasks import run_in_background, when_done

__all__ = ["BatchDialog", "BatchEntry", "load_batch"]

# Requests in flight at once: enough to keep the engine busy, few enough to stop promptly.
_IN_FLIGHT = 16

# (body as sent, its origin when it held placeholders) -> the submission's answer
SubmitFunction = Callable[[dict[str, Any], "dict[str, Any] | None"], "Future[JobRecord]"]


@dataclass(slots=True)
class BatchEntry:
    """One request of a batch: a file, or one line of a ``.jsonl`` file."""

    source: str  # "name.json" or "name.jsonl:12"
    body: dict[str, Any] | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problem: str | None = None  # the file could not be read at all
    origin: dict[str, Any] | None = None  # when its placeholders were filled: the template

    @property
    def valid(self) -> bool:
        return (
            self.problem is None
            and self.body is not None
            and not any(d.severity == "error" for d in self.diagnostics)
        )


def load_batch(
    paths: Sequence[Path], operation: Operation, variables: Mapping[str, str] | None = None
) -> list[BatchEntry]:
    """Read and validate every request of the files (each non-blank line of a ``.jsonl``), their
    placeholders filled with ``variables``.

    Runs on a worker thread: it reads files and parses whole documents.
    """
    entries: list[BatchEntry] = []
    scopes = [Scope(dict(variables or {}))]
    for path in paths:
        context = Context(scopes, path.absolute().parent, strict=True)
        try:
            text = read_request_file(path)
        except (ConsoleError, OSError) as exc:
            entries.append(BatchEntry(path.name, problem=str(exc)))
            continue
        if is_jsonl(path):
            for line in jsonl_lines(text):
                source = f"{path.name}:{line.number}"
                entries.append(_validated(source, line.text, operation, context, path))
        else:
            entries.append(_validated(path.name, text, operation, context, path))
    return entries


def _validated(
    source: str, text: str, operation: Operation, context: Context, path: Path
) -> BatchEntry:
    result = validate_text(text, operation, context)
    if result.placeholders is None or not result.ok or result.body is None:
        return BatchEntry(source, result.body, list(result.diagnostics))
    expansion = expand_body(result.body, context)  # the files are read now
    if not expansion.ok:
        problem = "; ".join(p.message for p in expansion.errors)
        return BatchEntry(source, None, list(result.diagnostics), problem)
    origin = {"body": redact_body(result.body), "file": str(path.absolute()),
              "variables": redact_body(expansion.used)}  # fmt: skip
    return BatchEntry(source, expansion.body, list(result.diagnostics), origin=origin)


class BatchDialog(QDialog):
    """Shows how many requests are valid, lists the invalid ones with their diagnostics, and
    submits the valid ones through ``submit`` (one engine submission per body) with a progress bar.
    """

    sig_loaded = Signal()
    """The files were read and validated; the counts and the list are filled in."""

    sig_finished_submitting = Signal(int, int)
    """Submitting ended: (accepted, refused or failed)."""

    def __init__(
        self,
        paths: Sequence[Path],
        operation: Operation,
        submit: SubmitFunction | None,
        parent: QWidget | None = None,
        *,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("batchDialog")
        self.setWindowTitle(f"Batch of {counted(len(paths), 'file')}")
        self.resize(640, 440)
        self.operation = operation
        self.submit_function = submit
        self.entries: list[BatchEntry] = []
        self.loaded = False
        self.submitted = 0
        self.failed = 0
        self.failures: list[str] = []
        self._queue: list[BatchEntry] = []
        self._in_flight = 0
        self._stopping = False

        layout = QVBoxLayout(self)
        self.summary = QLabel(
            f"Checking {counted(len(paths), 'file')} for the /{operation} operation…", self
        )
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.problems = QTreeWidget(self)
        self.problems.setHeaderLabels(["Invalid request", "Problem"])
        self.problems.setColumnWidth(0, 140)
        self.problems.setRootIsDecorated(True)
        layout.addWidget(self.problems, 1)
        # Rows cut long messages short: the selected one is shown whole here.
        self.problem_text = QLabel(self)
        self.problem_text.setObjectName("batchProblemText")
        self.problem_text.setWordWrap(True)
        self.problem_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.problem_text)
        self.problems.currentItemChanged.connect(self._on_problems_current_changed)
        self.progress = QProgressBar(self)
        self.progress.setFormat("%v of %m submitted")
        self.progress.hide()
        layout.addWidget(self.progress)
        self.buttons = QDialogButtonBox(self)
        self.submit_button = QPushButton("Submit valid requests", self)
        self.submit_button.setEnabled(False)
        self.buttons.addButton(self.submit_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.submit_button.clicked.connect(self._on_submit_button_clicked)
        self.buttons.rejected.connect(self._on_buttons_rejected)
        layout.addWidget(self.buttons)
        frozen, values = list(paths), dict(variables or {})
        run_in_background(
            lambda: load_batch(frozen, operation, values),
            self._on_batch_loaded,
            self._on_batch_load_failed,
            context=self,
        )

    @property
    def busy(self) -> bool:
        """Requests are still being sent or answered."""
        return bool(self._queue or self._in_flight)

    @property
    def valid_entries(self) -> list[BatchEntry]:
        return [entry for entry in self.entries if entry.valid]

    @property
    def invalid_entries(self) -> list[BatchEntry]:
        return [entry for entry in self.entries if not entry.valid]

    def _on_batch_load_failed(self, error: BaseException) -> None:
        self.summary.setText(f"The files could not be checked: {error}")

    def _on_batch_loaded(self, entries: list[BatchEntry]) -> None:
        self.entries = list(entries)
        valid, invalid = len(self.valid_entries), len(self.invalid_entries)
        self.summary.setText(
            f"<b>{valid}</b> valid request{'' if valid == 1 else 's'}, "
            f"<b>{invalid}</b> invalid (listed below; they will not be sent)."
            if self.entries
            else "The files hold no requests."
        )
        for entry in self.invalid_entries:
            item = QTreeWidgetItem(self.problems, [entry.source, entry.problem or ""])
            item.setToolTip(1, entry.problem or "")
            for diagnostic in entry.diagnostics:
                message = f"{diagnostic.severity}: {diagnostic.message}"
                child = QTreeWidgetItem(item, [f"{diagnostic.line}:{diagnostic.column}", message])
                child.setToolTip(1, message)
            item.setExpanded(True)
        if not self.invalid_entries:
            QTreeWidgetItem(self.problems, ["(none)", "Every request is valid."])
        first = self.problems.topLevelItem(0)
        if first is not None:
            self.problems.setCurrentItem(first.child(0) or first)
        self.submit_button.setText(f"Submit {valid} valid to /{self.operation}")
        self.submit_button.setEnabled(valid > 0 and self.submit_function is not None)
        if self.submit_function is None:
            self.submit_button.setToolTip("The engine is not running, so nothing can be submitted.")
        self.loaded = True
        self.sig_loaded.emit()

    def _on_problems_current_changed(self, item: QTreeWidgetItem | None, _previous: object) -> None:
        if item is None:
            self.problem_text.clear()
            return
        parent = item.parent()
        where = f"{parent.text(0)}, line {item.text(0)}" if parent is not None else item.text(0)
        self.problem_text.setText(f"<b>{html.escape(where)}</b>: {html.escape(item.text(1))}")

    # -- submitting ------------------------------------------------------------------------

    def start_submitting(self) -> None:
        """Send every valid request; the progress bar counts answers."""
        if self.submit_function is None or self._queue or self._in_flight:
            return
        self._queue = list(self.valid_entries)
        self.progress.setRange(0, len(self._queue))
        self.progress.setValue(0)
        self.progress.show()
        self.submit_button.setEnabled(False)
        self.close_button.setText("Stop")
        self._pump()

    def _pump(self) -> None:
        assert self.submit_function is not None
        while self._queue and self._in_flight < _IN_FLIGHT and not self._stopping:
            entry = self._queue.pop(0)
            assert entry.body is not None
            self._in_flight += 1
            try:
                future = self.submit_function(entry.body, entry.origin)
            except ConsoleError as exc:
                self._on_submitted(None, exc, entry.source)
                continue
            self._follow(future, entry.source)

    def _follow(self, future: Future[JobRecord], source: str) -> None:
        when_done(
            future,
            lambda record: self._on_submitted(record, None, source),
            lambda error: self._on_submitted(None, error, source),
            context=self,
        )

    def _on_submitted(
        self, record: JobRecord | None, error: BaseException | None, source: str
    ) -> None:
        self._in_flight -= 1
        if error is not None:
            self.failed += 1
            self.failures.append(f"{source}: {error}")
        elif isinstance(record, JobRecord) and record.state == JobState.NOT_SENT:
            self.failed += 1
            self.failures.append(f"{source}: {record.note or 'not sent'}")
        else:
            self.submitted += 1
        self.progress.setValue(self.submitted + self.failed)
        if self._queue and not self._stopping:
            self._pump()
        elif self._in_flight == 0:
            self._finish()

    def _finish(self) -> None:
        self._queue = []
        text = f"Submitted {counted(self.submitted, 'request')}."
        if self.failed:
            text += f" {self.failed} could not be sent: " + "; ".join(self.failures[:3])
        if self._stopping:
            text += " Stopped before the end."
        self.summary.setText(text)
        self.close_button.setText("Close")
        self.sig_finished_submitting.emit(self.submitted, self.failed)

    def _on_submit_button_clicked(self) -> None:
        self.start_submitting()

    def _on_buttons_rejected(self) -> None:
        if self._in_flight or self._queue:
            self._stopping = True  # answers still in flight are counted, nothing new is sent
            self._queue = []
            return
        self.reject()
