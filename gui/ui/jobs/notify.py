"""A desktop notification when jobs end while the window is not active.

Uses ``QSystemTrayIcon.showMessage`` where the platform has a tray; the QSettings key
``NOTIFY_SETTING`` (default on) turns it off. Jobs ending together make one message, not one each.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from PySide6 import QtWidgets
from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QWidget

from gui.core.records import JobRecord, JobState
from gui.core.resources import resource_path
from gui.core.wording import counted

if TYPE_CHECKING:
    # At run time through ``QtWidgets``: PySide6 sets the class up when a job first ends.
    from PySide6.QtWidgets import QSystemTrayIcon

__all__ = [
    "NOTIFY_SETTING",
    "JobFinishedNotifier",
    "notifications_enabled",
    "set_notifications_enabled",
]

NOTIFY_SETTING = "jobs/notify_when_finished"
GATHER_MS = 500  # jobs ending within this span share one message


def notifications_enabled() -> bool:
    return bool(QSettings().value(NOTIFY_SETTING, True, type=bool))


def set_notifications_enabled(enabled: bool) -> None:
    QSettings().setValue(NOTIFY_SETTING, enabled)


def message_for(records: list[JobRecord]) -> tuple[str, str]:
    """(title, text) for jobs that just ended."""
    if len(records) == 1:
        record = records[0]
        return (
            f"Job {record.state.value.lower().replace('_', ' ')}",
            f"{record.job_id or record.local_id} on {record.profile}",
        )
    counts = Counter(record.state for record in records)
    parts = [f"{count} {state.value.lower().replace('_', ' ')}" for state, count in counts.items()]
    return f"{counted(len(records), 'job')} ended", ", ".join(parts)


class JobFinishedNotifier(QObject):
    """Give it the jobs that reached a terminal state; it decides whether and how to tell."""

    def __init__(self, window_of: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._widget = window_of
        self._tray: QSystemTrayIcon | None = None
        self._gathered: list[JobRecord] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(GATHER_MS)
        self._timer.timeout.connect(self._flush)
        self.shown: list[tuple[str, str]] = []  # messages shown (read by tests)

    def should_notify(self) -> bool:
        window = self._widget.window()
        return (
            notifications_enabled()
            and not window.isActiveWindow()
            and QtWidgets.QSystemTrayIcon.isSystemTrayAvailable()
        )

    @property
    def waiting(self) -> int:
        """Jobs gathered for the next message (0 when nothing is about to be shown)."""
        return len(self._gathered)

    def jobs_finished(self, records: list[JobRecord]) -> None:
        if not records or not self.should_notify():
            return
        self._gathered.extend(records)
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        records, self._gathered = self._gathered, []
        if not records or not self.should_notify():
            return
        title, text = message_for(records)
        failed = any(r.state in (JobState.FAILED, JobState.TIMED_OUT) for r in records)
        kind = QtWidgets.QSystemTrayIcon.MessageIcon
        icon = kind.Warning if failed else kind.Information
        tray = self._tray_icon()
        tray.showMessage(title, text, icon, 5000)
        self.shown.append((title, text))

    def _tray_icon(self) -> QSystemTrayIcon:
        if self._tray is None:
            self._tray = QtWidgets.QSystemTrayIcon(self)
            self._tray.setIcon(
                QIcon(str(resource_path("icons", "io.github.runpod_job_console.svg")))
            )
            self._tray.setToolTip("RunPod Job Console")
            self._tray.activated.connect(self._on_tray_activated)
        if not self._tray.isVisible():
            self._tray.show()  # some platforms show messages only from a visible tray icon
        return self._tray

    def _on_tray_activated(self, _reason: QSystemTrayIcon.ActivationReason) -> None:
        window = self._widget.window()
        window.showNormal()
        window.raise_()
        window.activateWindow()
