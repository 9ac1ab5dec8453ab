"""The template list: save, reopen, search, rename, duplicate, delete with undo, secrets refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QListWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from gui.core.storage.templates import Template, TemplateStore
from gui.ui.request.templates_panel import TemplatesPanel
from tests.support.request_helpers import TIMEOUT_MS

BODY = {"input": {"prompt": "saved"}}


@pytest.fixture
def store(data_dir: Path) -> TemplateStore:
    store = TemplateStore(data_dir)
    store.install_examples()
    return store


@pytest.fixture
def panel(qtbot: QtBot, store: TemplateStore) -> TemplatesPanel:
    widget = TemplatesPanel(store)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_examples_are_listed_and_searchable(panel: TemplatesPanel) -> None:
    assert panel.list.objectName() == "templateList"
    assert panel.names() == ["Echo", "Failing job", "Image", "Long job", "Streaming"]
    panel.search.setText("retry")  # matches the failing job's description
    assert panel.names(visible_only=True) == ["Failing job"]
    panel.search.setText("")
    assert len(panel.names(visible_only=True)) == 5


def test_save_then_open_with_enter(qtbot: QtBot, panel: TemplatesPanel) -> None:
    panel.save_template("Mine", BODY, "runsync", "for the test")
    assert panel.selected_name() == "Mine"
    with qtbot.waitSignal(panel.sig_template_open_requested) as opened:
        qtbot.keyClick(panel.list, Qt.Key.Key_Return)
    template = opened.args[0]
    assert isinstance(template, Template)
    assert (template.name, template.operation, template.body) == ("Mine", "runsync", BODY)


def test_secret_is_refused_with_a_reason(qtbot: QtBot, panel: TemplatesPanel) -> None:
    body = {"input": {}, "s3Config": {"accessSecret": "hunter2"}}
    with qtbot.waitSignal(panel.sig_status_message_requested) as told:
        assert panel.save_template("Leaky", body, "run") is None
    assert "secret" in told.args[0] and "hunter2" not in told.args[0]
    assert "Leaky" not in panel.names()


def test_rename_in_place(qtbot: QtBot, panel: TemplatesPanel, store: TemplateStore) -> None:
    panel.select("Echo")
    item = panel.list.currentItem()
    item.setText("Echo renamed")  # what finishing an in-place edit (F2) does
    qtbot.waitUntil(lambda: "Echo renamed" in store.names(), timeout=TIMEOUT_MS)
    assert "Echo" not in store.names()
    assert panel.selected_name() == "Echo renamed"
    assert store.get("Echo renamed").body["input"]["prompt"]


def test_duplicate_and_delete_with_undo(panel: TemplatesPanel, store: TemplateStore) -> None:
    panel.select("Image")
    panel.duplicate_selected()
    assert panel.selected_name() == "Image copy"
    panel.delete("Image copy")
    assert "Image copy" not in store.names()
    assert panel.undo_bar.isVisibleTo(panel)
    panel.undo_delete()
    assert "Image copy" in store.names()
    assert store.get("Image copy").body == store.get("Image").body
    assert not panel.undo_bar.isVisibleTo(panel)


def test_files_added_by_hand_appear(qtbot: QtBot, panel: TemplatesPanel, store) -> None:
    (store.folder / "by-hand.json").write_text(json.dumps({"input": {"x": 1}}), "utf-8")
    qtbot.waitUntil(lambda: "by-hand" in panel.names(), timeout=TIMEOUT_MS)


def test_import_and_export(panel: TemplatesPanel, store: TemplateStore, tmp_path: Path) -> None:
    outside = tmp_path / "shared.json"
    outside.write_text(json.dumps({"name": "Shared", "body": BODY}), "utf-8")
    [imported] = panel.import_files([outside])
    assert imported.name == "Shared" and panel.selected_name() == "Shared"
    store.export("Shared", tmp_path / "back.json")
    assert json.loads((tmp_path / "back.json").read_text("utf-8"))["body"] == BODY


def test_list_model_is_sound(qtmodeltester: ModelTester, panel: TemplatesPanel) -> None:
    view: QListWidget = panel.list
    qtmodeltester.check(view.model())


def test_files_dropped_on_the_list_are_imported(
    qtbot: QtBot, panel: TemplatesPanel, tmp_path: Path
) -> None:
    import warnings

    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from tests.support.request_helpers import file_mime

    path = tmp_path / "dropped.json"
    path.write_text(json.dumps({"name": "Dropped", "body": BODY}), "utf-8")
    mime = file_mime(path)
    viewport = panel.list.viewport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(
            QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )  # fmt: skip
    QApplication.sendEvent(viewport, enter)
    drop = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(viewport, drop)
    assert "Dropped" in panel.names()
    assert panel.selected_name() == "Dropped"


def test_details_dialog_needs_a_name(qtbot: QtBot) -> None:
    from gui.ui.request.template_dialog import TemplateDetailsDialog

    dialog = TemplateDetailsDialog(None, "", "", "runsync")
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled()
    qtbot.keyClicks(dialog.name, "  Upscale ")
    dialog.description.setPlainText("Makes images bigger\n")
    assert dialog.save_button.isEnabled()
    assert dialog.values() == ("Upscale", "Makes images bigger")


def test_a_click_on_the_selected_template_does_not_rename_it_and_delete_deletes(
    qtbot: QtBot, panel: TemplatesPanel, store: TemplateStore
) -> None:
    """Renames start by F2 or the menu only: a second click on the selected template used to open
    its name for editing, and Delete then erased the name instead of the template."""
    panel.select("Echo")
    panel.list.setFocus()
    rect = panel.list.visualItemRect(panel.list.currentItem())
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    # Qt opens a click-to-rename editor after the double-click interval: wait it out.
    qtbot.wait(QApplication.doubleClickInterval() * 2)
    assert panel.list.state() != QAbstractItemView.State.EditingState
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert "Echo" not in store.names()
    assert panel.undo_bar.isVisibleTo(panel)
    panel.undo_delete()
    assert "Echo" in store.names()


def test_f2_renames_and_delete_still_deletes_after_the_context_menu(
    qtbot: QtBot, panel: TemplatesPanel, store: TemplateStore
) -> None:
    panel.select("Image")
    panel.list.setFocus()
    # The context menu opens and closes (Escape) twice; its shortcuts must not pile up on the list.
    for _ in range(2):
        QTimer.singleShot(0, lambda: QApplication.activePopupWidget().close())  # type: ignore[union-attr]
        panel.list.customContextMenuRequested.emit(QPoint(5, 5))
    qtbot.keyClick(panel.list, Qt.Key.Key_F2)
    assert panel.list.state() == QAbstractItemView.State.EditingState
    editor = panel.list.viewport().findChild(QLineEdit)
    assert editor is not None and editor.text() == "Image"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)  # the rename is abandoned
    assert panel.list.state() != QAbstractItemView.State.EditingState
    panel.activateWindow()  # the popups took it
    panel.list.setFocus()
    qtbot.waitUntil(panel.list.hasFocus, timeout=TIMEOUT_MS)
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert "Image" not in store.names()
