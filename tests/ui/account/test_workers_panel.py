"""The workers panel against the built-in sandbox over loopback: each stuck case's workers and
diagnosis in words, asking only while shown, and what it says when it can't ask."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.core.engine.engine import Engine
from gui.core.targets import Target
from gui.ui.account.workers_model import COLUMNS
from gui.ui.account.workers_panel import WorkersPanel
from gui.ui.bridge import EngineBridge
from tests.support.account_helpers import account_engine, cloud_target_at

TIMEOUT_MS = 20_000


@pytest.fixture
def engine(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("RUNPOD_API_KEY", "a-key")  # the engine's key provider reads it
    with account_engine(data_dir) as started:
        yield started


@pytest.fixture
def bridge(qtbot: QtBot, engine: Engine) -> Iterator[EngineBridge]:
    made = EngineBridge(engine)
    yield made
    made.close()


def _panel(qtbot: QtBot, bridge: EngineBridge | None, interval_ms: int = 5000) -> WorkersPanel:
    panel = WorkersPanel(bridge, interval_ms=interval_ms)
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    return panel


def _column(panel: WorkersPanel, name: str) -> list[str]:
    column = COLUMNS.index(name)
    return [panel.model.row_cells(row)[column] for row in range(panel.model.rowCount())]


def _show(qtbot: QtBot, panel: WorkersPanel, engine: Engine, endpoint_id: str) -> None:
    target, url = cloud_target_at(engine, endpoint_id)
    panel.set_target(target, url)
    qtbot.waitUntil(lambda: bool(panel.updated.text()), timeout=TIMEOUT_MS)


def test_a_crash_loop_shows_its_unhealthy_workers_and_says_why(
    qtbot: QtBot, bridge: EngineBridge, engine: Engine, qtmodeltester: ModelTester
) -> None:
    panel = _panel(qtbot, bridge)
    _show(qtbot, panel, engine, "crashy")
    assert panel.title.text() == "crash-looper (crashy)"
    assert _column(panel, "State") == ["Unhealthy", "Unhealthy"]
    assert _column(panel, "GPU") == ["NVIDIA GeForce RTX 4090"] * 2
    assert _column(panel, "Data center") == ["US-KS-2"] * 2
    assert panel.summary.text().startswith("2 active workers: 2 unhealthy")
    assert "crash loop" in panel.diagnosis.text()
    assert panel.empty_text == ""
    qtmodeltester.check(panel.model)


def test_a_rolling_release_marks_the_outdated_worker(
    qtbot: QtBot, bridge: EngineBridge, engine: Engine
) -> None:
    panel = _panel(qtbot, bridge)
    _show(qtbot, panel, engine, "rollout")
    assert sorted(_column(panel, "Outdated")) == ["", "outdated"]
    releases = _column(panel, "Release")
    assert "v2 runpod/sandbox-worker:1.1.0" in releases
    assert "v1 runpod/sandbox-worker:0.9.0" in releases
    assert "1 outdated · release v2" in panel.summary.text()
    assert "rolling out" in panel.diagnosis.text()


def test_scaled_to_zero_says_no_worker_is_up_and_why_jobs_wait(
    qtbot: QtBot, bridge: EngineBridge, engine: Engine
) -> None:
    panel = _panel(qtbot, bridge)
    _show(qtbot, panel, engine, "idle7d")
    assert panel.model.rowCount() == 0
    assert "No active worker" in panel.empty_text
    assert "max workers 0" in panel.diagnosis.text()
    assert "workers 0-0" in panel.summary.text()


def test_the_built_in_sandbox_shows_its_own_workers(qtbot: QtBot, bridge: EngineBridge) -> None:
    panel = _panel(qtbot, bridge)
    panel.set_target(Target("Sandbox", "sandbox", "", "sandbox"))
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=TIMEOUT_MS)
    assert set(_column(panel, "State")) <= {"Idle", "Running"}
    assert panel.title.text() == "built-in-sandbox (sandbox)"


def test_it_asks_only_while_shown(qtbot: QtBot, bridge: EngineBridge, engine: Engine) -> None:
    panel = _panel(qtbot, bridge, interval_ms=40)
    target, url = cloud_target_at(engine, "crashy")
    panel.set_target(target, url)
    qtbot.waitUntil(lambda: panel.requests_sent >= 3, timeout=TIMEOUT_MS)
    panel.hide()
    assert not panel.timer.isActive()
    asked = panel.requests_sent
    qtbot.wait(400)  # ten intervals: a running timer would have asked again
    assert panel.requests_sent == asked
    panel.show()
    qtbot.waitUntil(lambda: panel.requests_sent > asked, timeout=TIMEOUT_MS)
    assert panel.timer.isActive()


def test_refresh_asks_now(qtbot: QtBot, bridge: EngineBridge, engine: Engine) -> None:
    panel = _panel(qtbot, bridge, interval_ms=600_000)
    _show(qtbot, panel, engine, "crashy")
    asked = panel.requests_sent
    qtbot.waitUntil(panel.refresh_button.isEnabled, timeout=TIMEOUT_MS)
    panel.refresh_button.click()
    assert panel.requests_sent == asked + 1


def test_a_local_worker_has_no_account_to_ask(qtbot: QtBot, bridge: EngineBridge) -> None:
    panel = _panel(qtbot, bridge)
    panel.set_target(Target("my-worker", "local", "http://127.0.0.1:8000", ""))
    assert "local workers have no account" in panel.empty_text
    assert panel.requests_sent == 0


def test_a_cloud_profile_without_a_key_says_to_add_one(
    qtbot: QtBot, bridge: EngineBridge, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_API_KEY")
    panel = _panel(qtbot, bridge)
    target, url = cloud_target_at(engine, "crashy", name="keyless")
    panel.set_target(target, url)
    qtbot.waitUntil(lambda: "add one in Profiles" in panel.empty_text, timeout=TIMEOUT_MS)
    assert panel.empty_text.startswith("keyless has no API key")


def test_an_unknown_endpoint_is_said_in_words(
    qtbot: QtBot, bridge: EngineBridge, engine: Engine
) -> None:
    panel = _panel(qtbot, bridge)
    target, url = cloud_target_at(engine, "nosuch")
    panel.set_target(target, url)
    qtbot.waitUntil(lambda: "was not found" in panel.empty_text, timeout=TIMEOUT_MS)
    assert "Endpoint nosuch" in panel.empty_text


def test_the_window_has_a_workers_tab_that_ctrl_4_shows(qtbot: QtBot, data_dir: Path) -> None:
    window = create_window(data_dir, engine="thread")
    qtbot.addWidget(window)
    window.show()
    try:
        panel = window.findChild(WorkersPanel, "workersPanel")
        assert panel is not None and not panel.isVisible()
        assert panel.requests_sent == 0  # hidden: nothing asked
        action = next(
            a
            for a in window.findChildren(type(window.submit_action))
            if a.shortcut().toString() == "Ctrl+4"
        )
        action.trigger()
        assert window.jobs_area.currentWidget() is panel
        qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=TIMEOUT_MS)
        assert "2 active workers" in panel.summary.text()
    finally:
        window.close()
