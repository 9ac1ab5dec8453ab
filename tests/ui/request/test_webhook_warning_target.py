"""A webhook on this computer is a problem for RunPod's cloud only: the sandbox and local workers
reach it, so for them the window leaves the "can't reach it" warning out (editor and list alike)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from gui.core.request.codes import UNREACHABLE_WEBHOOK
from gui.core.request.validation import validate_text
from gui.ui.request.panel import RequestPanel
from tests.support.request_helpers import make_panel, set_and_settle

LOCAL_HOOK = '{\n  "input": {"prompt": "hi"},\n  "webhook": "http://127.0.0.1:8787/webhook/x"\n}\n'


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[RequestPanel]:
    yield from make_panel(qtbot)


def test_the_validator_names_the_rule() -> None:
    (warning,) = validate_text(LOCAL_HOOK).diagnostics
    assert warning.code == UNREACHABLE_WEBHOOK and warning.path == ("webhook",)
    assert (warning.line, warning.column) == (3, 14)


def test_only_a_cloud_target_shows_the_unreachable_webhook_warning(
    qtbot: QtBot, panel: RequestPanel
) -> None:
    set_and_settle(qtbot, panel, LOCAL_HOOK)
    assert [m.code for m in panel.diagnostics.marks()] == [UNREACHABLE_WEBHOOK]  # target unknown

    panel.set_target_reaches_local(True)  # the sandbox, or a local worker
    assert panel.diagnostics.marks() == []
    assert len(panel.editor.marks) == 0
    assert "0 warnings" in panel.problems_title.text()

    panel.set_target_reaches_local(False)  # a RunPod cloud endpoint
    assert [m.code for m in panel.diagnostics.marks()] == [UNREACHABLE_WEBHOOK]
    assert len(panel.editor.marks) == 1
