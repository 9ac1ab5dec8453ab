"""The lazy JSON tree: passes qtmodeltester, fetches in chunks, finds and names paths."""

from __future__ import annotations

import base64

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from gui.ui.jobs.details.json_tree import FETCH_CHUNK, JsonTreeModel, JsonTreeWidget
from gui.ui.jobs.details.output_scan import find_images, format_raw, path_text, search_paths

DOC = {
    "images": [{"name": "a.png", "data": "xyz"}, {"name": "b.png", "data": "uvw"}],
    "odd key": {"nested": [1, 2.5, True, None]},
    "count": 3,
}


def test_model_passes_qtmodeltester_while_branches_are_fetched(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = JsonTreeModel()
    model.set_document(DOC)
    qtmodeltester.check(model)
    model.index_for_path(("odd key", "nested", 3))
    qtmodeltester.check(model)


def test_big_lists_are_fetched_in_chunks() -> None:
    model = JsonTreeModel()
    model.set_document({"items": list(range(100_000))})
    root = model.index(0, 0)
    assert model.rowCount(root) == 0 and model.canFetchMore(root)
    model.fetchMore(root)
    items = model.index(0, 0, root)
    assert model.hasChildren(items) and model.rowCount(items) == 0
    model.fetchMore(items)
    assert model.rowCount(items) == FETCH_CHUNK
    deep = model.index_for_path(("items", 54_321))
    assert deep.data() == "[54321]"
    assert model.index(deep.row(), 1, deep.parent()).data() == "54321"
    assert model.rowCount(items) < 100_000 and model.rowCount(items) >= 54_322


def test_paths_are_written_for_people() -> None:
    assert path_text(()) == "$"
    assert path_text(("images", 0, "data")) == "$.images[0].data"
    assert path_text(("odd key", "nested")) == '$["odd key"].nested'


def test_search_finds_keys_and_values_in_document_order() -> None:
    assert search_paths(DOC, "PNG") == [("images", 0, "name"), ("images", 1, "name")]
    assert search_paths(DOC, "nest") == [("odd key", "nested")]
    assert search_paths(DOC, "true") == [("odd key", "nested", 2)]
    assert search_paths(DOC, "") == []


def test_widget_search_selects_matches_and_copies_their_path(qtbot: QtBot) -> None:
    widget = JsonTreeWidget()
    qtbot.addWidget(widget)
    widget.set_document(DOC)
    widget.search.setText("png")
    qtbot.keyClick(widget.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: widget.match_label.text() == "1 of 2", timeout=5000)
    assert widget.selected_path() == "$.images[0].name"
    qtbot.keyClick(widget.search, Qt.Key.Key_Return)
    assert widget.selected_path() == "$.images[1].name"
    widget.copy_path_button.click()
    assert QGuiApplication.clipboard().text() == "$.images[1].name"
    widget.search.setText("no such text")
    qtbot.keyClick(widget.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: widget.match_label.text() == "no match", timeout=5000)


def test_branch_previews_count_in_words() -> None:
    model = JsonTreeModel()
    model.set_document({"one": {"key": 1}, "two": {"a": 1, "b": 2}, "list": [7], "pair": [1, 2]})
    root = model.index(0, 0)
    model.fetchMore(root)
    previews = {
        model.index(row, 0, root).data(): model.index(row, 1, root).data()
        for row in range(model.rowCount(root))
    }
    assert model.index(0, 1).data() == "{4 keys}"
    assert previews == {
        "one": "{1 key}",
        "two": "{2 keys}",
        "list": "[1 item]",
        "pair": "[2 items]",
    }
    assert "(1 more key)" in format_raw({"a": "x" * 60, "b": 1}, limit=10).text


def test_scalar_documents_and_unknown_paths() -> None:
    model = JsonTreeModel()
    model.set_document("just text")
    root = model.index(0, 0)
    assert root.data() == "$" and not model.hasChildren(root)
    assert model.index_for_path(("missing",)) == QModelIndex()


def test_raw_text_is_cut_when_huge_and_images_are_found() -> None:
    small = format_raw({"a": 1})
    assert small.text == '{\n  "a": 1\n}' and not small.truncated
    big = format_raw({"rows": ["y" * 100] * 100_000, "n": 1}, limit=50_000)
    assert big.truncated and 40_000 < len(big.text) < 60_000
    assert "more items)" in big.text and '"n": 1' not in big.text
    long_line = format_raw({"blob": "x" * 3_000_000}, line_limit=1000)
    assert "… (cut: 3,000,000 characters in all)" in long_line.text
    assert not long_line.truncated and long_line.cut_strings == 1  # every key is there
    png_b64 = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(60)).decode()
    jpeg_b64 = base64.b64encode(b"\xff\xd8\xff" + bytes(60)).decode()
    found = find_images({"a": [png_b64, "data:image/jpeg;base64," + jpeg_b64, "iVBOR"]})
    assert [(f.path, f.format) for f in found] == [(("a", 0), "png"), (("a", 1), "jpeg")]
