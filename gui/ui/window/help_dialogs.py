"""Help > About and Help > Keyboard shortcuts.

The shortcuts dialog is generated from the window's own ``QAction``s each time it opens, so it
lists every shortcut there is and can't go stale.
"""

from __future__ import annotations

import html
import platform
import sys
from pathlib import Path
from typing import Any

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import __version__
from gui.ui.jobs.style import app_icon

__all__ = ["AboutDialog", "ShortcutsDialog", "shortcut_rows"]

APP_NAME = "RunPod Job Console"


def _panel_names() -> tuple[tuple[type[QWidget], str], ...]:
    """Panels whose actions work while the focus is inside them, by the names people see."""
    from gui.ui.jobs.panel import JobsPanel
    from gui.ui.request.templates_panel import TemplatesPanel
    from gui.ui.webhooks.log import WebhookLog

    return ((JobsPanel, "Job table"), (TemplatesPanel, "Templates"), (WebhookLog, "Webhooks"))


def _where(action: QAction) -> str:
    """Where the action's shortcut works: the panel it belongs to when it works only inside it
    (a toolbar's Copy menu holding it changes nothing), else its menu's title, else the panel."""
    panels = _panel_names()
    panel = None
    parent = action.parent()
    while isinstance(parent, QWidget) and panel is None:
        panel = next((name for kind, name in panels if isinstance(parent, kind)), None)
        parent = parent.parentWidget()
    if (
        panel is not None
        and action.shortcutContext() == Qt.ShortcutContext.WidgetWithChildrenShortcut
    ):
        return panel
    for owner in action.associatedObjects():
        if isinstance(owner, QMenu) and owner.title():
            return owner.title().replace("&", "")
    return panel or "Window"


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(where, action, keys) for every action of ``window`` (and its children) with a shortcut."""
    rows: set[tuple[str, str, str]] = set()
    actions = [*window.actions(), *window.findChildren(QAction)]
    for action in actions:
        keys = [key for key in action.shortcuts() if not key.isEmpty()]
        text = action.text().replace("&", "").rstrip("…").strip()
        if not keys or not text:
            continue
        native = QKeySequence.SequenceFormat.NativeText
        rows.add((_where(action), text, ", ".join(key.toString(native) for key in keys)))
    return sorted(rows)


class ShortcutsDialog(QDialog):
    """Every keyboard shortcut of ``window``, by where it works."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setObjectName("shortcutsTable")
        self.table.setHorizontalHeaderLabels(["Where", "Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        note = QLabel("Job table and Templates keys work while that panel has the focus.", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(560, 560)

    def listed(self) -> list[tuple[str, str, str]]:
        """The rows shown, as (where, action, keys)."""
        rows: list[tuple[str, str, str]] = []
        for row in range(self.table.rowCount()):
            where, action, keys = (self.table.item(row, col) for col in range(3))
            if where is not None and action is not None and keys is not None:
                rows.append((where.text(), action.text(), keys.text()))
        return rows


def about_facts(data_dir: Path, secrets: Any) -> list[tuple[str, str]]:
    """(label, value) lines of the About dialog (the keyring's name is looked up now)."""
    try:
        backend = secrets.backend_name if secrets is not None else "not used"
    except Exception as exc:  # a broken keyring must not break About
        backend = f"unavailable ({exc})"
    return [
        ("Version", __version__),
        ("Data folder", str(data_dir)),
        ("Keyring", str(backend)),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("Python", f"{platform.python_version()} ({sys.platform})"),
    ]


class AboutDialog(QDialog):
    """The app's name, icon and version; the data folder (openable); keyring, Qt, Python."""

    def __init__(self, parent: QWidget, data_dir: Path, secrets: Any) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        self.data_dir = Path(data_dir)
        self.facts = about_facts(self.data_dir, secrets)
        icon = QLabel(self)
        icon.setPixmap(app_icon().pixmap(64, 64))
        title = QLabel(f"<h2>{APP_NAME}</h2><p>Jobs on RunPod Serverless endpoints.</p>", self)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(title, 1)
        rows = "".join(
            f"<tr><td><b>{html.escape(label)}</b>&nbsp;&nbsp;</td><td>{html.escape(value)}</td></tr>"
            for label, value in self.facts
        )
        self.details = QLabel(f"<table>{rows}</table>", self)
        self.details.setObjectName("aboutDetails")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_folder = QPushButton("Open data folder", self)
        self.open_folder.setObjectName("openDataFolderButton")
        self.open_folder.clicked.connect(self.open_data_folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.open_folder, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details)
        layout.addWidget(buttons)

    def open_data_folder(self) -> bool:
        """Show the data folder in the file manager; False when the desktop can't."""
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_dir)))
