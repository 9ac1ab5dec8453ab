"""*Run with data…*: the editor's template sent once per row of a data file (.csv, .jsonl, .json).

The dialog first previews the run: the rows are read and expanded (``gui.core.request.datarun``)
in chunks off the Qt thread, the row count grows as they are read, the first rows are shown
expanded and every row that makes no valid body is listed with its problems; Stop ends the
reading. Then Send sends the valid rows (a second pass over the file, a chunk at a time) through
the window's one way to submit, at most ``IN_FLIGHT`` requests at a time; the engine's limiter
keeps ``/run`` within RunPod's rate limits. Stop ends the sending; what was sent stays.

A file of a million rows is never in memory: each pass keeps one chunk of rows, and the preview
keeps only the first rows' bodies and (at most ``MAX_LISTED`` of) the invalid rows' problems.

*Rerun failed rows* opens the same dialog for the rows whose last job of that template and data
file FAILED or TIMED_OUT (``HistoryReader.failed_rows``), read from the history first.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.core.errors import ConsoleError
from gui.core.limits import Operation
from gui.core.records import JobRecord, JobState
from gui.core.request.datarun import PreparedJob, RunTemplate
from gui.core.wording import counted
from gui.ui.tasks import run_in_background, when_done

__all__ = [
    "DATA_FILE_FILTER",
    "IN_FLIGHT",
    "RESULTS_FILTER",
    "DataRunDialog",
    "DataRunSource",
    "export_results",
    "source_of_job",
]

DATA_FILE_FILTER = "Data rows (*.csv *.tsv *.jsonl *.ndjson *.json);;All files (*)"
RESULTS_FILTER = "CSV (*.csv);;JSON Lines (*.jsonl)"
IN_FLIGHT = 16  # requests on their way at once, as a batch: the engine paces /run
PREVIEWED = 3  # rows shown expanded
MAX_LISTED = 1000  # invalid rows listed (all are counted)
_CHUNK_ROWS = 2000  # rows read per background task
_CHUNK_SECONDS = 0.1  # ... or fewer: the count and Stop stay lively on a slow file
_SHOWN_CHARS = 600

SubmitFunction = Callable[[dict[str, Any], dict[str, Any]], "Future[JobRecord]"]


@dataclass(frozen=True, slots=True)
class DataRunSource:
    """What a data run sends: the template (its text and file), its values and the data file.
    ``rerun_history``: send only the rows whose last job in this history FAILED or TIMED_OUT."""

    text: str
    path: Path | None  # the template's file (None: never saved); relative files are beside it
    operation: Operation
    variables: Mapping[str, str]
    data: Path
    rerun_history: Path | None = None


def source_of_job(
    record: JobRecord, variables: Mapping[str, str], history: Path | None
) -> DataRunSource | None:
    """The data run that made ``record`` (its template as the history keeps it, its template
    file and data file), None when no data run made it. ``history``: a rerun of its failed rows
    (read from that history)."""
    origin = record.origin or {}
    body, data, file = origin.get("body"), origin.get("data"), origin.get("file")
    if not isinstance(body, dict) or not isinstance(data, str) or not data:
        return None
    operation: Operation = "runsync" if record.operation == "runsync" else "run"
    path = Path(file) if isinstance(file, str) and file else None
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return DataRunSource(text, path, operation, variables, Path(data), history)


def export_results(source: DataRunSource, history: Path, out: Path) -> dict[str, int]:
    """Write the run's results, one line per row of its data file (``RowResults``: CSV or
    JSONL by ``out``'s suffix); answers the count per status. Runs off the Qt thread."""
    from gui.core.storage.history import HistoryReader
    from gui.core.storage.run_results import RowResults, export_run_results

    template = RunTemplate(source.text, source.path, source.operation,
                           profile=source.variables, data=source.data)  # fmt: skip
    with HistoryReader(history) as reader, RowResults.open(out) as results:
        return export_run_results(reader, template, source.data, results)


@dataclass(slots=True)
class _Chunk:
    """What one background task read: counts and what the dialog shows of them."""

    rows: int = 0
    valid: int = 0
    invalid: list[tuple[str, list[str]]] = field(default_factory=list)
    previews: list[tuple[str, str]] = field(default_factory=list)
    jobs: list[PreparedJob] = field(default_factory=list)  # sending: the valid rows to send
    done: bool = False
    problem: str | None = None  # the whole run can't go on (the file, the template)


