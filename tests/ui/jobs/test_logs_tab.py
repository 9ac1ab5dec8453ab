"""The job details' Logs tab (jobLogs) and the last log lines beside a failed job's error: read
from a real history file off the Qt thread, following while the job runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gui.core.records import JobState
from gui.core.storage.job_logs import JobLogLine
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.core.targets import Target
from gui.ui.jobs.details.logs_tab import EMPTY_ENDED, EXCERPT_LINES
from gui.ui.jobs.details.view import JobDetails
from tests.support.jobs_factory import evolve, make_record

TARGET = Target("Sandbox", "sandbox", "http://127.0.0.1:1/v2", "sandbox")


def line(n: int, message: str, request_id: str | None = "job-a") -> JobLogLine:
    at = f"2026-06-01T12:00:{n % 60:02d}Z"
    return JobLogLine("w1", f"{at}/{n:012d}", at, "container", "INFO", message, request_id)


@pytest.fixture
def history(data_dir: Path) -> JobStore:
    store = JobStore(data_dir / DB_FILENAME)
    return store


@pytest.fixture
def details(qtbot: QtBot, data_dir: Path) -> JobDetails:
    widget = JobDetails()
    widget.logs.set_history(data_dir / DB_FILENAME)
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    return widget


def test_a_running_jobs_lines_appear_as_they_are_kept(
    qtbot: QtBot, details: JobDetails, history: JobStore
) -> None:
    record = make_record("a", JobState.IN_PROGRESS, worker_id="w1")
    history.save(record, TARGET)
    history.save_logs("a", [line(1, "Started."), line(2, "print from the handler", None)])
    history.flush().result(timeout=10)
    details.show_record(record)
    details.tabs.setCurrentWidget(details.logs)
    text = details.logs.view

    qtbot.waitUntil(lambda: "print from the handler" in text.toPlainText(), timeout=10_000)
    history.save_logs("a", [line(3, "step 2 of 3")])
    history.flush().result(timeout=10)
    qtbot.waitUntil(lambda: "step 2 of 3" in text.toPlainText(), timeout=10_000)
    history.close()

    shown = text.toPlainText().splitlines()
    assert shown == [
        "12:00:01  INFO   Started.",
        "12:00:02  INFO   · print from the handler",
        "12:00:03  INFO   step 2 of 3",
    ]
    assert "1 untagged" in details.logs.status.text()


def test_a_failed_job_shows_its_last_lines_beside_its_error(
    qtbot: QtBot, details: JobDetails, history: JobStore
) -> None:
    error = json.dumps({"error_type": "ValueError", "error_message": "bad seed"})
    record = make_record("a", JobState.FAILED, worker_id="w1", error=error)
    history.save(record, TARGET)
    history.save_logs("a", [line(n, f"line {n}") for n in range(1, 21)])
    history.close()

    details.show_record(record)

    excerpt = details.logs.excerpt
    qtbot.waitUntil(excerpt.isVisible, timeout=10_000)
    assert details.tabs.currentIndex() == details._error_tab
    assert "line 20" in excerpt.text() and f"line {20 - EXCERPT_LINES}<" not in excerpt.text()
    assert f"line {21 - EXCERPT_LINES}" in excerpt.text()


def test_a_job_without_lines_says_why(qtbot: QtBot, details: JobDetails, history: JobStore) -> None:
    queued = make_record("q", JobState.IN_QUEUE)
    ended = make_record("e", JobState.COMPLETED, output={"ok": True})
    history.save(ended, TARGET)
    history.close()

    details.show_record(queued)
    assert "has not started" in details.logs.status.text()
    details.show_record(evolve(ended))
    qtbot.waitUntil(lambda: details.logs.status.text() == EMPTY_ENDED, timeout=10_000)
    assert "Local workers have none" in EMPTY_ENDED
    assert not details.logs.view.isVisibleTo(details)
