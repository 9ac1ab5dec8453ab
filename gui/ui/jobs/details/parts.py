"""Parts of ``jobDetails``: the status history, the images found in an output, the error layout."""

from __future__ import annotations

import html
import json
import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.core.records import JobRecord, JobState
from gui.ui import theme
from gui.ui.jobs.details.output_scan import FoundImage, path_text
from gui.ui.jobs.style import action_icon, state_color, state_icon

__all__ = ["HistoryView", "ImagesView", "error_html"]

CHUNK_PREVIEW_CHARS = 160


def _clock(timestamp: float) -> str:
    fraction = f"{timestamp % 1:.3f}"[1:]
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) + fraction


def _short(value: Any, limit: int = CHUNK_PREVIEW_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text):,} characters)"


def facts_words(record: JobRecord) -> list[str]:
    """What the console learned around the job, for the details' summary line: the release and
    GPU of its worker, its estimated cost, and a spend guard that cancelled it."""
    from gui.core.account.cost import format_usd

    facts = record.facts or {}
    words: list[str] = []
    if record.release:
        words.append(f"release {record.release}")
    gpu = facts.get("gpu")
    if isinstance(gpu, str):
        words.append(f"{facts.get('gpu_count') or 1} x {gpu}")
    cost = facts.get("cost")
    if isinstance(cost, dict):
        usd = cost.get("usd")
        words.append(f"cost ~{format_usd(usd)}" if isinstance(usd, int | float)
                     else "no cost estimate")  # fmt: skip
    if isinstance(facts.get("guard"), dict):
        words.append("cancelled by a spend guard")
    return words


def error_html(record: JobRecord) -> str:
    """The error laid out for reading: type and message first, then the traceback, then where."""
    parts: list[str] = []
    if record.note:
        parts.append(f"<p>{html.escape(record.note)}</p>")
    error = record.parsed_error
    if error is not None:
        kind = f"<b>{html.escape(error.type)}</b>: " if error.type else ""
        parts.append(f"<p style='font-size:larger'>{kind}{html.escape(error.message)}</p>")
        if error.traceback:
            parts.append(
                f"<pre style='background:{theme.css('code_bg')}; padding:6px'>"
                f"{html.escape(error.traceback.rstrip())}</pre>"
            )
        where = [
            f"{label} {html.escape(value)}"
            for label, value in (
                ("host", error.hostname),
                ("worker", error.worker_id),
                ("runpod", error.runpod_version),
            )
            if value
        ]
        if where:
            parts.append(f"<p style='color:{theme.css('muted')}'>{' · '.join(where)}</p>")
    return "".join(parts)


class HistoryView(QWidget):
    """Status changes with times, the last progress value, stream chunks, webhook deliveries."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("statusHistory")
        self.table.setHorizontalHeaderLabels(["Time", "Status"])
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.progress = QLabel(self)
        self.progress.setWordWrap(True)
        self.webhooks = QLabel(self)
        self.chunks_label = QLabel(self)
        self.chunks = QListWidget(self)
        self.chunks.setObjectName("streamChunks")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.progress)
        layout.addWidget(self.webhooks)
        layout.addWidget(self.chunks_label)
        layout.addWidget(self.chunks, 1)

    def show_record(self, record: JobRecord | None) -> None:
        history = [] if record is None else record.history
        self.table.setRowCount(len(history))
        for row, (at, state_text) in enumerate(history):
            self.table.setItem(row, 0, QTableWidgetItem(_clock(at)))
            item = QTableWidgetItem(state_text)
            try:
                state = JobState(state_text)
            except ValueError:
                state = None
            if state is not None:
                item.setIcon(state_icon(state))
                item.setForeground(state_color(state))
            self.table.setItem(row, 1, item)
        progress = None if record is None else record.progress
        self.progress.setText("" if progress is None else f"Last progress: {_short(progress)}")
        self.progress.setVisible(progress is not None)
        self._show_webhooks(record)
        stream = [] if record is None else record.stream
        self.chunks_label.setText(f"Stream chunks: {len(stream)}")
        self.chunks_label.setVisible(bool(stream))
        self.chunks.setVisible(bool(stream))
        if self.chunks.count() != len(stream):
            self.chunks.clear()
            self.chunks.addItems([f"{i + 1}. {_short(chunk)}" for i, chunk in enumerate(stream)])

    def _show_webhooks(self, record: JobRecord | None) -> None:
        if record is None:
            self.webhooks.setText("")
            return
        text = f"Webhook deliveries received: {record.webhook_deliveries}"
        if record.webhook_missing:
            text += " (the job ended but no delivery arrived)"
        self.webhooks.setText(text)


class ImagesView(QScrollArea):
    """Previews of the images found in an output, each with a Save button."""

    sig_save_requested: Signal = Signal(object)
    """The person asked to save this ``FoundImage`` (its original bytes)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self._holder = QWidget(self)
        self._grid = QGridLayout(self._holder)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setWidget(self._holder)
        self.previews: list[QLabel] = []

    def set_images(self, images: list[tuple[FoundImage, QImage]]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.previews = []
        for position, (found, preview) in enumerate(images):
            box = QWidget(self._holder)
            label = QLabel(box)
            label.setPixmap(QPixmap.fromImage(preview))
            label.setToolTip(
                f"{path_text(found.path)} · {found.format.upper()}, {len(found.data):,} bytes"
            )
            caption = QLabel(f"{path_text(found.path)} ({found.format.upper()})", box)
            save = QPushButton(action_icon("save"), "Save…", box)
            save.clicked.connect(lambda _=False, f=found: self.sig_save_requested.emit(f))
            column = QVBoxLayout(box)
            column.addWidget(label)
            column.addWidget(caption)
            column.addWidget(save, 0, Qt.AlignmentFlag.AlignLeft)
            self._grid.addWidget(box, position // 2, position % 2)
            self.previews.append(label)
