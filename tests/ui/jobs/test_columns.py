"""The job table's Row, Cost and Release columns, read from the history's stored origin and
facts (a real SQLite file), the ``row:`` search, and the cost line under the panel's table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from gui.core.account.cost import LEAVES_OUT
from gui.core.records import JobRecord, JobState
from gui.core.storage.history import SortKey, parse_search
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.core.targets import Target
from gui.ui.jobs.model import JobColumn, JobTableModel
from tests.support.jobs_factory import make_record

TARGET = Target(name="Sandbox", kind="sandbox", base_url="http://127.0.0.1:1/v2", endpoint_id="e")
TIMEOUT_MS = 10_000
COST = {"usd": 0.00062, "seconds": 2, "gpu": "NVIDIA GeForce RTX 4090", "gpu_count": 1,
        "per_gpu_second": 0.00031}  # fmt: skip
NO_COST = {
    "usd": None,
    "seconds": 2,
    "missing": "the worker's GPU type is unknown (the worker is gone)",
}


def jobs() -> list[JobRecord]:
    return [
        make_record("run-1", JobState.COMPLETED, submitted_at=3.0,
                    origin={"data": "/tmp/rows.csv", "row": 3, "name": "third"},
                    facts={"release": "v2 me/worker:1.1", "cost": COST}),
        make_record("run-2", JobState.FAILED, submitted_at=2.0,
                    origin={"data": "/tmp/rows.csv", "row": 4},
                    facts={"release": "v1", "cost": NO_COST}),
        make_record("plain", JobState.IN_QUEUE, submitted_at=1.0),
    ]  # fmt: skip


@pytest.fixture
def history(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / DB_FILENAME
    store = JobStore(path)
    store.load()
    for record in jobs():
        store.save(record, TARGET)
    store.flush().result(timeout=10)
    store.close()
    yield path


def _model(qtbot: QtBot, path: Path) -> JobTableModel:
    model = JobTableModel(path)
    model.start()
    qtbot.waitUntil(lambda: not model.busy and model.rowCount() > 0, timeout=TIMEOUT_MS)
    return model


def _column(
    model: JobTableModel, column: JobColumn, role: int = Qt.ItemDataRole.DisplayRole
) -> list[object]:
    return [model.data(model.index(row, column), role) for row in range(model.rowCount())]


def test_row_cost_and_release_show_what_the_history_keeps(
    qtbot: QtBot, history: Path, qtmodeltester: ModelTester
) -> None:
    model = _model(qtbot, history)
    new = (JobColumn.ROW, JobColumn.COST, JobColumn.RELEASE)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in new] == [
        "Row",
        "Cost",
        "Release",
    ]
    assert _column(model, JobColumn.JOB_ID) == ["job-run-1", "job-run-2", "job-plain"]
    assert _column(model, JobColumn.ROW) == ["3 · third", "4", ""]
    assert _column(model, JobColumn.COST) == ["$0.00062", "—", ""]
    assert _column(model, JobColumn.RELEASE) == ["v2 me/worker:1.1", "v1", ""]
    tips = _column(model, JobColumn.COST, Qt.ItemDataRole.ToolTipRole)
    assert isinstance(tips[0], str) and tips[0].startswith("Cost: $0.00062 (2 s x 1 GPU")
    assert tips[0].endswith(LEAVES_OUT)
    assert tips[1] == (
        "Cost: no estimate: the worker's GPU type is unknown (the worker is gone). " + LEAVES_OUT
    )
    assert tips[2] is None
    assert _column(model, JobColumn.ROW, Qt.ItemDataRole.ToolTipRole)[0] == (
        "Row 3 · third of /tmp/rows.csv"
    )
    qtmodeltester.check(model)


def test_a_header_click_on_a_column_sql_cant_sort_keeps_the_sort(
    qtbot: QtBot, history: Path
) -> None:
    model = _model(qtbot, history)
    model.sort(JobColumn.COST, Qt.SortOrder.AscendingOrder)
    assert (model.sort_key, model.descending) == (SortKey.SUBMITTED, True)
    assert not model.busy


def test_the_row_search_finds_a_data_runs_row_by_number_or_name(
    qtbot: QtBot, history: Path
) -> None:
    model = _model(qtbot, history)
    model.set_query(parse_search("row:THIRD"))
    qtbot.waitUntil(lambda: not model.busy and model.rowCount() == 1, timeout=TIMEOUT_MS)
    assert _column(model, JobColumn.JOB_ID) == ["job-run-1"]
    model.set_query(parse_search("row:4"))
    qtbot.waitUntil(lambda: not model.busy and model.rowCount() == 1, timeout=TIMEOUT_MS)
    assert _column(model, JobColumn.JOB_ID) == ["job-run-2"]
