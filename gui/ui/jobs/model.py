"""The job table: a Qt model that is a window onto the job history in SQLite.

``JobTableModel`` knows how many jobs its query shows (``rowCount``) and holds only pages of rows
around the ones on screen: ``PAGE_ROWS`` rows a page, ``CACHE_PAGES`` pages at most (4,000 light
records, about 4 MB, however long the history is), read by a ``HistoryReader`` on the window's
``Lane.HISTORY`` thread. The rows are light: a row's ``request`` is ``{}`` and its output, stream
and status history are left out (``HistoryReader.page``); whoever needs a whole job reads it with
``HistoryReader.get`` (``read_in_full``). A row not read yet shows a placeholder ("…") until its
page arrives: asking for it (``data``) or for the rows on screen (``set_visible_rows``) queues its
page; one read runs at a time and takes the pages asked for most recently, so dragging the scroll
bar across a million rows reads what stops on screen, not every page it passed.

Sort (``sort``, ``set_sort``) and filters (``set_query`` with a ``JobQuery``, ``set_states`` for
the status toggles) are SQL on indexed columns; the counts per state (``state_counts``) come with
each read. The estimated cost of the jobs shown (``cost_total``, summed in SQL) follows each
read when it may have changed (a new query, a job that ended or got its estimate), at most every
``COST_INTERVAL_MS``: it scans the jobs shown.

Live changes (``apply_changes``, the bridge's batches of records): a job whose row is read updates
in place (``dataChanged`` per range of changed rows). Anything that may change the rows (a new
job, a job outside the pages read, a change of state, of the sort column, or of text a search
looks at) asks for a refresh: at most one every ``REFRESH_INTERVAL_MS``. A refresh first waits
until the engine has committed what it announced (``commit_wait``: a job just submitted may reach
the window before its row reaches the file), then reads, in one snapshot of the file, the count,
the pages on screen, the counts per state and where the ``followed`` jobs now are. When the count
and the rows on screen are the same, the rows are updated in place; otherwise the model is reset
(``modelAboutToBeReset``/``modelReset``) and the view keeps its selection and scroll position by
the followed jobs' new rows (``position``; the panel does it). Until a job's row is read again,
the newest record the bridge gave for it is shown (``latest``): the unfinished jobs are the ones
the engine announces, and they stay here until they end.

The run time of a running job is the time since it started: a timer moves it on every
``RUN_CLOCK_MS`` with one ``dataChanged`` per range of running rows read, for that column alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from gui.core.records import JobRecord, JobState
from gui.ui.jobs.cells import (
    HEADERS,
    SORTABLE,
    JobColumn,
    display,
    is_running,
    job_span_ms,
    queue_time_ms,
    run_time_ms,
    status_decoration,
    tooltip,
)
from gui.ui.jobs.pages import PAGE_ROWS, HistoryPages, TableRead, TableView
from gui.ui.tasks import Lane, Latest, run_in_background

if TYPE_CHECKING:  # the history module imports sqlite3: read on the history's thread only
    from gui.core.account.cost import CostTotal
    from gui.core.storage.history import JobQuery, SortKey

__all__ = [
    "CACHE_PAGES",
    "PAGE_ROWS",
    "RECORD_ROLE",
    "REFRESH_INTERVAL_MS",
    "RUN_CLOCK_MS",
    "JobColumn",
    "JobTableModel",
    "is_running",
    "job_span_ms",
    "queue_time_ms",
    "run_time_ms",
]

RECORD_ROLE = int(Qt.ItemDataRole.UserRole) + 1
"""``data(index, RECORD_ROLE)`` gives the row's light ``JobRecord`` (None until it is read)."""

AnyIndex = QModelIndex | QPersistentModelIndex


