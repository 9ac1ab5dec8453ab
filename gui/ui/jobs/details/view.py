"""``jobDetailsView`` (in ``jobDetails``): the selected job's output, request, error, history.

Large outputs never freeze the window: serializing and image decoding run on a background thread
(``prepare_output``), the tree model is lazy, and the Raw view shows at most
``output_scan.RAW_LIMIT_CHARS`` (Save writes all of it).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QImage
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.core.files import write_bytes_atomic, write_text_atomic
from gui.core.records import JobRecord
from gui.core.wording import counted
from gui.ui.jobs import cells
from gui.ui.jobs.details.json_tree import JsonTreeWidget
from gui.ui.jobs.details.logs_tab import LogsTab
from gui.ui.jobs.details.output_scan import (
    LINE_LIMIT_CHARS,
    FoundImage,
    RawText,
    find_images,
    format_raw,
)
from gui.ui.jobs.details.pane import NO_JOB_SUMMARY, NO_JOB_TITLE
from gui.ui.jobs.details.parts import HistoryView, ImagesView, error_html, facts_words
from gui.ui.jobs.model import RUN_CLOCK_MS, is_running, queue_time_ms, run_time_ms
from gui.ui.jobs.style import action_icon, format_duration_ms, state_color, state_icon
from gui.ui.tasks import Latest, run_in_background

__all__ = ["JobDetails", "PreparedOutput", "prepare_output", "raw_note"]

PREVIEW_SIDE = 360


@dataclass(frozen=True)
class PreparedOutput:
    """A job's output made ready for display, off the Qt thread."""

    raw: RawText
    images: list[tuple[FoundImage, QImage]]  # the image and a preview scaled to PREVIEW_SIDE


