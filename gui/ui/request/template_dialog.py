"""Save as template: the new template's name and description (what the list shows and searches).

A module of its own, imported when the dialog is first opened (not on the window's start).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6 import QtWidgets
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

__all__ = ["TemplateDetailsDialog"]


class TemplateDetailsDialog(QDialog):
    """Asks a new template's name and description (what the template list shows and searches).

    It starts empty; a name in ``existing`` is saved only after the person agreed to replace that
    template (``confirm_overwrite``).
    """

    def __init__(
        self,
        parent: QWidget | None,
        name: str = "",
        description: str = "",
        operation: str = "run",
        existing: Iterable[str] = (),
    ) -> None:
        super().__init__(parent)
        self._existing = frozenset(existing)
        self.setObjectName("templateDetailsDialog")
        self.setWindowTitle("Save as template")
        form = QFormLayout(self)
        self.name = QLineEdit(name, self)
        self.name.setPlaceholderText("e.g. Upscale 4x")
        self.description = QPlainTextEdit(description, self)
        self.description.setPlaceholderText("What this request does (optional)")
        self.description.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Operation", QLabel(f"/{operation} (the one selected now)", self))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.name.textChanged.connect(self._on_name_text_changed)
        self._on_name_text_changed(name)
        form.addRow(buttons)
        self.resize(420, self.sizeHint().height())

    def _on_name_text_changed(self, text: str) -> None:
        self.save_button.setEnabled(bool(text.strip()))

    def values(self) -> tuple[str, str]:
        return self.name.text().strip(), self.description.toPlainText().strip()

    def accept(self) -> None:
        name = self.values()[0]
        if name in self._existing and not self.confirm_overwrite(name):
            self.name.setFocus()
            self.name.selectAll()
            return
        super().accept()

    def confirm_overwrite(self, name: str) -> bool:
        """Ask whether the template called ``name`` may be replaced (tests replace this)."""
        box = QtWidgets.QMessageBox  # a dialog's class, set up by PySide6 when first used
        answer = box.question(
            self,
            "Replace the template?",
            f"A template called {name!r} exists already. Replace it with this request?\n\n"
            "Choose Cancel to pick another name.",
            box.StandardButton.Yes | box.StandardButton.Cancel,
            box.StandardButton.Cancel,
        )
        return answer == box.StandardButton.Yes