SORT_OF_COLUMN: dict[JobColumn, str] = {
    JobColumn.JOB_ID: "job_id",
    JobColumn.TARGET: "target",
    JobColumn.STATUS: "status",
    JobColumn.SUBMITTED: "submitted",
    JobColumn.QUEUE_TIME: "queue_time",
    JobColumn.RUN_TIME: "run_time",
    JobColumn.WORKER: "worker",
    JobColumn.WEBHOOK: "webhook",
    JobColumn.TEMPLATE: "template",
}
"""The history's sort (``SortKey``'s value) for each column: a header click sorts by it in SQL."""
COLUMN_OF_SORT = {key: column for column, key in SORT_OF_COLUMN.items()}

# The record fields each sort reads: a change to one of them may move a job.
_SORT_FIELDS: dict[str, tuple[str, ...]] = {
    "submitted": ("submitted_at",),
    "job_id": ("job_id",),
    "target": ("profile",),
    "status": ("state",),
    "queue_time": ("delay_time_ms", "started_at"),
    "run_time": ("execution_time_ms", "started_at", "finished_at"),
    "worker": ("worker_id",),
    "webhook": ("webhook_deliveries", "webhook_missing"),
    "template": ("template",),
    "finished": ("finished_at",),
}

CACHE_PAGES = 40  # pages kept at most (those nearest the rows on screen): 4,000 light rows
FETCH_PAGES = 4  # pages one read takes at most (the ones asked for last)
WANTED_PAGES = 8  # pages asked for and not read yet that are remembered (the newest)
REFRESH_INTERVAL_MS = 250  # the most often live changes make the model read again
FOLLOWED_MAX = 9  # jobs whose new row a refresh looks up (the top row on screen, the selection)
_COLUMN_COUNT = len(JobColumn)
# Changed rows closer than this share one dataChanged: a few unchanged rows repainted cost less
# than one more signal.
RANGE_MERGE_GAP = 8
RUN_CLOCK_MS = 1000  # how often the run time of running jobs moves on
# The most often the cost of the jobs shown is summed again as jobs change (a scan of them all);
# a new search or toggle sums it at once.
COST_INTERVAL_MS = 3000
_RIGHT_ALIGNED = (JobColumn.QUEUE_TIME, JobColumn.RUN_TIME, JobColumn.COST)
_RUN_TIME_ROLES = [int(Qt.ItemDataRole.DisplayRole)]
PLACEHOLDER = "…"