class _Rows:
    """One pass over the data file, read a chunk at a time by background tasks (one at a time:
    the generator moves between threads, never used by two at once)."""

    def __init__(self, source: DataRunSource) -> None:
        self.source = source
        self._template: RunTemplate | None = None
        self._rows: Iterator[PreparedJob] | None = None
        self.wanted: set[int] | None = None

    def _start(self) -> str | None:
        """Read the template (and, for a rerun, the rows to send again); a problem, or None."""
        source = self.source
        if source.rerun_history is not None:
            from gui.core.storage.history import HistoryReader

            file = str(source.path) if source.path is not None else None
            with HistoryReader(source.rerun_history) as reader:
                wanted = reader.failed_rows(file, str(source.data))
            if wanted is None:
                return f"The history holds no job of this template with {source.data.name}."
            self.wanted = wanted
        template = RunTemplate(source.text, source.path, source.operation,
                               profile=source.variables, data=source.data)  # fmt: skip
        if template.errors:
            first = template.errors[0]
            return (f"The template can't run: line {first.line}:{first.column}: "
                    f"{first.message}")  # fmt: skip
        self._template = template
        self._rows = self._prepared(template)
        return None

    def _prepared(self, template: RunTemplate) -> Iterator[PreparedJob]:
        from gui.core.request.datarows import read_rows

        wanted = self.wanted
        for row in read_rows(self.source.data):
            if wanted is None or row.number in wanted:
                yield template.prepare(row)

    def chunk(self, *, keep_jobs: bool, previews: int) -> _Chunk:
        """The next rows (up to ``_CHUNK_ROWS``, or what ``_CHUNK_SECONDS`` reads)."""
        chunk = _Chunk()
        try:
            if self._rows is None:
                chunk.problem = self._start()
                if chunk.problem is not None:
                    chunk.done = True
                    return chunk
            assert self._rows is not None
            if self.wanted is not None and not self.wanted:
                chunk.done = True
                return chunk
            deadline = time.monotonic() + _CHUNK_SECONDS
            while chunk.rows < _CHUNK_ROWS and time.monotonic() < deadline:
                job = next(self._rows, None)
                if job is None:
                    chunk.done = True
                    break
                self._take(chunk, job, keep_jobs, previews)
        except (ConsoleError, OSError) as exc:
            chunk.problem, chunk.done = str(exc), True
        return chunk

    @staticmethod
    def _take(chunk: _Chunk, job: PreparedJob, keep_jobs: bool, previews: int) -> None:
        assert job.row is not None
        chunk.rows += 1
        if not job.ok:
            chunk.invalid.append((job.row.label, job.problems))
            return
        chunk.valid += 1
        if keep_jobs:
            chunk.jobs.append(job)
        elif len(chunk.previews) < previews:
            text = json.dumps(job.body, ensure_ascii=False)
            if len(text) > _SHOWN_CHARS:
                text = text[:_SHOWN_CHARS] + f"… ({len(text):,} characters)"
            chunk.previews.append((job.row.label, text))