def prepare_output(value: Any) -> PreparedOutput:
    """Serialize and look for images; runs on a background thread (QImage is safe there)."""
    raw = format_raw(value)
    images: list[tuple[FoundImage, QImage]] = []
    for found in find_images(value):
        image = QImage.fromData(found.data)
        if image.isNull():
            continue
        if max(image.width(), image.height()) > PREVIEW_SIDE:
            image = image.scaled(
                PREVIEW_SIDE,
                PREVIEW_SIDE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        images.append((found, image))
    return PreparedOutput(raw, images)


def _mono_text_view(parent: QWidget) -> QPlainTextEdit:
    view = QPlainTextEdit(parent)
    view.setReadOnly(True)
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return view


class JobDetails(QWidget):
    """Shows one job; ``show_record`` with a new snapshot updates it in place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobDetailsView")  # inside DetailsPane, which is ``jobDetails``
        self._record: JobRecord | None = None
        self._output_task = Latest()  # the output shown: an older job's arrives too late
        self._request_task = Latest()
        # While the job shown runs, its header's run time moves on with the clock.
        self._run_clock = QTimer(self)
        self._run_clock.setInterval(RUN_CLOCK_MS)
        self._run_clock.timeout.connect(self._on_run_clock_timeout)
        self.title = QLabel(NO_JOB_TITLE, self)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)  # a narrow jobs side puts the state under the id
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.wait_line = QLabel("", self)  # why the job waits, when it waits long
        self.wait_line.setObjectName("jobWaitNote")
        self.wait_line.setWordWrap(True)
        self.wait_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.wait_line.hide()
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self._build_output_tab()
        self.request_view = _mono_text_view(self)
        self.request_view.setObjectName("requestSent")
        self.tabs.addTab(self.request_view, "Request")
        self.error_view = QLabel(self)
        self.error_view.setObjectName("jobError")
        self.error_view.setTextFormat(Qt.TextFormat.RichText)
        self.error_view.setWordWrap(True)
        self.error_view.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.error_view.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_view.setContentsMargins(8, 8, 8, 8)
        self.logs = LogsTab(self)
        error_page = QWidget(self)  # the error, then its worker's last log lines
        error_layout = QVBoxLayout(error_page)
        error_layout.setContentsMargins(0, 0, 0, 0)
        error_layout.addWidget(self.error_view)
        error_layout.addWidget(self.logs.excerpt)
        error_layout.addStretch(1)
        error_scroll = QScrollArea(self)
        error_scroll.setWidgetResizable(True)
        error_scroll.setWidget(error_page)
        self._error_tab = self.tabs.addTab(error_scroll, "Error")
        self.tabs.addTab(self.logs, "Logs")
        self.history = HistoryView(self)
        self.tabs.addTab(self.history, "History")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.wait_line)
        layout.addWidget(self.tabs, 1)
        self.show_record(None)

    def _build_output_tab(self) -> None:
        page = QWidget(self)
        self.output_status = QLabel("", page)
        self.output_status.setObjectName("outputStatus")
        self.output_status.setWordWrap(True)
        # Alone on its page while there is no output: at the top, not in the middle of it.
        self.output_status.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.output_tabs = QTabWidget(page)
        self.output_tree = JsonTreeWidget(page)
        self.output_tabs.addTab(self.output_tree, "Tree")
        raw_page = QWidget(page)
        self.raw_view = _mono_text_view(raw_page)
        self.raw_view.setObjectName("outputRaw")
        self.raw_note = QLabel("", raw_page)
        self.raw_note.setWordWrap(True)
        self.save_raw_button = QPushButton(action_icon("save"), "Save output…", raw_page)
        self.save_raw_button.clicked.connect(self._on_save_raw_clicked)
        raw_row = QHBoxLayout()
        raw_row.addWidget(self.raw_note, 1)
        raw_row.addWidget(self.save_raw_button)
        raw_layout = QVBoxLayout(raw_page)
        raw_layout.setContentsMargins(0, 0, 0, 0)
        raw_layout.addLayout(raw_row)
        raw_layout.addWidget(self.raw_view, 1)
        self.output_tabs.addTab(raw_page, "Raw")
        self.images = ImagesView(page)
        self.images.sig_save_requested.connect(self._on_images_save_requested)
        self._images_tab = self.output_tabs.addTab(self.images, "Images")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.output_status)
        layout.addWidget(self.output_tabs, 1)
        self.tabs.addTab(page, "Output")

    # -- public ----------------------------------------------------------------------------------
    @property
    def record(self) -> JobRecord | None:
        return self._record

    def show_record(self, record: JobRecord | None) -> None:
        """Show a job (or nothing). A newer snapshot of the same job keeps the tree as it is
        unless the output itself changed."""
        previous = self._record
        self._record = record
        if record is not None and is_running(record):
            if not self._run_clock.isActive():
                self._run_clock.start()
        else:
            self._run_clock.stop()
        if record is None:
            self.title.setText(NO_JOB_TITLE)
            self.summary.setText(NO_JOB_SUMMARY)
            self._set_output(None, reload=True)
            self.request_view.setPlainText("")
            self.error_view.setText("")
            self.tabs.setTabEnabled(self._error_tab, False)
            self.history.show_record(None)
            self.logs.show_record(None)
            return
        same_job = previous is not None and previous.local_id == record.local_id
        was_on_error = self.tabs.currentIndex() == self._error_tab
        self._show_header(record)
        if not same_job:
            self._set_request(record)
        output_changed = not same_job or (
            previous is not None
            and (previous.output is not record.output and previous.output != record.output)
        )
        self._set_output(record, reload=output_changed)
        self._set_error(record)
        self.history.show_record(record)
        self.logs.show_record(record)
        just_ended = same_job and previous is not None and record.terminal and not previous.terminal
        if not same_job or just_ended:
            self._open_useful_tab(record, was_on_error)

    def _open_useful_tab(self, record: JobRecord, was_on_error: bool) -> None:
        """A failed job without output opens on its error; leaving a failed job for one without
        an error goes back to Output (Qt would move on to the next enabled tab instead)."""
        if record.output is None and (record.error is not None or record.note):
            self.tabs.setCurrentIndex(self._error_tab)
        elif was_on_error and not self.tabs.isTabEnabled(self._error_tab):
            self.tabs.setCurrentIndex(0)

    # -- parts -----------------------------------------------------------------------------------
    def _show_header(self, record: JobRecord) -> None:
        color = state_color(record.state).name()
        job_id = record.job_id or "(no job id yet)"
        self.title.setText(
            f"<b>{job_id}</b>&nbsp; <span style='color:{color}'><b>{record.state.value}</b></span>"
        )
        self.title.setToolTip(f"Local id: {record.local_id}")
        self.setWindowIcon(state_icon(record.state))
        parts = [
            f"{record.profile} · /{record.operation}",
            "submitted " + time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.submitted_at)),
        ]
        queue, run = queue_time_ms(record), run_time_ms(record)
        if queue is not None:
            parts.append(f"queued {format_duration_ms(queue)}")
        if run is not None:
            verb = "running for" if is_running(record) else "ran"
            parts.append(f"{verb} {format_duration_ms(run)}")
        if record.worker_id:
            parts.append(f"worker {record.worker_id}")
        if record.template:
            parts.append(f"template {record.template}")
        parts += facts_words(record)
        self.summary.setText(" · ".join(parts))
        self.summary.setToolTip(cost_tooltip(record))

    def set_wait_note(self, text: str | None) -> None:
        """Why the job shown waits (``gui.ui.jobs.waiting``); None hides the line."""
        self.wait_line.setText(f"Why it waits: {text}" if text else "")
        self.wait_line.setVisible(bool(text))

    @property
    def run_clock_active(self) -> bool:
        """The header's run time is being moved on (the job shown runs)."""
        return self._run_clock.isActive()

    def _on_run_clock_timeout(self) -> None:
        if self._record is not None:
            self._show_header(self._record)

    def _set_request(self, record: JobRecord) -> None:
        self.request_view.setPlainText("Formatting…")
        request = record.request
        run_in_background(
            lambda: format_raw(request),
            self._on_request_formatted,
            context=self,
            latest=self._request_task,
        )

    def _on_request_formatted(self, raw: RawText) -> None:
        self.request_view.setPlainText(raw.text)

    def _set_output(self, record: JobRecord | None, reload: bool) -> None:
        if record is not None and record.output is None and record.progress is not None:
            self.output_status.setText(f"Progress: {_short(record.progress)}")
        elif record is not None and record.output is None:
            self.output_status.setText("No output yet." if not record.terminal else "No output.")
        if not reload:
            return
        self._output_task.drop()
        self.output_tree.set_document(None if record is None else record.output)
        self.raw_view.setPlainText("")
        self.raw_note.setText("")
        self.images.set_images([])
        self.output_tabs.setTabEnabled(self._images_tab, False)
        # No output: the status line says so; an empty tree with a "$ null" row says nothing.
        self.output_tabs.setVisible(record is not None and record.output is not None)
        if record is None or record.output is None:
            if record is None:
                self.output_status.setText("")
            return
        self.output_status.setText("Preparing the output…")
        output = record.output
        run_in_background(
            lambda: prepare_output(output),
            self._on_output_prepared,
            self._on_output_failed,
            context=self,
            latest=self._output_task,  # another job (or a newer output) may be shown by then
        )

    def _on_output_prepared(self, prepared: PreparedOutput) -> None:
        raw = prepared.raw
        self.raw_view.setPlainText(raw.text)
        self.raw_note.setText(raw_note(raw))
        self.images.set_images(prepared.images)
        self.output_tabs.setTabEnabled(self._images_tab, bool(prepared.images))
        count = len(prepared.images)
        self.output_status.setText(f"{counted(count, 'image')} in the output." if count else "")

    def _on_output_failed(self, error: BaseException) -> None:
        self.output_status.setText(f"The output could not be shown: {error}")

    def _set_error(self, record: JobRecord) -> None:
        has_error = record.error is not None or bool(record.note)
        self.tabs.setTabEnabled(self._error_tab, has_error)
        self.error_view.setText(error_html(record) if has_error else "")

    # -- saving ----------------------------------------------------------------------------------
    def _on_save_raw_clicked(self) -> None:
        record = self._record
        if record is None or record.output is None:
            return
        name = f"{record.job_id or record.local_id}-output.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save output", name, "JSON (*.json)")
        if path:
            self.save_output(Path(path))

    def save_output(self, path: Path) -> None:
        """Write the whole output as JSON (off the Qt thread)."""
        record = self._record
        if record is None:
            return

        def write() -> None:
            write_text_atomic(path, json.dumps(record.output, indent=2, ensure_ascii=False) + "\n")

        run_in_background(
            write,
            lambda _: self.output_status.setText(f"Saved the output to {path}."),
            lambda error: self.output_status.setText(f"Could not save the output: {error}"),
            context=self,
        )

    def _on_images_save_requested(self, found: FoundImage) -> None:
        name = f"{(self._record.job_id if self._record else None) or 'output'}.{found.format}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save image", name, "Images (*.png *.jpg *.jpeg)"
        )
        if path:
            self.save_image(found, Path(path))

    def save_image(self, found: FoundImage, path: Path) -> None:
        """Write an image's original bytes (off the Qt thread)."""
        run_in_background(
            lambda: write_bytes_atomic(path, found.data),
            lambda _: self.output_status.setText(f"Saved the image to {path}."),
            lambda error: self.output_status.setText(f"Could not save the image: {error}"),
            context=self,
        )


def cost_tooltip(record: JobRecord) -> str:
    """How the estimate was made and what it leaves out (or why there is none)."""
    return cells.cost_tooltip(record) or ""


def raw_note(raw: RawText) -> str:
    """What the Raw view leaves out, if anything: keys or items, or the end of long strings."""
    if raw.truncated:
        return f"Showing the first {len(raw.text) // 1024:,} KB of a larger output; Save has all."
    if raw.cut_strings:
        strings = counted(raw.cut_strings, "long string")
        return f"Showing the whole output, with {strings} cut at {LINE_LIMIT_CHARS:,} characters."
    return ""


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "…"
