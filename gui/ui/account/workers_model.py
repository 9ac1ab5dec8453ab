"""``WorkersModel``: an endpoint's active workers as table rows, in ``COLUMNS`` order.

A thin adapter: the cells are ``gui.core.account.status.worker_row``'s words, made once per
refresh. A refresh that lists the same workers in the same order changes cells in place (the
selection and the scroll position stay); any other replaces the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from gui.ui import theme

__all__ = ["COLUMNS", "STATE_COLUMN", "WorkersModel"]

COLUMNS = ("Worker", "State", "GPU", "Data center", "Uptime", "Release", "Outdated")
STATE_COLUMN, RELEASE_COLUMN = 1, 5
_STATE_ROLES = {"Unhealthy": "error", "Throttled": "warning", "Initializing": "muted"}
Row = tuple[str, ...]
_Index = QModelIndex | QPersistentModelIndex


class WorkersModel(QAbstractTableModel):
    """Rows of worker cells; ``set_rows`` replaces them."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []

    def set_rows(self, rows: Sequence[Row]) -> None:
        fresh = list(rows)
        if [row[0] for row in fresh] == [row[0] for row in self._rows]:
            changed = fresh != self._rows
            self._rows = fresh
            if changed:
                last = self.index(len(fresh) - 1, len(COLUMNS) - 1)
                self.dataChanged.emit(self.index(0, 0), last)
            return
        self.beginResetModel()
        self._rows = fresh
        self.endResetModel()

    def row_cells(self, row: int) -> Row:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        value = self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return value
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == RELEASE_COLUMN and value:
            return value  # an image name is long: the cell may cut it
        if role == Qt.ItemDataRole.ForegroundRole:
            if index.column() == STATE_COLUMN and value in _STATE_ROLES:
                return theme.color(_STATE_ROLES[value])
            if index.column() == len(COLUMNS) - 1 and value:
                return theme.color("warning")
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None
