"""Send again on a selection of jobs: NOT_SENT jobs go again as themselves, after a warning."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.records import JobState
from gui.core.targets import Target
from gui.sandbox import SandboxConfig, SandboxThread
from gui.ui.bridge import EngineBridge
from gui.ui.jobs import actions as acts
from gui.ui.jobs.panel import JobsPanel
from tests.support.engine_fixtures import running_engine

KEYS = {"key": "wrong"}


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    with running_engine(data_dir, key_provider=lambda target: KEYS["key"]) as started:
        yield started


def test_send_again_on_a_selection_resends_not_sent_jobs_as_themselves_after_asking(
    qtbot: QtBot, engine: Engine
) -> None:
    KEYS["key"] = "wrong"
    built_in = engine.sandbox_target().result(timeout=30)
    with SandboxThread(SandboxConfig(api_key="sesame", default_duration_s=0.05)) as server:
        cloud = Target(name="cloud", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        refused = [engine.submit(cloud, {"input": {"n": n}}).result(timeout=30) for n in range(3)]
        assert all(r.state == JobState.NOT_SENT for r in refused)
        done = engine.submit(built_in, {"input": {"n": 9}}).result(timeout=30).local_id
        bridge = EngineBridge(engine)
        panel = JobsPanel(bridge)
        qtbot.addWidget(panel)
        try:
            panel.set_target(built_in)
            panel.show()
            qtbot.waitUntil(lambda: panel.model.rowCount() == 4, timeout=10_000)
            qtbot.waitUntil(lambda: _state(panel, done) == JobState.COMPLETED, timeout=15_000)
            panel.table.selectAll()
            action = panel.job_actions[acts.RESUBMIT_TARGET]
            assert action.isEnabled()
            assert "the 3 NOT_SENT jobs again to their own endpoints" in action.toolTip()
            assert "the same request again to Sandbox" in action.toolTip()

            asked: list[str] = []
            panel.confirm = lambda title, text: asked.append(text) or False  # type: ignore[method-assign]
            action.trigger()  # declined: nothing is sent (asked once the requests are read)
            qtbot.waitUntil(lambda: len(asked) == 1, timeout=10_000)
            assert "may already be queued" in asked[0]
            assert all(_state(panel, r.local_id) == JobState.NOT_SENT for r in refused)

            KEYS["key"] = "sesame"
            panel.confirm = lambda title, text: True  # type: ignore[method-assign]
            action.trigger()
            for record in refused:  # the same rows, now sent and followed
                qtbot.waitUntil(
                    lambda r=record: _state(panel, r.local_id) == JobState.COMPLETED,  # type: ignore[misc]
                    timeout=15_000,
                )
            qtbot.waitUntil(lambda: panel.model.rowCount() == 5, timeout=10_000)  # + one new job
        finally:
            bridge.close()
        queued = server.server.routes.endpoints["ep"].job_count
    assert queued == 3


def _state(panel: JobsPanel, local_id: str) -> JobState | None:
    row = panel.model.row_of(local_id)
    return None if row is None else panel.model.record_at(row).state