class JobTableModel(QAbstractTableModel):
    """One row per job the query shows, read from the history a page at a time (module
    docstring). Without ``history`` (a path to ``jobs.sqlite3``) it shows no job."""

    sig_counts_changed: Signal = Signal()
    """The number of jobs per state, or their estimated cost, changed (read them with
    ``state_counts`` and ``cost_total``)."""

    sig_read_failed: Signal = Signal(str)
    """The history could not be read: what happened, for a person."""

    def __init__(
        self,
        history: Path | None = None,
        parent: QObject | None = None,
        *,
        commit_wait: Callable[[], Future[None]] | None = None,
    ) -> None:
        super().__init__(parent)
        self._history = None if history is None else HistoryPages(Path(history))
        self.commit_wait = commit_wait
        """Called (off the Qt thread) before a refresh reads: a future set once what the engine
        announced so far is committed (``EngineBridge.flush``)."""
        self.followed: Callable[[], tuple[str | None, list[str]]] = lambda: (None, [])
        """The jobs whose new rows a refresh looks up: the one to keep at the top (None: the top
        stays the top) and the selected ones (the panel sets it)."""
        self.wait_note: Callable[[JobRecord], str | None] = lambda _record: None
        """Why a job waits, for its Status cell (None: nothing to say; the panel sets it)."""
        self._view = TableView()
        self._search: JobQuery | None = None  # None: every job (no search yet)
        self._states: frozenset[JobState] | None = None
        self._count = 0
        self.history_size: int | None = None
        """How many jobs the history holds, whatever the query (None until first read)."""
        self._counts: dict[JobState, int] = {}
        self._pages: dict[int, list[JobRecord]] = {}
        self._rows: dict[str, int] = {}  # local id -> row, for the rows read
        self._positions: dict[str, int | None] = {}  # the followed jobs' rows after a reset
        self._generation = 0  # moves on whenever rows move: older pages are dropped
        self._wanted: dict[int, None] = {}  # pages asked for, oldest first
        self._reading: set[int] = set()
        self._fetching = False
        self._visible = (0, -1)
        self._latest: dict[str, JobRecord] = {}  # the bridge's newest record per job (docstring)
        self._ended_at: dict[str, int] = {}  # ended jobs in ``_latest``: the batch they came in
        self._batches = 0
        self._refreshing = False
        self._refresh_again = False
        self._reset_due = False
        self._refresh_latest = Latest()
        self._cost: CostTotal | None = None
        self._cost_due = True  # the cost shown may be out of date: sum it at the next refresh
        self._cost_read_at = -float("inf")  # time.monotonic() of the last sum asked for
        self._cost_reading = False
        self._cost_timer = QTimer(self)
        self._cost_timer.setSingleShot(True)
        self._cost_timer.timeout.connect(self._want_cost)
        self._running: set[str] = set()  # local ids of the jobs whose run time grows
        self._now = time.time()  # the clock their run time is shown at (moved on by ``tick``)
        self._run_clock = QTimer(self)
        self._run_clock.setInterval(RUN_CLOCK_MS)
        self._run_clock.timeout.connect(self.tick)
        self._fetch_timer = QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(0)
        self._fetch_timer.timeout.connect(self._fetch)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_INTERVAL_MS)
        self._refresh_timer.timeout.connect(self._refresh_now)

    def start(self) -> None:
        """Read the count, the first page and the counts per state."""
        self._reset_due = True
        self._refresh_now()

    def close(self) -> None:
        """Close the reader (on its thread); the model shows what it has from now on."""
        history, self._history = self._history, None
        if history is not None:
            run_in_background(history.close, context=self, lane=Lane.HISTORY)

    # -- what is shown ---------------------------------------------------------------------------
    @property
    def query(self) -> JobQuery:
        """The query shown: the search and the status toggles together."""
        from gui.core.storage.history import JobQuery

        return self._view.query or JobQuery()

    @property
    def sort_key(self) -> SortKey:
        from gui.core.storage.history import SortKey

        return SortKey(self._view.sort)

    @property
    def descending(self) -> bool:
        return self._view.descending

    def set_query(self, query: JobQuery) -> None:
        """Show the jobs ``query`` finds (a search, ``parse_search``), within the toggled states."""
        self._search = query
        self._set_view(self._shown(), self._view.sort, self._view.descending)

    def set_states(self, states: Iterable[JobState] | None) -> None:
        """Show only jobs in these states (the status toggles); ``None`` shows every state."""
        self._states = None if states is None else frozenset(states)
        self._set_view(self._shown(), self._view.sort, self._view.descending)

    def _shown(self) -> JobQuery | None:
        if self._search is None and self._states is None:
            return None
        from gui.core.storage.history import JobQuery

        return (self._search or JobQuery()).with_states(self._states)

    def set_sort(self, key: SortKey | str, descending: bool) -> None:
        """Order the rows by ``key`` (ties in the order jobs were stored, the same way)."""
        self._set_view(self._view.query, str(key), descending)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's sort (a header click): by the column's ``SortKey``, in SQL."""
        if 0 <= column < _COLUMN_COUNT and JobColumn(column) in SORTABLE:
            descending = order == Qt.SortOrder.DescendingOrder
            self.set_sort(SORT_OF_COLUMN[JobColumn(column)], descending)

    def _set_view(self, query: JobQuery | None, key: str, descending: bool) -> None:
        view = TableView(query, key, descending)
        if view == self._view:
            return
        if view.query != self._view.query:  # other jobs: their cost is summed at once
            self._cost_due, self._cost_read_at = True, -float("inf")
        self._view = view
        self._reset_due = True
        self._refresh_now()

    # -- reading (Qt) ----------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        # Qt asks for every index it makes: a constant, not len() of the enum.
        return 0 if parent.isValid() else _COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < _COLUMN_COUNT:
            return HEADERS[JobColumn(section)]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or not 0 <= row < self._count:
            return None
        record = self.record_at(row)
        column = index.column()
        if record is None:
            self._want(row // PAGE_ROWS)
            if role == Qt.ItemDataRole.DisplayRole and column == JobColumn.JOB_ID:
                return PLACEHOLDER
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return display(record, column, self._now)
        if role == RECORD_ROLE:
            return record
        if column == JobColumn.STATUS:
            return status_decoration(record, role, self.wait_note(record))
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(record, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in _RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def record_at(self, row: int) -> JobRecord | None:
        """The row's light record, or None while it is not read."""
        page = self._pages.get(row // PAGE_ROWS)
        if page is None:
            return None
        offset = row % PAGE_ROWS
        return page[offset] if offset < len(page) else None

    def shown_records(self) -> list[JobRecord]:
        """The records of the rows on screen that are read."""
        first, last = self._visible
        found = (
            self.record_at(row) for row in range(max(0, first), min(last, self._count - 1) + 1)
        )
        return [record for record in found if record is not None]

    def wait_notes_changed(self) -> None:
        """``wait_note`` may say something else now: the Status cells on screen are painted
        again."""
        first, last = self._visible
        last = min(last, self._count - 1)
        if first <= last and first >= 0:
            status = int(JobColumn.STATUS)
            self.dataChanged.emit(self.index(first, status), self.index(last, status))

    def row_of(self, local_id: str) -> int | None:
        """The job's row when it is among the rows read (None: not shown, or not read)."""
        return self._rows.get(local_id)

    def position(self, local_id: str) -> int | None:
        """A followed job's row as the last reset found it (None: not shown, or not followed)."""
        row = self._rows.get(local_id)
        return row if row is not None else self._positions.get(local_id)

    def latest(self, local_id: str) -> JobRecord | None:
        """The newest whole record the bridge gave for a job still shown so (docstring)."""
        return self._latest.get(local_id)

    def cached_rows(self) -> int:
        """How many rows are held (at most ``CACHE_PAGES * PAGE_ROWS``)."""
        return sum(len(page) for page in self._pages.values())

    @property
    def run_clock_active(self) -> bool:
        """The run-time timer runs (only while some job runs)."""
        return self._run_clock.isActive()

    @property
    def busy(self) -> bool:
        """A read is asked for or on its way (tests wait for quiet)."""
        return bool(
            self._refreshing or self._fetching or self._wanted or self._refresh_timer.isActive()
            or self._reset_due or self._cost_reading
        )  # fmt: skip

    @property
    def cost_total(self) -> CostTotal | None:
        """The estimated cost of the jobs the query shows, summed (None until first read; it
        follows changes within ``COST_INTERVAL_MS``)."""
        return self._cost

    def state_counts(self) -> dict[JobState, int]:
        """How many jobs are in each state among those the search finds, the toggles aside
        (states with no job are left out)."""
        return dict(self._counts)

    def set_visible_rows(self, first: int, last: int) -> None:
        """The rows on screen (the view says): their pages, and one on each side, are read."""
        self._visible = (first, last)
        if last < first or self._count == 0:
            return
        first_page = max(0, first // PAGE_ROWS - 1)
        last_page = min((self._count - 1) // PAGE_ROWS, last // PAGE_ROWS + 1)
        for page in range(first_page, last_page + 1):
            self._want(page)

    # -- fetching pages --------------------------------------------------------------------------
    def _want(self, page: int) -> None:
        if page in self._pages or page in self._reading or self._history is None:
            return
        self._wanted.pop(page, None)
        self._wanted[page] = None
        while len(self._wanted) > WANTED_PAGES:
            del self._wanted[next(iter(self._wanted))]
        if not self._fetching and not self._fetch_timer.isActive():
            self._fetch_timer.start()

    def _fetch(self) -> None:
        history = self._history
        if self._fetching or not self._wanted or history is None:
            return
        pages = list(self._wanted)[-FETCH_PAGES:]
        for page in pages:
            del self._wanted[page]
        self._reading.update(pages)
        self._fetching = True
        view, count, generation = self._view, self._count, self._generation
        run_in_background(
            lambda: history.pages(view, pages, count),
            lambda read: self._on_pages_read(generation, pages, *read),
            self._on_fetch_failed,
            context=self,
            lane=Lane.HISTORY,
        )

    def _on_pages_read(
        self, generation: int, pages: list[int], count: int, rows: dict[int, list[JobRecord]]
    ) -> None:
        self._fetching = False
        self._reading.difference_update(pages)
        if generation == self._generation:
            if count != self._count:  # jobs came or went since: the rows moved
                self.request_refresh()
            else:
                for page, records in rows.items():
                    self._store_page(page, records)
                    if records:
                        first = page * PAGE_ROWS
                        last = first + len(records) - 1
                        self.dataChanged.emit(
                            self.index(first, 0), self.index(last, _COLUMN_COUNT - 1)
                        )
                self._evict()
        if self._wanted:
            self._fetch_timer.start()

    def _on_fetch_failed(self, error: BaseException) -> None:
        self._fetching = False
        self._reading.clear()
        self._wanted.clear()
        self.sig_read_failed.emit(_failure(error))

    def _store_page(self, page: int, records: list[JobRecord]) -> None:
        latest = self._latest
        records = [latest.get(record.local_id, record) for record in records]
        old = self._pages.get(page)
        if old is not None:
            self._forget_rows(page, old)
        self._pages[page] = records
        first = page * PAGE_ROWS
        for offset, record in enumerate(records):
            self._rows[record.local_id] = first + offset
        self._follow_running(records)

    def _forget_rows(self, page: int, records: list[JobRecord]) -> None:
        first = page * PAGE_ROWS
        for offset, record in enumerate(records):
            if self._rows.get(record.local_id) == first + offset:
                del self._rows[record.local_id]

    def _evict(self) -> None:
        """Keep the ``CACHE_PAGES`` pages nearest the rows on screen."""
        if len(self._pages) <= CACHE_PAGES:
            return
        centre = max(0, (self._visible[0] + self._visible[1]) // 2) // PAGE_ROWS
        by_distance = sorted(self._pages, key=lambda page: abs(page - centre))
        for page in by_distance[CACHE_PAGES:]:
            self._forget_rows(page, self._pages.pop(page))

    # -- refreshing ------------------------------------------------------------------------------
    def request_refresh(self) -> None:
        """Read the count and the rows on screen again, soon (at most every
        ``REFRESH_INTERVAL_MS``)."""
        if self._refreshing:
            self._refresh_again = True
        elif not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _refresh_now(self) -> None:
        history = self._history
        if history is None:
            self._reset_due = False
            return
        self._refresh_timer.stop()
        self._refreshing = True
        self._refresh_again = False
        view, batches, commit_wait = self._view, self._batches, self.commit_wait
        top, selected = self.followed()
        followed = [top] if top is not None else []
        followed += [i for i in dict.fromkeys(selected) if i != top][: FOLLOWED_MAX - 1]
        first, last = self._visible
        span = max(last - first, 0)
        # The pages on screen, and the first: after a reset the view may be at the top.
        wanted = sorted({0, *range(max(0, first) // PAGE_ROWS, max(first, last) // PAGE_ROWS + 1)})
        run_in_background(
            lambda: history.read(view, wanted, followed, top is not None, span, commit_wait),
            lambda read: self._on_refreshed(read, batches),
            self._on_refresh_failed,
            context=self,
            lane=Lane.HISTORY,
            latest=self._refresh_latest,
        )

    # -- the cost of the jobs shown --------------------------------------------------------------
    def _want_cost(self) -> None:
        """Sum the cost of the jobs shown again, now or once ``COST_INTERVAL_MS`` has passed since
        the last sum (one at a time, on the history's thread)."""
        history = self._history
        if not self._cost_due or self._cost_reading or history is None:
            return
        wait_ms = COST_INTERVAL_MS - (time.monotonic() - self._cost_read_at) * 1000.0
        if wait_ms > 0:
            if not self._cost_timer.isActive():
                self._cost_timer.start(int(wait_ms) + 1)
            return
        self._cost_timer.stop()
        self._cost_due, self._cost_read_at, self._cost_reading = False, time.monotonic(), True
        view = self._view
        run_in_background(
            lambda: history.cost(view),
            lambda cost: self._on_cost_read(view, cost),
            self._on_cost_failed,
            context=self,
            lane=Lane.HISTORY,
        )

    def _on_cost_read(self, view: TableView, cost: CostTotal) -> None:
        self._cost_reading = False
        if view != self._view:
            self._cost_due = True  # a sum of the jobs shown before: sum again
        elif cost != self._cost:
            self._cost = cost
            self.sig_counts_changed.emit()
        self._want_cost()

    def _on_cost_failed(self, error: BaseException) -> None:
        self._cost_reading = False
        self.sig_read_failed.emit(_failure(error))

    def _on_refresh_failed(self, error: BaseException) -> None:
        self._refreshing = False
        self._reset_due = False
        self.sig_read_failed.emit(_failure(error))

    def _on_refreshed(self, read: TableRead, batches: int) -> None:
        self._refreshing = False
        if read.view != self._view:  # the query or sort changed since: its own read follows
            return
        # Ended jobs announced before this read began are in the file now: read from there.
        for local_id in [i for i, batch in self._ended_at.items() if batch <= batches]:
            del self._ended_at[local_id]
            self._latest.pop(local_id, None)
        self.history_size = read.history_size
        if read.counts != self._counts:
            self._counts = read.counts
            self.sig_counts_changed.emit()
        self._want_cost()
        if not self._reset_due and self._same_rows(read):
            self._update_in_place(read)
        else:
            self._reset_to(read)
        if self._refresh_again:
            self.request_refresh()

    def _same_rows(self, read: TableRead) -> bool:
        if read.count != self._count:
            return False
        for page, records in read.pages.items():
            held = self._pages.get(page)
            if held is not None and [r.local_id for r in held] != [r.local_id for r in records]:
                return False
        return all(self._rows.get(i, row) == row for i, row in read.positions.items())

    def _update_in_place(self, read: TableRead) -> None:
        changed: list[int] = []
        for page in [page for page in self._pages if page not in read.pages]:
            self._forget_rows(page, self._pages.pop(page))  # may be stale: read again if shown
        for page, records in read.pages.items():
            held = self._pages.get(page)
            self._store_page(page, records)
            if held is None:
                changed.extend(range(page * PAGE_ROWS, page * PAGE_ROWS + len(records)))
                continue
            fresh = self._pages[page]
            changed.extend(
                page * PAGE_ROWS + offset
                for offset, (before, now) in enumerate(zip(held, fresh, strict=False))
                if before != now
            )
        self._emit_changed_ranges(changed)

    def _reset_to(self, read: TableRead) -> None:
        self.beginResetModel()
        self._reset_due = False
        self._generation += 1
        self._count = read.count
        self._pages = {}
        self._rows = {}
        self._wanted.clear()
        self._reading.clear()
        for page, records in read.pages.items():
            self._store_page(page, records)
        self._positions = read.positions
        self.endResetModel()

    # -- live changes ----------------------------------------------------------------------------
    def apply_changes(self, records: Iterable[JobRecord]) -> list[JobRecord]:
        """Show the bridge's newest records of these jobs (docstring); returns the jobs that just
        ended (seen unfinished before)."""
        self._batches += 1
        changed_rows: list[int] = []
        finished: list[JobRecord] = []
        refresh = False
        query, sort = self._view.query, self._view.sort
        for record in records:
            local_id = record.local_id
            row = self._rows.get(local_id)
            previous = self._latest.get(local_id)
            if previous is None and row is not None:
                previous = self.record_at(row)
            if previous is None:
                refresh = True  # new, or not among the rows read
            elif record.terminal and not previous.terminal:
                finished.append(record)
            if previous is None or _cost_of(previous) != _cost_of(record) or (
                    previous.terminal != record.terminal):  # fmt: skip
                self._cost_due = refresh = True
            if previous is not None and _moves(previous, record, query, sort):
                refresh = True
            self._latest[local_id] = record
            if record.terminal:
                self._ended_at[local_id] = self._batches
            if row is not None:
                page = self._pages[row // PAGE_ROWS]
                page[row % PAGE_ROWS] = record
                changed_rows.append(row)
        self._now = time.time()
        self._emit_changed_ranges(changed_rows)
        self._follow_running(records)
        if refresh:
            self.request_refresh()
        return finished

    def remove_jobs(self, local_ids: Iterable[str]) -> None:
        """Jobs removed from the history: read the rows again."""
        self._cost_due = True
        for local_id in local_ids:
            self._latest.pop(local_id, None)
            self._ended_at.pop(local_id, None)
            self._running.discard(local_id)
        self.request_refresh()

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

    # -- the run clock ---------------------------------------------------------------------------
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
        the Run time column of their rows read alone. The timer stops when no job runs."""
        self._now = time.time() if now is None else now
        if not self._running:
            self._run_clock.stop()
            return
        rows = [self._rows[i] for i in self._running if i in self._rows]
        run_time = int(JobColumn.RUN_TIME)
        self._emit_changed_ranges(rows, (run_time, run_time), _RUN_TIME_ROLES)

    # -- whole records ---------------------------------------------------------------------------
    def read_in_full(
        self,
        local_ids: Sequence[str],
        on_done: Callable[[list[JobRecord]], None],
        *,
        context: QObject,
        latest: Latest | None = None,
    ) -> None:
        """``on_done(records)`` on the Qt thread with these jobs whole (request, output, stream,
        history), in this order, those still in the history: the bridge's newest record when the
        model has one, else read with ``HistoryReader.get`` off the Qt thread."""
        known = {i: self._latest[i] for i in local_ids if i in self._latest}
        history = self._history
        missing = [i for i in local_ids if i not in known]

        def read() -> dict[str, JobRecord]:
            if history is None or not missing:
                return {}
            reader = history.reader()
            found = (reader.get(i) for i in missing)
            return {record.local_id: record for record in found if record is not None}

        def done(found: dict[str, JobRecord]) -> None:
            whole = {**found, **known}
            on_done([whole[i] for i in local_ids if i in whole])

        if not missing:
            run_in_background(dict, done, context=context, lane=Lane.SHARED, latest=latest)
            return
        run_in_background(read, done, self._on_fetch_failed_quietly, context=context,
                          lane=Lane.HISTORY, latest=latest)  # fmt: skip

    def _on_fetch_failed_quietly(self, error: BaseException) -> None:
        self.sig_read_failed.emit(_failure(error))


def _moves(old: JobRecord, new: JobRecord, query: JobQuery | None, sort: str) -> bool:
    """May this change move the job, bring it in or out of the query, or change the counts?"""
    if old.state != new.state:
        return True
    if query is not None and query.terms:  # its output or error may be new text the search finds
        return True
    return any(getattr(old, name) != getattr(new, name) for name in _SORT_FIELDS[sort])


def _cost_of(record: JobRecord) -> Any:
    return None if record.facts is None else record.facts.get("cost")


def _failure(error: BaseException) -> str:
    return f"Could not read the job history: {error}"
