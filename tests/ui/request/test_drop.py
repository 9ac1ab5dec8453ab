"""Dropping files and text on the editor: one undoable load, clear refusals, batches."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from threading import Thread
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui.core.records import JobRecord, JobState
from gui.ui.request.batch_dialog import BatchDialog
from gui.ui.request.panel import RequestPanel
from tests.support.request_helpers import TIMEOUT_MS, file_mime, make_panel, set_and_settle, settle

ORIGINAL = '{\n  "input": {"keep": "me"}\n}\n'


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[RequestPanel]:
    yield from make_panel(qtbot)


def drop_on(editor: Any, mime: QMimeData) -> None:
    """Deliver the events of a real drag from a file manager: enter, then drop."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Qt 6 keeps only a QPoint overload
        enter = QDragEnterEvent(
            QPoint(20, 20),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
    QApplication.sendEvent(editor.viewport(), enter)
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(editor.viewport(), event)


def test_dropped_json_file_replaces_text_and_undo_restores(
    qtbot: QtBot, panel: RequestPanel, tmp_path: Path
) -> None:
    set_and_settle(qtbot, panel, ORIGINAL)
    dropped = tmp_path / "job.json"
    dropped.write_text('{"input": {"from": "file"}}', "utf-8")
    drop_on(panel.editor, file_mime(dropped))
    qtbot.waitUntil(lambda: "from" in panel.text(), timeout=TIMEOUT_MS)
    assert panel.text() == '{"input": {"from": "file"}}'
    assert settle(qtbot, panel).result.body == {"input": {"from": "file"}}
    panel.editor.undo()
    assert panel.text() == ORIGINAL


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("picture.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        ("huge.json", None, "big"),
    ],
)
def test_unusable_file_leaves_text_and_says_why(
    qtbot: QtBot,
    panel: RequestPanel,
    tmp_path: Path,
    name: str,
    content: bytes | None,
    expected: str,
) -> None:
    set_and_settle(qtbot, panel, ORIGINAL)
    path = tmp_path / name
    if content is None:
        with path.open("wb") as handle:  # sparse: 60 MB on paper, nothing on disk
            handle.truncate(60 * 1024 * 1024)
    else:
        path.write_bytes(content)
    with qtbot.waitSignal(panel.sig_status_message_requested, timeout=TIMEOUT_MS) as first:
        panel.editor.handle_drop(file_mime(path))
    assert first.args[0] == f"Reading {name}…"
    qtbot.waitUntil(panel.banner.isVisible, timeout=TIMEOUT_MS)
    message = panel.banner.label.text()
    assert message.startswith(f"{name} was not loaded: ")
    assert expected in message.lower()
    assert panel.text() == ORIGINAL
    assert not panel.editor.document().isUndoAvailable() or panel.text() == ORIGINAL


def test_missing_file_is_reported(qtbot: QtBot, panel: RequestPanel, tmp_path: Path) -> None:
    set_and_settle(qtbot, panel, ORIGINAL)
    panel.editor.handle_drop(file_mime(tmp_path / "gone.json"))
    qtbot.waitUntil(panel.banner.isVisible, timeout=TIMEOUT_MS)
    assert "gone.json was not loaded" in panel.banner.label.text()
    assert panel.text() == ORIGINAL


def test_dropped_plain_text_is_inserted(qtbot: QtBot, panel: RequestPanel) -> None:
    panel.set_text("")
    mime = QMimeData()
    mime.setText('{"input": {"dropped": "text"}}')
    drop_on(panel.editor, mime)
    assert panel.text() == '{"input": {"dropped": "text"}}'
    assert settle(qtbot, panel).result.ok


def test_jsonl_and_several_files_ask_for_a_batch(
    qtbot: QtBot, panel: RequestPanel, tmp_path: Path
) -> None:
    lines = tmp_path / "jobs.jsonl"
    lines.write_text('{"input": {}}\n', "utf-8")
    with qtbot.waitSignal(panel.sig_batch_requested) as asked:
        panel.editor.handle_drop(file_mime(lines))
    assert asked.args == [[lines]]
    one, two = tmp_path / "a.json", tmp_path / "b.json"
    with qtbot.waitSignal(panel.sig_batch_requested) as asked:
        drop_on(panel.editor, file_mime(one, two))
    assert asked.args == [[one, two]]


def write_batch(tmp_path: Path) -> list[Path]:
    lines = tmp_path / "jobs.jsonl"
    lines.write_text(
        "\n".join(
            [
                '{"input": {"n": 1}}',
                '{"input": {"n": 2}, "policy": {"ttl": 5}}',
                "",
                '{"input": {"n": 3}}',
                "not json",
            ]
        )
        + "\n",
        "utf-8",
    )
    single = tmp_path / "single.json"
    single.write_text('{"input": {"n": 4}}', "utf-8")
    binary = tmp_path / "blob.json"
    binary.write_bytes(bytes(range(256)) * 4)
    return [lines, single, binary]


