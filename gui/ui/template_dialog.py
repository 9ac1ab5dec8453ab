"""Save as template: the new template's name and description (what the list shows and searches).

A module of its own, imported when the dialog is first opened (not on the window's start).
"""

from __future__ import annotations

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
    """Asks a new template's name and description (what the template list shows and searches)."""

    def __init__(
        self, parent: QWidget | None, name: str = "", description: str = "", operation: str = "run"
    ) -> None:
        super().__init__(parent)
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
