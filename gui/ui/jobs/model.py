"""The job table: a Qt model that adapts the engine's job records, and a proxy that filters it.

``JobTableModel`` holds no logic beyond presentation: it keeps the latest snapshot of each job
(one row per ``local_id``) and applies batches from the bridge with ``dataChanged`` per range of
changed rows and ``beginInsertRows`` for new ones, so selection and scroll position survive updates.
``JobFilterProxy`` sorts by real values (``SORT_ROLE``) and filters by state and text.

The run time of a running job is the time since it started: a timer moves it on every
``RUN_CLOCK_MS`` with one ``dataChanged`` per range of running rows, for that column alone.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)

from gui.core.records import JobRecord, JobState
from gui.ui.jobs.style import format_duration_ms, format_time, state_color, state_icon

__all__ = [
    "RECORD_ROLE",
    "RUN_CLOCK_MS",
    "SORT_ROLE",
    "JobColumn",
    "JobFilterProxy",
    "JobTableModel",
    "is_running",
    "job_span_ms",
    "queue_time_ms",
    "run_time_ms",
]

RECORD_ROLE = int(Qt.ItemDataRole.UserRole) + 1
"""``data(index, RECORD_ROLE)`` gives the row's ``JobRecord`` snapshot."""
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 2
"""``data(index, SORT_ROLE)`` gives the real value to sort by (a number or a string)."""

AnyIndex = QModelIndex | QPersistentModelIndex


class JobColumn(IntEnum):
    JOB_ID = 0
    TARGET = 1
    STATUS = 2
    SUBMITTED = 3
    QUEUE_TIME = 4
    RUN_TIME = 5
    WORKER = 6
    WEBHOOK = 7
    TEMPLATE = 8


HEADERS = {
    JobColumn.JOB_ID: "Job id",
    JobColumn.TARGET: "Target",
    JobColumn.STATUS: "Status",
    JobColumn.SUBMITTED: "Submitted",
    JobColumn.QUEUE_TIME: "Queue time",
    JobColumn.RUN_TIME: "Run time",
    JobColumn.WORKER: "Worker",
    JobColumn.WEBHOOK: "Webhook",
    JobColumn.TEMPLATE: "Template",
}

# The order a job lives through, so sorting by status reads as progress.
_STATE_ORDER = {state: position for position, state in enumerate(JobState)}
_COLUMN_COUNT = len(JobColumn)
_MISSING = -1.0  # sort key of a time not known yet: first in ascending order
# Changed rows closer than this share one dataChanged: each signal makes a sorting proxy re-check
# and re-lay out, so a few unchanged rows repainted cost less than one more signal.
RANGE_MERGE_GAP = 8
RUN_CLOCK_MS = 1000  # how often the run time of running jobs moves on
_RUN_TIME_ROLES = [int(Qt.ItemDataRole.DisplayRole), SORT_ROLE]


def queue_time_ms(record: JobRecord) -> float | None:
    """RunPod's ``delayTime``, or what the console saw when RunPod did not say."""
    if record.delay_time_ms is not None:
        return float(record.delay_time_ms)
    if record.started_at is not None:
        return max(0.0, (record.started_at - record.submitted_at) * 1000.0)
    return None


def run_time_ms(record: JobRecord, now: float | None = None) -> float | None:
    """RunPod's ``executionTime``, or the span the console saw between start and end; for a job
    running now, the time since it started (until ``now``, by default the clock's time)."""
    if record.execution_time_ms is not None:
        return float(record.execution_time_ms)
    if record.started_at is not None and record.finished_at is not None:
        return max(0.0, (record.finished_at - record.started_at) * 1000.0)
    if is_running(record):
        assert record.started_at is not None
        return max(0.0, ((time.time() if now is None else now) - record.started_at) * 1000.0)
    return None


def job_span_ms(record: JobRecord) -> float | None:
    """From submitting to the end, as the console saw it (None until the job ends)."""
    if record.finished_at is None:
        return None
    return max(0.0, (record.finished_at - record.submitted_at) * 1000.0)


def is_running(record: JobRecord) -> bool:
    """Started and not ended: its run time grows with the clock."""
    return (
        record.state == JobState.IN_PROGRESS
        and record.started_at is not None
        and record.finished_at is None
        and record.execution_time_ms is None
    )


def _webhook_text(record: JobRecord) -> str:
    if record.webhook_deliveries:
        return (
            f"received {record.webhook_deliveries} times"
            if record.webhook_deliveries > 1
            else "received"
        )
    return "missing" if record.webhook_missing else ""


