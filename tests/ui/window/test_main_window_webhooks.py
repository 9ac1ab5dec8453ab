"""The embedded webhook listener: its URL fills the request; deliveries reach the job and log."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from gui.core.profiles.secrets import LISTENER_TOKEN_REFERENCE
from gui.core.records import JobState
from gui.core.storage.templates import TemplateStore
from gui.ui.request.drafts import DRAFT_FILE
from gui.ui.window.main_window import MainWindow
from tests.support.request_helpers import TIMEOUT_MS, file_mime, open_window, set_and_settle, settle


def send_to_listener(qtbot: QtBot, window: MainWindow, prompt: str) -> None:
    """Submit one job with the console's listener as its webhook; wait for its delivery."""
    set_and_settle(qtbot, window.request, json.dumps({"input": {"prompt": prompt}}))
    window.request.form.use_listener.click()
    assert json.loads(window.request.text())["webhook"] == window.jobs_area.listener.url  # type: ignore[union-attr]
    settle(qtbot, window.request)
    window.request.request_submit()

    def delivered() -> bool:
        jobs = window.engine.jobs()
        return len(jobs) == 1 and jobs[0].webhook_deliveries >= 1

    qtbot.waitUntil(delivered, timeout=TIMEOUT_MS * 2)


def test_listener_url_fills_webhook_and_the_delivery_arrives(qtbot: QtBot, data_dir: Path) -> None:
    window = open_window(qtbot, data_dir)
    area = window.jobs_area
    assert area.webhook_log is not None and area.webhook_log.objectName() == "webhookLogView"
    assert area.webhook_log.parent() is window.findChild(QWidget, "webhookLog")
    form = window.request.form
    qtbot.waitUntil(form.use_listener.isEnabled, timeout=TIMEOUT_MS)
    assert area.listener is not None and area.listener.url is not None
    url = area.listener.url
    assert url.startswith("http://127.0.0.1:") and "/webhook/" in url  # the editor gets it

    send_to_listener(qtbot, window, "call me back")
    assert window.engine.jobs()[0].state == JobState.COMPLETED
    qtbot.waitUntil(lambda: area.webhook_log.model.rowCount() >= 1, timeout=TIMEOUT_MS)
    window.close()
    assert area.listener is None  # stopped with the window


def test_the_webhook_log_is_built_when_its_tab_is_first_shown_and_misses_nothing(
    qtbot: QtBot, data_dir: Path
) -> None:
    window = open_window(qtbot, data_dir)
    area = window.jobs_area
    assert area._webhook_log is None  # not built for the window's start
    qtbot.waitUntil(window.request.form.use_listener.isEnabled, timeout=TIMEOUT_MS)
    send_to_listener(qtbot, window, "before the tab")
    assert area._webhook_log is None  # the delivery came while the tab was never shown
    area.show_webhooks()
    log = area._webhook_log
    assert log is not None and log.isVisible()
    qtbot.waitUntil(lambda: log.model.rowCount() == 1, timeout=TIMEOUT_MS)  # read from its store
    window.close()


def test_a_batch_to_the_sandbox_reports_to_the_listener(
    qtbot: QtBot, data_dir: Path, tmp_path: Path
) -> None:
    """Every way of sending follows one rule: the built-in sandbox reports to the console's
    listener when a request names no webhook of its own, a batch's requests too."""
    window = open_window(qtbot, data_dir)
    qtbot.waitUntil(window.request.form.use_listener.isEnabled, timeout=TIMEOUT_MS)
    lines = tmp_path / "batch.jsonl"
    lines.write_text('{"input": {"n": 1}}\n{"input": {"n": 2}}\n', "utf-8")
    window.request.editor.handle_drop(file_mime(lines))
    qtbot.waitUntil(lambda: window.batch_dialog is not None, timeout=TIMEOUT_MS)  # target known
    dialog = window.batch_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded and dialog.submit_button.isEnabled(), timeout=TIMEOUT_MS)
    dialog.start_submitting()

    def both_delivered() -> bool:
        jobs = window.engine.jobs()
        return len(jobs) == 2 and all(job.webhook_deliveries >= 1 for job in jobs)

    qtbot.waitUntil(both_delivered, timeout=TIMEOUT_MS * 2)
    for job in window.engine.jobs():
        assert job.state == JobState.COMPLETED
        assert job.request["webhook"].endswith("/webhook/keyring:listener-token")
    assert dialog.submitted == 2 and dialog.failed == 0
    window.close()


