"""The window's right side: the jobs (table, details, health), the webhook deliveries and the
selected endpoint's workers, as tabs.

It works through the window's engine bridge and asks the engine to serve the webhook listener
(``ListenerState`` shows what the engine says of it and reads the deliveries it stored from the
history file); ``shutdown`` lets that go before the window closes the bridge and the engine
(closing the engine stops the listener).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from gui.core.profiles.secrets import SecretStore
from gui.core.targets import Target
from gui.core.webhooks.address import ListenerSettings
from gui.ui.account.workers_panel import WorkersPanel
from gui.ui.bridge import EngineBridge
from gui.ui.jobs.panel import JobsPanel
from gui.ui.webhooks.listener_state import ListenerState

if TYPE_CHECKING:
    from gui.ui.webhooks.log import WebhookLog

__all__ = ["JobsArea"]

INI = QSettings.Format.IniFormat


class JobsArea(QTabWidget):
    """Jobs, Webhooks and Workers tabs over ``bridge``, the window's one way to its engine."""

    sig_resubmit_requested = Signal(dict, str)
    """Put this body and operation into the editor (from the job table's Resubmit)."""

    sig_status_message_requested = Signal(str, int)
    """Show this message in the status bar for this many milliseconds (0: until replaced)."""

    sig_listener_url_changed = Signal(str)
    """The engine's webhook listener serves at this URL ('' when it stopped or failed)."""

    def __init__(
        self,
        bridge: EngineBridge,
        data_dir: Path,
        secrets: SecretStore | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("jobsArea")
        self.setDocumentMode(True)
        self._bridge = bridge
        self.listener: ListenerState | None = None
        self._webhook_log: WebhookLog | None = None
        self._webhooks_page: QWidget | None = None
        self.jobs_panel = JobsPanel(bridge, self, data_dir=data_dir)
        self.jobs_panel.details_pane.history_path = data_dir / "jobs.sqlite3"  # the Logs tab's
        self.jobs_panel.sig_resubmit_requested.connect(self.sig_resubmit_requested)
        self.jobs_panel.sig_status_message_requested.connect(self.sig_status_message_requested)
        self.addTab(self.jobs_panel, "Jobs")
        if secrets is not None:
            saved = ListenerSettings.load(QSettings(str(data_dir / "window.ini"), INI))
            self.listener = ListenerState(bridge, secrets, saved, self)
            self.listener.sig_started.connect(self._on_listener_started)
            self.listener.sig_failed.connect(self._on_listener_failed)
            self.listener.sig_problem_reported.connect(self._on_listener_problem_reported)
            # The log is built when its tab is first shown: deliveries wait in their store.
            self._webhooks_page = QWidget(self)
            self._webhooks_page.setObjectName("webhookLog")  # DESIGN.md's name, from the start
            QVBoxLayout(self._webhooks_page).setContentsMargins(0, 0, 0, 0)
            self.addTab(self._webhooks_page, "Webhooks")
            self.currentChanged.connect(self._on_current_changed)
            self.listener.start()
            # A new engine (the old one stopped) serves the listener again.
            bridge.sig_engine_replaced.connect(self._on_bridge_engine_replaced)
        # It asks RunPod only while its tab is shown.
        self.workers_panel = WorkersPanel(bridge, self)
        self.addTab(self.workers_panel, "Workers")

    @property
    def webhook_log(self) -> WebhookLog | None:
        """The Webhooks tab's log of deliveries (None without a listener); built when first shown
        or asked for."""
        page = self._webhooks_page
        if self._webhook_log is None and self.listener is not None and page is not None:
            from gui.ui.webhooks.log import WebhookLog  # with the tab, not on the start

            replay = self._bridge.replay_delivery
            log = WebhookLog(self.listener.store, page, replay=replay)
            layout = page.layout()
            assert layout is not None
            layout.addWidget(log)
            log.show()  # at once: a layout shows a late child only on the next turn
            self.listener.sig_deliveries_stored.connect(log.add_deliveries)
            self._webhook_log = log
        return self._webhook_log

    def show_webhooks(self) -> None:
        """Bring the Webhooks tab to the front."""
        if self._webhooks_page is not None:
            self.setCurrentWidget(self._webhooks_page)

    def _on_current_changed(self, index: int) -> None:
        if index >= 0 and self.widget(index) is self._webhooks_page:
            _ = self.webhook_log

    def show_workers(self) -> None:
        """Bring the Workers tab to the front (it refreshes while shown)."""
        self.setCurrentWidget(self.workers_panel)

    def set_target(self, target: Target | None, management_url: str = "") -> None:
        """The selected target (and its profile's management URL): the health strip and the
        workers panel follow it."""
        self.jobs_panel.set_target(target, management_url)
        self.workers_panel.set_target(target, management_url)

    def _on_bridge_engine_replaced(self) -> None:
        if self.listener is not None:
            self.listener.start()

    def _on_listener_started(self, _url: str) -> None:
        # Behind the tunnel when one is set: that is the URL RunPod can call.
        if self.listener is not None:
            self.sig_listener_url_changed.emit(self.listener.webhook_url())

    def _on_listener_failed(self, message: str) -> None:
        self.sig_status_message_requested.emit(message, 0)
        self.sig_listener_url_changed.emit("")

    def _on_listener_problem_reported(self, message: str) -> None:
        self.sig_status_message_requested.emit(message, 10_000)

    def shutdown(self) -> None:
        """Let the listener's state go (before the window closes the bridge and the engine, whose
        closing stops the listener)."""
        if self.listener is not None:
            self.listener.close()
        self.listener = None
        self.workers_panel.set_bridge(None)
