"""Help > Keyboard shortcuts lists every shortcut the window has; Help > About tells the version,
data folder, keyring, Qt and Python; View > Appearance is saved; the job table's columns return."""

from __future__ import annotations

import platform
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui import __version__
from gui.app import create_window
from gui.ui.window.help_dialogs import AboutDialog, ShortcutsDialog
from gui.ui.window.main_window import MainWindow


@pytest.fixture
def window(qtbot: QtBot, data_dir: Path) -> Iterator[MainWindow]:
    made = create_window(data_dir, engine="thread")
    qtbot.addWidget(made)
    made.show()
    yield made
    made.close()


def _native(text: str) -> str:
    return QKeySequence(text).toString(QKeySequence.SequenceFormat.NativeText)


def test_shortcuts_dialog_lists_every_shortcut_of_the_window(window: MainWindow) -> None:
    window.desktop.shortcuts_action.trigger()  # type: ignore[union-attr]
    dialogs = window.findChildren(ShortcutsDialog)
    assert len(dialogs) == 1
    listed = dialogs[0].listed()
    keys_listed = {keys for _where, _action, keys in listed}
    every = {
        key.toString(QKeySequence.SequenceFormat.NativeText)
        for action in window.findChildren(QAction)
        for key in action.shortcuts()
        if not key.isEmpty()
    }
    # Each shortcut of each action is in some row (rows join an action's keys with ", ").
    shown = {part for keys in keys_listed for part in keys.split(", ")}
    assert every <= shown
    rows = {(where, action): keys for where, action, keys in listed}
    assert _native("Ctrl+Return") in rows[("Request", "Submit")]
    for where, action, key in [
        ("Edit", "Format JSON", "Ctrl+Shift+F"),
        ("File", "New request", "Ctrl+N"),
        ("File", "Open", "Ctrl+O"),
        ("File", "Save", "Ctrl+S"),
        ("View", "Find jobs", "Ctrl+F"),
        ("View", "Focus editor", "Ctrl+2"),
        ("View", "Next job", "Alt+Down"),
        ("View", "Previous job", "Alt+Up"),
        ("Job table", "Cancel", "Ctrl+."),
        ("Job table", "Retry", "Ctrl+R"),
        ("Job table", "Copy job id", "Ctrl+C"),
        ("Help", "Keyboard shortcuts", "F1"),
    ]:
        assert _native(key) in rows[(where, action)].split(", "), (where, action)


def test_window_wide_shortcuts_are_unambiguous(window: MainWindow) -> None:
    # Two window-wide actions on one key make Qt fire neither.
    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        if action.shortcutContext().name != "WindowShortcut":
            continue
        for key in action.shortcuts():
            text = key.toString()
            assert text not in seen, (text, seen.get(text), action.text())
            seen[text] = action.text()


class _FileOpener(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toLocalFile())


def test_about_shows_the_facts_and_opens_the_data_folder(qtbot: QtBot, window: MainWindow) -> None:
    dialog = window.desktop.open_about()
    assert isinstance(dialog, AboutDialog) and dialog.objectName() == "aboutDialog"
    facts = dict(dialog.facts)
    assert facts["Version"] == __version__
    assert facts["Data folder"] == str(window.data_dir)
    assert facts["Keyring"] and "unavailable" not in facts["Keyring"]
    assert facts["Python"].startswith(platform.python_version())
    assert facts["Qt"] and facts["PySide6"]
    assert str(window.data_dir) in dialog.details.text()
    assert not window.windowIcon().isNull()
    opener = _FileOpener()
    QDesktopServices.setUrlHandler("file", opener, "open")
    try:
        assert dialog.open_data_folder()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opener.opened == [str(window.data_dir)]


def test_appearance_choice_is_applied_and_saved(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JOB_CONSOLE_COLOR_SCHEME", raising=False)
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    try:
        window.desktop.appearance["dark"].trigger()
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        assert app.palette().window().color().lightnessF() < 0.25
        window.close()
        again = create_window(data_dir, engine="thread")
        qtbot.addWidget(again)
        assert again.desktop.appearance["dark"].isChecked()
        again.desktop.set_appearance("light")
        again.close()
    finally:
        window.desktop.themes.set_preference("light")
    assert app.palette().window().color().lightnessF() > 0.5


def test_job_table_columns_come_back(qtbot: QtBot, data_dir: Path) -> None:
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    assert window.jobs_panel is not None
    header = window.jobs_panel.table.horizontalHeader()
    header.moveSection(0, 3)
    header.resizeSection(1, 333)
    order = [header.logicalIndex(i) for i in range(header.count())]
    window.close()
    again = create_window(data_dir, engine="thread")
    qtbot.addWidget(again)
    assert again.jobs_panel is not None
    restored = again.jobs_panel.table.horizontalHeader()
    assert [restored.logicalIndex(i) for i in range(restored.count())] == order
    assert restored.sectionSize(1) == 333
    again.close()
