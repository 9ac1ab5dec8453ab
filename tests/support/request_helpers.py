"""Shared steps for the request-side UI tests: a panel, waiting for its background results.

Waits use Qt event loops (``qtbot.waitSignal``/``waitUntil``), never fixed sleeps: validation and
file reads finish on worker threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.ui.request.panel import RequestPanel
from gui.ui.request.text.validation_worker import ValidationOutcome
from gui.ui.window.main_window import MainWindow

TIMEOUT_MS = 10_000


def make_panel(qtbot: QtBot) -> Iterator[RequestPanel]:
    """Body of each test module's ``panel`` fixture: a shown RequestPanel, its validation's child
    process (if a big text started one) stopped after."""
    widget = RequestPanel()
    widget.set_submit_blocker(None)
    qtbot.addWidget(widget)
    widget.resize(760, 640)
    widget.show()
    yield widget
    widget.validation.close()


def settle(qtbot: QtBot, panel: RequestPanel) -> ValidationOutcome:
    """Wait until the text as it is now has been validated and shown; returns that outcome."""
    qtbot.waitUntil(lambda: panel.validation.current is not None, timeout=TIMEOUT_MS)
    outcome = panel.validation.current
    assert outcome is not None
    return outcome


def set_and_settle(qtbot: QtBot, panel: RequestPanel, text: str) -> ValidationOutcome:
    panel.set_text(text)
    return settle(qtbot, panel)


def open_window(qtbot: QtBot, data_dir: Path) -> MainWindow:
    """The whole window on ``data_dir``, shown, with its example request validated."""
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window.request)
    return window


def file_mime(*paths: Path) -> QMimeData:
    """What a file manager puts on a drag: file URLs."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    return mime
