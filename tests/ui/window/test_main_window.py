"""The main window as a person uses it: names, title, files, templates, settings, submit, batch."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.core.engine.leases import ConsoleLease
from gui.core.engine.process.remote import RemoteEngine
from gui.core.records import JobState
from gui.core.storage.store import DB_FILENAME
from gui.ui.request.drafts import DRAFT_FILE
from gui.ui.request.template_dialog import TemplateDetailsDialog
from gui.ui.window.main_window import MainWindow
from tests.support.request_helpers import TIMEOUT_MS, file_mime, set_and_settle, settle

GOOD = '{\n  "input": {\n    "prompt": "from the test"\n  }\n}\n'


@pytest.fixture
def window(qtbot: QtBot, data_dir: Path) -> Iterator[MainWindow]:
    win = create_window(data_dir, engine="thread")
    qtbot.addWidget(win)
    win.show()
    settle(qtbot, win.request)
    yield win
    win.close()


def test_widgets_carry_their_automation_names(window: MainWindow) -> None:
    expected = {
        "requestEditor": QPlainTextEdit,
        "diagnosticsList": QListWidget,
        "submitButton": QPushButton,
        "templateList": QListWidget,
        "profileSelector": QComboBox,
    }
    for name, kind in expected.items():
        found = window.findChild(QWidget, name)
        assert isinstance(found, kind), name
    assert window.findChild(QComboBox, "profileSelector").currentData() == "Sandbox"


AUTOMATION_NAMES = (
    "requestEditor",
    "diagnosticsList",
    "submitButton",
    "jobTable",
    "jobDetails",
    "templateList",
    "profileSelector",
    "webhookLog",
)


def test_every_name_of_design_md_exists_as_soon_as_the_window_is_made(
    qtbot: QtBot, data_dir: Path
) -> None:
    # Not shown, no event loop turn: what a test or tool sees first. In-process: the Webhooks tab
    # needs the listener, which a process engine does not serve yet.
    win = create_window(data_dir, engine="thread")
    qtbot.addWidget(win)
    try:
        missing = [name for name in AUTOMATION_NAMES if win.findChild(QWidget, name) is None]
        assert missing == []
        assert all(len(win.findChildren(QWidget, name)) == 1 for name in AUTOMATION_NAMES)
    finally:
        win.close()


def test_title_shows_file_and_unsaved_mark(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    assert window.windowTitle().startswith("Untitled request[*]")
    assert not window.isWindowModified()
    window.request.editor.insertPlainText(" ")
    assert window.isWindowModified()
    target = tmp_path / "saved.json"
    assert window.save_to(target)
    assert target.read_text("utf-8") == window.request.text()
    assert window.windowTitle() == "saved.json[*] — RunPod Job Console"
    assert not window.isWindowModified()


def test_open_replaces_text_undoably_and_names_the_file(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    before = window.request.text()
    path = tmp_path / "opened.json"
    path.write_text(GOOD, "utf-8")
    window.open_path(path)
    qtbot.waitUntil(lambda: window.file_path == path, timeout=TIMEOUT_MS)
    assert window.request.text() == GOOD
    assert window.windowTitle().startswith("opened.json[*]")
    assert not window.isWindowModified()
    window.request.editor.undo()
    assert window.request.text() == before


def test_template_save_reopen_rename_delete(qtbot: QtBot, window: MainWindow) -> None:
    set_and_settle(qtbot, window.request, GOOD)
    window.request.set_operation("runsync")
    settle(qtbot, window.request)
    saved = window.save_as_template("From test")
    assert saved is not None and saved.path.is_file()
    assert "From test" in window.templates.names()

    window.new_request()
    settle(qtbot, window.request)
    window.request.set_operation("run")
    window.templates.select("From test")
    window.templates.open_selected()
    assert json.loads(window.request.text()) == json.loads(GOOD)
    assert window.request.operation() == "runsync"
    assert window.current_template == "From test"

    assert window.templates.rename("From test", "Renamed") is not None
    window.templates.delete("Renamed")
    assert "Renamed" not in window.store.names()
    assert not saved.path.exists()


def test_template_with_secret_is_refused_when_not_moved(qtbot: QtBot, window: MainWindow) -> None:
    asked: list[str] = []
    window.secret_mover.confirm = lambda purpose: asked.append(purpose) or False  # type: ignore[method-assign]
    body = {
        "input": {},
        "s3Config": {"accessId": "a", "accessSecret": "hunter2", "bucketName": "b"},
    }
    set_and_settle(qtbot, window.request, json.dumps(body))
    assert window.save_as_template("Leaky") is None
    assert asked == ["saved as a template"]
    assert window.request.banner.isVisibleTo(window)
    assert "s3Config.accessSecret" in window.request.banner.label.text()
    assert "hunter2" not in window.request.banner.label.text()
    assert "Leaky" not in window.store.names()
    assert "hunter2" not in "".join(p.read_text("utf-8") for p in window.store.folder.glob("*"))


def test_secret_moves_into_the_keyring_on_save(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, memory_keyring: Any
) -> None:
    window.secret_mover.confirm = lambda purpose: True  # type: ignore[method-assign]
    config = {
        "accessId": "AKIA1",
        "accessSecret": "hunter2",
        "bucketName": "my-bucket",
        "endpointUrl": "https://s3.example.com",
    }
    set_and_settle(qtbot, window.request, json.dumps({"input": {}, "s3Config": config}))
    target = tmp_path / "request.json"
    assert window.save_to(target)
    saved = json.loads(target.read_text("utf-8"))
    assert saved["s3Config"]["accessSecret"] == "keyring:s3/my-bucket"
    assert saved["s3Config"]["accessId"] == "AKIA1"
    assert json.loads(window.request.text()) == saved  # the editor shows the reference
    assert "hunter2" in memory_keyring.entries.values()
    assert window.profiles is not None
    assert [s.name for s in window.profiles.s3_sets()] == ["my-bucket"]
    # A template of the same request is accepted now: it holds only the reference.
    settle(qtbot, window.request)
    assert window.save_as_template("With reference") is not None
    for path in [target, *window.data_dir.rglob("*.json")]:
        assert "hunter2" not in path.read_text("utf-8")


def test_settings_and_draft_survive_a_restart(qtbot: QtBot, data_dir: Path) -> None:
    first = create_window(data_dir)
    qtbot.addWidget(first)
    set_and_settle(qtbot, first.request, GOOD)
    first.request.set_operation("runsync")
    first.splitter.setSizes([150, 600, 650])
    sizes = first.splitter.sizes()
    first.close()
    assert (data_dir / DRAFT_FILE).is_file()

    second = create_window(data_dir)
    qtbot.addWidget(second)
    assert second.request.text() == GOOD
    assert second.request.operation() == "runsync"
    assert second.splitter.sizes() == sizes
    second.close()


def test_draft_never_keeps_a_secret(qtbot: QtBot, data_dir: Path) -> None:
    win = create_window(data_dir)
    qtbot.addWidget(win)
    secret = {"input": {}, "s3Config": {"accessSecret": "hunter2"}}
    set_and_settle(qtbot, win.request, json.dumps(secret))
    win.close()
    assert not (data_dir / DRAFT_FILE).exists()
    assert all("hunter2" not in p.read_text("utf-8", "replace") for p in data_dir.rglob("*.*"))


def test_jsonl_drop_opens_batch_dialog(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    lines = tmp_path / "batch.jsonl"
    lines.write_text('{"input": {"n": 1}}\n{"input": 2}\n{"input": {"n": 3}}\n', "utf-8")
    window.request.editor.handle_drop(file_mime(lines))
    # It opens once the target is known (the built-in sandbox may still be starting).
    qtbot.waitUntil(lambda: window.batch_dialog is not None, timeout=TIMEOUT_MS)
    dialog = window.batch_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=TIMEOUT_MS)
    assert (len(dialog.valid_entries), len(dialog.invalid_entries)) == (2, 1)
    dialog.reject()


def test_submit_reaches_the_sandbox(qtbot: QtBot, window: MainWindow) -> None:
    set_and_settle(qtbot, window.request, GOOD)
    assert window.request.submit_button.isEnabled()
    window.submit_action.trigger()  # Ctrl+Return
    qtbot.waitUntil(lambda: len(window.engine.jobs()) == 1, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: window.engine.jobs()[0].state == JobState.COMPLETED, timeout=TIMEOUT_MS * 2
    )
    job = window.engine.jobs()[0]
    # The built-in sandbox reports to the console's listener (token redacted in the history).
    assert job.request["input"] == {"prompt": "from the test"}
    assert job.request["webhook"].endswith("/webhook/keyring:listener-token")
    assert job.output is not None


def test_closing_stops_the_engine(qtbot: QtBot, data_dir: Path) -> None:
    before = set(threading.enumerate())
    win = create_window(data_dir, engine="thread")
    qtbot.addWidget(win)
    engine = win.engine
    engine.started.result(timeout=30)  # its loop runs and its history is open
    engine_threads = [
        t
        for t in threading.enumerate()
        if t not in before and t.name in ("engine-loop", "job-store-writer")
    ]
    assert sorted(t.name for t in engine_threads) == ["engine-loop", "job-store-writer"]
    win.close()
    assert win.engine is None
    assert [t.name for t in engine_threads if t.is_alive()] == []  # loop and history writer ended
    with pytest.raises(RuntimeError, match="not running"):
        engine.submit_coroutine(asyncio.sleep(0))  # a closed engine takes no more work


def test_closing_stops_the_engine_process(qtbot: QtBot, data_dir: Path) -> None:
    win = create_window(data_dir)  # the default: the engine in a process of its own
    qtbot.addWidget(win)
    engine = win.engine
    assert isinstance(engine, RemoteEngine)
    engine.started.result(timeout=60)  # its history is open, its lease taken
    pid = engine.pid
    lease = ConsoleLease(data_dir / DB_FILENAME, "window")
    try:
        assert [c.kind for c in lease.consoles() if c.pid == pid] == ["window"]
        win.close()
        assert win.engine is None
        assert engine.ended.result(timeout=60) == 0  # closed, not killed
        assert [c for c in lease.consoles() if c.pid == pid] == []  # its lease released
    finally:
        lease.release()


def test_keyboard_shortcuts(qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitExposed(window)
    compact = '{"input":{"a":1}}'
    set_and_settle(qtbot, window.request, compact)
    editor = window.request.editor
    editor.setFocus()
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(editor, Qt.Key.Key_F, ctrl | shift)  # Format
    assert window.request.text() == '{\n  "input": {\n    "a": 1\n  }\n}\n'
    qtbot.keyClick(editor, Qt.Key.Key_Z, ctrl)  # Undo
    assert window.request.text() == compact
    settle(qtbot, window.request)
    with qtbot.waitSignal(window.request.sig_submit_requested) as submitted:
        qtbot.keyClick(editor, Qt.Key.Key_Return, ctrl)  # Submit
    assert submitted.args == [{"input": {"a": 1}}, "run"]
    assert window.request.text() == compact  # no newline typed


def test_files_dropped_anywhere_on_the_window_open(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    import warnings

    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    path = tmp_path / "anywhere.json"
    path.write_text('{"input": {"dropped": "on the status bar"}}', "utf-8")
    mime = file_mime(path)
    target = window.statusBar()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )  # fmt: skip
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(target, drop)
    qtbot.waitUntil(lambda: "on the status bar" in window.request.text(), timeout=TIMEOUT_MS)


def test_a_person_types_fixes_submits_and_reads_the_output(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Issue 5's walk-through: error seen, fixed, submitted, followed to COMPLETED, output shown."""
    panel = window.jobs_panel
    assert panel is not None
    editor = window.request.editor
    editor.clear()
    editor.setFocus()
    qtbot.keyClicks(editor, '{"input": {"prompt": "walk-through",}}')
    settle(qtbot, window.request)
    [row] = window.request.diagnostics.row_texts()
    assert row.startswith("1:36  error: ")  # the comma
    assert not window.request.submit_button.isEnabled()
    editor.selectAll()
    qtbot.keyClicks(editor, '{"input": {"prompt": "walk-through"}}')
    settle(qtbot, window.request)
    assert window.request.submit_button.isEnabled()
    qtbot.mouseClick(window.request.submit_button, Qt.MouseButton.LeftButton)

    def completed_row() -> bool:
        model = panel.model
        return model.rowCount() == 1 and model.record_at(0).state == JobState.COMPLETED

    qtbot.waitUntil(completed_row, timeout=TIMEOUT_MS * 2)
    record = panel.model.record_at(0)
    assert panel.select_job(record.local_id)
    details = panel.details  # the whole record, read when shown (the rows are light)
    qtbot.waitUntil(lambda: details.record is not None, timeout=TIMEOUT_MS)
    states = [state for _when, state in details.record.history]
    assert states.index("IN_QUEUE") < states.index("COMPLETED")
    qtbot.waitUntil(lambda: "walk-through" in details.raw_view.toPlainText(), timeout=TIMEOUT_MS)
    assert "walk-through" in details.request_view.toPlainText()


