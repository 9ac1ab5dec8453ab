"""The list of the request's diagnostics (``diagnosticsList``): severity icon, line:col, message."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from gui.core.resources import resource_path
from gui.ui import theme
from gui.ui.request.text.editor import EditorMark

__all__ = ["DiagnosticsList"]

_MARK_ROLE = Qt.ItemDataRole.UserRole + 1
# A list of thousands of rows (a body with 10,000 duplicate keys) helps nobody and lays out slowly.
MAX_LISTED = 1000


class DiagnosticsList(QListWidget):
    """One row per diagnostic, by position; activating a row asks to show it in the editor."""

    sig_diagnostic_activated = Signal(object)
    """A row was activated (Enter, double-click, click): show this ``EditorMark`` in the editor."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diagnosticsList")
        # Messages are sentences: wrap them rather than hide their end behind a scroll bar.
        self.setWordWrap(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAlternatingRowColors(True)
        self.setIconSize(QSize(16, 16))
        self.setToolTip("Problems in the request. Click one to jump to it.")
        # The app's own icons (resources/icons/problem-*.svg), the same on every platform.
        self._icons = {
            kind: QIcon(str(resource_path("icons", f"problem-{kind}.svg")))
            for kind in ("error", "warning", "none")
        }
        self.itemActivated.connect(self._on_item_activated)
        self.itemClicked.connect(self._on_item_activated)
        self.set_marks([])

    def set_marks(self, marks: Sequence[EditorMark]) -> None:
        self.clear()
        if not marks:
            item = QListWidgetItem(self._icons["none"], "No problems found.")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            # A colour, not a QBrush: Qt makes the brush (a QBrush made here would have PySide6
            # set up QBrush and QGradient with their enums on the window's start, ~2 ms).
            item.setData(Qt.ItemDataRole.ForegroundRole, theme.color("muted"))
            self.addItem(item)
            return
        for mark in marks[:MAX_LISTED]:
            item = QListWidgetItem(
                self._icons.get(mark.severity, QIcon()),
                f"{mark.line}:{mark.column}  {mark.severity}: {mark.message}",
            )
            item.setToolTip(mark.message)
            item.setData(_MARK_ROLE, mark)
            self.addItem(item)
        if len(marks) > MAX_LISTED:
            more = QListWidgetItem(f"… and {len(marks) - MAX_LISTED} more; fix these first.")
            more.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addItem(more)

    def marks(self) -> list[EditorMark]:
        """The diagnostics listed, in order."""
        found = (self.item(row).data(_MARK_ROLE) for row in range(self.count()))
        return [mark for mark in found if isinstance(mark, EditorMark)]

    def row_texts(self) -> list[str]:
        return [self.item(row).text() for row in range(self.count())]

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        mark = item.data(_MARK_ROLE)
        if isinstance(mark, EditorMark):
            self.sig_diagnostic_activated.emit(mark)
