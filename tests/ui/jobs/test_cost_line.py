"""The count line under the job table sums the estimated cost of the jobs the search and the
status toggles show, against a real Engine and its built-in sandbox (its GPU catalog)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.core.account.cost import LEAVES_OUT, format_usd
from gui.core.engine.engine import Engine
from gui.core.records import JobState
from gui.core.targets import Target
from gui.ui.jobs.panel import JobsPanel
from tests.support import engine_fixtures, panel_fixtures
from tests.support.engine_fixtures import submit_sandbox_job

engine = engine_fixtures.engine
sandbox = engine_fixtures.sandbox
panel = panel_fixtures.panel
TIMEOUT_MS = 20_000


def _usd(panel: JobsPanel, local_id: str) -> float | None:
    record = panel.latest_record(local_id)
    cost = None if record is None or record.facts is None else record.facts.get("cost")
    return cost.get("usd") if isinstance(cost, dict) else None


def test_the_count_line_adds_the_cost_of_the_jobs_shown(
    qtbot: QtBot, panel: JobsPanel, engine: Engine, sandbox: Target
) -> None:
    done = [submit_sandbox_job(engine, sandbox, duration=1.2) for _ in range(2)]
    failed = submit_sandbox_job(engine, sandbox, duration=2.2, fail="boom")
    every = [*done, failed]
    qtbot.waitUntil(lambda: all(_usd(panel, i) is not None for i in every), timeout=TIMEOUT_MS)
    costs = {i: _usd(panel, i) for i in every}
    total = sum(costs.values())  # type: ignore[arg-type]
    expected = f"3 jobs · COMPLETED 2 · FAILED 1 · estimated {format_usd(total)} for 3 jobs"
    qtbot.waitUntil(lambda: panel.counts_label.text() == expected, timeout=TIMEOUT_MS)
    assert panel.counts_label.toolTip().endswith(LEAVES_OUT)
    # The failed job alone: the toggle shows it, the line sums its cost alone.
    qtbot.mouseClick(panel.filters.buttons[JobState.FAILED], Qt.MouseButton.LeftButton)
    alone = f"estimated {format_usd(costs[failed])} for 1 job"  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: panel.counts_label.text().endswith(alone), timeout=TIMEOUT_MS)
    # A search narrows it the same way.
    qtbot.mouseClick(panel.filters.all_button, Qt.MouseButton.LeftButton)
    panel.filters.text.set_search(f"id:{done[0]}")
    one = f"estimated {format_usd(costs[done[0]])} for 1 job"  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: panel.counts_label.text().endswith(one), timeout=TIMEOUT_MS)
