"""The job details' **Logs** tab (``jobLogs``): the worker log lines kept with the job shown, and
the last of them beside a failed job's error (``excerpt``).

The engine keeps the lines in the history (``gui.core.storage.job_logs``); this tab reads them
from there, on a background lane of its own (``Lane.SERIAL``, one reader), never over the
bridge: a job's log may be a megabyte. While the job shown runs (and a few seconds after its end,
for its last lines) and the tab is visible, it asks for the lines after the last one it has, every
``REFRESH_MS``; the text is formatted off the Qt thread and appended in one piece.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QShowEvent
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from gui.core.records import JobRecord, JobState
from gui.core.storage.job_logs import MAX_LINES_PER_JOB, JobLogLine
from gui.core.wording import counted
from gui.ui import theme
from gui.ui.tasks import Lane, Latest, run_in_background

if TYPE_CHECKING:
    from gui.core.storage.history import HistoryReader

__all__ = ["EXCERPT_LINES", "REFRESH_MS", "LogsTab", "format_lines"]

REFRESH_MS = 500
AFTER_END_S = 6.0  # lines still on their way after the end (the engine's grace is 3 s)
EXCERPT_LINES = 8

EMPTY_QUEUED = (
    "No log lines yet: the job has not started. Its worker's lines appear here once it runs."
)
EMPTY_RUNNING = (
    "No log lines yet: they appear here while the job runs. Local workers have none; a cloud "
    "profile needs an API key for them."
)
EMPTY_ENDED = (
    "No log lines were kept for this job. Local workers have none; a cloud profile needs an API "
    "key for them; a worker that logged nothing leaves none."
)


def format_lines(lines: list[JobLogLine]) -> str:
    """The lines as the tab shows them: time, level, message; untagged ones marked."""
    out = []
    for line in lines:
        at = line.at[11:19] if len(line.at) >= 19 else (line.at or "--:--:--")
        level = line.level or ("SYS" if line.source == "system" else "")
        mark = "· " if line.untagged else ""
        out.append(f"{at}  {level:<5}  {mark}{line.message}")
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class _Read:
    local_id: str
    lines: list[JobLogLine]
    text: str


class _Reader:
    """One ``HistoryReader`` for the tab, opened on first use on the serial lane (never on the
    Qt thread)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._reader: HistoryReader | None = None

    def logs(self, local_id: str, after: int, last: int | None = None) -> list[JobLogLine]:
        if self._reader is None:
            from gui.core.storage.history import HistoryReader

            self._reader = HistoryReader(self._path)
        return self._reader.logs(local_id, after=after, last=last)