def test_batch_dialog_counts_and_lists_invalid(qtbot: QtBot, panel: RequestPanel, tmp_path) -> None:
    dialog = BatchDialog(write_batch(tmp_path), "run", None)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=TIMEOUT_MS)
    assert [e.source for e in dialog.valid_entries] == [
        "jobs.jsonl:1",
        "jobs.jsonl:4",
        "single.json",
    ]
    assert [e.source for e in dialog.invalid_entries] == [
        "jobs.jsonl:2",
        "jobs.jsonl:5",
        "blob.json",
    ]
    assert "<b>3</b> valid requests, <b>3</b> invalid" in dialog.summary.text()
    top = [dialog.problems.topLevelItem(i) for i in range(dialog.problems.topLevelItemCount())]
    assert [item.text(0) for item in top] == ["jobs.jsonl:2", "jobs.jsonl:5", "blob.json"]
    assert top[0].childCount() >= 1  # the ttl diagnostic
    assert "error:" in top[0].child(0).text(1)
    assert top[2].text(1)  # why the binary file was refused
    assert not dialog.submit_button.isEnabled()  # no engine given


def test_batch_lines_holding_unicode_line_separators_are_valid(
    qtbot: QtBot, panel: RequestPanel, tmp_path: Path
) -> None:
    lines = tmp_path / "jobs.jsonl"
    lines.write_text('{"input": {"t": "a\u2028b"}}\r\n{"input": {"t": "c\u2029d\x85e"}}\n', "utf-8")
    dialog = BatchDialog([lines], "run", None)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=TIMEOUT_MS)
    assert [(e.source, e.body) for e in dialog.valid_entries] == [
        ("jobs.jsonl:1", {"input": {"t": "a\u2028b"}}),
        ("jobs.jsonl:2", {"input": {"t": "c\u2029d\x85e"}}),
    ]
    assert dialog.invalid_entries == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_dropped_named_pipe_is_refused(qtbot: QtBot, panel: RequestPanel, tmp_path: Path) -> None:
    set_and_settle(qtbot, panel, ORIGINAL)
    fifo = tmp_path / "request.json"
    os.mkfifo(fifo)  # nothing writes to it: reading it held a background thread forever
    panel.editor.handle_drop(file_mime(fifo))
    qtbot.waitUntil(panel.banner.isVisible, timeout=TIMEOUT_MS)
    assert "request.json was not loaded: " in panel.banner.label.text()
    assert "is a named pipe (FIFO), not a regular file" in panel.banner.label.text()
    assert panel.text() == ORIGINAL


def test_batch_submits_valid_bodies_with_progress(
    qtbot: QtBot, panel: RequestPanel, tmp_path: Path
) -> None:
    sent: list[dict[str, Any]] = []

    def submit(body: dict[str, Any], origin: dict[str, Any] | None) -> Future[JobRecord]:
        # Answers from another thread, as the engine does.
        future: Future[JobRecord] = Future()
        sent.append(body)
        state = JobState.NOT_SENT if body["input"]["n"] == 3 else JobState.IN_QUEUE
        record = JobRecord("l", "Sandbox", "sandbox", "run", body, 0.0, state=state, note="refused")
        Thread(target=future.set_result, args=(record,)).start()
        return future

    dialog = BatchDialog(write_batch(tmp_path), "run", submit)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=TIMEOUT_MS)
    assert dialog.submit_button.isEnabled()
    assert dialog.submit_button.text() == "Submit 3 valid to /run"
    with qtbot.waitSignal(dialog.sig_finished_submitting, timeout=TIMEOUT_MS) as finished:
        dialog.submit_button.click()
    assert finished.args == [2, 1]
    assert sorted(body["input"]["n"] for body in sent) == [1, 3, 4]
    assert dialog.progress.value() == 3 and dialog.progress.maximum() == 3
    assert "Submitted 2 requests. 1 could not be sent" in dialog.summary.text()


def test_paste_of_copied_files_opens_them(qtbot: QtBot, panel: RequestPanel, tmp_path) -> None:
    path = tmp_path / "pasted.json"
    path.write_text(json.dumps({"input": {"pasted": True}}), "utf-8")
    set_and_settle(qtbot, panel, ORIGINAL)
    QApplication.clipboard().setMimeData(file_mime(path))
    panel.editor.paste()
    qtbot.waitUntil(lambda: "pasted" in panel.text(), timeout=TIMEOUT_MS)
    assert json.loads(panel.text()) == {"input": {"pasted": True}}
