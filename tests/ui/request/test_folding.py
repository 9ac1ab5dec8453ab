"""Long strings shown folded: the editor holds a chip, everything that leaves it the whole string
(validation, Send, Save, the draft, Copy, undo), byte for byte."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui.ui.request.drafts import read_draft, write_draft
from gui.ui.request.panel import RequestPanel
from gui.ui.request.text.folding import FOLD_CHARS, TOKEN, FoldTable, describe
from tests.support.request_helpers import file_mime, make_panel, set_and_settle, settle

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400  # ~100 KB


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[RequestPanel]:
    yield from make_panel(qtbot)


def image_body(ttl: int = 9000) -> str:
    """A body with a base64 PNG; its ttl (ms) is too short unless given."""
    image = base64.b64encode(PNG).decode()
    body = {"input": {"image": image, "prompt": "a cat ✓ 😀", "steps": 20}, "policy": {"ttl": ttl}}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def test_fold_then_expand_gives_back_every_text_byte_for_byte() -> None:
    table = FoldTable()
    run = "B" * FOLD_CHARS
    texts = [
        image_body(),
        json.dumps({"input": {run: 1, "x": run}}),  # a key is never folded, a value is
        '["x", ' + "1," * FOLD_CHARS + ' "' + run + '"]',  # a run between strings: not folded
        '{"a": "\\"' + run + '"}',  # an escape inside: the string is left as it is
        '{"broken": "' + run,  # invalid JSON: nothing lost either
    ]
    for text in texts:
        assert table.expand(table.fold(text)) == text
    folded = table.fold(texts[1])
    assert folded.count(run) == 1 and len(TOKEN.findall(folded)) == 1
    between = table.fold(texts[2])
    assert between.count("⟦") == 1 and between.endswith('"]')  # only the real string
    assert table.fold(texts[3]) == texts[3]


def test_a_chip_says_what_the_string_holds() -> None:
    assert describe(base64.b64encode(PNG).decode()).startswith("base64 PNG, 1")
    assert describe("data:image/jpeg;base64," + "A" * 2_000_000) == "data URL image/jpeg, 1.9 MB"
    assert describe("lorem ipsum " * 10_000).startswith("text, ")


def test_a_loaded_image_is_a_chip_and_everything_else_gets_the_whole_body(
    qtbot: QtBot, panel: RequestPanel, tmp_path: Path
) -> None:
    text = image_body()
    outcome = set_and_settle(qtbot, panel, text)
    shown = panel.editor.toPlainText()
    assert len(shown) < 300 and "⟦base64 PNG, " in shown
    json.loads(shown)  # the editor's text is JSON as it stands
    assert panel.text() == text  # what Save, the draft and templates take
    # Validation saw the body as sent: its real size, its diagnostics on the shown text.
    compact = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    assert outcome.result.size_bytes == len(compact.encode())
    [ttl] = outcome.marks
    assert panel.editor.document().findBlock(ttl.start).text().strip().startswith('"ttl"')
    assert ttl.line == 8 and shown.splitlines()[ttl.line - 1][ttl.column - 1 :].startswith("9000")
    assert outcome.result.body is not None
    assert outcome.result.body["input"]["image"] == base64.b64encode(PNG).decode()

    # The draft keeps the whole text.
    assert write_draft(tmp_path, panel.text(), None, True, None)
    draft = read_draft(tmp_path)
    assert draft is not None and draft.text == text

    # Copy all carries the whole text, not the chip.
    panel.editor.selectAll()
    panel.editor.copy()
    assert QApplication.clipboard().text() == text


def test_a_chip_is_deleted_whole_and_undo_brings_the_string_back(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    text = image_body()
    set_and_settle(qtbot, panel, text)
    editor = panel.editor
    start = editor.toPlainText().index("⟦")
    end = editor.toPlainText().index("⟧") + 1
    cursor = editor.textCursor()
    cursor.setPosition(end)
    editor.setTextCursor(cursor)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    assert '"image": "",' in editor.toPlainText()  # the chip went whole, quotes stay
    outcome = settle(qtbot, panel)
    assert outcome.result.body is not None and outcome.result.body["input"]["image"] == ""

    editor.undo()
    assert panel.text() == text
    # Typing inside a chip is refused; the string stays whole.
    cursor.setPosition(start + 3)
    editor.setTextCursor(cursor)
    qtbot.keyClicks(editor, "xyz")
    assert panel.text() == text


def test_typing_beside_a_chip_keeps_validation_right(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, image_body(ttl=60_000))
    editor = panel.editor
    found = editor.document().find('"steps": 20')  # Qt's positions: the emoji counts twice
    cursor = editor.textCursor()
    cursor.setPosition(found.selectionEnd())
    editor.setTextCursor(cursor)
    qtbot.keyClicks(editor, ",")  # a trailing comma, after the chip's line
    outcome = settle(qtbot, panel)
    [error] = [m for m in outcome.marks if m.severity == "error"]
    now = editor.toPlainText()
    assert editor.document().characterAt(error.start) == ","  # where it is shown (Qt's count)
    assert now.splitlines()[error.line - 1][error.column - 1] == ","
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    outcome = settle(qtbot, panel)
    assert not outcome.result.errors
    with qtbot.waitSignal(panel.sig_submit_requested) as submitted:
        panel.request_submit()
    body, _operation = submitted.args
    assert body["input"]["image"] == base64.b64encode(PNG).decode()  # Send gets it whole


def test_a_pasted_base64_string_goes_in_as_a_chip(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, '{"input": {"image": ""}}')
    editor = panel.editor
    cursor = editor.textCursor()
    cursor.setPosition(editor.toPlainText().index('""') + 1)
    editor.setTextCursor(cursor)
    image = base64.b64encode(PNG).decode()
    mime = QMimeData()
    mime.setText(image)
    editor.insertFromMimeData(mime)
    assert len(editor.toPlainText()) < 100
    assert panel.text() == '{"input": {"image": "' + image + '"}}'
    editor.undo()
    assert panel.text() == '{"input": {"image": ""}}'
    editor.redo()
    outcome = settle(qtbot, panel)
    assert outcome.result.body == {"input": {"image": image}}


def test_inline_puts_the_whole_string_back_as_one_undoable_edit(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    text = image_body()
    set_and_settle(qtbot, panel, text)
    from gui.ui.request.text.chips import _inline, chip_at

    editor = panel.editor
    chip = chip_at(editor, editor.toPlainText().index("⟦") + 1, inside=True)
    assert chip is not None
    _inline(editor, chip, editor.folds.string(chip.key) or "")
    assert editor.toPlainText() == text and panel.text() == text
    editor.undo()
    assert "⟦" in editor.toPlainText() and panel.text() == text
    editor.moveCursor(QTextCursor.MoveOperation.End)


def test_a_dropped_or_pasted_image_file_becomes_a_file_placeholder(
    qtbot: QtBot, panel: RequestPanel, tmp_path: Path
) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(PNG)
    set_and_settle(qtbot, panel, '{"input": {"image": }}')
    editor = panel.editor
    cursor = editor.textCursor()
    cursor.setPosition(editor.toPlainText().index(" }") + 1)
    editor.setTextCursor(cursor)
    editor.insertFromMimeData(file_mime(picture))  # Ctrl+V of a file copied in a file manager
    expected = {"input": {"image": "{{file:" + str(picture.resolve()) + "}}"}}
    outcome = settle(qtbot, panel)
    assert outcome.result.body == expected
    assert len(panel.text()) < 200  # a reference, not the file's bytes

    # Dropped inside a string: the placeholder goes in without quotes of its own.
    set_and_settle(qtbot, panel, '{"input": {"image": "data: "}}')
    cursor.setPosition(editor.toPlainText().index('data: "') + 6)
    editor.setTextCursor(cursor)
    editor.handle_drop(file_mime(picture))
    outcome = settle(qtbot, panel)
    assert outcome.result.body == {
        "input": {"image": "data: {{file:" + str(picture.resolve()) + "}}"}
    }
