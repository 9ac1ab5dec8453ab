"""The first five minutes: the Echo example is open, the empty job table says what to do, and the
hint goes away once a job exists (and stays away on the next start)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.core.records import JobState
from gui.ui.jobs.first_run import FIRST_TEMPLATE, HINT_TEXT, LOADING_TEXT, EmptyTableHint
from tests.support.request_helpers import TIMEOUT_MS, open_window


def test_first_start_opens_echo_and_hints_until_a_job_exists(qtbot: QtBot, data_dir: Path) -> None:
    window = open_window(qtbot, data_dir)
    assert window.templates.selected_name() == FIRST_TEMPLATE
    assert window.current_template == FIRST_TEMPLATE
    echo = window.store.get(FIRST_TEMPLATE)
    assert json.loads(window.request.text()) == echo.body
    hint = window.desktop.first_run_hint
    assert hint is not None and hint.objectName() == "firstRunHint"
    # The engine's start changes the text; the history's first read (which may come after it,
    # on a loaded machine) shows the hint.
    qtbot.waitUntil(lambda: hint.text() == HINT_TEXT and hint.isVisible(), timeout=TIMEOUT_MS)
    assert "Ctrl+Enter" in hint.text()
    assert hint.parentWidget() is window.jobs_panel.table.viewport()  # type: ignore[union-attr]

    window.request.request_submit()
    qtbot.waitUntil(lambda: not hint.isVisible(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: [job.state for job in window.engine.jobs()] == [JobState.COMPLETED],
        timeout=TIMEOUT_MS * 2,
    )
    # The example names no webhook; the built-in sandbox reports to the console's listener.
    qtbot.waitUntil(lambda: window.engine.jobs()[0].webhook_deliveries == 1, timeout=TIMEOUT_MS * 2)
    (job,) = window.engine.jobs()
    assert job.request["webhook"].startswith("http://127.0.0.1:")
    assert job.request["webhook"].endswith("/webhook/keyring:listener-token")
    window.close()

    again = create_window(data_dir, engine="thread")
    qtbot.addWidget(again)
    again.show()
    panel = again.jobs_panel
    assert panel is not None
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=TIMEOUT_MS)
    assert again.desktop.first_run_hint is not None
    assert not again.desktop.first_run_hint.isVisible()
    again.close()


def test_a_filter_that_hides_every_job_is_not_an_empty_history(
    qtbot: QtBot, data_dir: Path
) -> None:
    window = open_window(qtbot, data_dir)
    window.request.request_submit()
    panel = window.jobs_panel
    assert panel is not None
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=TIMEOUT_MS)
    panel.filters.text.setText("no job is called this")
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=TIMEOUT_MS)
    hint = window.desktop.first_run_hint
    assert hint is not None and not hint.isVisible()
    window.close()


def test_while_the_history_loads_the_hint_says_so_not_no_jobs(qtbot: QtBot) -> None:
    model = QStandardItemModel(0, 1)
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    table.show()
    hint = EmptyTableHint(table, model)
    hint.set_loading(True)
    assert hint.isVisible() and hint.text() == LOADING_TEXT
    hint.set_loading(False)
    assert hint.isVisible() and hint.text() == HINT_TEXT
    model.appendRow(QStandardItem("job"))
    assert not hint.isVisible()
