"""The health strip: the selected target's ``/health`` counters, refreshed while visible.

Every request goes through the engine (a future); the Qt thread only paints the answer. One request
at a time: a slow endpoint never piles requests up.
"""

from __future__ import annotations

import html
import re
import time
from typing import Any

from PySide6 import QtWidgets
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from gui.core.errors import (
    AuthRefused,
    RateLimited,
    RemoteError,
    SecretUnavailable,
    TransportError,
)
from gui.core.targets import Target
from gui.core.wording import counted
from gui.ui.bridge import EngineBridge, describe_error
from gui.ui.jobs.style import action_icon

__all__ = ["HEALTH_REFRESH_MS", "HealthStrip", "brief_reason", "health_text"]

HEALTH_REFRESH_MS = 5_000
BRIEF_CHARS = 60  # the strip's reason for a failed /health; the tooltip has the whole message
# What the connection said, in a TransportError's message (see gui.core.endpoint.client).
_PARENTHESIS = re.compile(r"\((.+)\)\.")


def _count(section: Any, key: str) -> int:
    value = section.get(key, 0) if isinstance(section, dict) else 0
    return value if isinstance(value, int) else 0


def health_text(answer: dict[str, Any]) -> str:
    """``queue 3 · in progress 2 · workers idle 4, running 2`` (plus unusual worker counters)."""
    jobs, workers = answer.get("jobs", {}), answer.get("workers", {})
    text = (
        f"queue {_count(jobs, 'inQueue')} · in progress {_count(jobs, 'inProgress')} · "
        f"workers idle {_count(workers, 'idle')}, running {_count(workers, 'running')}"
    )
    # RunPod's workers object is an open set of counters; show the unusual ones that matter.
    extra = [
        f"{key} {value}"
        for key, value in (workers.items() if isinstance(workers, dict) else [])
        if key in ("initializing", "throttled", "unhealthy") and isinstance(value, int) and value
    ]
    return text + (", " + ", ".join(extra) if extra else "")


def brief_reason(error: BaseException) -> str:
    """Why ``/health`` could not be read, in a few words for the strip (the tooltip has it all):
    ``HTTP 503``, ``HTTP 401: API key refused``, ``no connection: Connect call failed``."""
    if isinstance(error, RemoteError):
        if isinstance(error, AuthRefused):
            return f"HTTP {error.status_code}: API key refused"
        if isinstance(error, RateLimited):
            return f"HTTP {error.status_code}: rate limited"
        return f"HTTP {error.status_code}"
    if isinstance(error, TransportError):
        # The client's message: "Could not reach URL (what the connection said). Check ...".
        said = _PARENTHESIS.search(str(error))
        return "no connection" + (f": {_short(said.group(1))}" if said else "")
    if isinstance(error, SecretUnavailable):
        return "no API key in the keyring"
    text = str(error).split(". ")[0].strip() if str(error) else type(error).__name__
    return _short(text)


def _short(text: str, limit: int = BRIEF_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class HealthStrip(QWidget):
    """One line: target name, counters, time of the last answer, Refresh and Purge queue."""

    sig_status_message_requested: Signal = Signal(str, int)
    """Ask the main window to show a status bar message (text, timeout in ms)."""

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthStrip")
        self._bridge = bridge
        self._target: Target | None = None
        self._in_flight = False
        self.label = QLabel("No target selected.", self)
        self.label.setObjectName("healthText")
        self.label.setWordWrap(True)  # a narrow window wraps it rather than growing wider
        self.refresh_button = QToolButton(self)
        self.refresh_button.setIcon(action_icon("refresh"))
        self.refresh_button.setToolTip("Read the endpoint's /health now")
        self.refresh_button.clicked.connect(self.refresh)
        self.purge_button = QToolButton(self)
        self.purge_button.setIcon(action_icon("purge"))
        self.purge_button.setText("Purge queue…")
        self.purge_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.purge_button.clicked.connect(self._on_purge_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.refresh_button)
        layout.addWidget(self.purge_button)
        self.timer = QTimer(self)
        self.timer.setInterval(HEALTH_REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        bridge.sig_health_changed.connect(self._on_bridge_health_changed)
        bridge.sig_health_failed.connect(self._on_bridge_health_failed)
        bridge.sig_queue_purged.connect(self._on_bridge_queue_purged)
        self._update_buttons()

    @property
    def target(self) -> Target | None:
        return self._target

    def set_target(self, target: Target | None) -> None:
        """Follow another target; reads its health at once when visible."""
        self._target = target
        self._in_flight = False
        if target is None:
            self.label.setText("No target selected.")
        elif not target.supports_cancel_retry_health:
            self.label.setText(f"{target.name}: a local worker has no /health.")
        else:
            self.label.setText(f"{target.name}: reading health…")
        self._update_buttons()
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Ask for ``/health`` unless a request is already on its way."""
        target = self._target
        if target is None or not target.supports_cancel_retry_health or self._in_flight:
            return
        self._in_flight = True
        self._bridge.request_health(target)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.timer.start()
        self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.timer.stop()

    def _update_buttons(self) -> None:
        usable = self._target is not None and self._target.supports_cancel_retry_health
        self.refresh_button.setEnabled(usable)
        self.purge_button.setEnabled(usable)
        self.purge_button.setToolTip(
            "Remove every job still waiting in the endpoint's queue (running jobs go on)."
            if usable
            else "Purge needs a RunPod or sandbox target; a local worker has no queue to purge."
        )

    def _on_bridge_health_changed(self, target_name: str, answer: dict[str, Any]) -> None:
        if self._target is None or target_name != self._target.name:
            return  # an answer for a target no longer shown
        self._in_flight = False
        stamp = time.strftime("%H:%M:%S")
        self.label.setText(f"<b>{target_name}</b>: {health_text(answer)} · at {stamp}")
        self.label.setToolTip(str(answer))

    def _on_bridge_health_failed(self, target_name: str, error: BaseException) -> None:
        if self._target is None or target_name != self._target.name:
            return
        self._in_flight = False
        reason = html.escape(brief_reason(error))
        self.label.setText(f"<b>{target_name}</b>: health unavailable ({reason})")
        self.label.setToolTip(describe_error(error, "read the endpoint's health"))

    def confirm_purge(self, target: Target) -> bool:
        """Ask before purging (tests replace this)."""
        box = QtWidgets.QMessageBox  # a dialog's class, set up by PySide6 when first used
        answer = box.question(
            self,
            "Purge the queue?",
            f"Remove every job waiting in the queue of {target.name}?\n"
            "Jobs already running are not affected. This cannot be undone.",
            box.StandardButton.Yes | box.StandardButton.Cancel,
            box.StandardButton.Cancel,
        )
        return answer == box.StandardButton.Yes

    def _on_purge_clicked(self) -> None:
        target = self._target
        if target is not None and self.confirm_purge(target):
            self._bridge.request_purge_queue(target)

    def _on_bridge_queue_purged(self, target_name: str, answer: dict[str, Any]) -> None:
        removed = answer.get("removed", 0)
        self.sig_status_message_requested.emit(
            f"Purged the queue of {target_name}: {counted(removed, 'job')} removed.", 5000
        )
        self._in_flight = False
        self.refresh()
