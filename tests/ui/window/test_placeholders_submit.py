"""Submit of a request with placeholders: filled with the selected profile's variables and files
beside the request's file, the history keeps the template; one without a value stops Submit."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from pytestqt.qtbot import QtBot

from gui.core.profiles.profiles import ProfileStore
from gui.core.records import JobState
from gui.core.targets import SANDBOX_PROFILE
from gui.ui.window.main_window import MainWindow
from tests.support.request_helpers import TIMEOUT_MS, file_mime, open_window, settle

TEMPLATE = {"input": {"prompt": "a {{animal}} on a mat", "seed": "{{seed}}",
                      "image": "{{file:cat.bin}}"}}  # fmt: skip


def opened(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    window.open_path(path)
    qtbot.waitUntil(lambda: window.file_path == path, timeout=TIMEOUT_MS)
    settle(qtbot, window.request)


def test_submit_fills_profile_variables_and_files_and_the_history_keeps_the_template(
    qtbot: QtBot, data_dir: Path, tmp_path: Path
) -> None:
    ProfileStore(data_dir).set_variables(SANDBOX_PROFILE, {"animal": "cat", "seed": "7"})
    (tmp_path / "cat.bin").write_bytes(b"\x00meow")
    path = tmp_path / "t.json"
    path.write_text(json.dumps(TEMPLATE, indent=2), "utf-8")
    window = open_window(qtbot, data_dir)
    try:
        opened(qtbot, window, path)
        qtbot.waitUntil(lambda: window.request.variables == {"animal": "cat", "seed": "7"},
                        timeout=TIMEOUT_MS)  # fmt: skip
        outcome = settle(qtbot, window.request)
        assert outcome.result.diagnostics == []  # known variables, a file that exists
        window.request.request_submit()
        qtbot.waitUntil(lambda: len(window.engine.jobs()) == 1, timeout=TIMEOUT_MS)
        qtbot.waitUntil(
            lambda: window.engine.jobs()[0].state == JobState.COMPLETED, timeout=TIMEOUT_MS * 2
        )
        job = window.engine.jobs()[0]
        image = base64.b64encode(b"\x00meow").decode()
        assert job.request["input"] == {"prompt": "a cat on a mat", "seed": 7, "image": image}
        assert job.output["seed"] == 7
        assert job.origin is not None
        assert job.origin["body"] == TEMPLATE
        assert job.origin["file"] == str(path)
        assert job.origin["variables"] == {"animal": "cat", "seed": "7"}
        assert job.source_body == TEMPLATE  # Resubmit in editor brings the template back
    finally:
        window.close()


def test_a_placeholder_without_a_value_is_warned_about_and_stops_submit_at_its_line(
    qtbot: QtBot, data_dir: Path, tmp_path: Path
) -> None:
    ProfileStore(data_dir).set_variables(SANDBOX_PROFILE, {"animal": "cat"})
    path = tmp_path / "t.json"
    text = '{\n  "input": {\n    "prompt": "{{animal}}",\n    "seed": "{{seed}}"\n  }\n}\n'
    path.write_text(text, "utf-8")
    window = open_window(qtbot, data_dir)
    try:
        opened(qtbot, window, path)
        qtbot.waitUntil(lambda: window.request.variables == {"animal": "cat"}, timeout=TIMEOUT_MS)
        outcome = settle(qtbot, window.request)
        warned = [(d.line, d.severity, d.message) for d in outcome.result.diagnostics]
        assert [(line, severity) for line, severity, _ in warned] == [(4, "warning")]  # seed only
        assert "No value for {{seed}}" in warned[0][2]
        assert window.request.submit_button.isEnabled()  # a data run may still give it
        window.request.request_submit()
        qtbot.waitUntil(window.request.banner.isVisible, timeout=TIMEOUT_MS)
        message = window.request.banner.label.text()
        assert message.startswith("Not submitted: line 4:14: No value for {{seed}}")
        assert window.engine.jobs() == []
    finally:
        window.close()


def test_a_dropped_batch_of_bodies_fills_their_placeholders_too(
    qtbot: QtBot, data_dir: Path, tmp_path: Path
) -> None:
    ProfileStore(data_dir).set_variables(SANDBOX_PROFILE, {"animal": "owl"})
    lines = tmp_path / "batch.jsonl"
    lines.write_text('{"input": {"p": "{{animal}}"}}\n{"input": {"p": "{{nope}}"}}\n', "utf-8")
    window = open_window(qtbot, data_dir)
    try:
        qtbot.waitUntil(lambda: window.request.variables == {"animal": "owl"}, timeout=TIMEOUT_MS)
        window.request.editor.handle_drop(file_mime(lines))
        qtbot.waitUntil(lambda: window.batch_dialog is not None, timeout=TIMEOUT_MS)
        dialog = window.batch_dialog
        assert dialog is not None
        qtbot.waitUntil(lambda: dialog.loaded, timeout=TIMEOUT_MS)
        (_valid,), (invalid,) = dialog.valid_entries, dialog.invalid_entries
        assert invalid.source == "batch.jsonl:2"
        with qtbot.waitSignal(dialog.sig_finished_submitting, timeout=TIMEOUT_MS):
            dialog.start_submitting()
        qtbot.waitUntil(lambda: len(window.engine.jobs()) == 1, timeout=TIMEOUT_MS)
        job = window.engine.jobs()[0]
        assert job.request["input"]["p"] == "owl"
        assert job.origin is not None and job.origin["body"] == {"input": {"p": "{{animal}}"}}
        dialog.reject()
    finally:
        window.close()
