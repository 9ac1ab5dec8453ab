"""A lazy JSON tree: children are made only when a branch is opened, a few hundred at a time.

``JsonTreeModel`` wraps an already parsed document (a job's output) without copying it; its
``canFetchMore``/``fetchMore`` let a view open a list of a million items in chunks.
``JsonTreeWidget`` adds search (run off the Qt thread) and copy-path.
"""

from __future__ import annotations

import json
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gui.core.wording import counted
from gui.ui.jobs.details.output_scan import path_text, search_paths
from gui.ui.jobs.style import action_icon
from gui.ui.tasks import Lane, Latest, run_in_background

__all__ = ["FETCH_CHUNK", "JsonTreeModel", "JsonTreeWidget"]

FETCH_CHUNK = 200
PREVIEW_CHARS = 200
AnyIndex = QModelIndex | QPersistentModelIndex
PathPart = str | int

# One background thread for searches: a new search waits for the previous one, never piles up.


class _Node:
    __slots__ = ("children", "key", "keys", "parent", "row", "value")

    def __init__(self, key: PathPart | None, value: Any, parent: _Node | None, row: int) -> None:
        self.key = key
        self.value = value
        self.parent = parent
        self.row = row
        self.children: list[_Node] = []
        self.keys: list[str] | None = None  # a dict's keys, listed once when first opened

    @property
    def size(self) -> int:
        return len(self.value) if isinstance(self.value, dict | list) else 0

    def path(self) -> tuple[PathPart, ...]:
        parts: list[PathPart] = []
        node: _Node | None = self
        while node is not None and node.parent is not None and node.parent.parent is not None:
            assert node.key is not None
            parts.append(node.key)
            node = node.parent
        return tuple(reversed(parts))

    def fetch(self, count: int) -> list[_Node]:
        start = len(self.children)
        stop = min(self.size, start + count)
        made: list[_Node] = []
        if isinstance(self.value, list):
            for row in range(start, stop):
                made.append(_Node(row, self.value[row], self, row))
        elif isinstance(self.value, dict):
            if self.keys is None:
                self.keys = list(self.value)
            for row in range(start, stop):
                key = self.keys[row]
                made.append(_Node(key, self.value[key], self, row))
        self.children.extend(made)
        return made


def _preview(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{counted(len(value), 'key')}}}"
    if isinstance(value, list):
        return f"[{counted(len(value), 'item')}]"
    if isinstance(value, str):
        if len(value) > PREVIEW_CHARS:
            return f'"{value[:PREVIEW_CHARS]}…" ({len(value):,} characters)'
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


class JsonTreeModel(QAbstractItemModel):
    """Two columns (key, value); the document's root is the one top row, named ``$``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._root = _Node(None, [None], None, 0)
        self._root.fetch(1)

    def set_document(self, value: Any) -> None:
        """Show another document (a reset: nothing of the old one is kept)."""
        self.beginResetModel()
        self._root = _Node(None, [value], None, 0)
        self._root.fetch(1)
        self.endResetModel()

    def document(self) -> Any:
        return self._root.value[0]

    def _node(self, index: AnyIndex) -> _Node:
        if not index.isValid():
            return self._root
        node = index.internalPointer()
        assert isinstance(node, _Node)
        return node

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        node = self._node(parent)
        if not 0 <= row < len(node.children) or not 0 <= column < 2:
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        up = self._node(index).parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 2

    def hasChildren(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return False
        return self._node(parent).size > 0

    def canFetchMore(self, parent: AnyIndex) -> bool:
        if parent.isValid() and parent.column() != 0:
            return False
        node = self._node(parent)
        return len(node.children) < node.size

    def fetchMore(self, parent: AnyIndex) -> None:
        node = self._node(parent)
        first = len(node.children)
        last = min(node.size, first + FETCH_CHUNK) - 1
        if last < first:
            return
        self.beginInsertRows(parent, first, last)
        node.fetch(FETCH_CHUNK)
        self.endInsertRows()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("Key", "Value")[section] if 0 <= section < 2 else None
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node = self._node(index)
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                if node.parent is self._root:
                    return "$"
                return f"[{node.key}]" if isinstance(node.key, int) else str(node.key)
            return _preview(node.value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return path_text(node.path())
        return None

    def path_of(self, index: AnyIndex) -> tuple[PathPart, ...]:
        """The steps from the document's root to ``index``."""
        return self._node(index).path() if index.isValid() else ()

    def index_for_path(self, path: tuple[PathPart, ...]) -> QModelIndex:
        """The index at ``path``, fetching the branches on the way; invalid if there is none."""
        index = self.index(0, 0)
        for part in path:
            node = self._node(index)
            if isinstance(node.value, dict):
                keys = node.keys if node.keys is not None else list(node.value)
                node.keys = keys
                try:
                    row = keys.index(part) if isinstance(part, str) else -1
                except ValueError:
                    return QModelIndex()
            elif isinstance(node.value, list) and isinstance(part, int):
                row = part
            else:
                return QModelIndex()
            if not 0 <= row < node.size:
                return QModelIndex()
            while len(node.children) <= row:
                self.fetchMore(index)
            index = self.index(row, 0, index)
        return index


