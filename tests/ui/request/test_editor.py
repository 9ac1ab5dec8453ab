"""The JSON editor: diagnostics listed, underlined and marked; activation; Format; size; threads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot

from gui.core.request import validation as request_module
from gui.core.request.validation import validate_text
from gui.ui import tasks, theme
from gui.ui.request.panel import RequestPanel
from gui.ui.request.text import validation_worker
from gui.ui.request.text.editor import ERROR_COLOR, LONG_LINE_CHARS
from gui.ui.request.text.validation_worker import ValidationWorker, editor_marks
from tests.support.request_helpers import TIMEOUT_MS, make_panel, set_and_settle, settle

BROKEN = '{"input": {"a": 1,}}'  # the trailing comma at column 18 is the error
FIXED = '{"input": {"a": 1}}'


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[RequestPanel]:
    yield from make_panel(qtbot)


def test_typed_error_is_listed_underlined_and_marked_then_cleared(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    panel.editor.clear()
    panel.editor.setFocus()
    qtbot.keyClicks(panel.editor, BROKEN)
    assert panel.editor.toPlainText() == BROKEN
    outcome = settle(qtbot, panel)
    assert not outcome.result.ok
    rows = panel.diagnostics.row_texts()
    assert len(rows) == 1
    assert rows[0].startswith("1:18  error: ")
    error_icon = panel.diagnostics.item(0).icon()
    assert not error_icon.pixmap(16, 16).isNull()  # the app's own icon, found and drawn
    assert panel.editor.underlined_ranges() == [(17, 18, ERROR_COLOR)]
    assert panel.editor.marked_lines() == {1: "error"}

    panel.editor.selectAll()
    qtbot.keyClicks(panel.editor, FIXED)
    outcome = settle(qtbot, panel)
    assert outcome.result.ok
    assert panel.diagnostics.marks() == []
    assert panel.diagnostics.row_texts() == ["No problems found."]
    ok_icon = panel.diagnostics.item(0).icon().pixmap(16, 16).toImage()
    assert not ok_icon.isNull() and ok_icon != error_icon.pixmap(16, 16).toImage()
    assert panel.diagnostics.item(0).foreground().color() == theme.color("muted")
    assert panel.editor.underlined_ranges() == []
    assert panel.editor.marked_lines() == {}


def test_rule_violation_is_placed_on_its_line(qtbot: QtBot, panel: RequestPanel) -> None:
    text = '{\n  "input": {"a": 1},\n  "policy": {\n    "ttl": 5\n  }\n}\n'
    outcome = set_and_settle(qtbot, panel, text)
    [mark] = [m for m in outcome.marks if m.severity == "error"]
    assert mark.line == 4
    assert f"{mark.line}:{mark.column}  error: " in panel.diagnostics.row_texts()[0]
    start, _end, color = panel.editor.underlined_ranges()[0]
    assert panel.editor.document().findBlock(start).blockNumber() == 3
    assert color == ERROR_COLOR
    assert panel.editor.marked_lines()[4] == "error"


def test_activating_a_diagnostic_moves_the_cursor(qtbot: QtBot, panel: RequestPanel) -> None:
    text = '{\n  "input": {\n    "a": 1,\n  }\n}\n'
    set_and_settle(qtbot, panel, text)
    panel.editor.moveCursor(QTextCursor.MoveOperation.Start)
    item = panel.diagnostics.item(0)
    mark = panel.diagnostics.marks()[0]
    assert (mark.line, mark.column) == (3, 11)
    panel.diagnostics.setCurrentItem(item)
    qtbot.keyClick(panel.diagnostics, Qt.Key.Key_Return)
    cursor = panel.editor.textCursor()
    assert cursor.blockNumber() == 2
    assert cursor.positionInBlock() == 10
    assert panel.editor.hasFocus() or not panel.isActiveWindow()


def test_format_is_one_undoable_edit(qtbot: QtBot, panel: RequestPanel) -> None:
    compact = '{"input":{"prompt":"hi","n":[1,2]},"webhook":"https://example.com/h"}'
    set_and_settle(qtbot, panel, compact)
    panel.format_text()
    formatted = panel.editor.toPlainText()
    assert formatted == json.dumps(json.loads(compact), indent=2) + "\n"
    panel.editor.undo()
    assert panel.editor.toPlainText() == compact
    panel.editor.redo()
    assert panel.editor.toPlainText() == formatted


def test_format_leaves_broken_json_alone(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, BROKEN)
    with qtbot.waitSignal(panel.sig_status_message_requested) as message:
        panel.format_text()
    assert "Format needs valid JSON" in message.args[0]
    assert panel.editor.toPlainText() == BROKEN


def test_submit_is_disabled_while_there_are_errors_and_says_why(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    set_and_settle(qtbot, panel, BROKEN)
    assert not panel.submit_button.isEnabled()
    reason = panel.submit_button.toolTip()
    assert reason.startswith("Fix the errors first: line 1:18")
    set_and_settle(qtbot, panel, FIXED)
    assert panel.submit_button.isEnabled()
    with qtbot.waitSignal(panel.sig_submit_requested) as submitted:
        qtbot.mouseClick(panel.submit_button, Qt.MouseButton.LeftButton)
    assert submitted.args == [{"input": {"a": 1}}, "run"]


def test_status_line_follows_the_operation_limit(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, FIXED)
    assert panel.size_label.text() == "Body 17 B of 10.0 MB allowed for /run (0%)"
    panel.set_operation("runsync")
    qtbot.waitUntil(
        lambda: (
            panel.validation.current is not None and panel.validation.current.operation == "runsync"
        ),
        timeout=TIMEOUT_MS,
    )
    assert panel.size_label.text() == "Body 17 B of 20.0 MB allowed for /runsync (0%)"


def test_validation_runs_off_the_qt_thread(
    qtbot: QtBot, panel: RequestPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real = request_module.validate_text

    def recording(text: str, operation: str = "run", placeholders=None):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return real(text, operation, placeholders)  # type: ignore[arg-type]

    monkeypatch.setattr(request_module, "validate_text", recording)  # imported when called
    big = json.dumps({"input": {"rows": [{"i": i, "text": "x" * 50} for i in range(20_000)]}})
    set_and_settle(qtbot, panel, big)
    assert threads
    assert all(thread is not threading.main_thread() for thread in threads)


def test_stale_results_never_arrive(qtbot: QtBot, panel: RequestPanel) -> None:
    worker = ValidationWorker(panel)
    seen = []
    worker.sig_validation_finished.connect(seen.append)
    worker.validate_now(lambda: '{"input": {"first": 1}}', "run")
    worker.validate_now(lambda: '{"input": {"second": 2}}', "run")
    qtbot.waitUntil(lambda: worker.current is not None, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=TIMEOUT_MS)
    assert [outcome.result.body for outcome in seen] == [{"input": {"second": 2}}]


def test_closing_while_a_big_body_validates_in_the_child_reports_nothing(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    # A body over the threshold is validated in a child process; closing (the editor goes away)
    # stops it, and the validation that waited there ends cancelled: not a validator bug to raise
    # on the Qt thread (pytest-qt fails the test on any exception raised there).
    worker = ValidationWorker(panel)
    seen = []
    worker.sig_validation_finished.connect(seen.append)
    big = json.dumps({"input": {"rows": ["A" * 100] * 22_000}})
    assert len(big) > validation_worker.PROCESS_THRESHOLD_CHARS
    worker.validate_now(lambda: big, "run")
    worker.close()  # the child is still starting: the validation queued for it is cancelled
    # Its end is delivered on the Qt thread, where _ran() clears the running flag first.
    qtbot.waitUntil(lambda: not worker._running, timeout=TIMEOUT_MS)
    assert seen == []


def test_marks_count_utf16_positions_for_emoji(qtbot: QtBot, panel: RequestPanel) -> None:
    text = '{"input": {"e": "😀😀"}, "Webhook": "x"}'
    result = validate_text(text)
    [warning] = [d for d in result.diagnostics if d.path == ("Webhook",)]
    [mark] = [m for m in editor_marks(text, result) if m.message == warning.message]
    assert mark.start == warning.offset + 2  # two emoji before it, two UTF-16 units each
    set_and_settle(qtbot, panel, text)
    cursor = QTextCursor(panel.editor.document())
    cursor.setPosition(mark.start)
    cursor.setPosition(mark.end, QTextCursor.MoveMode.KeepAnchor)
    assert "Webhook" in cursor.selectedText()


def test_highlighter_colours_keys_and_values_differently(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, '{"key": "value", "n": 12, "t": true}')
    block = panel.editor.document().firstBlock()
    formats = {
        (r.start, r.length): r.format.foreground().color().name() for r in block.layout().formats()
    }
    colours = panel.editor.highlighter.formats
    assert formats[(1, 5)] == colours["key"].foreground().color().name()
    assert formats[(8, 7)] == colours["string"].foreground().color().name()
    assert formats[(22, 2)] == colours["number"].foreground().color().name()
    assert formats[(31, 4)] == colours["literal"].foreground().color().name()


def test_big_text_stays_plain_and_small_text_is_coloured_again(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    big = json.dumps({"input": {"blob": "\t" + "x" * (3 * 1024 * 1024)}})  # escaped: not folded
    panel.set_text(big)
    assert not panel.editor.highlighting
    panel.editor.undo()
    set_and_settle(qtbot, panel, FIXED)
    assert panel.editor.highlighting


def test_thousands_of_diagnostics_are_capped(qtbot: QtBot, panel: RequestPanel) -> None:
    keys = ", ".join(f'"k{i}": {i}' for i in range(1500))
    outcome = set_and_settle(qtbot, panel, "{" + keys + ', "input": {}}')
    assert len(outcome.result.diagnostics) == 1500  # one unknown-key warning each
    assert panel.diagnostics.count() == 1001
    assert panel.diagnostics.item(1000).text().startswith("… and 500 more")
    assert len(panel.editor.underlined_ranges()) == 500


@pytest.mark.slow
def test_big_text_is_validated_in_a_child_process_and_still_submits_whole(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    rows = [{"i": i, "text": "y" * 100} for i in range(25_000)]  # about 3 MB
    body = {"input": {"rows": rows}, "policy": {"ttl": 5}}
    text = json.dumps(body, indent=1)
    assert len(text) > validation_worker.PROCESS_THRESHOLD_CHARS
    outcome = set_and_settle(qtbot, panel, text)
    assert not outcome.complete
    assert outcome.result.body is not None and outcome.result.body["policy"] == {"ttl": 5}
    [error] = [m for m in outcome.marks if m.severity == "error"]
    assert panel.editor.document().findBlock(error.start).text().strip().startswith('"ttl"')
    assert panel.form.field_message(("policy", "ttl"))  # the form still shows the options

    panel.form.ttl.unit.setCurrentText("min")
    panel.form.ttl.number.setText("5")
    panel.form.ttl.number.textEdited.emit("5")  # the person types "5" minutes
    outcome = settle(qtbot, panel)
    assert outcome.result.ok
    with qtbot.waitSignal(panel.sig_submit_requested) as submitted:
        panel.request_submit()
    sent, operation = submitted.args
    assert sent == {"input": {"rows": rows}, "policy": {"ttl": 300_000}}  # the input is all there
    assert operation == "run"


def test_enter_keeps_indentation_and_tab_inserts_spaces(qtbot: QtBot, panel: RequestPanel) -> None:
    editor = panel.editor
    editor.clear()
    editor.setFocus()
    qtbot.keyClicks(editor, "{")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, '"input": {')
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, '"a": 1')
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == '{\n  "input": {\n    "a": 1\n      '


def paste_over_everything(qtbot: QtBot, panel: RequestPanel, text: str) -> None:
    """Select all and paste ``text`` (Ctrl+A, Ctrl+V), as a person replaces the whole body."""
    QApplication.clipboard().setText(text)
    panel.editor.setFocus()
    qtbot.keyClick(panel.editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(panel.editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert panel.text() == text


def coloured(panel: RequestPanel) -> bool:
    return bool(panel.editor.document().firstBlock().layout().formats())


def test_colours_come_back_when_a_huge_body_is_pasted_over(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    huge = json.dumps({"input": {"rows": ["A" * 100] * 22_000}}, indent=1)  # 2.3 MB
    panel.set_text(huge)
    assert not panel.editor.highlighting
    paste_over_everything(qtbot, panel, FIXED)
    assert panel.editor.highlighting
    qtbot.waitUntil(lambda: coloured(panel), timeout=TIMEOUT_MS)
    panel.editor.undo()  # the huge body again: plain again, before anything colours it
    assert panel.text() == huge
    assert not panel.editor.highlighting and not coloured(panel)


def test_a_line_too_long_to_draw_unwrapped_is_wrapped_then_unwrapped_after(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    editor = panel.editor
    long_line = json.dumps({"input": {"image": "\t" + "B" * 150_000}})  # escaped: not folded
    set_and_settle(qtbot, panel, long_line)
    assert editor.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth
    qtbot.waitUntil(lambda: editor.document().firstBlock().layout().lineCount() > 100)
    assert editor.horizontalScrollBar().maximum() == 0  # every row fits the editor's width
    assert panel.display_note.text().startswith("Wrapped at the editor's width")
    paste_over_everything(qtbot, panel, FIXED)
    assert editor.lineWrapMode() == QPlainTextEdit.LineWrapMode.NoWrap
    assert panel.display_note.isHidden()
    set_and_settle(qtbot, panel, long_line)
    set_and_settle(qtbot, panel, FIXED)  # a whole text put in by the window (a template, a file)
    assert editor.lineWrapMode() == QPlainTextEdit.LineWrapMode.NoWrap


def test_a_long_line_or_a_huge_text_is_left_uncoloured_and_says_so(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    panel.set_text(json.dumps({"input": {"rows": ["D" * 100] * 22_000}}, indent=1))
    assert panel.display_note.text() == "Without colours: the text is over 2 MB."
    set_and_settle(qtbot, panel, json.dumps({"input": {"image": "C" * 30_000}}))
    assert not coloured(panel)
    assert panel.editor.lineWrapMode() == QPlainTextEdit.LineWrapMode.NoWrap
    assert panel.display_note.text() == "Lines over 20,000 characters are not coloured."
    panel.editor.moveCursor(QTextCursor.MoveOperation.End)
    panel.editor.insertPlainText("\n")  # typed: rechecked once typing pauses
    set_and_settle(qtbot, panel, FIXED)
    assert panel.display_note.isHidden()


def test_typing_a_line_past_the_limit_wraps_it_and_back_unwraps_it(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    editor = panel.editor
    head = '{"input": {"image": "\\t'  # an escape: the string is not folded
    set_and_settle(qtbot, panel, head + "E" * (LONG_LINE_CHARS - len(head) - 3) + '"}}')
    assert not editor.wrapped  # exactly LONG_LINE_CHARS long
    editor.setFocus()
    cursor = editor.textCursor()
    cursor.setPosition(len(head))
    editor.setTextCursor(cursor)
    qtbot.keyClicks(editor, "E")
    assert editor.wrapped
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: not editor.wrapped, timeout=TIMEOUT_MS)  # once typing pauses
    assert panel.display_note.text() == "Lines over 20,000 characters are not coloured."
