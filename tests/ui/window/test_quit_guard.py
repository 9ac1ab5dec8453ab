"""Closing the window while jobs run on the built-in sandbox: it asks, and a quit marks them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from gui.core.engine.merge import QUIT_NOTE
from gui.core.records import JobRecord, JobState
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.ui.window import quit_guard
from tests.support.request_helpers import open_window

REAL_ASK = quit_guard.ask  # the autouse fixture answers Quit for every other test
LONG_JOB = {"input": {"sandbox": {"duration": 600}}}


def answer_with(monkeypatch: pytest.MonkeyPatch, button: QMessageBox.StandardButton) -> list[str]:
    """The real question, answered with ``button``; returns the texts it was asked with."""
    asked: list[str] = []

    def question(parent: Any, title: str, text: str, *args: Any) -> QMessageBox.StandardButton:
        asked.append(text)
        return button

    monkeypatch.setattr(quit_guard, "ask", REAL_ASK)
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def stored(data_dir: Path, local_id: str) -> JobRecord:
    history = JobStore(data_dir / DB_FILENAME)
    try:
        return next(j.record for j in history.load() if j.record.local_id == local_id)
    finally:
        history.close()


def test_cancel_keeps_the_window_and_its_sandbox_job_running(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window(qtbot, data_dir)
    engine = window.engine
    sent = engine.submit(engine.sandbox_target().result(30), LONG_JOB).result(30)
    asked = answer_with(monkeypatch, QMessageBox.StandardButton.Cancel)

    window.close()

    assert asked and asked[0].startswith("1 job is still running or waiting")
    assert window.isVisible() and window.engine is engine
    assert [r.local_id for r in engine.open_sandbox_jobs()] == [sent.local_id]
    answer_with(monkeypatch, QMessageBox.StandardButton.Yes)
    window.close()  # the test's own clean-up


def test_quit_ends_the_sandbox_jobs_as_ended_by_the_quit(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window(qtbot, data_dir)
    engine = window.engine
    sandbox = engine.sandbox_target().result(30)
    running = [engine.submit(sandbox, LONG_JOB).result(30) for _ in range(2)]
    asked = answer_with(monkeypatch, QMessageBox.StandardButton.Yes)

    window.close()

    assert asked and asked[0].startswith("2 jobs are still running or waiting")
    assert not window.isVisible() and window.engine is None
    for record in running:
        ended = stored(data_dir, record.local_id)
        assert ended.state == JobState.CANCELLED and ended.note == QUIT_NOTE


def test_no_question_without_sandbox_jobs_running(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window(qtbot, data_dir)
    engine = window.engine
    done = engine.submit(engine.sandbox_target().result(30), {"input": {}}, "runsync").result(30)
    assert done.state == JobState.COMPLETED
    asked = answer_with(monkeypatch, QMessageBox.StandardButton.Cancel)

    window.close()

    assert asked == [] and window.engine is None


def test_a_script_closes_without_the_question(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = open_window(qtbot, data_dir)
    engine = window.engine
    sent = engine.submit(engine.sandbox_target().result(30), LONG_JOB).result(30)
    asked = answer_with(monkeypatch, QMessageBox.StandardButton.Cancel)
    quit_guard.quit_without_asking(window)

    window.close()

    assert asked == [] and window.engine is None
    assert stored(data_dir, sent.local_id).note == QUIT_NOTE