def test_a_submitted_job_is_selected_and_the_status_bar_follows_it_to_its_end(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = window.jobs_panel
    assert panel is not None and window.engine is not None
    body = '{"input": {"prompt": "follow me", "sandbox": {"duration": 0.3}}}'
    set_and_settle(qtbot, window.request, body)
    window.submit_action.trigger()  # Ctrl+Enter
    qtbot.waitUntil(lambda: len(window.engine.jobs()) == 1, timeout=TIMEOUT_MS)
    local_id = window.engine.jobs()[0].local_id

    def selected() -> list[str]:
        return [record.local_id for record in panel.selected_records()]

    qtbot.waitUntil(lambda: selected() == [local_id], timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: window.engine.jobs()[0].state == JobState.COMPLETED, timeout=TIMEOUT_MS * 2
    )
    job_id = window.engine.jobs()[0].job_id
    bar = window.statusBar()
    qtbot.waitUntil(
        lambda: bar.currentMessage().startswith(f"Job {job_id} COMPLETED in "), timeout=TIMEOUT_MS
    )
    assert "IN_QUEUE" not in bar.currentMessage()
    # Its output shows below the table.
    details = panel.details
    qtbot.waitUntil(lambda: "follow me" in details.raw_view.toPlainText(), timeout=TIMEOUT_MS)
    assert selected() == [local_id]


def test_the_window_fits_a_laptop_screen(qtbot: QtBot, window: MainWindow) -> None:
    # Once the sandbox's health is read (the longest line of the jobs side), the window still
    # goes down to a 1024-pixel-wide screen: the filter row and the health line wrap instead.
    health = window.jobs_panel.health.label  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: "workers" in health.text(), timeout=TIMEOUT_MS)
    assert window.minimumSizeHint().width() <= 1000
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: window.width() == 1000, timeout=TIMEOUT_MS)
    filters = window.jobs_panel.filters  # type: ignore[union-attr]
    assert filters.text.geometry().right() < filters.width()  # the text filter is in view