class JobTableModel(QAbstractTableModel):
    """One row per job, in the order jobs arrived; the proxy does the sorting."""

    sig_counts_changed: Signal = Signal()
    """The number of jobs per state changed (read them with ``state_counts``)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._records: list[JobRecord] = []
        self._rows: dict[str, int] = {}
        self._counts: Counter[JobState] = Counter()
        self._running: set[str] = set()  # local ids of the jobs whose run time grows
        self._now = time.time()  # the clock their run time is shown at (moved on by ``tick``)
        self._run_clock = QTimer(self)
        self._run_clock.setInterval(RUN_CLOCK_MS)
        self._run_clock.timeout.connect(self.tick)

    # -- reading ---------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        # Qt asks for every index it makes (118,000 times when 10,000 jobs are first sorted):
        # a constant, not len() of the enum, which runs Python code each time.
        return 0 if parent.isValid() else _COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(JobColumn):
            return HEADERS[JobColumn(section)]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(record, column, self._now)
        if role == SORT_ROLE:
            return self._sort_value(record, column, self._now)
        if role == RECORD_ROLE:
            return record
        if column == JobColumn.STATUS:
            return self._status_decoration(record, role)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(record, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            JobColumn.QUEUE_TIME,
            JobColumn.RUN_TIME,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def record_at(self, row: int) -> JobRecord:
        return self._records[row]

    def row_of(self, local_id: str) -> int | None:
        return self._rows.get(local_id)

    def records(self) -> list[JobRecord]:
        return list(self._records)

    @property
    def run_clock_active(self) -> bool:
        """The run-time timer runs (only while some job runs)."""
        return self._run_clock.isActive()

    def state_counts(self) -> dict[JobState, int]:
        """How many jobs are in each state (states with no job are left out)."""
        return {state: count for state, count in self._counts.items() if count}

    # -- changing ---------------------------------------------------------------------------------
    def apply_changes(self, records: Iterable[JobRecord]) -> list[JobRecord]:
        """Insert new jobs and update known ones; returns the jobs that just became terminal.

        Changed rows are announced as ranges (rows closer than ``RANGE_MERGE_GAP`` share one), new
        rows with one insert at the end.
        """
        changed_rows: list[int] = []
        added: list[JobRecord] = []
        finished: list[JobRecord] = []
        for record in records:
            row = self._rows.get(record.local_id)
            if row is None:
                added.append(record)
                continue
            previous = self._records[row]
            if previous.state != record.state:
                self._counts[previous.state] -= 1
                self._counts[record.state] += 1
                if record.terminal and not previous.terminal:
                    finished.append(record)
            self._records[row] = record
            changed_rows.append(row)
        self._now = time.time()
        self._emit_changed_ranges(changed_rows)
        if added:
            self._append(added)
        self._follow_running([*added, *(self._records[row] for row in changed_rows)])
        if added or finished or changed_rows:
            self.sig_counts_changed.emit()
        return finished

    def _emit_changed_ranges(
        self,
        rows: list[int],
        columns: tuple[int, int] = (0, _COLUMN_COUNT - 1),
        roles: list[int] | None = None,
    ) -> None:
        if not rows:
            return
        rows.sort()
        first_column, last_column = columns
        start = previous = rows[0]
        for row in [*rows[1:], None]:
            if row is not None and row <= previous + 1 + RANGE_MERGE_GAP:
                previous = row
                continue
            top, bottom = self.index(start, first_column), self.index(previous, last_column)
            if roles is None:
                self.dataChanged.emit(top, bottom)
            else:
                self.dataChanged.emit(top, bottom, roles)
            if row is not None:
                start = previous = row

    # -- the run clock ----------------------------------------------------------------------------
    def _follow_running(self, records: Iterable[JobRecord]) -> None:
        for record in records:
            if is_running(record):
                self._running.add(record.local_id)
            else:
                self._running.discard(record.local_id)
        if self._running and not self._run_clock.isActive():
            self._run_clock.start()

    def tick(self, now: float | None = None) -> None:
        """Move the running jobs' run time on to ``now`` (the clock's time): ``dataChanged`` for
        the Run time column of their rows alone. The timer stops when no job runs."""
        self._now = time.time() if now is None else now
        rows = [self._rows[local_id] for local_id in self._running if local_id in self._rows]
        if not rows:
            self._running.clear()
            self._run_clock.stop()
            return
        run_time = int(JobColumn.RUN_TIME)
        self._emit_changed_ranges(rows, (run_time, run_time), _RUN_TIME_ROLES)

    def _append(self, records: list[JobRecord]) -> None:
        # A batch may name the same new job twice; keep its latest snapshot.
        unique: dict[str, JobRecord] = {}
        for record in records:
            unique[record.local_id] = record
        first = len(self._records)
        self.beginInsertRows(QModelIndex(), first, first + len(unique) - 1)
        for offset, record in enumerate(unique.values()):
            self._records.append(record)
            self._rows[record.local_id] = first + offset
            self._counts[record.state] += 1
        self.endInsertRows()

    def remove_jobs(self, local_ids: Iterable[str]) -> None:
        """Remove jobs from the table (unknown ids are ignored); one removal per row range."""
        rows = sorted({self._rows[i] for i in local_ids if i in self._rows}, reverse=True)
        if not rows:
            return
        ranges: list[tuple[int, int]] = []
        end = start = rows[0]
        for row in rows[1:]:
            if row == start - 1:
                start = row
                continue
            ranges.append((start, end))
            end = start = row
        ranges.append((start, end))
        for first, last in ranges:  # from the bottom up, so earlier rows keep their numbers
            self.beginRemoveRows(QModelIndex(), first, last)
            for record in self._records[first : last + 1]:
                self._counts[record.state] -= 1
            del self._records[first : last + 1]
            self.endRemoveRows()
        self._rows = {record.local_id: row for row, record in enumerate(self._records)}
        self._running.intersection_update(self._rows)
        self.sig_counts_changed.emit()

    # -- presentation -----------------------------------------------------------------------------
    @staticmethod
    def _display(record: JobRecord, column: int, now: float) -> str | None:
        if column == JobColumn.JOB_ID:
            return record.job_id or "(not assigned)"
        if column == JobColumn.TARGET:
            return record.profile
        if column == JobColumn.STATUS:
            return record.state.value
        if column == JobColumn.SUBMITTED:
            return format_time(record.submitted_at)
        if column == JobColumn.QUEUE_TIME:
            return format_duration_ms(queue_time_ms(record))
        if column == JobColumn.RUN_TIME:
            return format_duration_ms(run_time_ms(record, now))
        if column == JobColumn.WORKER:
            return record.worker_id or ""
        if column == JobColumn.WEBHOOK:
            return _webhook_text(record)
        if column == JobColumn.TEMPLATE:
            return record.template or ""
        return None

    @staticmethod
    def _sort_value(record: JobRecord, column: int, now: float) -> str | float:
        if column == JobColumn.STATUS:
            return float(_STATE_ORDER[record.state])
        if column == JobColumn.SUBMITTED:
            return record.submitted_at
        if column == JobColumn.QUEUE_TIME:
            value = queue_time_ms(record)
            return _MISSING if value is None else value
        if column == JobColumn.RUN_TIME:
            value = run_time_ms(record, now)
            return _MISSING if value is None else value
        if column == JobColumn.WEBHOOK:
            return float(record.webhook_deliveries) - (0.5 if record.webhook_missing else 0.0)
        if column == JobColumn.JOB_ID:
            return record.job_id or ""
        text = JobTableModel._display(record, column, now)
        return (text or "").casefold()

    @staticmethod
    def _status_decoration(record: JobRecord, role: int) -> Any:
        if role == Qt.ItemDataRole.DecorationRole:
            return state_icon(record.state)
        if role == Qt.ItemDataRole.ForegroundRole:
            return state_color(record.state)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _status_tooltip(record)
        return None

    @staticmethod
    def _tooltip(record: JobRecord, column: int) -> str | None:
        if column == JobColumn.JOB_ID:
            return f"Job id: {record.job_id or '(none yet)'}\nLocal id: {record.local_id}"
        if column == JobColumn.SUBMITTED:
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.submitted_at))
        if column == JobColumn.WEBHOOK and record.webhook_missing:
            return "The job ended but no webhook delivery arrived."
        return None


def _status_tooltip(record: JobRecord) -> str:
    lines = [record.state.value]
    if record.note:
        lines.append(record.note)
    error = record.parsed_error
    if error is not None:
        lines.append(f"{error.type + ': ' if error.type else ''}{error.message}"[:300])
    return "\n".join(lines)


class JobFilterProxy(QSortFilterProxyModel):
    """Sorts by ``SORT_ROLE`` and keeps the jobs whose state is chosen and whose text matches."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._states: frozenset[JobState] | None = None
        self._text = ""
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def set_states(self, states: Iterable[JobState] | None) -> None:
        """Show only jobs in these states; ``None`` shows every state."""
        self.beginFilterChange()
        self._states = None if states is None else frozenset(states)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        """Show only jobs whose id, target, worker, template or state contains ``text``."""
        self.beginFilterChange()
        self._text = text.strip().casefold()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def record_at(self, proxy_row: int) -> JobRecord:
        record = self.index(proxy_row, 0).data(RECORD_ROLE)
        assert isinstance(record, JobRecord)
        return record

    def lessThan(self, source_left: AnyIndex, source_right: AnyIndex) -> bool:
        # The same order as comparing SORT_ROLE values, with one Python call per comparison
        # instead of two data() calls: sorting 10,000 jobs (the history at start) costs half.
        model = self.sourceModel()
        if not isinstance(model, JobTableModel):
            return bool(super().lessThan(source_left, source_right))
        column, now = source_left.column(), model._now
        records = model._records
        left_key: Any = JobTableModel._sort_value(records[source_left.row()], column, now)
        return bool(left_key < JobTableModel._sort_value(records[source_right.row()], column, now))

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if not isinstance(model, JobTableModel):
            return True
        record = model.record_at(source_row)
        if self._states is not None and record.state not in self._states:
            return False
        if not self._text:
            return True
        haystack = " ".join(
            part
            for part in (
                record.job_id,
                record.local_id,
                record.profile,
                record.worker_id,
                record.template,
                record.state.value,
            )
            if part
        ).casefold()
        return self._text in haystack
