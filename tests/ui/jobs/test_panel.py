"""JobsPanel driven as a person would, against a real Engine and its built-in sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QLabel, QSystemTrayIcon, QWidget
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.records import JobRecord, JobState
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.core.targets import Target
from gui.ui.jobs import actions as acts
from gui.ui.jobs.details.pane import DetailsPane
from gui.ui.jobs.model import JobColumn
from gui.ui.jobs.panel import JobsPanel
from tests.support import engine_fixtures, panel_fixtures
from tests.support.engine_fixtures import submit_sandbox_job

engine = engine_fixtures.engine
sandbox = engine_fixtures.sandbox
panel = panel_fixtures.panel


def _state(panel: JobsPanel, local_id: str) -> JobState | None:
    row = panel.model.row_of(local_id)
    return None if row is None else panel.model.record_at(row).state


def _wait_state(qtbot: QtBot, panel: JobsPanel, local_id: str, state: JobState) -> None:
    qtbot.waitUntil(lambda: _state(panel, local_id) == state, timeout=15_000)


def test_rows_follow_jobs_to_completion_and_counts_add_up(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    ok = submit_sandbox_job(engine, sandbox, duration=0.1)
    failed = submit_sandbox_job(engine, sandbox, duration=0.1, fail="boom")
    _wait_state(qtbot, panel, ok, JobState.COMPLETED)
    _wait_state(qtbot, panel, failed, JobState.FAILED)
    assert panel.table.objectName() == "jobTable"
    assert panel.filters.buttons[JobState.COMPLETED].text() == "Completed 1"
    assert panel.filters.buttons[JobState.FAILED].text() == "Failed 1"
    assert "2 jobs" in panel.counts_label.text()
    # Filtering by status leaves the failed job only.
    qtbot.mouseClick(panel.filters.buttons[JobState.FAILED], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=10_000)
    assert panel.model.record_at(0).local_id == failed
    qtbot.mouseClick(panel.filters.all_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10_000)


def test_the_count_line_says_1_job(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    done = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, done, JobState.COMPLETED)
    assert panel.counts_label.text() == "1 job · COMPLETED 1"


def test_actions_follow_runpod_rules_and_say_why(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    done = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, done, JobState.COMPLETED)
    assert panel.select_job(done)
    cancel, retry = panel.job_actions[acts.CANCEL], panel.job_actions[acts.RETRY]
    assert not cancel.isEnabled() and "queued or running" in cancel.toolTip()
    assert not retry.isEnabled() and "FAILED and TIMED_OUT" in retry.toolTip()
    assert panel.job_actions[acts.COPY_CURL].isEnabled()
    panel.table.clearSelection()
    assert not panel.job_actions[acts.REMOVE].isEnabled()


def test_cancel_a_long_job(qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target) -> None:
    long_job = submit_sandbox_job(engine, sandbox, duration=60)
    _wait_state(qtbot, panel, long_job, JobState.IN_PROGRESS)
    assert panel.select_job(long_job)
    assert panel.job_actions[acts.CANCEL].isEnabled()
    panel.job_actions[acts.CANCEL].trigger()
    _wait_state(qtbot, panel, long_job, JobState.CANCELLED)
    assert panel.details.record is not None
    assert panel.details.record.state == JobState.CANCELLED


def test_retry_a_failed_job(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    failed = submit_sandbox_job(engine, sandbox, duration=0.05, fail="flaky")
    _wait_state(qtbot, panel, failed, JobState.FAILED)
    assert panel.select_job(failed)
    assert panel.job_actions[acts.RETRY].isEnabled()
    panel.job_actions[acts.RETRY].trigger()
    # The same job (same local id, same RunPod id) goes round again and fails again.
    qtbot.waitUntil(lambda: _state(panel, failed) != JobState.FAILED, timeout=10_000)
    _wait_state(qtbot, panel, failed, JobState.FAILED)

    # The rows are light: the whole record, with its status history, is in the details.
    def failures() -> int:
        record = panel.details.record
        return 0 if record is None else [state for _, state in record.history].count("FAILED")

    qtbot.waitUntil(lambda: failures() == 2, timeout=10_000)


def test_copy_resubmit_export_and_remove(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target, tmp_path: Path
) -> None:
    job = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, job, JobState.COMPLETED)
    assert panel.select_job(job)
    record = panel.selected_records()[0]
    panel.job_actions[acts.COPY_ID].trigger()
    assert QGuiApplication.clipboard().text() == record.job_id
    panel.job_actions[acts.COPY_CURL].trigger()  # the request is read whole, off the Qt thread
    qtbot.waitUntil(
        lambda: (
            QGuiApplication.clipboard()
            .text()
            .startswith(f"curl -X POST {sandbox.endpoint_url}/run")
        )
    )
    with qtbot.waitSignal(panel.sig_resubmit_requested) as resubmit:
        panel.job_actions[acts.RESUBMIT_EDITOR].trigger()
    assert resubmit.args[1] == "run"
    assert resubmit.args[0]["input"] == {"prompt": "hi", "sandbox": {"duration": 0.05}}
    count = panel.model.rowCount()
    panel.job_actions[acts.RESUBMIT_TARGET].trigger()
    qtbot.waitUntil(lambda: panel.model.rowCount() == count + 1, timeout=10_000)
    assert panel.select_job(job)
    with qtbot.waitSignal(panel.sig_status_message_requested, timeout=10_000):
        panel.export_selected(tmp_path / "jobs.json", "json")
    exported = json.loads((tmp_path / "jobs.json").read_text())
    assert [item["job_id"] for item in exported] == [record.job_id]
    panel.confirm = lambda title, text: True  # type: ignore[method-assign]
    panel.job_actions[acts.REMOVE].trigger()
    qtbot.waitUntil(lambda: panel.model.row_of(job) is None, timeout=10_000)
    assert job not in {r.local_id for r in engine.jobs()}


def test_selection_survives_updates(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    first = submit_sandbox_job(engine, sandbox, duration=60)
    qtbot.waitUntil(lambda: panel.model.row_of(first) is not None, timeout=10_000)
    panel.table.sortByColumn(JobColumn.STATUS, Qt.SortOrder.AscendingOrder)
    assert panel.select_job(first)
    others = [submit_sandbox_job(engine, sandbox, duration=0.05) for _ in range(8)]
    for local_id in others:
        _wait_state(qtbot, panel, local_id, JobState.COMPLETED)
    assert [r.local_id for r in panel.selected_records()] == [first]
    assert panel.details.record is not None and panel.details.record.local_id == first


def test_health_strip_and_purge(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    qtbot.waitUntil(lambda: "workers idle" in panel.health.label.text(), timeout=10_000)
    # Both workers busy, then three more wait in the queue.
    busy = [submit_sandbox_job(engine, sandbox, duration=60) for _ in range(2)]
    queued = [submit_sandbox_job(engine, sandbox, duration=60) for _ in range(3)]
    for local_id in busy:
        _wait_state(qtbot, panel, local_id, JobState.IN_PROGRESS)
    panel.health.confirm_purge = lambda target: True  # type: ignore[method-assign]
    with qtbot.waitSignal(panel.sig_status_message_requested, timeout=10_000) as message:
        qtbot.mouseClick(panel.health.purge_button, Qt.MouseButton.LeftButton)
    assert "3 jobs removed" in message.args[0]
    qtbot.waitUntil(lambda: "queue 0" in panel.health.label.text(), timeout=10_000)
    assert {_state(panel, q) for q in queued} <= {
        JobState.IN_QUEUE,
        JobState.CANCELLED,
        JobState.PURGED,
    }


def test_notification_when_a_job_ends_while_the_window_is_inactive(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    panel.notify_action.setChecked(True)  # Qt may keep settings across tests in one process
    # While the window is active, a job that ends makes no notification.
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow, timeout=5000)
    seen = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, seen, JobState.COMPLETED)
    assert panel.notifier.waiting == 0 and panel.notifier.shown == []
    # Another window takes the focus: now it does.
    elsewhere = QWidget()
    qtbot.addWidget(elsewhere)
    elsewhere.show()
    elsewhere.activateWindow()
    qtbot.waitUntil(lambda: not panel.isActiveWindow(), timeout=5000)
    job = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, job, JobState.COMPLETED)
    assert panel.notifier.waiting == 1  # gathered; shown once jobs stop ending together
    qtbot.waitUntil(lambda: bool(panel.notifier.shown), timeout=5000)
    assert panel.notifier.shown[0][0] == "Job completed"
    # The setting turns them off.
    panel.notify_action.setChecked(False)
    panel.notifier.shown.clear()
    other = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, other, JobState.COMPLETED)
    assert panel.notifier.waiting == 0 and panel.notifier.shown == []
    panel.notify_action.setChecked(True)


def test_context_menu_offers_every_action_and_says_why_when_disabled(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    failed = submit_sandbox_job(engine, sandbox, duration=0.05, fail="nope")
    _wait_state(qtbot, panel, failed, JobState.FAILED)
    assert panel.select_job(failed)
    menu = panel.job_actions.context_menu(panel)
    names = [action.objectName() for action in menu.actions() if not action.isSeparator()]
    assert names == [
        f"action_{key}"
        for key in (
            acts.CANCEL,
            acts.RETRY,
            acts.RESUBMIT_EDITOR,
            acts.RESUBMIT_TARGET,
            acts.COPY_ID,
            acts.COPY_CURL,
            acts.COPY_PYTHON,
            acts.EXPORT_JSON,
            acts.EXPORT_CSV,
            acts.RERUN_ROWS,
            acts.EXPORT_ROWS,
            acts.REMOVE,
        )
    ]
    enabled = {a.objectName(): a.isEnabled() for a in menu.actions() if not a.isSeparator()}
    assert enabled["action_retry"] and not enabled["action_cancel"]
    assert all(a.toolTip() for a in menu.actions() if not a.isSeparator())
    assert menu.toolTipsVisible()


def test_the_details_are_built_when_the_first_job_is_shown(qtbot: QtBot) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.show()
    pane.show_record(None)  # nothing to show: still only the hint
    assert pane.objectName() == "jobDetails"  # the name is there from the start
    assert pane.findChild(QWidget, "jobDetailsView") is None
    assert "No job selected" in pane.findChild(QLabel, "noJobHint").text()
    record = JobRecord(
        local_id="a1",
        profile="sandbox",
        endpoint_id="sandbox",
        operation="run",
        request={"input": {"prompt": "hi"}},
        submitted_at=1.0,
    )
    hint = pane.findChild(QLabel, "noJobHint")
    pane.show_record(record)
    assert not hint.isVisible()  # at once, not only once it is deleted
    details = pane.findChild(QWidget, "jobDetailsView")
    assert details is pane.details and details.isVisible()
    assert pane.record is record
    qtbot.waitUntil(lambda: pane.findChild(QLabel, "noJobHint") is None)
    pane.show_record(None)
    assert pane.record is None and pane.details.title.text() == "No job selected"


def test_the_details_take_most_of_the_jobs_side_when_they_first_appear(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    done = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, done, JobState.COMPLETED)
    table_px, details_px = panel.splitter.sizes()
    assert details_px < table_px  # only the one-line hint so far
    assert panel.select_job(done)
    qtbot.waitUntil(lambda: panel.details_pane.record is not None)
    table_px, details_px = panel.splitter.sizes()
    assert details_px >= 0.55 * (table_px + details_px)
    assert table_px >= 150  # a few rows of the table stay in sight
    panel.splitter.setSizes([400, 200])  # the person's choice is theirs from then on
    assert panel.select_job(done)
    assert panel.splitter.sizes()[1] < 250


def _selected(panel: JobsPanel) -> list[str]:
    return [record.local_id for record in panel.selected_records()]


def test_a_job_just_submitted_is_selected_when_it_arrives(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    first = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, first, JobState.COMPLETED)
    mark = panel.selection_mark()
    # The answer came before the job reached the table: the bridge posts it to this thread.
    new = submit_sandbox_job(engine, sandbox, duration=0.05)
    assert panel.model.row_of(new) is None
    panel.reveal_new_job(new, mark)
    assert _selected(panel) == []
    qtbot.waitUntil(lambda: _selected(panel) == [new], timeout=15_000)
    qtbot.waitUntil(lambda: panel.details_pane.record is not None, timeout=15_000)
    assert panel.details.record is not None and panel.details.record.local_id == new


def test_a_job_chosen_meanwhile_keeps_the_selection(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    first = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, first, JobState.COMPLETED)
    mark = panel.selection_mark()
    new = submit_sandbox_job(engine, sandbox, duration=0.05)
    panel.reveal_new_job(new, mark)
    assert panel.select_job(first)  # the person picks a job before the new one shows
    _wait_state(qtbot, panel, new, JobState.COMPLETED)
    assert _selected(panel) == [first]


def test_a_click_on_a_row_selects_its_job_and_shows_it(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    # The table draws into a viewport of its own making (see _JobTable): a click there selects
    # the row under it as on Qt's own.
    done = submit_sandbox_job(engine, sandbox, duration=0.05)
    _wait_state(qtbot, panel, done, JobState.COMPLETED)
    table = panel.table
    centre = table.visualRect(panel.model.index(0, JobColumn.STATUS)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert [record.local_id for record in panel.selected_records()] == [done]
    qtbot.waitUntil(lambda: panel.details_pane.record is not None)
    assert panel.details_pane.record.local_id == done


def test_new_jobs_keep_the_selected_job_and_the_top_row_on_screen(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    # A history longer than a screen, written by another console before this one looks.
    store = JobStore(engine.data_dir / DB_FILENAME)
    for n in range(300):
        record = JobRecord(local_id=f"old{n:03d}", profile="Sandbox", endpoint_id="sandbox",
                           operation="run", request={"input": {}}, submitted_at=1_000.0 + n,
                           state=JobState.COMPLETED, job_id=f"job-{n}")  # fmt: skip
        store.save(record, sandbox)
    store.flush().result(timeout=10)
    store.close()
    panel.model.request_refresh()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 300, timeout=10_000)
    table = panel.table
    table.scrollTo(panel.model.index(150, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: panel.model.record_at(table.rowAt(0)) is not None, timeout=10_000)
    top = panel.model.record_at(table.rowAt(0)).local_id  # type: ignore[union-attr]
    table.selectRow(table.rowAt(0) + 3)
    [chosen] = _selected(panel)
    new = submit_sandbox_job(
        engine, sandbox, duration=0.05
    )  # newest first: it comes in above them all
    qtbot.waitUntil(lambda: panel.model.row_of(new) == 0, timeout=10_000)
    assert _selected(panel) == [chosen]
    assert panel.model.record_at(table.rowAt(0)).local_id == top  # type: ignore[union-attr]
