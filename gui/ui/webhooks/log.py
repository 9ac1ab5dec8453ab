"""The webhook log (``webhookLogView``, in the ``webhookLog`` tab): stored deliveries, newest first.

For the selected delivery it shows the payload (pretty-printed from the stored text) and the
headers; **Copy payload** puts the stored text on the clipboard; **Replay** sends it to a URL the
user gives, to test their own receiver: the engine sends it (``Engine.replay_delivery``, on its
loop with its HTTP client), never a thread of the window.

``DeliveryTableModel`` only adapts ``Delivery`` records. ``WebhookLog`` reads its first rows from a
``DeliverySource`` (a ``DeliveryStore``, or the window's ``DeliveryReader``) off the Qt thread,
and takes new ones through ``add_deliveries`` on the Qt thread (the window's: read from the
history when the engine says it stored them), or ``post_delivery``, callable from any thread (a
listener's subscriber), added in batches at most every ``FLUSH_INTERVAL_MS``. The table keeps no
payloads: the selected one is read from the source when it is shown.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from enum import IntEnum
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.core.webhooks.deliveries import Delivery
from gui.ui.bridge import describe_error
from gui.ui.jobs.style import format_time
from gui.ui.tasks import run_in_background, when_done

__all__ = [
    "DELIVERY_ROLE",
    "FLUSH_INTERVAL_MS",
    "DeliveryColumn",
    "DeliverySource",
    "DeliveryTableModel",
    "Replay",
    "WebhookLog",
    "format_size",
]

DELIVERY_ROLE = int(Qt.ItemDataRole.UserRole) + 1
"""``data(index, DELIVERY_ROLE)`` gives the row's ``Delivery`` (without its payload)."""
FLUSH_INTERVAL_MS = 50
MAX_ROWS = 5000  # the log shows the latest ones; the history keeps them all
SHOWN_PAYLOAD_CHARS = 2_000_000  # beyond this the view is cut (Copy still copies all)

AnyIndex = QModelIndex | QPersistentModelIndex

Replay = Callable[[str, str], Future[str]]
"""``replay(url, raw)``: send a stored payload to ``url`` (``Engine.replay_delivery``); the future
holds a line saying what came back."""


class DeliverySource(Protocol):
    """What the log reads: ``gui.core.webhooks.deliveries.DeliveryStore`` fits."""

    def list(self, limit: int = ..., offset: int = ..., *, with_payload: bool = ...) -> Any: ...

    def get_raw(self, delivery_id: int) -> str | None: ...


class DeliveryColumn(IntEnum):
    TIME = 0
    JOB_ID = 1
    STATUS = 2
    SIZE = 3
    MATCHED = 4
    REPEAT = 5


HEADERS = {
    DeliveryColumn.TIME: "Received",
    DeliveryColumn.JOB_ID: "Job id",
    DeliveryColumn.STATUS: "Status",
    DeliveryColumn.SIZE: "Size",
    DeliveryColumn.MATCHED: "Matched",
    DeliveryColumn.REPEAT: "Repeat",
}


def format_size(size: int) -> str:
    """``512 B``, ``1.5 KB``, ``3.2 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _cell(delivery: Delivery, column: int) -> str:
    if column == DeliveryColumn.TIME:
        return format_time(delivery.received_at)
    if column == DeliveryColumn.JOB_ID:
        return delivery.job_id or "(no id)"  # e.g. a local worker's {"output": ...}
    if column == DeliveryColumn.STATUS:
        return delivery.status or "—"
    if column == DeliveryColumn.SIZE:
        return format_size(delivery.size)
    if column == DeliveryColumn.MATCHED:
        return "yes" if delivery.matched_local_id else "unmatched"
    if column == DeliveryColumn.REPEAT:
        return f"repeat of #{delivery.repeat_of}" if delivery.repeat_of is not None else ""
    return ""


class DeliveryTableModel(QAbstractTableModel):
    """One row per delivery, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Delivery] = []
        self._row_of: dict[int, int] = {}  # delivery id -> row

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(DeliveryColumn)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        delivery = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(delivery, index.column())
        if role == DELIVERY_ROLE:
            return delivery
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == DeliveryColumn.MATCHED:
            if delivery.matched_local_id:
                return f"Merged into job {delivery.matched_local_id}"
            return "No job in the history has this id (or the delivery has none)."
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == DeliveryColumn.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS.get(DeliveryColumn(section)) if 0 <= section < len(HEADERS) else None
        return None

    def delivery_at(self, row: int) -> Delivery:
        return self._rows[row]

    def set_deliveries(self, deliveries: Iterable[Delivery]) -> None:
        """Replace every row (``deliveries`` in any order; shown newest first)."""
        self.beginResetModel()
        rows = sorted((_light(d) for d in deliveries), key=lambda d: d.id, reverse=True)
        self._rows = rows[:MAX_ROWS]
        self._reindex()
        self.endResetModel()

    def add_deliveries(self, deliveries: Iterable[Delivery]) -> None:
        """Insert new deliveries at the top; a known id updates its row in place."""
        new: list[Delivery] = []
        for delivery in deliveries:
            row = self._row_of.get(delivery.id)
            if row is None:
                new.append(_light(delivery))
                continue
            self._rows[row] = _light(delivery)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(DeliveryColumn) - 1))
        if new:
            new.sort(key=lambda d: d.id, reverse=True)
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self._rows[:0] = new
            self._reindex()
            self.endInsertRows()
        if len(self._rows) > MAX_ROWS:
            self.beginRemoveRows(QModelIndex(), MAX_ROWS, len(self._rows) - 1)
            del self._rows[MAX_ROWS:]
            self._reindex()
            self.endRemoveRows()

    def _reindex(self) -> None:
        self._row_of = {delivery.id: row for row, delivery in enumerate(self._rows)}


