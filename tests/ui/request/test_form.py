"""The options form and the JSON text stay in step both ways; messages at the fields."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from gui.core.request.body_fields import REMOVE, apply_field
from gui.ui.request.options_form import format_duration
from gui.ui.request.panel import RequestPanel
from tests.support.request_helpers import make_panel, set_and_settle, settle

BODY = {"input": {"prompt": "hi"}}


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[RequestPanel]:
    yield from make_panel(qtbot)


def body_of(panel: RequestPanel) -> dict:
    return json.loads(panel.text())


def type_into(qtbot: QtBot, widget, text: str) -> None:  # type: ignore[no-untyped-def]
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def test_text_fills_the_form(qtbot: QtBot, panel: RequestPanel) -> None:
    body = {
        "input": {},
        "webhook": "https://example.com/hook",
        "policy": {"executionTimeout": 90_000, "ttl": 7_200_000, "lowPriority": True},
        "s3Config": {"accessId": "id", "accessSecret": "shh", "bucketName": "b"},
    }
    set_and_settle(qtbot, panel, json.dumps(body))
    form = panel.form
    assert form.webhook.text() == "https://example.com/hook"
    assert (form.execution_timeout.number.text(), form.execution_timeout.unit.currentText()) == (
        "90",
        "s",
    )
    assert (form.ttl.number.text(), form.ttl.unit.currentText()) == ("2", "h")
    assert form.low_priority.isChecked()
    assert form.s3["accessId"].text() == "id"
    assert form.s3["accessSecret"].text() == "shh"
    assert form.s3["endpointUrl"].text() == ""


def test_the_form_is_built_when_its_tab_is_first_shown(qtbot: QtBot, panel: RequestPanel) -> None:
    panel.show()
    set_and_settle(qtbot, panel, json.dumps({"input": {}, "policy": {"ttl": 7_200_000}}))
    assert panel.options.findChild(QWidget, "requestForm") is None  # not on the window's start
    panel.tabs.setCurrentWidget(panel.options)
    form = panel.options.findChild(QWidget, "requestForm")
    assert form is panel.form and form.isVisible()
    # It shows what the text said before it existed, and follows the text from then on.
    assert (form.ttl.number.text(), form.ttl.unit.currentText()) == ("2", "h")
    set_and_settle(qtbot, panel, json.dumps({"input": {}, "policy": {"ttl": 90_000}}))
    assert (form.ttl.number.text(), form.ttl.unit.currentText()) == ("90", "s")


def test_form_edits_rewrite_the_body_as_one_undoable_edit(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    set_and_settle(qtbot, panel, json.dumps(BODY))
    panel.tabs.setCurrentWidget(panel.options)
    form = panel.form
    type_into(qtbot, form.webhook, "https://example.com/done")
    assert body_of(panel)["webhook"] == "https://example.com/done"

    form.ttl.unit.setCurrentText("min")
    type_into(qtbot, form.ttl.number, "1.5")
    assert body_of(panel)["policy"] == {"ttl": 90_000}

    form.low_priority.click()
    assert body_of(panel)["policy"] == {"ttl": 90_000, "lowPriority": True}
    assert body_of(panel)["input"] == {"prompt": "hi"}  # untouched

    before_click = panel.text()
    form.low_priority.click()
    assert "lowPriority" not in body_of(panel)["policy"]
    panel.editor.undo()  # one form change, one undo step
    assert panel.text() == before_click


def test_clearing_fields_removes_keys_and_empty_objects(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, json.dumps({"input": {}, "s3Config": {"accessId": "id"}}))
    form = panel.form
    type_into(qtbot, form.s3["accessId"], "x")
    assert body_of(panel)["s3Config"] == {"accessId": "x"}
    form.s3["accessId"].setFocus()
    form.s3["accessId"].selectAll()
    qtbot.keyClick(form.s3["accessId"], Qt.Key.Key_Delete)
    assert body_of(panel) == {"input": {}}


def test_invalid_value_shows_the_diagnostic_at_the_field(qtbot: QtBot, panel: RequestPanel) -> None:
    text = json.dumps({"input": {}, "policy": {"ttl": 5, "executionTimeout": 60_000}}, indent=2)
    outcome = set_and_settle(qtbot, panel, text)
    [diagnostic] = [d for d in outcome.result.diagnostics if d.path == ("policy", "ttl")]
    assert panel.form.field_message(("policy", "ttl")) == diagnostic.message
    assert panel.form.field_message(("policy", "executionTimeout")) == ""
    # The same words in the Problems list.
    assert any(diagnostic.message in row for row in panel.diagnostics.row_texts())

    type_into(qtbot, panel.form.ttl.number, "60")  # seconds: within RunPod's range
    settle(qtbot, panel)
    assert body_of(panel)["policy"]["ttl"] == 60_000
    assert panel.form.field_message(("policy", "ttl")) == ""


def test_not_a_number_is_refused_at_the_field(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, json.dumps(BODY))
    before = panel.text()
    type_into(qtbot, panel.form.execution_timeout.number, "soon")
    assert panel.form.field_message(("policy", "executionTimeout")).startswith("Enter a number")
    assert panel.text() == before


def test_form_is_locked_while_the_text_is_not_json(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, '{"input": ')
    assert not panel.form.webhook.isEnabled()
    assert panel.form.notice.isVisibleTo(panel.form)
    set_and_settle(qtbot, panel, json.dumps(BODY))
    assert panel.form.webhook.isEnabled()


def test_secret_field_is_masked(panel: RequestPanel) -> None:
    assert panel.form.s3["accessSecret"].echoMode() != panel.form.s3["accessId"].echoMode()


def test_apply_field_and_durations() -> None:
    body = {"input": {"big": [1]}, "policy": {"ttl": 1}}
    updated = apply_field(body, ("policy", "ttl"), REMOVE)
    assert updated == {"input": {"big": [1]}}
    assert updated["input"] is body["input"]  # the input is shared, never copied
    assert body["policy"] == {"ttl": 1}
    assert apply_field(body, ("webhook",), "u")["webhook"] == "u"
    assert format_duration(90_000) == ("90", "s")
    assert format_duration(5_400_000) == ("90", "min")
    assert format_duration(3_600_000) == ("1", "h")
    assert format_duration(1_500) == ("1.5", "s")
    assert format_duration(0) == ("0", "s")


def test_saved_s3_set_fills_the_config_with_a_reference(qtbot: QtBot, panel: RequestPanel) -> None:
    from gui.core.profiles.s3refs import S3CredentialSet

    assert not panel.form.s3_sets.isEnabled()  # nothing saved yet
    saved = S3CredentialSet("main", "AKIA1", "bucket", "https://s3.example.com", "out/")
    panel.form.set_s3_sets([saved])
    set_and_settle(qtbot, panel, json.dumps({"input": {}, "s3Config": {"accessId": "old"}}))
    assert panel.form.s3_sets.isEnabled()
    panel.form.s3_sets.activated.emit(1)  # the person picks "main"
    assert body_of(panel)["s3Config"] == {
        "accessId": "AKIA1",
        "accessSecret": "keyring:s3/main",
        "bucketName": "bucket",
        "endpointUrl": "https://s3.example.com",
        "objectPath": "out/",
    }
    settle(qtbot, panel)
    secret = panel.form.s3["accessSecret"]
    assert secret.text() == "keyring:s3/main"
    assert secret.echoMode() == secret.EchoMode.Normal  # a reference is not a secret
    panel.editor.undo()
    assert body_of(panel)["s3Config"] == {"accessId": "old"}


def test_form_edits_leave_the_rest_of_the_text_as_typed(qtbot: QtBot, panel: RequestPanel) -> None:
    text = '{\n  "input": {"emoji": "😀",   "keep":[1,2,  3]},\n  "webhook": "https://a.example/x"\n}\n'
    set_and_settle(qtbot, panel, text)
    type_into(qtbot, panel.form.execution_timeout.number, "10")
    assert panel.text() == (
        '{\n  "input": {"emoji": "😀",   "keep":[1,2,  3]},\n  "webhook": "https://a.example/x",\n'
        '  "policy": {\n    "executionTimeout": 10000\n  }\n}\n'
    )
    settle(qtbot, panel)
    panel.form.webhook.setFocus()
    panel.form.webhook.clear()
    panel.form.webhook.textEdited.emit("")  # the person empties the field
    assert panel.text() == (
        '{\n  "input": {"emoji": "😀",   "keep":[1,2,  3]},\n'
        '  "policy": {\n    "executionTimeout": 10000\n  }\n}\n'
    )


def test_text_with_a_repeated_key_is_rewritten_whole(qtbot: QtBot, panel: RequestPanel) -> None:
    set_and_settle(qtbot, panel, '{"input": {}, "webhook": "a", "webhook": "b"}')
    type_into(qtbot, panel.form.webhook, "https://c.example")
    assert body_of(panel) == {"input": {}, "webhook": "https://c.example"}
    assert panel.text().count('"webhook"') == 1
