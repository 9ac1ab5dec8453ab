"""The job table model applies engine batches in place and its proxy sorts and filters them."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QTableView

from gui.core.records import JobState
from gui.ui.jobs.model import RECORD_ROLE, JobColumn, JobFilterProxy, JobTableModel
from tests.support.jobs_factory import evolve, make_record


def _model_with(count: int) -> JobTableModel:
    model = JobTableModel()
    model.apply_changes(
        [make_record(f"L{i}", submitted_at=1_700_000_000.0 + i) for i in range(count)]
    )
    return model


def test_models_pass_qtmodeltester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = _model_with(5)
    qtmodeltester.check(model)
    proxy = JobFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(JobColumn.RUN_TIME, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(proxy)
    model.apply_changes([evolve(model.record_at(2), state=JobState.COMPLETED, execution_time_ms=5)])
    model.remove_jobs(["L0", "L3"])
    qtmodeltester.check(proxy)


def test_changes_are_announced_per_row_range_and_new_rows_inserted(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = _model_with(40)
    changed: list[tuple[int, int]] = []
    inserted: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: changed.append((top.row(), bottom.row())))
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    batch = [
        evolve(model.record_at(row), state=JobState.IN_PROGRESS) for row in (27, 2, 3, 4, 39, 10)
    ]
    batch += [make_record("new1"), make_record("new2")]
    finished = model.apply_changes(batch)

    # 2-4 and 10 are closer than RANGE_MERGE_GAP: one signal; 27 and 39 are not.
    assert changed == [(2, 10), (27, 27), (39, 39)]
    assert inserted == [(40, 41)]
    assert resets == []
    assert finished == []
    assert model.state_counts() == {JobState.IN_QUEUE: 36, JobState.IN_PROGRESS: 6}
    done = model.apply_changes([evolve(model.record_at(2), state=JobState.COMPLETED)])
    assert [record.local_id for record in done] == ["L2"]
    assert model.index(2, JobColumn.STATUS).data() == "COMPLETED"


def test_removal_keeps_rows_consistent() -> None:
    model = _model_with(6)
    model.remove_jobs(["L1", "L2", "L4", "unknown"])
    assert [record.local_id for record in model.records()] == ["L0", "L3", "L5"]
    assert model.row_of("L5") == 2
    assert model.state_counts() == {JobState.IN_QUEUE: 3}


def test_sorting_uses_real_values_not_display_text() -> None:
    model = JobTableModel()
    # 9 s, 10 s and 900 ms: as text "9.0 s" > "10.0 s"; as numbers 900 < 9000 < 10000.
    model.apply_changes(
        [
            make_record("a", JobState.COMPLETED, execution_time_ms=9_000),
            make_record("b", JobState.COMPLETED, execution_time_ms=10_000),
            make_record("c", JobState.COMPLETED, execution_time_ms=900),
            make_record("d", JobState.IN_QUEUE),
        ]
    )
    proxy = JobFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(JobColumn.RUN_TIME, Qt.SortOrder.AscendingOrder)
    order = [proxy.record_at(row).local_id for row in range(proxy.rowCount())]
    assert order == ["d", "c", "a", "b"]
    proxy.sort(JobColumn.STATUS, Qt.SortOrder.AscendingOrder)
    assert proxy.record_at(0).local_id == "d"  # IN_QUEUE comes before COMPLETED in a job's life


def test_filters_by_state_and_text() -> None:
    model = JobTableModel()
    model.apply_changes(
        [
            make_record("a", JobState.FAILED, worker_id="worker-xyz"),
            make_record("b", JobState.COMPLETED, template="echo"),
            make_record("c", JobState.TIMED_OUT),
        ]
    )
    proxy = JobFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_states({JobState.FAILED, JobState.TIMED_OUT})
    assert sorted(proxy.record_at(r).local_id for r in range(proxy.rowCount())) == ["a", "c"]
    proxy.set_text("XYZ")
    assert [proxy.record_at(r).local_id for r in range(proxy.rowCount())] == ["a"]
    proxy.set_states(None)
    proxy.set_text("echo")
    assert [proxy.record_at(r).local_id for r in range(proxy.rowCount())] == ["b"]
    # A job that changes state leaves or enters the filtered view by itself.
    proxy.set_text("")
    proxy.set_states({JobState.COMPLETED})
    model.apply_changes([evolve(model.record_at(0), state=JobState.COMPLETED)])
    assert proxy.rowCount() == 2


def test_selection_and_scroll_survive_updates_and_resorting(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = _model_with(300)
    proxy = JobFilterProxy()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.resize(600, 300)
    view.setSortingEnabled(True)
    view.sortByColumn(JobColumn.RUN_TIME, Qt.SortOrder.AscendingOrder)
    view.show()
    view.scrollTo(proxy.index(150, 0))
    scroll = view.verticalScrollBar().value()
    target = proxy.index(150, 0)
    selected_id = target.data(RECORD_ROLE).local_id
    view.selectionModel().select(
        target,
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    # Every job changes; some change their sort position (run time), including the selected one.
    batch = [
        evolve(model.record_at(row), state=JobState.COMPLETED, execution_time_ms=row % 7)
        for row in range(0, 300, 2)
    ]
    batch.append(evolve(model.record_at(model.row_of(selected_id) or 0), execution_time_ms=3))
    model.apply_changes(batch)
    rows = view.selectionModel().selectedRows()
    assert [index.data(RECORD_ROLE).local_id for index in rows] == [selected_id]
    assert view.verticalScrollBar().value() == scroll
    assert view.currentIndex() == QModelIndex() or view.currentIndex().isValid()


def test_a_running_job_shows_its_run_time_moving_on_in_its_column_alone(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = JobTableModel()
    started = 1_700_000_100.0
    running = make_record("run", JobState.IN_PROGRESS, started_at=started)
    model.apply_changes(
        [
            running,
            make_record("wait"),
            make_record("done", JobState.COMPLETED, execution_time_ms=1_500),
        ]
    )
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
    proxy = JobFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(run_time, Qt.SortOrder.DescendingOrder)
    assert proxy.record_at(0).local_id == "run"  # sorted by the time it has run so far

    model.apply_changes([evolve(running, state=JobState.COMPLETED, finished_at=started + 80.0)])
    assert model.index(0, run_time).data() == "1 min 20 s"
    changed.clear()
    model.tick(started + 500.0)
    assert changed == [] and not model.run_clock_active  # nothing runs: the clock stops
