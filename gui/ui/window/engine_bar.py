"""The bar over the jobs that says, in words, when the engine stopped or does not answer, with a
"Restart engine" button; styled as the request's problem banner.

It follows the bridge's ``sig_engine_state_changed``: hidden while the engine is ready (and while
the window's first engine starts: the job table says it is loading), shown when it stopped, does
not answer, or restarts.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from gui.ui import theme
from gui.ui.bridge import (
    ENGINE_NOT_ANSWERING,
    ENGINE_READY,
    ENGINE_STARTING,
    ENGINE_STOPPED,
    EngineBridge,
)

__all__ = ["EngineBar"]


class EngineBar(QWidget):
    """Shows the engine's trouble over the jobs; its button restarts the engine."""

    def __init__(self, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("engineBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        theme.bind_style(
            self,
            lambda: (
                f"#engineBar {{ background: {theme.css('banner_bg')}; "
                f"border: 1px solid {theme.css('banner_border')}; border-radius: 4px; }}"
                f"#engineBar QLabel {{ color: {theme.css('banner_text')}; }}"
            ),
        )
        self._bridge = bridge
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setObjectName("engineStateLabel")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.restart_button = QPushButton("Restart engine", self)
        self.restart_button.setObjectName("restartEngineButton")
        self.restart_button.setToolTip(
            "Start a new engine on this data folder; it takes over the unfinished jobs"
        )
        self.restart_button.clicked.connect(self._on_restart_clicked)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.restart_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()
        bridge.sig_engine_state_changed.connect(self._on_bridge_engine_state_changed)
        # Its start may have been told before this bar listened (a failed start is quick).
        if bridge.engine_state != ENGINE_STARTING:
            self._on_bridge_engine_state_changed(bridge.engine_state, bridge.engine_state_words)

    def _on_bridge_engine_state_changed(self, state: str, words: str) -> None:
        if state == ENGINE_READY:
            self.hide()
            return
        self.label.setText(words)
        troubled = state in (ENGINE_STOPPED, ENGINE_NOT_ANSWERING)
        self.restart_button.setVisible(troubled and self._bridge.can_restart_engine)
        self.restart_button.setEnabled(True)
        if troubled or self.isVisible():  # a restart's start shows; the first one does not
            self.show()

    def _on_restart_clicked(self) -> None:
        self.restart_button.setEnabled(False)
        self._bridge.restart_engine()
