"""Saved views: a named search and sort of the job table, picked again from the toolbar's Views
menu (``SavedViewsMenu``).

The views live in the history file (``<data_dir>/jobs.sqlite3``, ``HistoryReader.views``), read
and written off the Qt thread (``run_in_background`` on the serial lane, so a save and the list
read after it arrive in order). A view keeps the status toggles inside its search (a ``status:``
part, ``search_with_states``): picking it puts that search in the field and shows every state.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu, QMessageBox, QWidget

from gui.core.errors import ConsoleError
from gui.ui.jobs.style import action_icon
from gui.ui.tasks import Lane, run_in_background

if TYPE_CHECKING:  # the history (and SQLite) is imported on the worker thread, when first read
    from gui.core.storage.history import HistoryReader, SavedView, SortKey

__all__ = ["EMPTY_TEXT", "SavedViewsMenu", "describe_view"]

EMPTY_TEXT = "No saved views yet"

_SORT_NAMES = {"job_id": "job id", "queue_time": "queue time", "run_time": "run time"}

CurrentView = Callable[[], "tuple[str, SortKey, bool]"]
"""The table's view now: (search with the toggles, sort, descending); ``SearchInvalid`` when the
search can't be read (what to fix is in its message)."""


def describe_view(view: SavedView) -> str:
    """``status:failed cat · sorted by finished, newest first`` (the view's tooltip)."""
    order = "descending" if view.descending else "ascending"
    search = view.search.strip() or "every job"
    return f"{search} · sorted by {_SORT_NAMES.get(view.sort, view.sort.value)}, {order}"


def _reader(data_dir: Path) -> HistoryReader:
    from gui.core.storage.history import HistoryReader
    from gui.core.storage.store import DB_FILENAME

    return HistoryReader(data_dir / DB_FILENAME)


def _read_views(data_dir: Path) -> list[SavedView]:
    with _reader(data_dir) as reader:
        return reader.views()


def _save_view(data_dir: Path, view: SavedView) -> list[SavedView]:
    with _reader(data_dir) as reader:
        reader.save_view(view)
        return reader.views()


def _delete_view(data_dir: Path, name: str) -> list[SavedView]:
    with _reader(data_dir) as reader:
        reader.delete_view(name)
        return reader.views()


