"""The workers panel (``workersPanel``): the selected target's endpoint, its active workers and
why its jobs would wait, from the management API (REST v2) through the bridge.

Each worker's state, GPU, data center, uptime, release (version and image) and an outdated mark;
above them a summary line and, when something keeps jobs waiting (max workers 0, a crash loop,
throttled or starting workers, a full queue, a rollout), the diagnosis in words.

It asks only while it is shown: every ``REFRESH_INTERVAL_MS`` and on Refresh, one question at a
time; hidden, it asks nothing. The engine asks RunPod; the window never waits. What it can't
show is said instead of a table: a local worker has no account, a cloud profile without a key or
an endpoint id says where to set it, and a failed request says what happened.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.core.errors import ConsoleError
from gui.core.targets import Target
from gui.ui import theme
from gui.ui.account.workers_model import WorkersModel
from gui.ui.tasks import Latest, when_done

if TYPE_CHECKING:
    from gui.core.account.status import EndpointStatus
    from gui.ui.bridge import EngineBridge

__all__ = ["REFRESH_INTERVAL_MS", "WorkersPanel"]

REFRESH_INTERVAL_MS = 5000
"""How often a shown panel asks: RunPod's management API allows some 60 requests a minute per
key, and one refresh costs three (endpoint, workers, health)."""


class WorkersPanel(QWidget):
    """The workers of ``set_target``'s endpoint, asked through ``bridge`` while shown."""

    def __init__(
        self,
        bridge: EngineBridge | None,
        parent: QWidget | None = None,
        *,
        interval_ms: int = REFRESH_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("workersPanel")
        self._bridge = bridge
        self._target: Target | None = None
        self._management_url = ""
        self._asked: Future[EndpointStatus] | None = None
        self._answer = Latest()  # an answer about a target selected before is not heard
        self._shown_reading = False  # the table shows a reading of the current target
        self.requests_sent = 0
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.refresh)
        self._build()
        self._show_empty("Select a profile to see its endpoint's workers.")

    def _build(self) -> None:
        self.title = QLabel()
        self.title.setObjectName("workersTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.updated = QLabel()
        self.updated.setObjectName("workersUpdated")
        theme.bind_style(self.updated, lambda: f"color: {theme.css('muted')};")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("refreshWorkersButton")
        self.refresh_button.setToolTip("Ask RunPod now (a shown panel asks every few seconds)")
        self.refresh_button.clicked.connect(self.refresh)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.updated)
        head.addWidget(self.refresh_button)
        self.summary = QLabel()
        self.summary.setObjectName("workersSummary")
        self.summary.setWordWrap(True)
        self.diagnosis = QLabel()
        self.diagnosis.setObjectName("workersDiagnosis")
        self.diagnosis.setWordWrap(True)
        self.diagnosis.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = WorkersModel(self)
        self.table = QTableView()
        self.table.setObjectName("workersTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(60)
        for column, width in enumerate((125, 95, 180, 85, 70, 220)):
            header.resizeSection(column, width)
        self.empty = QLabel()
        self.empty.setObjectName("workersEmptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        theme.bind_style(self.empty, lambda: f"color: {theme.css('muted')}; padding: 24px;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.diagnosis)
        layout.addWidget(self.pages, 1)

    # -- what to show ----------------------------------------------------------------------

    @property
    def target(self) -> Target | None:
        return self._target

    @property
    def empty_text(self) -> str:
        """What the panel says instead of a table ("" while it shows one)."""
        return self.empty.text() if self.pages.currentWidget() is self.empty else ""

    def set_target(self, target: Target | None, management_url: str = "") -> None:
        """Show ``target``'s endpoint (asked now when shown); None: nothing selected."""
        if target == self._target and management_url == self._management_url:
            return
        self._target, self._management_url = target, management_url
        self._answer.drop()
        self._asked = None
        self._shown_reading = False
        self.model.set_rows([])
        self.title.setText(self._target_title())
        self.summary.clear()
        self.diagnosis.clear()
        self.updated.clear()
        if self.isVisible():
            self.refresh()
        else:
            self._show_reason_or_wait()

    def set_bridge(self, bridge: EngineBridge | None) -> None:
        """None once the window closes its engine: nothing more is asked."""
        self._bridge = bridge
        if bridge is None:
            self.timer.stop()

    def refresh(self) -> None:
        """Ask for the target's endpoint and workers now, unless a question is on its way or
        the target has no account to ask."""
        if self._show_reason_or_wait():
            return
        bridge, target = self._bridge, self._target
        assert bridge is not None and target is not None
        if self._asked is not None and not self._asked.done():
            return  # one at a time: its answer comes
        self.refresh_button.setEnabled(False)
        if not self._shown_reading:
            self._show_empty(f"Asking for the workers of {self._target_title()}…")
        self._asked = bridge.endpoint_workers(target, self._management_url)
        self.requests_sent += 1
        when_done(self._asked, self._on_status, self._on_failed, context=self, latest=self._answer)

    def _show_reason_or_wait(self) -> bool:
        """Say why nothing can be asked for the target, if so (True)."""
        target = self._target
        if self._bridge is None:
            self._show_empty("The job engine is not running: workers can't be asked for.")
            return True
        if target is None:
            self._show_empty("Select a profile to see its endpoint's workers.")
            return True
        if target.kind == "local":
            self._show_empty(
                f"{target.name} is a local worker: local workers have no account, so RunPod "
                "has no workers to show. Select a cloud profile or the built-in sandbox."
            )
            return True
        if target.kind == "cloud" and not target.endpoint_id:
            self._show_empty(
                f"{target.name} names no endpoint: set its endpoint id in Profiles (Pick… lists "
                "the account's endpoints)."
            )
            return True
        if not self._shown_reading:
            self._show_empty(f"Workers of {self._target_title()} show when this tab is open.")
        return False

    def _target_title(self) -> str:
        target = self._target
        if target is None:
            return ""
        if target.kind == "sandbox":
            return "the built-in sandbox"
        return (
            f"{target.name}: endpoint {target.endpoint_id}" if target.endpoint_id else target.name
        )

    def _show_empty(self, text: str) -> None:
        self.empty.setText(text)
        self.pages.setCurrentWidget(self.empty)

    # -- answers ---------------------------------------------------------------------------

    def _on_status(self, status: EndpointStatus) -> None:
        from gui.core.account.status import worker_row

        self.refresh_button.setEnabled(True)
        self._shown_reading = True
        self.title.setText(status.title)
        self.summary.setText(status.summary)
        self._show_diagnosis(status.diagnosis.text, status.diagnosis.found)
        self.model.set_rows([worker_row(worker) for worker in status.workers.workers])
        self.updated.setText(f"updated {time.strftime('%H:%M:%S')}")
        if status.workers.workers:
            self.pages.setCurrentWidget(self.table)
        else:
            self._show_empty(
                "No active worker: RunPod lists only workers that are up (scaled-down ones are "
                "gone)."
            )

    def _on_failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        detail = (
            str(error) if isinstance(error, ConsoleError) else f"{type(error).__name__}: {error}"
        )
        if self._shown_reading:  # the last reading stays, marked as old
            self.updated.setText("not updated")
            self._show_diagnosis(f"The last refresh failed: {detail}", True, error=True)
            return
        self.summary.clear()
        self.diagnosis.clear()
        self._show_empty(detail)

    def _show_diagnosis(self, text: str, found: bool, *, error: bool = False) -> None:
        self.diagnosis.setText(text)
        role = "error" if error else "warning" if found else "muted"
        self.diagnosis.setStyleSheet(f"color: {theme.css(role)};")

    # -- asking only while shown -----------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._bridge is not None:
            self.timer.start()
        self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.timer.stop()
