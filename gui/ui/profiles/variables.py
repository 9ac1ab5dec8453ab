"""A profile's variables in the Profiles dialog: a small name/value table with Add and Remove.

The values fill ``{{NAME}}`` placeholders after the data row and ``--var``
(``gui.core.request.placeholders``); they are stored, non-secret, in profiles.json, and the store
refuses anything that looks like a secret (``gui.core.profiles.profiles.check_variable``).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.ui.profiles.form import named

__all__ = ["VariablesTable"]


class VariablesTable(QWidget):
    """Edits one profile's variables; ``variables()`` reads them back (blank names left out)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = named(QTableWidget(0, 2), "profileVariables")
        self.table.setHorizontalHeaderLabels(["Variable", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setToolTip(
            "Values for {{NAME}} placeholders in a body, used after a data row and --var. "
            "Not for secrets: they are stored as plain text."
        )
        self.add_button = named(QPushButton("Add variable"), "addVariableButton")
        self.remove_button = named(QPushButton("Remove variable"), "removeVariableButton")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Variables (not secrets)"))
        buttons.addStretch(1)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        self.table.setMinimumHeight(96)

    def show_variables(self, variables: dict[str, str]) -> None:
        self.table.setRowCount(0)
        for name, value in variables.items():
            self._append(name, value)

    def variables(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            name_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            name = name_item.text().strip() if name_item is not None else ""
            if name:
                found[name] = value_item.text() if value_item is not None else ""
        return found

    def _append(self, name: str, value: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(name))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        return row

    def _on_add_clicked(self) -> None:
        row = self._append("", "")
        self.table.setCurrentCell(row, 0)
        item = self.table.item(row, 0)
        if item is not None:
            self.table.editItem(item)

    def _on_remove_clicked(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)
