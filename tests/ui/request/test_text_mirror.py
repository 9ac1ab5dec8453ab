"""The editor's Python copy of its text: equal to ``toPlainText()`` after any edit, undo, redo or
paste, and what validation reads instead of the document; a big text going in slice by slice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from gui.core.request.child import PIECE_CHARS
from gui.core.request.validation import validate_text
from gui.ui.request.text import mirror as text_mirror
from gui.ui.request.text import validation_worker
from gui.ui.request.text.editor import SLICED_CHARS, JsonEditor
from gui.ui.request.text.folding import FoldedText, FoldTable
from gui.ui.request.text.mirror import TextRope

# Characters Qt stores or gives back differently (line and paragraph separators, \r, no-break
# space, frame marks) and one beyond the BMP (two of Qt's positions), beside ordinary JSON.
ALPHABET = st.sampled_from([*'ab {}":,\n\r\u00a0\u2028\u2029\ufdd0é\u27e6', "\U0001f600"])
TEXTS = st.text(ALPHABET, max_size=12)

EDITS = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 200), st.integers(0, 6), TEXTS),
    st.tuples(st.just("paste"), st.integers(0, 200), st.integers(0, 6), TEXTS),
    st.tuples(st.just("key"), st.integers(0, 200), st.sampled_from("x\n\b\x7f"), st.just("")),
    st.tuples(st.just("undo"), st.just(0), st.just(0), st.just("")),
    st.tuples(st.just("redo"), st.just(0), st.just(0), st.just("")),
    st.tuples(st.just("all"), st.just(0), st.just(0), TEXTS),
    st.tuples(st.just("fresh"), st.just(0), st.just(0), TEXTS),
)


@pytest.fixture
def editor(qtbot: QtBot) -> Iterator[JsonEditor]:
    editor = JsonEditor()
    qtbot.addWidget(editor)
    yield editor


def _apply(editor: JsonEditor, edit: tuple[str, int, object, str]) -> None:
    kind, where, size, text = edit
    end_of_text = editor.document().characterCount() - 1
    cursor = editor.textCursor()
    cursor.setPosition(min(where, end_of_text))
    if isinstance(size, int):
        cursor.setPosition(min(where + size, end_of_text), QTextCursor.MoveMode.KeepAnchor)
    if kind == "replace":
        cursor.insertText(text)
    elif kind == "paste":
        editor.setTextCursor(cursor)
        mime = QMimeData()
        mime.setText(text)
        editor.insertFromMimeData(mime)
    elif kind == "key":
        editor.setTextCursor(cursor)
        key = {"\n": Qt.Key.Key_Return, "\b": Qt.Key.Key_Backspace, "\x7f": Qt.Key.Key_Delete}
        assert isinstance(size, str)
        from PySide6.QtTest import QTest

        QTest.keyClick(editor, key.get(size, Qt.Key.Key_X), Qt.KeyboardModifier.NoModifier)
    elif kind == "undo":
        editor.undo()
    elif kind == "redo":
        editor.redo()
    elif kind == "all":
        editor.replace_all_text(text)
    else:
        editor.set_fresh_text(text)


# One editor for all examples: each starts with set_fresh_text, a new text without undo history.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=TEXTS, edits=st.lists(EDITS, max_size=25))
# A Backspace inside a surrogate pair leaves half of it, which Python's string drops.
@example(start=":\U0001f600:", edits=[("key", 2, "\b", ""), ("replace", 2, 1, "")])
def test_the_copy_equals_the_document_after_any_edits(
    editor: JsonEditor, start: str, edits: list[tuple[str, int, object, str]]
) -> None:
    editor.set_fresh_text(start)
    assert editor.shown_text() == editor.toPlainText()
    for edit in edits:
        _apply(editor, edit)
        assert editor.shown_text() == editor.toPlainText(), edit
    while editor.document().isUndoAvailable():
        editor.undo()
        assert editor.shown_text() == editor.toPlainText()


def test_a_typed_text_is_validated_without_reading_the_document(
    editor: JsonEditor, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor.set_fresh_text('{\n  "input": {"rows": [1, 2, 3]}\n}\n')
    editor.setFocus()
    editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(editor, "x")
    editor.undo()
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    def read_out(*_args: object) -> str:
        raise AssertionError("toPlainText() read the whole document")

    expected = editor.document().toPlainText()
    monkeypatch.setattr(editor, "toPlainText", read_out)
    assert editor.text_snapshot() == expected
    assert editor.full_text() == expected


@given(
    start=st.text(max_size=40),
    edits=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20), st.text(max_size=30))),
)
def test_the_rope_edits_like_a_string(start: str, edits: list[tuple[int, int, str]]) -> None:
    chunk = text_mirror.CHUNK
    text_mirror.CHUNK = 4  # many chunks from a few characters
    try:
        rope = TextRope(start)
        model = start
        for where, size, new in edits:
            begin = min(where, len(model))
            end = min(begin + size, len(model))
            rope.replace(begin, end, new)
            model = model[:begin] + new + model[end:]
            assert rope.text() == model and len(rope) == len(model)
            assert "".join(rope.chunks()) == model
    finally:
        text_mirror.CHUNK = chunk


def test_the_rope_refuses_a_range_outside_its_text() -> None:
    rope = TextRope("abc")
    with pytest.raises(ValueError, match="outside a text of 3"):
        rope.replace(2, 4, "x")


def _big_body() -> str:
    text = json.dumps(
        {"input": {"rows": [{"id": i, "text": "lorem"} for i in range(60_000)]}}, indent=2
    )
    assert len(text) > SLICED_CHARS
    return text


def test_a_big_text_shows_its_first_screen_then_goes_in_whole_as_one_undo_step(
    editor: JsonEditor, qtbot: QtBot
) -> None:
    editor.set_fresh_text("{}")
    big = _big_body()
    editor.replace_all_text(big)
    # Shown from its first slice; whatever reads the text reads all of it already.
    assert editor.loading
    assert editor.document().characterCount() - 1 < len(big)
    assert editor.full_text() == big and editor.text_snapshot() == big
    qtbot.waitUntil(lambda: not editor.loading, timeout=60_000)
    assert editor.toPlainText() == big and editor.shown_text() == big
    editor.undo()  # the whole load at once
    assert editor.toPlainText() == "{}" and editor.shown_text() == "{}"
    editor.redo()
    assert editor.toPlainText() == big


def test_a_big_fresh_text_is_not_undoable_nor_modified_once_in(
    editor: JsonEditor, qtbot: QtBot
) -> None:
    big = _big_body()
    editor.set_fresh_text(big)
    assert editor.loading
    qtbot.waitUntil(lambda: not editor.loading, timeout=60_000)
    assert editor.toPlainText() == big
    assert not editor.document().isUndoAvailable()
    assert not editor.document().isModified()


def test_typing_while_a_big_text_goes_in_edits_the_whole_text(
    editor: JsonEditor, qtbot: QtBot
) -> None:
    big = _big_body()
    editor.set_fresh_text(big)
    editor.setFocus()
    editor.moveCursor(QTextCursor.MoveOperation.Start)
    assert editor.loading
    qtbot.keyClick(editor, Qt.Key.Key_Delete)  # the opening brace
    qtbot.keyClicks(editor, "[")
    assert not editor.loading
    assert editor.toPlainText() == "[" + big[1:] == editor.full_text()
    editor.undo()
    editor.undo()
    assert editor.toPlainText() == big


class _RecordingPool:
    """A one-process pool that records the largest string each call carried to the child."""

    def __init__(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self.largest = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        sizes = [len(arg) for arg in args if isinstance(arg, str)]
        self.largest = max([self.largest, *sizes])
        return self.pool.submit(fn, *args)


def test_a_big_text_goes_to_the_validating_process_in_pieces() -> None:
    rows = [{"id": i, "text": "lorem"} for i in range(120_000)]
    body = {"input": {"rows": rows, "image": "A" * 300_000}, "policy": {"ttl": 1}}
    text = json.dumps(body, indent=2)
    folds = FoldTable()
    snapshot = folds.snapshot(folds.fold(text))
    assert isinstance(snapshot, FoldedText)
    recording = _RecordingPool()
    try:
        pool = cast("ProcessPoolExecutor", recording)
        outcome = validation_worker._validate(1, snapshot, "run", pool)
        expected = validate_text(text, "run")
        assert recording.largest <= PIECE_CHARS < len(text)
        assert outcome.result.size_bytes == expected.size_bytes
        assert [d.code for d in outcome.result.diagnostics] == [
            d.code for d in expected.diagnostics
        ]
        assert outcome.result.body is not None and outcome.result.body["policy"] == {"ttl": 1}
        # A text sent after it starts afresh (nothing left of the one before).
        again = validation_worker._validate(2, '{"input": {"a": 1}}', "run", pool)
        assert again.result.ok and again.result.size_bytes == len('{"input":{"a":1}}')
    finally:
        recording.pool.shutdown()
