"""A big saved draft (a body holding a base64 image) is shown after the window, whole, and lost by
nothing in between: not by typing, not by a template opened meanwhile, not by closing early."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.ui import tasks
from gui.ui.request.drafts import DRAFT_FILE, LATE_DRAFT_BYTES, read_draft, write_draft
from gui.ui.window.main_window import MainWindow
from tests.support.request_helpers import TIMEOUT_MS, settle

ECHO = {"input": {"prompt": "from a template"}}


def big_draft(data_dir: Path) -> str:
    """A ~1.3 MB draft on one line, with characters beyond ASCII; returns its text."""
    image = base64.b64encode(bytes(range(256)) * 4096).decode()  # 1.3 MB
    text = json.dumps({"input": {"image": image, "note": "café ✓ 😀"}}, ensure_ascii=False)
    assert write_draft(data_dir, text, None, True, None)
    assert (data_dir / DRAFT_FILE).stat().st_size > LATE_DRAFT_BYTES
    return text


def background_work_done(window: MainWindow) -> bool:
    return tasks.pending() == 0


def test_a_big_draft_is_shown_after_the_window_byte_for_byte(qtbot: QtBot, data_dir: Path) -> None:
    text = big_draft(data_dir)
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    request = window.request
    # Built, not shown: the draft is not in the editor, and stays out while the window is hidden
    # (its read off the Qt thread is done and waiting).
    assert request.text() == ""
    assert request.restoring
    qtbot.waitUntil(lambda: background_work_done(window), timeout=TIMEOUT_MS)
    assert request.text() == ""
    assert request.editor.placeholderText() == "Loading the saved draft (1.3 MB)…"
    assert request.editor.isReadOnly()
    qtbot.keyClicks(request.editor, "typed over")  # nothing can be typed over the draft
    assert request.text() == ""
    assert request.submit_disabled_reason() == "Loading the saved draft (1.3 MB)…"

    window.show()
    qtbot.waitUntil(lambda: not request.restoring, timeout=TIMEOUT_MS)
    assert request.text().encode() == text.encode()
    assert request.editor.document().isModified()
    assert not request.editor.isReadOnly()
    assert request.editor.placeholderText() != "Loading the saved draft (1.3 MB)…"
    settle(qtbot, request)  # validated like any text
    window.close()
    saved = read_draft(data_dir)
    assert saved is not None and saved.text.encode() == text.encode()


def test_closing_before_a_big_draft_shows_keeps_it(qtbot: QtBot, data_dir: Path) -> None:
    big_draft(data_dir)
    before = (data_dir / DRAFT_FILE).read_bytes()
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: background_work_done(window), timeout=TIMEOUT_MS)
    window.close()  # never shown: the empty editor is not saved over the draft
    assert (data_dir / DRAFT_FILE).read_bytes() == before


@pytest.mark.slow
def test_a_template_opened_while_a_big_draft_loads_goes_on_top_of_it(
    qtbot: QtBot, data_dir: Path
) -> None:
    text = big_draft(data_dir)
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    request = window.request
    request.load_body(ECHO)  # e.g. a template picked before the draft shows
    assert request.text() == ""
    window.show()
    qtbot.waitUntil(lambda: not request.restoring, timeout=TIMEOUT_MS)
    assert json.loads(request.text()) == ECHO
    request.editor.setFocus()
    qtbot.keyClick(request.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert request.text() == text  # the draft is one undo away
    window.close()