class LogsTab(QWidget):
    """The Logs tab of ``JobDetails``; ``show_record`` with each snapshot of the job shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobLogs")
        self._source: _Reader | None = None
        self._record: JobRecord | None = None
        self._position = 0  # the last line shown
        self._counts = [0, 0]  # lines shown, of which untagged
        self._ended_at: float | None = None
        self._reading = False
        self._task = Latest()
        self._excerpt_task = Latest()
        self.status = QLabel("", self)
        self.status.setObjectName("jobLogsStatus")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.view = QPlainTextEdit(self)
        self.view.setObjectName("jobLogsText")
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setMaximumBlockCount(MAX_LINES_PER_JOB)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        # The last lines of a failed job, shown beside its error (JobDetails puts it there).
        self.excerpt = QLabel("", None)
        self.excerpt.setObjectName("jobErrorLogLines")
        self.excerpt.setTextFormat(Qt.TextFormat.RichText)
        self.excerpt.setWordWrap(True)
        self.excerpt.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.excerpt.setContentsMargins(8, 0, 8, 8)
        self.excerpt.hide()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def set_history(self, path: Path | None) -> None:
        """Where the lines are read from: the data folder's ``jobs.sqlite3`` (None: nowhere)."""
        self._source = None if path is None else _Reader(path)
        if self._record is not None:
            self._reload(self._record)

    # -- the job shown ---------------------------------------------------------------------------
    def show_record(self, record: JobRecord | None) -> None:
        previous, self._record = self._record, record
        if record is None or previous is None or previous.local_id != record.local_id:
            self._reload(record)
        elif record.terminal and self._ended_at is None:
            self._ended_at = time.monotonic()
            self._set_excerpt(record)
        self._update_status()
        self._arm()

    def _reload(self, record: JobRecord | None) -> None:
        self._task.drop()
        self._reading = False
        self.view.clear()
        self._position, self._counts = 0, [0, 0]
        self._ended_at = time.monotonic() - AFTER_END_S if record and record.terminal else None
        self._set_excerpt(record)
        self._read_more()

    def _arm(self) -> None:
        if self._wants_more():
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    def _wants_more(self) -> bool:
        record = self._record
        if record is None or self._source is None:
            return False
        return self._ended_at is None or time.monotonic() - self._ended_at < AFTER_END_S

    def _on_timer_timeout(self) -> None:
        if not self._wants_more():
            self._timer.stop()
            self._update_status()
            self._set_excerpt(self._record)  # with the lines that came after the end
            return
        if self.isVisible():  # a hidden tab reads when it is shown (showEvent)
            self._read_more()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._record is not None and not self._reading:
            self._read_more()

    def _read_more(self) -> None:
        record, source = self._record, self._source
        if record is None or source is None or self._reading:
            return
        self._reading = True
        local_id, after = record.local_id, self._position

        def read() -> _Read:
            lines = source.logs(local_id, after)
            return _Read(local_id, lines, format_lines(lines))

        run_in_background(
            read, self._on_read, self._on_read_failed,
            context=self, lane=Lane.SERIAL, latest=self._task,
        )  # fmt: skip

    def _on_read(self, read: _Read) -> None:
        self._reading = False
        if self._record is None or read.local_id != self._record.local_id or not read.lines:
            self._update_status()
            return
        self._position = read.lines[-1].position
        self._counts[0] += len(read.lines)
        self._counts[1] += sum(1 for line in read.lines if line.untagged)
        bar = self.view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.view.appendPlainText(read.text)
        if at_end:  # follow the end unless the person scrolled up to read
            bar.setValue(bar.maximum())
        self._update_status()

    def _on_read_failed(self, error: BaseException) -> None:
        self._reading = False
        self.status.setText(f"The log lines could not be read: {error}")

    def _update_status(self) -> None:
        record = self._record
        shown, untagged = self._counts
        if record is None:
            self.status.setText("")
        elif not shown:
            if record.state in (JobState.SUBMITTING, JobState.IN_QUEUE):
                self.status.setText(EMPTY_QUEUED)
            else:
                self.status.setText(EMPTY_ENDED if not self._wants_more() else EMPTY_RUNNING)
        else:
            parts = [counted(shown, "line")]
            if untagged:
                parts.append(f"{untagged} untagged (·: its worker wrote them during its run)")
            if shown >= MAX_LINES_PER_JOB:
                parts.append(f"the last {MAX_LINES_PER_JOB:,} are kept")
            if self._wants_more() and not record.terminal:
                parts.append("following")
            self.status.setText(" · ".join(parts))
        self.view.setVisible(bool(shown))

    # -- the excerpt beside a failed job's error -------------------------------------------------
    def _set_excerpt(self, record: JobRecord | None) -> None:
        self._excerpt_task.drop()
        self.excerpt.setText("")
        self.excerpt.hide()
        source = self._source
        if record is None or source is None or record.state is not JobState.FAILED:
            return
        local_id = record.local_id

        def read() -> list[JobLogLine]:
            return source.logs(local_id, 0, last=EXCERPT_LINES)

        run_in_background(
            read, self._on_excerpt_read, context=self, lane=Lane.SERIAL,
            latest=self._excerpt_task,
        )  # fmt: skip

    def _on_excerpt_read(self, lines: list[JobLogLine]) -> None:
        if not lines:
            return
        text = html.escape(format_lines(lines))
        muted = theme.css("muted")
        self.excerpt.setText(
            f"<p style='color:{muted}'>The last {counted(len(lines), 'log line')} of its worker "
            "(the Logs tab has them all):</p>"
            f"<pre style='background:{theme.css('code_bg')}; padding:6px'>{text}</pre>"
        )
        self.excerpt.show()