class JsonTreeWidget(QWidget):
    """The tree, a search field (Enter finds the next match), and a copy-path button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = JsonTreeModel(self)
        self.view = QTreeView(self)
        self.view.setObjectName("outputTree")
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)  # lets the view skip measuring each row
        self.view.setAlternatingRowColors(True)
        self.view.header().resizeSection(0, 220)
        self.search = QLineEdit(self)
        self.search.setObjectName("outputSearch")
        self.search.setPlaceholderText("Search keys and values (Enter: next match)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(action_icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.match_label = QLabel(self)
        self.copy_path_button = QPushButton(action_icon("copy"), "Copy path", self)
        self.copy_path_button.setToolTip("Copy the selected item's path, like $.images[0].data")
        self.copy_path_button.clicked.connect(self.copy_selected_path)
        self.copy_path_button.setShortcut(QKeySequence("Ctrl+Shift+P"))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.search, 1)
        row.addWidget(self.match_label)
        row.addWidget(self.copy_path_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.view, 1)
        self._matches: list[tuple[PathPart, ...]] = []
        self._match_position = -1
        self._search = Latest()
        self._searched_for = ""

    def set_document(self, value: Any) -> None:
        """Show a document with only its root opened; forgets the previous search results."""
        self.model.set_document(value)
        root = self.model.index(0, 0)
        if self.model.canFetchMore(root):
            self.model.fetchMore(root)  # the first chunk of the top level, shown at once
        self.view.expand(root)
        self._matches, self._match_position, self._searched_for = [], -1, ""
        self.match_label.clear()

    def selected_path(self) -> str | None:
        index = self.view.currentIndex()
        return path_text(self.model.path_of(index)) if index.isValid() else None

    def copy_selected_path(self) -> None:
        text = self.selected_path()
        if text is not None:
            QGuiApplication.clipboard().setText(text)

    def start_search(self, text: str) -> Future[list[tuple[PathPart, ...]]]:
        """Search the document off the Qt thread; the first match is selected when it ends."""
        self._searched_for = text
        document = self.model.document()
        return run_in_background(
            lambda: search_paths(document, text),
            self._on_search_finished,
            context=self,
            lane=Lane.SERIAL,
            latest=self._search,  # a newer search replaces this one
        )

    def _on_search_finished(self, matches: list[tuple[PathPart, ...]]) -> None:
        self._matches = matches
        self._match_position = -1
        if not matches:
            self.match_label.setText("no match")
            return
        self.next_match()

    def next_match(self) -> None:
        """Select the next match, opening the branches above it."""
        if not self._matches:
            return
        self._match_position = (self._match_position + 1) % len(self._matches)
        index = self.model.index_for_path(self._matches[self._match_position])
        if index.isValid():
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)
        more = "+" if len(self._matches) >= 1000 else ""
        self.match_label.setText(f"{self._match_position + 1} of {len(self._matches)}{more}")

    def _on_search_return_pressed(self) -> None:
        text = self.search.text()
        if text and text == self._searched_for and self._matches:
            self.next_match()
        elif text:
            self.start_search(text)

    def _on_search_text_changed(self, text: str) -> None:
        if not text:
            self._matches, self._searched_for = [], ""
            self.match_label.clear()