def _light(delivery: Delivery) -> Delivery:
    """The row keeps no payload: a log of large outputs must not live in memory."""
    return delivery if delivery.payload is None else dataclasses.replace(delivery, payload=None)


def _pretty(raw: str | None) -> tuple[str, str]:
    """(text to show, full text to copy) for a stored payload; runs off the Qt thread."""
    if raw is None:
        return "(this delivery is no longer in the history)", ""
    try:
        shown = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        shown = raw
    if len(shown) > SHOWN_PAYLOAD_CHARS:
        shown = (
            shown[:SHOWN_PAYLOAD_CHARS] + "\n… (cut here for display; Copy payload copies it all)"
        )
    return shown, raw


W = TypeVar("W", bound=QWidget)


def _named(widget: W, name: str) -> W:
    widget.setObjectName(name)
    return widget


def _replay_url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Give an http:// or https:// URL to replay to, e.g. http://127.0.0.1:9000/hook."
    return None


class WebhookLog(QWidget):
    """The ``webhookLog`` panel over a delivery source; ``replay`` sends a payload again (None:
    Replay stays off)."""

    sig_replay_finished: Signal = Signal(str)
    """A replay ended; the text says how (status and time, or what went wrong)."""

    _sig_flush_requested: Signal = Signal()
    """Emitted from any thread by ``post_delivery``; delivered on the Qt thread."""

    def __init__(
        self,
        source: DeliverySource,
        parent: QWidget | None = None,
        *,
        replay: Replay | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("webhookLogView")  # in the Webhooks tab, whose page is ``webhookLog``
        self._source = source
        self._replay = replay
        self._pending: list[Delivery] = []
        self._pending_lock = threading.Lock()
        self._flush_scheduled = False
        self._shown_id: int | None = None
        self._raw = ""
        self.model = DeliveryTableModel(self)
        self._build()
        # A child timer, not QTimer.singleShot: it dies with the panel, so no flush can reach a
        # deleted widget.
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self._flush_pending)
        self._sig_flush_requested.connect(self._on_flush_requested)
        self.reload()

    def _build(self) -> None:
        self.table = _named(QTableView(), "webhookLogTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        # One line per delivery: a job id is elided in its middle (its end, "-u1", tells retries
        # apart), never wrapped over two lines; the column fits a whole RunPod id.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        sample_id = "sync-60902e6c-08a1-426e-9cb9-9eaec90f5e2b-u1"
        header.resizeSection(
            DeliveryColumn.JOB_ID, self.table.fontMetrics().horizontalAdvance(sample_id) + 16
        )
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self.payload_view = _named(QPlainTextEdit(), "webhookPayload")
        self.headers_view = _named(QPlainTextEdit(), "webhookHeaders")
        self.payload_view.setReadOnly(True)
        self.headers_view.setReadOnly(True)
        details = QTabWidget()
        details.addTab(self.payload_view, "Payload")
        details.addTab(self.headers_view, "Headers")
        self.copy_button = _named(QPushButton("Copy payload"), "webhookCopyButton")
        self.copy_button.clicked.connect(self._on_copy_clicked)
        self.replay_url = _named(QLineEdit(), "webhookReplayUrl")
        self.replay_url.setPlaceholderText("Replay to URL, e.g. http://127.0.0.1:9000/hook")
        self.replay_button = _named(QPushButton("Replay"), "webhookReplayButton")
        self.replay_button.setToolTip("Send the selected payload to this URL (POST, JSON)")
        self.replay_button.clicked.connect(self._on_replay_clicked)
        self.status_label = _named(QLabel(), "webhookLogStatus")
        self.status_label.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.copy_button)
        actions.addWidget(self.replay_url, 1)
        actions.addWidget(self.replay_button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(details, 1)
        lower_layout.addLayout(actions)
        lower_layout.addWidget(self.status_label)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._set_selection_actions(False)

    # -- rows ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the latest deliveries from the source again (off the Qt thread)."""
        source = self._source
        run_in_background(
            lambda: list(source.list(MAX_ROWS, 0, with_payload=False)),
            self.model.set_deliveries,
            self._on_background_failed,
            context=self,
        )

    def post_delivery(self, delivery: Delivery) -> None:
        """Add a stored delivery soon; safe from any thread (e.g. the listener's subscriber)."""
        with self._pending_lock:
            self._pending.append(_light(delivery))
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        self._sig_flush_requested.emit()

    def follow(self, subscribe: Callable[[Callable[[Delivery], None]], Callable[[], None]]) -> None:
        """Show each delivery announced through ``subscribe`` (``WebhookListener.subscribe``), until
        this panel is destroyed; then it unsubscribes."""
        unsubscribe = subscribe(self.post_delivery)
        self.destroyed.connect(lambda *_args: unsubscribe())

    def add_deliveries(self, deliveries: Iterable[Delivery]) -> None:
        """Add or update rows at once (Qt thread only)."""
        self.model.add_deliveries(deliveries)

    def selected_delivery(self) -> Delivery | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.delivery_at(rows[0].row()) if rows else None

    def _on_flush_requested(self) -> None:
        self._flush_timer.start()

    def _flush_pending(self) -> None:
        with self._pending_lock:
            batch, self._pending = self._pending, []
            self._flush_scheduled = False
        if batch:
            self.model.add_deliveries(batch)

    # -- the selected delivery -------------------------------------------------------------

    def _on_table_selection_changed(self, _selected: QItemSelection, _old: QItemSelection) -> None:
        delivery = self.selected_delivery()
        self._raw = ""
        self._set_selection_actions(False)
        if delivery is None:
            self._shown_id = None
            self.payload_view.clear()
            self.headers_view.clear()
            return
        self._shown_id = delivery.id
        self.headers_view.setPlainText(
            "\n".join(f"{name}: {value}" for name, value in delivery.headers.items())
        )
        self.payload_view.setPlainText("Loading…")
        source, wanted = self._source, delivery.id
        run_in_background(
            lambda: _pretty(source.get_raw(wanted)),
            lambda shown: self._on_payload_read(wanted, shown),
            self._on_background_failed,
            context=self,
        )

    def _on_payload_read(self, delivery_id: int, shown: tuple[str, str]) -> None:
        if delivery_id != self._shown_id:
            return  # the selection moved on while this was read
        text, self._raw = shown
        self.payload_view.setPlainText(text)
        self._set_selection_actions(bool(self._raw))

    def _set_selection_actions(self, enabled: bool) -> None:
        self.copy_button.setEnabled(enabled)
        self.replay_button.setEnabled(enabled and self._replay is not None)

    def _on_copy_clicked(self) -> None:
        if self._raw:
            QGuiApplication.clipboard().setText(self._raw)
            self.status_label.setText("Payload copied.")

    def _on_replay_clicked(self) -> None:
        url = self.replay_url.text().strip()
        problem = _replay_url_problem(url)
        if problem is not None:
            self.status_label.setText(problem)
            return
        if not self._raw or self._replay is None:
            return
        self.replay_button.setEnabled(False)
        self.status_label.setText(f"Replaying to {url}…")
        future = self._replay(url, self._raw)
        when_done(future, self._on_replay_done, self._on_replay_failed, context=self)

    def _on_replay_done(self, message: str) -> None:
        self._set_selection_actions(bool(self._raw))
        self.status_label.setText(message)
        self.sig_replay_finished.emit(message)

    def _on_replay_failed(self, error: BaseException) -> None:
        self._set_selection_actions(bool(self._raw))
        message = describe_error(error, "replay the delivery")
        self.status_label.setText(message)
        self.sig_replay_finished.emit(message)

    def _on_background_failed(self, error: BaseException) -> None:
        self.status_label.setText(describe_error(error, "read the webhook deliveries"))