class SavedViewsMenu(QObject):
    """Holds the Views menu (``menu``; its ``menuAction()`` goes in a toolbar) and the list of
    views read from the history in ``data_dir`` (None: no history, the menu says so)."""

    sig_view_chosen: Signal = Signal(object)
    """The person picked this ``SavedView``: apply its search and sort."""

    sig_status_message_requested: Signal = Signal(str, int)
    """Show a message in the status bar (text, timeout in ms; 0 keeps it)."""

    sig_views_changed: Signal = Signal()
    """The list of views was read again (after opening, a save or a delete)."""

    def __init__(self, data_dir: Path | None, current: CurrentView, parent: QWidget) -> None:
        super().__init__(parent)
        self._owner = parent  # the dialogs' parent
        self.data_dir = data_dir
        self._current = current
        self._views: list[SavedView] = []
        self._loaded = False
        self._delete_menu: QMenu | None = None
        self.menu = QMenu("Views", parent)
        self.menu.setObjectName("savedViewsMenu")
        self.menu.setIcon(action_icon("views"))
        self.menu.setToolTipsVisible(True)
        self.menu.menuAction().setObjectName("action_views_menu")
        self.menu.menuAction().setToolTip("Saved views: a named search and sort to pick again")
        self.save_action = QAction("Save current view…", self)
        self.save_action.setObjectName("action_save_view")
        self.save_action.triggered.connect(self.save_current)
        self._rebuild()
        self.refresh()

    # -- public ------------------------------------------------------------------------------------
    def views(self) -> list[SavedView]:
        """The views as last read (by name)."""
        return list(self._views)

    def view_actions(self) -> dict[str, QAction]:
        """The menu's action that applies each view, by name."""
        return {
            str(action.data()): action
            for action in self.menu.actions()
            if action.property("view_kind") == "apply"
        }

    def delete_actions(self) -> dict[str, QAction]:
        """The Delete submenu's action for each view, by name."""
        found: dict[str, QAction] = {}
        for action in [] if self._delete_menu is None else self._delete_menu.actions():
            if action.property("view_kind") == "delete":
                found[str(action.data())] = action
        return found

    def refresh(self) -> None:
        """Read the views again (off the Qt thread)."""
        if self.data_dir is not None:
            self._run(_read_views, "read the saved views")

    def save_current(self) -> None:
        """Ask a name and save the table's search and sort under it (asking before replacing)."""
        if self.data_dir is None:
            self.tell("Saved views are kept in the job history, which this window has not opened.")
            return
        try:
            search, sort, descending = self._current()
        except ConsoleError as problem:
            self.tell(f"This view can't be saved: {problem}")
            return
        name = (self.ask_name() or "").strip()
        if not name:
            return
        if name in {view.name for view in self._views} and not self.confirm(
            "Replace view", f"A view named “{name}” exists. Replace it with this one?"
        ):
            return
        from gui.core.storage.history import SavedView

        view = SavedView(name, search, sort, descending)
        self._run(
            lambda folder: _save_view(folder, view),
            f"save the view “{name}”",
            f"Saved the view “{name}”.",
        )

    def delete(self, name: str) -> None:
        """Forget the view ``name`` (after asking)."""
        if self.data_dir is None or not self.confirm("Delete view", f"Delete the view “{name}”?"):
            return
        self._run(
            lambda folder: _delete_view(folder, name),
            f"delete the view “{name}”",
            f"Deleted the view “{name}”.",
        )

    # Dialogs (tests replace these).
    def ask_name(self) -> str | None:
        """The name to save the view under; None when the person cancels."""
        text, ok = QInputDialog.getText(
            self._owner, "Save view", "Name of this view:", QLineEdit.EchoMode.Normal
        )
        return text if ok else None

    def confirm(self, title: str, text: str) -> bool:
        box = QMessageBox
        answer = box.question(
            self._owner, title, text, box.StandardButton.Yes | box.StandardButton.Cancel,
            box.StandardButton.Cancel,
        )  # fmt: skip
        return answer == box.StandardButton.Yes

    def tell(self, message: str) -> None:
        self.sig_status_message_requested.emit(message, 8000)

    # -- inner -------------------------------------------------------------------------------------
    def _run(self, task: Callable[[Path], list[SavedView]], what: str, done: str = "") -> None:
        folder = self.data_dir
        assert folder is not None

        def on_done(views: list[SavedView]) -> None:
            self._on_views_read(views)
            if done:
                self.sig_status_message_requested.emit(done, 4000)

        def on_failed(error: BaseException) -> None:
            self.tell(f"Could not {what}: {error}")

        run_in_background(lambda: task(folder), on_done, on_failed, context=self, lane=Lane.SERIAL)

    def _on_views_read(self, views: list[SavedView]) -> None:
        self._loaded = True
        self._views = list(views)
        self._rebuild()
        self.sig_views_changed.emit()

    def _rebuild(self) -> None:
        menu = self.menu
        menu.clear()  # deletes the actions the menu owns; the save action is ours
        if self._delete_menu is not None:
            self._delete_menu.deleteLater()
        if not self._views:
            empty = menu.addAction(EMPTY_TEXT if self._loaded or self.data_dir is None else
                                   "Reading the saved views…")  # fmt: skip
            empty.setEnabled(False)
        for view in self._views:
            action = menu.addAction(view.name)
            action.setData(view.name)
            action.setProperty("view_kind", "apply")
            action.setToolTip(describe_view(view))
            action.triggered.connect(lambda _checked=False, v=view: self.sig_view_chosen.emit(v))
        menu.addSeparator()
        menu.addAction(self.save_action)
        self.save_action.setEnabled(self.data_dir is not None)
        delete_menu = menu.addMenu("Delete view")
        delete_menu.setObjectName("deleteViewMenu")
        self._delete_menu = delete_menu
        delete_menu.setEnabled(bool(self._views))
        for view in self._views:
            action = delete_menu.addAction(view.name)
            action.setData(view.name)
            action.setProperty("view_kind", "delete")
            action.triggered.connect(lambda _checked=False, n=view.name: self.delete(n))