class DataRunDialog(QDialog):
    """The preview of a data run, then its sending with a progress bar (see the module)."""

    sig_preview_finished = Signal()
    """Every row was read (or the reading stopped): the counts and lists are final."""

    sig_finished_sending = Signal(int, int)
    """Sending ended: (rows whose request was accepted, rows not sent)."""

    def __init__(
        self, source: DataRunSource, submit: SubmitFunction | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dataRunDialog")
        self.source = source
        self.submit_function = submit
        rerun = source.rerun_history is not None
        title = "Rerun failed rows" if rerun else "Run with data"
        self.setWindowTitle(f"{title}: {source.data.name}")
        self.resize(760, 540)
        self.rows = self.valid = self.invalid = 0
        self.previewed = False
        self.stopped = False
        self.problem: str | None = None
        self.sent = self.delivered = self.not_sent = 0
        self.failures: list[str] = []
        self._reading = False
        self._sending = False
        self._exhausted = False
        self._queue: list[PreparedJob] = []
        self._in_flight = 0
        self._build()
        self._read_preview(_Rows(source))

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        source = self.source
        what = "the rows whose last job failed" if source.rerun_history else "each row"
        self.intro = QLabel(
            f"Sends the request in the editor once for {what} of "
            f"<b>{html.escape(str(source.data))}</b> to /{source.operation}, the row's values "
            "filling its placeholders (then the profile's variables).",
            self,
        )
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.summary = QLabel(f"Reading {source.data.name}…", self)
        self.summary.setObjectName("dataRunSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        preview_box = QWidget(splitter)
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_layout.addWidget(QLabel("<b>First rows, as they will be sent</b>", preview_box))
        self.preview = QPlainTextEdit(preview_box)
        self.preview.setObjectName("dataRunPreview")
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        preview_layout.addWidget(self.preview)
        problems_box = QWidget(splitter)
        problems_layout = QVBoxLayout(problems_box)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        self.problems_title = QLabel("<b>Invalid rows</b> (nothing is sent for them)", problems_box)
        problems_layout.addWidget(self.problems_title)
        self.problems = QTreeWidget(problems_box)
        self.problems.setObjectName("dataRunProblems")
        self.problems.setHeaderLabels(["Row", "Problem"])
        self.problems.setColumnWidth(0, 200)
        self.problems.setRootIsDecorated(False)
        self.problems.setWordWrap(True)
        problems_layout.addWidget(self.problems)
        # Rows cut long problems short: the selected one is shown whole here.
        self.problem_text = QLabel(problems_box)
        self.problem_text.setObjectName("dataRunProblemText")
        self.problem_text.setWordWrap(True)
        self.problem_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        problems_layout.addWidget(self.problem_text)
        self.problems.currentItemChanged.connect(self._on_problems_current_changed)
        splitter.addWidget(preview_box)
        splitter.addWidget(problems_box)
        layout.addWidget(splitter, 1)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("dataRunProgress")
        self.progress.setRange(0, 0)  # busy while the rows are counted
        self.progress.setFormat("%v of %m rows sent")
        layout.addWidget(self.progress)
        self.buttons = QDialogButtonBox(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("dataRunSendButton")
        self.send_button.setEnabled(False)
        self.buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setText("Stop")
        self.send_button.clicked.connect(self.start_sending)
        self.buttons.rejected.connect(self._on_buttons_rejected)
        layout.addWidget(self.buttons)

    def _on_problems_current_changed(self, item: QTreeWidgetItem | None, _previous: object) -> None:
        if item is None:
            self.problem_text.clear()
            return
        self.problem_text.setText(
            f"<b>{html.escape(item.text(0))}</b>: {html.escape(item.text(1))}"
        )

    @property
    def busy(self) -> bool:
        """Rows are being read or requests sent."""
        return self._reading or self._sending

    # -- preview ---------------------------------------------------------------------------

    def _read_preview(self, rows: _Rows) -> None:
        self._reading = True
        previews = max(0, PREVIEWED - self.valid)
        run_in_background(
            lambda: rows.chunk(keep_jobs=False, previews=previews),
            lambda chunk: self._on_preview_chunk(rows, chunk),
            self._on_read_failed,
            context=self,
        )

    def _on_preview_chunk(self, rows: _Rows, chunk: _Chunk) -> None:
        self.rows += chunk.rows
        self.valid += chunk.valid
        self.invalid += len(chunk.invalid)
        for label, problems in chunk.invalid:
            if self.problems.topLevelItemCount() < MAX_LISTED:
                text = "; ".join(problems)
                item = QTreeWidgetItem(self.problems, [label, text])
                item.setToolTip(1, text)
        for label, text in chunk.previews:
            self.preview.appendPlainText(f"{label}:\n{text}\n")
        if chunk.problem is not None:
            self.problem = chunk.problem
        if chunk.done or self.stopped:
            self._reading = False
            self._preview_finished()
            return
        self.summary.setText(
            f"Reading {self.source.data.name}… {self.rows:,} rows: {self.valid:,} valid, "
            f"{self.invalid:,} invalid."
        )
        self._read_preview(rows)

    def _on_read_failed(self, error: BaseException) -> None:
        self._reading = False
        self.problem = f"{type(error).__name__}: {error}"
        self._preview_finished()

    def _preview_finished(self) -> None:
        self.previewed = True
        name = self.source.data.name
        self.progress.setRange(0, max(self.valid, 1))
        self.progress.setValue(0)
        self.close_button.setText("Close")
        if self.problem is not None:
            self.summary.setText(f"<b>Nothing can be sent.</b> {html.escape(self.problem)}")
            self.sig_preview_finished.emit()
            return
        rerun = " to run again" if self.source.rerun_history is not None else ""
        text = (f"<b>{name}</b>: {counted(self.rows, 'row')}{rerun}: <b>{self.valid:,}</b> valid, "
                f"<b>{self.invalid:,}</b> invalid.")  # fmt: skip
        if self.stopped:
            text += " Reading was stopped: only the rows read so far are counted."
        if self.source.rerun_history is not None and self.rows == 0:
            text = f"No row of {html.escape(name)} has a last job that FAILED or TIMED_OUT."
        if self.invalid > MAX_LISTED:
            text += f" The first {MAX_LISTED:,} invalid rows are listed."
        self.summary.setText(text)
        if not self.invalid:
            QTreeWidgetItem(self.problems, ["(none)", "Every row makes a valid request."])
        first = self.problems.topLevelItem(0)
        if first is not None:
            self.problems.setCurrentItem(first)
        if self.valid and not self.stopped:
            self.send_button.setText(
                f"Send {counted(self.valid, 'row')} to /{self.source.operation}"
            )
            self.send_button.setEnabled(self.submit_function is not None)
            self.send_button.setDefault(True)
        if self.submit_function is None:
            self.send_button.setToolTip("The engine is not running, so nothing can be sent.")
        self.sig_preview_finished.emit()

    # -- sending ---------------------------------------------------------------------------

    def start_sending(self) -> None:
        """Send every valid row (a second pass over the file); the progress bar counts answers."""
        if self.submit_function is None or self.busy or not self.previewed or not self.valid:
            return
        self._sending = True
        self.send_button.setEnabled(False)
        self.close_button.setText("Stop")
        self.progress.setRange(0, self.valid)
        self.progress.setValue(0)
        self.summary.setText(f"Sending {counted(self.valid, 'row')}…")
        self._fetch(_Rows(self.source))

    def _fetch(self, rows: _Rows) -> None:
        self._reading = True

        def failed(error: BaseException) -> None:  # a bug in reading: say it, send no more
            self._on_send_chunk(rows, _Chunk(done=True, problem=f"{type(error).__name__}: {error}"))

        run_in_background(
            lambda: rows.chunk(keep_jobs=True, previews=0),
            lambda chunk: self._on_send_chunk(rows, chunk),
            failed,
            context=self,
        )

    def _on_send_chunk(self, rows: _Rows, chunk: _Chunk) -> None:
        self._reading = False
        self._queue.extend(chunk.jobs)
        self._exhausted = chunk.done
        if chunk.problem is not None:
            self.failures.append(chunk.problem)
        self._pump(rows)

    def _pump(self, rows: _Rows) -> None:
        assert self.submit_function is not None
        while self._queue and self._in_flight < IN_FLIGHT and not self.stopped:
            job = self._queue.pop(0)
            assert job.body is not None and job.row is not None
            self._in_flight += 1
            self.sent += 1
            label = job.row.label
            try:
                future = self.submit_function(job.body, job.origin)
            except ConsoleError as exc:
                self._on_submitted(rows, None, exc, label)
                continue
            self._follow(rows, future, label)
        if self.stopped or (self._exhausted and not self._queue):
            if self._in_flight == 0:
                self._finish()
        elif not self._reading and len(self._queue) < IN_FLIGHT:
            self._fetch(rows)

    def _follow(self, rows: _Rows, future: Future[JobRecord], label: str) -> None:
        when_done(
            future,
            lambda record: self._on_submitted(rows, record, None, label),
            lambda error: self._on_submitted(rows, None, error, label),
            context=self,
        )

    def _on_submitted(
        self, rows: _Rows, record: JobRecord | None, error: BaseException | None, label: str
    ) -> None:
        self._in_flight -= 1
        if error is not None:
            self.not_sent += 1
            self.failures.append(f"{label}: {error}")
        elif record is not None and record.state == JobState.NOT_SENT:
            self.not_sent += 1
            self.failures.append(f"{label}: {record.note or 'not sent'}")
        else:
            self.delivered += 1
        self.progress.setValue(self.delivered + self.not_sent)
        self._pump(rows)

    def _finish(self) -> None:
        if not self._sending:
            return
        self._sending = False
        self._queue = []
        text = f"Sent {counted(self.delivered, 'row')}; the job table follows their jobs."
        if self.not_sent:
            text += f" {self.not_sent} could not be sent: " + "; ".join(self.failures[:3])
        if self.invalid:
            text += f" {counted(self.invalid, 'invalid row')} not sent (listed below)."
        if self.stopped:
            text += " Stopped before the end: the rows sent so far stay sent."
        self.summary.setText(text)
        self.close_button.setText("Close")
        self.sig_finished_sending.emit(self.delivered, self.not_sent)

    def stop(self) -> None:
        """Stop reading or sending: nothing new is sent, answers on their way are counted."""
        self.stopped = True
        self._queue = []
        if self._sending and self._in_flight == 0:
            self._finish()

    def _on_buttons_rejected(self) -> None:
        if self.busy:
            self.stop()
            return
        self.reject()
