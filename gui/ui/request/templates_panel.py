"""The template list (``templateList``): search, open, rename, duplicate, delete with undo, import,
export. The files live in ``TemplateStore``; this panel only shows them and asks for changes."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtWidgets
from PySide6.QtCore import QFileSystemWatcher, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.core.errors import TemplateError
from gui.core.storage.templates import Template, TemplateStore
from gui.core.wording import counted
from gui.ui.request.text.editor import local_paths

__all__ = ["TemplatesPanel"]

_TEMPLATE_ROLE = Qt.ItemDataRole.UserRole + 1


class TemplatesPanel(QWidget):
    """Lists the store's templates; opening one asks the window to load it into the editor."""

    sig_template_open_requested = Signal(object)
    """Open this ``Template`` in the editor (double-click, Enter, or Open)."""

    sig_save_requested = Signal()
    """The person asked to save the editor's request as a template (the window asks the name)."""

    sig_status_message_requested = Signal(str, int)
    """Show this message in the status bar for this many milliseconds (0: until replaced)."""

    def __init__(self, store: TemplateStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._deleted: Template | None = None
        self._refreshing = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        header = QLabel("<b>Templates</b>", self)
        layout.addWidget(header)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search templates")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_text_changed)
        layout.addWidget(self.search)

        self.list = QListWidget(self)
        self.list.setObjectName("templateList")
        # Renames start by F2 or the menu only: a click on the selected template opened its name
        # for editing, and Delete then erased the name instead of deleting the template.
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.itemActivated.connect(self._on_list_item_activated)
        self.list.itemChanged.connect(self._on_list_item_changed)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._on_list_context_menu_requested)
        layout.addWidget(self.list, 1)

        self.undo_bar = QWidget(self)
        undo_layout = QHBoxLayout(self.undo_bar)
        undo_layout.setContentsMargins(0, 0, 0, 0)
        self.undo_label = QLabel(self.undo_bar)
        self.undo_label.setWordWrap(True)
        self.undo_button = QPushButton("Undo", self.undo_bar)
        self.undo_button.clicked.connect(self.undo_delete)
        undo_layout.addWidget(self.undo_label, 1)
        undo_layout.addWidget(self.undo_button)
        self.undo_bar.hide()
        layout.addWidget(self.undo_bar)

        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save current…", self)
        self.save_button.setToolTip("Save the editor's request as a template")
        self.save_button.clicked.connect(self.sig_save_requested)
        buttons.addWidget(self.save_button, 1)
        more = QToolButton(self)
        more.setText("More")
        more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        # One menu for the button and the list's context menu: each menu made adds its shortcuts
        # to the list, and two actions on one key (Delete, F2) make both of them dead.
        self.actions_menu = self._actions_menu()
        more.setMenu(self.actions_menu)
        buttons.addWidget(more)
        layout.addLayout(buttons)

        # Files added, removed or edited by hand show up without a restart.
        self._watcher = QFileSystemWatcher([str(store.folder)], self)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(200)
        self._refresh_timer.timeout.connect(self.refresh)
        self._watcher.directoryChanged.connect(self._refresh_timer.start)
        self.setAcceptDrops(True)
        self.refresh()

    # Template files dropped on the list are imported (anywhere else, they open in the editor).
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_files(paths)

    def _actions_menu(self) -> QMenu:
        menu = QMenu(self)
        entries = [
            ("Open", QKeySequence(), self.open_selected),
            ("Rename", QKeySequence(Qt.Key.Key_F2), self.rename_selected),
            ("Duplicate", QKeySequence(), self.duplicate_selected),
            ("Delete", QKeySequence(QKeySequence.StandardKey.Delete), self.delete_selected),
            (None, None, None),
            ("Import…", QKeySequence(), self.import_with_dialog),
            ("Export…", QKeySequence(), self.export_with_dialog),
        ]
        for text, shortcut, slot in entries:
            if text is None:
                menu.addSeparator()
                continue
            action = QAction(text, self)
            if shortcut is not None and not shortcut.isEmpty():
                action.setShortcut(shortcut)
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.list.addAction(action)
            action.triggered.connect(slot)
            menu.addAction(action)
        return menu

    # -- list ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the folder, keeping the selection."""
        selected = self.selected_name()
        self._refreshing = True
        try:
            self.list.clear()
            for template in self.store.templates():
                item = QListWidgetItem(template.name)
                item.setData(_TEMPLATE_ROLE, template)
                tip = template.description or "(no description)"
                item.setToolTip(f"{tip}\n/{template.operation} · {template.path.name}")
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
                if template.name == selected:
                    self.list.setCurrentItem(item)
        finally:
            self._refreshing = False
        self._on_search_text_changed(self.search.text())
        for path, problem in self.store.problems:
            self.sig_status_message_requested.emit(f"Template {path.name} skipped: {problem}", 8000)

    def names(self, *, visible_only: bool = False) -> list[str]:
        return [
            self.list.item(row).text()
            for row in range(self.list.count())
            if not (visible_only and self.list.item(row).isHidden())
        ]

    def select(self, name: str) -> bool:
        for row in range(self.list.count()):
            if self.list.item(row).text() == name:
                self.list.setCurrentRow(row)
                return True
        return False

    def selected_name(self) -> str | None:
        item = self.list.currentItem()
        template = item.data(_TEMPLATE_ROLE) if item is not None else None
        return template.name if isinstance(template, Template) else None

    def _on_search_text_changed(self, text: str) -> None:
        needle = text.strip().casefold()
        for row in range(self.list.count()):
            item = self.list.item(row)
            template = item.data(_TEMPLATE_ROLE)
            haystack = item.text()
            if isinstance(template, Template):
                haystack += " " + template.description
            item.setHidden(bool(needle) and needle not in haystack.casefold())

    # -- actions ---------------------------------------------------------------------------

    def _report(self, message: str) -> None:
        self.sig_status_message_requested.emit(message, 6000)

    def open_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._on_list_item_activated(item)

    def _on_list_item_activated(self, item: QListWidgetItem) -> None:
        template = item.data(_TEMPLATE_ROLE)
        if isinstance(template, Template):
            self.sig_template_open_requested.emit(template)

    def save_template(
        self, name: str, body: dict[str, object], operation: str, description: str = ""
    ) -> Template | None:
        """Save a request as a template; on refusal (a secret, a bad name) say why, return None."""
        try:
            template = self.store.save(name, body, operation, description)  # type: ignore[arg-type]
        except TemplateError as exc:
            self._report(str(exc))
            return None
        self.refresh()
        self.select(template.name)
        self._report(f"Saved template {template.name!r}.")
        return template

    def rename(self, old_name: str, new_name: str) -> Template | None:
        try:
            template = self.store.rename(old_name, new_name)
        except TemplateError as exc:
            self._report(str(exc))
            self.refresh()
            return None
        self.refresh()
        self.select(template.name)
        return template

    def rename_selected(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _on_list_item_changed(self, item: QListWidgetItem) -> None:
        template = item.data(_TEMPLATE_ROLE)
        if self._refreshing or not isinstance(template, Template):
            return
        if item.text() != template.name:
            # Renaming from inside itemChanged would clear the list under Qt's feet.
            old, new = template.name, item.text()
            QTimer.singleShot(0, lambda: self.rename(old, new))

    def duplicate_selected(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        try:
            copy = self.store.duplicate(name)
        except TemplateError as exc:
            self._report(str(exc))
            return
        self.refresh()
        self.select(copy.name)

    def delete_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            self.delete(name)

    def delete(self, name: str) -> None:
        """Delete a template; an Undo button brings it back until the next delete."""
        try:
            self._deleted = self.store.delete(name)
        except TemplateError as exc:
            self._report(str(exc))
            return
        self.undo_label.setText(f"Deleted {name!r}.")
        self.undo_bar.show()
        self.refresh()

    def undo_delete(self) -> None:
        if self._deleted is None:
            return
        restored = self.store.restore(self._deleted)
        self._deleted = None
        self.undo_bar.hide()
        self.refresh()
        self.select(restored.name)

    def import_files(self, paths: list[Path]) -> list[Template]:
        imported = []
        for path in paths:
            try:
                imported.append(self.store.import_file(path))
            except TemplateError as exc:
                self._report(str(exc))
        self.refresh()
        if imported:
            self.select(imported[-1].name)
            self._report(f"Imported {counted(len(imported), 'template')}.")
        return imported

    def import_with_dialog(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, "Import templates", str(Path.home()), "JSON files (*.json)"
        )
        self.import_files([Path(p) for p in paths])

    def export_with_dialog(self) -> None:
        name = self.selected_name()
        if name is None:
            self._report("Select a template to export first.")
            return
        target, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export template", str(Path.home() / f"{name}.json"), "JSON files (*.json)"
        )
        if target:
            self.store.export(name, Path(target))
            self._report(f"Exported {name!r} to {target}.")

    def _on_list_context_menu_requested(self, position: QPoint) -> None:
        self.actions_menu.exec(self.list.mapToGlobal(position))