def test_the_listener_token_stays_out_of_the_draft_and_templates(
    qtbot: QtBot, data_dir: Path
) -> None:
    """The Options form fills the listener's URL (token included); the draft and a template keep
    ``keyring:listener-token`` in its place, and the editor gets the real URL back from both."""
    window = open_window(qtbot, data_dir)
    qtbot.waitUntil(window.request.form.use_listener.isEnabled, timeout=TIMEOUT_MS)
    assert window.jobs_area.listener is not None and window.jobs_area.listener.url is not None
    url = window.jobs_area.listener.url
    token = url.rsplit("/", 1)[1]
    set_and_settle(qtbot, window.request, json.dumps({"input": {"prompt": "call me back"}}))
    window.request.form.use_listener.click()
    settle(qtbot, window.request)
    assert json.loads(window.request.text())["webhook"] == url
    assert window.save_as_template("Calls back") is not None
    window.close()

    files = [path for path in data_dir.rglob("*") if path.is_file()]
    for path in files:
        assert token.encode() not in path.read_bytes(), f"the token was written to {path.name}"
    reference = url.replace(token, LISTENER_TOKEN_REFERENCE)
    draft = json.loads((data_dir / DRAFT_FILE).read_text("utf-8"))
    assert json.loads(draft["text"])["webhook"] == reference
    assert TemplateStore(data_dir).get("Calls back").body["webhook"] == reference

    again = open_window(qtbot, data_dir)
    assert json.loads(again.request.text())["webhook"] == url  # from the draft
    again.new_request()
    again.templates.select("Calls back")
    again.templates.open_selected()
    assert json.loads(again.request.text())["webhook"] == url  # from the template
    again.close()


def _post_delivery(url: str, job_id: str) -> None:
    body = json.dumps({"id": job_id, "status": "COMPLETED", "output": {"ok": True}}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def test_the_status_bar_counts_the_deliveries_of_earlier_runs(qtbot: QtBot, data_dir: Path) -> None:
    first = open_window(qtbot, data_dir)
    listener = first.jobs_area.listener
    assert listener is not None
    qtbot.waitUntil(lambda: listener.info is not None, timeout=TIMEOUT_MS)
    for job_id in ("earlier-1", "earlier-2"):
        _post_delivery(listener.url or "", job_id)
    status = first.desktop.listener_status
    assert status is not None
    qtbot.waitUntil(lambda: status.text().endswith(" · 2 received"), timeout=TIMEOUT_MS)
    first.close()

    second = open_window(qtbot, data_dir)  # the next start, on the same data folder
    again = second.jobs_area.listener
    assert again is not None
    qtbot.waitUntil(lambda: again.info is not None, timeout=TIMEOUT_MS)
    status = second.desktop.listener_status
    assert status is not None
    # As many as the Webhooks tab lists: counted in the history, off the Qt thread.
    qtbot.waitUntil(lambda: status.text().endswith(" · 2 received"), timeout=TIMEOUT_MS)
    second.jobs_area.show_webhooks()
    log = second.jobs_area.webhook_log
    assert log is not None
    qtbot.waitUntil(lambda: log.model.rowCount() == 2, timeout=TIMEOUT_MS)
    _post_delivery(again.url or "", "now")
    qtbot.waitUntil(lambda: status.text().endswith(" · 3 received"), timeout=TIMEOUT_MS)
    second.close()
