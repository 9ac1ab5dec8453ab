"""jobDetails says what the console learned around a job: its worker's release and GPU, its
estimated cost (the tooltip says how, and what it leaves out), and a spend guard's action (its
reason on the error page, its step in the History tab)."""

from __future__ import annotations

import html

from pytestqt.qtbot import QtBot

from gui.core.account.cost import LEAVES_OUT
from gui.core.records import GUARD_STEP, JobState
from gui.ui.jobs.details.view import JobDetails
from tests.support.jobs_factory import evolve, make_record

REASON = "Cancelled by this profile's spend guard: RunPod retried the job 3 times."
FACTS = {"release": "v2 me/worker:1.1", "gpu": "NVIDIA GeForce RTX 4090", "gpu_count": 1,
         "worker": "w1", "guard": {"kind": "max_retries", "reason": REASON},
         "cost": {"usd": 0.00062, "seconds": 2, "gpu": "NVIDIA GeForce RTX 4090",
                  "gpu_count": 1, "per_gpu_second": 0.00031}}  # fmt: skip


def test_release_gpu_cost_and_a_guards_cancel_are_shown(qtbot: QtBot) -> None:
    details = JobDetails()
    qtbot.addWidget(details)
    record = evolve(
        make_record("guarded", JobState.CANCELLED),
        note=REASON,
        facts=FACTS,
        history=[(1000.0, "IN_QUEUE"), (1001.0, f"{GUARD_STEP}cancelling: retried 3 times"),
                 (1002.0, "CANCELLED")],
    )  # fmt: skip
    details.show_record(record)
    summary = details.summary.text()
    assert "release v2 me/worker:1.1" in summary and "1 x NVIDIA GeForce RTX 4090" in summary
    assert "cost ~$0.00062" in summary and "cancelled by a spend guard" in summary
    tooltip = details.summary.toolTip()
    assert tooltip.startswith("Cost: $0.00062 (2 s x 1 GPU NVIDIA GeForce RTX 4090")
    assert tooltip.endswith(LEAVES_OUT)
    assert details.tabs.currentIndex() == details._error_tab
    assert html.escape(REASON) in details.error_view.text()
    steps = [details.history.table.item(row, 1).text() for row in range(3)]
    assert steps[1] == "GUARD: cancelling: retried 3 times"

    details.show_record(make_record("plain", JobState.COMPLETED, output={"ok": True}))
    assert "release" not in details.summary.text() and details.summary.toolTip() == ""
