"""The job table's search field: the history's search syntax read as a person types, its problems
said without losing the text, its help, and its keys (Escape, the window's Ctrl+F)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QWidget, QWidgetAction
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.core.storage.history import FIELDS, JobQuery, parse_search
from gui.ui import theme
from gui.ui.jobs.search_field import EXAMPLES, SearchField, help_text
from tests.support.request_helpers import TIMEOUT_MS


@pytest.fixture
def field(qtbot: QtBot) -> Iterator[SearchField]:
    holder = QWidget()  # the field's parent, where its problem line lives
    qtbot.addWidget(holder)
    made = SearchField(holder)
    holder.show()
    yield made


def test_a_valid_search_is_told_once_when_typing_pauses(qtbot: QtBot, field: SearchField) -> None:
    told: list[JobQuery] = []
    field.sig_query_changed.connect(told.append)
    text = "status:failed worker:abc prompt text"
    qtbot.keyClicks(field, text)
    assert told == []  # not at each key: when the typing pauses
    qtbot.waitUntil(lambda: bool(told), timeout=TIMEOUT_MS)
    assert told == [parse_search(text)]
    assert field.query() == parse_search(text)
    assert field.problems() == [] and field.problem_label.isHidden()


def test_a_search_it_cant_read_says_why_and_keeps_the_last_valid_one(
    qtbot: QtBot, field: SearchField
) -> None:
    told: list[JobQuery] = []
    field.sig_query_changed.connect(told.append)
    qtbot.keyClicks(field, "cat")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # Enter applies at once
    assert told == [parse_search("cat")]
    qtbot.keyClicks(field, " status:done")
    qtbot.waitUntil(lambda: not field.problem_label.isHidden(), timeout=TIMEOUT_MS)
    message = field.problem_label.text()
    assert 'Unknown status "done": use one of submitting, queued' in message
    assert "Search not applied" in message
    assert 'Unknown status "done"' in field.toolTip()
    assert theme.css("error") in field.styleSheet()  # the red frame
    assert field.text() == "cat status:done"  # the typed text stays
    assert field.query() == parse_search("cat") and told == [parse_search("cat")]
    # Fixed: applied, and the problem goes.
    field.setText("cat status:failed")
    field.apply_now()
    assert told[-1] == parse_search("cat status:failed")
    assert field.problem_label.isHidden() and field.styleSheet() == ""


def test_escape_empties_the_field_and_shows_every_job(qtbot: QtBot, field: SearchField) -> None:
    field.set_search("status:failed cat")
    told: list[JobQuery] = []
    field.sig_query_changed.connect(told.append)
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert field.text() == ""
    assert told == [JobQuery()] and field.query() == JobQuery()


def test_the_help_lists_every_field_and_its_examples_fill_the_field(
    qtbot: QtBot, field: SearchField
) -> None:
    for name in FIELDS:
        assert f"{name}:" in help_text()
    label = next(
        action.defaultWidget()
        for action in field.help_menu.actions()
        if isinstance(action, QWidgetAction)
    )
    assert isinstance(label, QLabel)
    for name in FIELDS:
        assert f"{name}:" in label.text()
    assert "timed_out" in label.text()  # the states are named too
    example = next(a for a in field.help_menu.actions() if a.text() == EXAMPLES[0])
    example.trigger()
    assert field.text() == EXAMPLES[0]
    assert field.query() == parse_search(EXAMPLES[0])


def test_ctrl_f_in_the_window_goes_to_the_search_field(qtbot: QtBot, data_dir: Path) -> None:
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT_MS)
    window.request.editor.setFocus()
    assert QApplication.focusWidget() is window.request.editor
    qtbot.keyClick(window.request.editor, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    field = window.jobs_panel.filters.text
    assert isinstance(field, SearchField) and field.objectName() == "jobFilterText"
    assert QApplication.focusWidget() is field
    window.close()
