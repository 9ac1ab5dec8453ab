"""The job table model reads its rows from a real history file (a page at a time, sorted and
filtered in SQL) and shows the bridge's changes in place or after a refresh."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from gui.core.records import JobRecord, JobState
from gui.core.storage.history import parse_search
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.core.targets import Target
from gui.ui.jobs.model import (
    CACHE_PAGES,
    PAGE_ROWS,
    PLACEHOLDER,
    RECORD_ROLE,
    JobColumn,
    JobTableModel,
)
from tests.support.jobs_factory import evolve, make_record

TARGET = Target(name="Sandbox", kind="sandbox", base_url="http://127.0.0.1:1/v2", endpoint_id="e")
TIMEOUT_MS = 10_000


class History:
    """A real ``jobs.sqlite3`` the engine's store writes."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DB_FILENAME
        self.store = JobStore(self.path)
        self.store.load()

    def save(self, *records: JobRecord) -> None:
        for record in records:
            self.store.save(record, TARGET)
        self.store.flush().result(timeout=10)

    def flush(self) -> Future[None]:
        return self.store.flush()


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    made = History(tmp_path)
    yield made
    made.store.close()


def _jobs(count: int, **changes: object) -> list[JobRecord]:
    return [
        make_record(f"L{i:04d}", submitted_at=1_700_000_000.0 + i, **changes) for i in range(count)
    ]


def _model(qtbot: QtBot, history: History) -> JobTableModel:
    model = JobTableModel(history.path, commit_wait=history.flush)
    model.start()
    _settle(qtbot, model)
    return model


def _settle(qtbot: QtBot, model: JobTableModel) -> None:
    qtbot.waitUntil(lambda: not model.busy, timeout=TIMEOUT_MS)


def _ids(model: JobTableModel, rows: range | None = None) -> list[str]:
    records = [model.record_at(row) for row in rows or range(model.rowCount())]
    return [record.local_id if record else "?" for record in records]