def test_a_first_start_never_opens_larger_than_the_screen(window: MainWindow) -> None:
    room = window.screen().availableGeometry()
    assert window.height() <= room.height()
    assert window.width() <= max(room.width(), window.minimumSizeHint().width())


def test_save_as_template_starts_empty_and_asks_before_replacing(
    qtbot: QtBot, window: MainWindow
) -> None:
    """The dialog was filled with the last template's name, so saving as it stood replaced it."""
    set_and_settle(qtbot, window.request, GOOD)
    assert window.save_as_template("Mine", description="the first") is not None
    assert window.current_template == "Mine"
    seen: dict[str, Any] = {}

    def fill_in() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, TemplateDetailsDialog)
        seen["prefilled"] = (dialog.name.text(), dialog.description.toPlainText())
        answers = iter([False, True])  # "replace Mine?" no, then yes
        asked: list[str] = []
        dialog.confirm_overwrite = lambda name: asked.append(name) or next(answers)  # type: ignore[method-assign]
        qtbot.keyClicks(dialog.name, "Mine")
        dialog.description.setPlainText("the second")
        dialog.save_button.click()
        seen["open_after_no"] = dialog.isVisible()
        dialog.save_button.click()
        seen["asked"] = asked

    QTimer.singleShot(0, fill_in)
    window.save_template_with_dialog()
    assert seen == {"prefilled": ("", ""), "open_after_no": True, "asked": ["Mine", "Mine"]}
    assert window.store.get("Mine").description == "the second"
    assert window.store.names().count("Mine") == 1