def test_the_model_passes_qtmodeltester(qtbot: QtBot, history: History, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    history.save(*_jobs(5))
    model = _model(qtbot, history)
    qtmodeltester.check(model)
    model.sort(JobColumn.RUN_TIME, Qt.SortOrder.DescendingOrder)
    _settle(qtbot, model)
    qtmodeltester.check(model)
    changed = evolve(model.record_at(2), state=JobState.COMPLETED, execution_time_ms=5)  # type: ignore[arg-type]
    history.save(changed)
    model.apply_changes([changed])
    _settle(qtbot, model)
    qtmodeltester.check(model)


def test_the_count_comes_first_and_rows_a_page_at_a_time_in_a_bounded_cache(
    qtbot: QtBot, history: History
) -> None:
    total = PAGE_ROWS * (CACHE_PAGES + 5) + 7
    history.save(*_jobs(total))
    model = _model(qtbot, history)
    assert model.rowCount() == total
    assert model.record_at(0).local_id == f"L{total - 1:04d}"  # type: ignore[union-attr]  # newest first
    far = total - 3
    assert model.record_at(far) is None
    assert model.index(far, JobColumn.JOB_ID).data() == PLACEHOLDER  # and asks for its page
    qtbot.waitUntil(lambda: model.record_at(far) is not None, timeout=TIMEOUT_MS)
    assert model.record_at(far).local_id == "L0002"  # type: ignore[union-attr]
    assert model.record_at(far).request == {}  # type: ignore[union-attr]  # rows are light
    for first in range(0, total, PAGE_ROWS):  # scroll through every page
        model.set_visible_rows(first, first + 30)
        _settle(qtbot, model)
    assert model.record_at(total - 1) is not None
    assert model.cached_rows() <= CACHE_PAGES * PAGE_ROWS


def test_sorting_is_by_real_values_in_sql(qtbot: QtBot, history: History) -> None:
    # 9 s, 10 s and 900 ms: as text "9.0 s" > "10.0 s"; as numbers 900 < 9000 < 10000.
    history.save(
        make_record("a", JobState.COMPLETED, execution_time_ms=9_000, submitted_at=1.0),
        make_record("b", JobState.COMPLETED, execution_time_ms=10_000, submitted_at=2.0),
        make_record("c", JobState.COMPLETED, execution_time_ms=900, submitted_at=3.0),
        make_record("d", JobState.IN_QUEUE, submitted_at=4.0),
    )
    model = _model(qtbot, history)
    model.sort(JobColumn.RUN_TIME, Qt.SortOrder.AscendingOrder)
    _settle(qtbot, model)
    assert _ids(model) == ["d", "c", "a", "b"]
    model.sort(JobColumn.STATUS, Qt.SortOrder.AscendingOrder)
    _settle(qtbot, model)
    assert _ids(model)[0] == "d"  # IN_QUEUE comes before COMPLETED in a job's life


def test_filters_by_state_and_search(qtbot: QtBot, history: History) -> None:
    history.save(
        make_record("a", JobState.FAILED, worker_id="worker-xyz", submitted_at=1.0),
        make_record("b", JobState.COMPLETED, template="echo", submitted_at=2.0),
        make_record("c", JobState.TIMED_OUT, submitted_at=3.0,
                    request={"input": {"prompt": "a purple cat"}}),
    )  # fmt: skip
    model = _model(qtbot, history)
    model.set_states({JobState.FAILED, JobState.TIMED_OUT})
    _settle(qtbot, model)
    assert sorted(_ids(model)) == ["a", "c"]
    assert model.state_counts() == {
        JobState.FAILED: 1,
        JobState.COMPLETED: 1,
        JobState.TIMED_OUT: 1,
    }  # the toggles' counts leave the toggles aside
    model.set_query(parse_search("worker:WORKER-x"))
    _settle(qtbot, model)
    assert _ids(model) == ["a"]
    model.set_states(None)
    model.set_query(parse_search("purple"))  # a word inside the request's input
    _settle(qtbot, model)
    assert _ids(model) == ["c"]
    # A job that changes state comes into the filtered view by itself.
    model.set_query(parse_search(""))
    model.set_states({JobState.COMPLETED})
    _settle(qtbot, model)
    assert _ids(model) == ["b"]
    done = make_record("a", JobState.COMPLETED, worker_id="worker-xyz", submitted_at=1.0)
    history.save(done)
    model.apply_changes([done])
    _settle(qtbot, model)
    assert _ids(model) == ["b", "a"]


def test_a_change_to_a_row_read_is_shown_in_place(qtbot: QtBot, history: History) -> None:
    jobs = _jobs(40, state=JobState.IN_PROGRESS, started_at=1_700_000_050.0)
    history.save(*jobs)
    model = _model(qtbot, history)
    changed: list[tuple[int, int]] = []
    resets: list[bool] = []
    model.dataChanged.connect(lambda top, bottom, *_: changed.append((top.row(), bottom.row())))
    model.modelReset.connect(lambda: resets.append(True))
    rows = (2, 3, 4, 10, 27, 39)
    batch = [evolve(model.record_at(row), worker_id="w-9") for row in rows]  # type: ignore[arg-type]
    history.save(*batch)
    model.apply_changes(batch)
    # 2-4 and 10 are closer than RANGE_MERGE_GAP: one signal; 27 and 39 are not.
    assert changed == [(2, 10), (27, 27), (39, 39)]
    assert model.index(27, JobColumn.WORKER).data() == "w-9"
    _settle(qtbot, model)
    assert resets == []


def test_new_jobs_show_after_their_commit_and_the_selection_and_top_row_stay(
    qtbot: QtBot, history: History
) -> None:
    history.save(*_jobs(300))
    model = JobTableModel(history.path)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 300)
    view.show()
    top_job: list[str | None] = [None]
    model.followed = lambda: (top_job[0], [r.local_id for r in _selected(view)])
    model.start()
    _settle(qtbot, model)
    model.set_visible_rows(150, 160)
    _settle(qtbot, model)
    view.selectionModel().select(
        model.index(150, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    selected_id = model.record_at(150).local_id  # type: ignore[union-attr]
    top_job[0] = model.record_at(140).local_id  # type: ignore[union-attr]
    # Three jobs announced before the engine committed them: the refresh waits for the commit.
    new = [make_record(f"new{i}", submitted_at=1_800_000_000.0 + i) for i in range(3)]
    model.commit_wait = lambda: _committed(history, new)
    kept: list[tuple[int | None, int | None]] = []
    model.modelReset.connect(
        lambda: kept.append((model.position(selected_id), model.position(top_job[0] or "")))
    )
    model.apply_changes(new)
    qtbot.waitUntil(lambda: model.rowCount() == 303, timeout=TIMEOUT_MS)
    assert _ids(model, range(3)) == ["new2", "new1", "new0"]
    assert kept == [(153, 143)]  # the panel selects and scrolls to these (test_panel)


def _committed(history: History, records: list[JobRecord]) -> Future[None]:
    for record in records:
        history.store.save(record, TARGET)
    return history.flush()


def _selected(view: QTableView) -> list[JobRecord]:
    return [index.data(RECORD_ROLE) for index in view.selectionModel().selectedRows()]


def test_a_running_job_shows_its_run_time_moving_on_in_its_column_alone(
    qtbot: QtBot, history: History
) -> None:
    started = 1_700_000_100.0
    running = make_record("run", JobState.IN_PROGRESS, started_at=started, submitted_at=3.0)
    history.save(
        running,
        make_record("wait", submitted_at=2.0),
        make_record("done", JobState.COMPLETED, execution_time_ms=1_500, submitted_at=1.0),
    )
    model = _model(qtbot, history)
    assert model.run_clock_active
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, *_: changed.append(
            (top.row(), bottom.row(), top.column(), bottom.column())
        )
    )
    run_time = int(JobColumn.RUN_TIME)
    model.tick(started + 12.0)
    assert model.index(0, run_time).data() == "12.0 s"
    assert changed == [(0, 0, run_time, run_time)]  # the running row's Run time, nothing else
    assert model.index(1, run_time).data() == ""  # queued: no run time yet
    assert model.index(2, run_time).data() == "1.5 s"
    model.tick(started + 75.0)
    assert model.index(0, run_time).data() == "1 min 15 s"

    ended = evolve(running, state=JobState.COMPLETED, finished_at=started + 80.0)
    history.save(ended)
    model.apply_changes([ended])
    assert model.index(0, run_time).data() == "1 min 20 s"
    _settle(qtbot, model)
    changed.clear()
    model.tick(started + 500.0)
    assert changed == [] and not model.run_clock_active  # nothing runs: the clock stops


def test_whole_records_are_read_when_asked(qtbot: QtBot, history: History) -> None:
    history.save(make_record("a", JobState.COMPLETED, output={"answer": 42}))
    model = _model(qtbot, history)
    assert model.record_at(0).output is None  # type: ignore[union-attr]  # the row is light
    got: list[list[JobRecord]] = []
    model.read_in_full(["a", "gone"], got.append, context=model)
    qtbot.waitUntil(lambda: bool(got), timeout=TIMEOUT_MS)
    assert [(r.local_id, r.output) for r in got[0]] == [("a", {"answer": 42})]
