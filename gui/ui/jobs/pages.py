"""Reading the job history for the job table, on the ``Lane.HISTORY`` thread (no Qt here).

``HistoryPages`` owns the table's ``HistoryReader``: opened at first use on that thread (opening may
bring the file's schema up to date) and used there alone. It reads pages of light rows
(``pages``), a refresh's whole picture in one snapshot of the file (``read``): the count, the
counts per state, the pages on screen and where the followed jobs are now, and the estimated cost
of the jobs shown (``cost``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gui.core.records import JobRecord, JobState

if TYPE_CHECKING:  # imported on the history's thread, when first read (it imports sqlite3)
    from gui.core.account.cost import CostTotal
    from gui.core.storage.history import HistoryReader, JobQuery, SortKey

__all__ = ["PAGE_ROWS", "HistoryPages", "TableRead", "TableView"]

PAGE_ROWS = 100  # rows read at once: three screens of a tall window


@dataclass(frozen=True, slots=True)
class TableView:
    """What the table shows: which jobs, in which order."""

    query: JobQuery | None = None  # None: every job
    sort: str = "submitted"  # a SortKey's value
    descending: bool = True


@dataclass(slots=True)
class TableRead:
    """One refresh's reading of the history, all from one snapshot of the file."""

    view: TableView
    count: int
    pages: dict[int, list[JobRecord]]
    counts: dict[JobState, int]
    positions: dict[str, int | None] = field(default_factory=dict)
    history_size: int = 0  # every job, whatever the query


class HistoryPages:
    """The model's reader, opened on the ``Lane.HISTORY`` thread at first use (opening may bring
    the file's schema up to date) and used on that thread alone."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reader: HistoryReader | None = None

    def reader(self) -> HistoryReader:
        if self._reader is None:
            from gui.core.storage.history import HistoryReader

            self._reader = HistoryReader(self.path)
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def pages(
        self, view: TableView, pages: Sequence[int], count: int
    ) -> tuple[int, dict[int, list[JobRecord]]]:
        """The rows of ``pages``, and the count they were read at (the model's ``count`` when the
        pages are in the first half: reading them does not depend on it)."""
        reader = self.reader()
        with reader.snapshot():
            if any(page * PAGE_ROWS > count // 2 for page in pages):
                count = reader.count(_query(view))  # read from the far end: the count must be right
            rows = {page: self._page(reader, view, page, count) for page in pages}
        return count, rows

    @staticmethod
    def _page(reader: HistoryReader, view: TableView, page: int, count: int) -> list[JobRecord]:
        offset = page * PAGE_ROWS
        if offset >= count:
            return []
        return reader.page(
            _query(view), _sort(view), view.descending, offset, PAGE_ROWS, total=count
        )

    def read(
        self,
        view: TableView,
        pages: Iterable[int],
        followed: Sequence[str],
        top_first: bool,
        span: int,
        commit_wait: Callable[[], Future[None]] | None,
    ) -> TableRead:
        """Count, counts per state, where ``followed`` are, and ``pages`` plus (``top_first``)
        those from the first followed job's row to ``span`` rows below it."""
        if commit_wait is not None:
            try:
                commit_wait().result(timeout=5)
            except Exception:  # not started, closed, or slow: read what is there
                pass
        reader = self.reader()
        with reader.snapshot():
            query, sort = _query(view), _sort(view)
            count = reader.count(query)
            positions = {
                local_id: reader.position_of(local_id, query, sort, view.descending)
                for local_id in followed
            }
            wanted = set(pages)
            top = positions.get(followed[0]) if followed and top_first else None
            if top is not None:
                wanted.update(range(top // PAGE_ROWS, (top + span) // PAGE_ROWS + 1))
            rows = {
                page: self._page(reader, view, page, count)
                for page in sorted(wanted)
                if page * PAGE_ROWS < count
            }
            counts = reader.state_counts(query)
            size = count if view.query is None else reader.count()
        return TableRead(view, count, rows, counts, positions, size)

    def cost(self, view: TableView) -> CostTotal:
        """The estimated cost of the jobs ``view`` shows, summed (a scan of them)."""
        return self.reader().cost_total(_query(view))


def _query(view: TableView) -> JobQuery:
    from gui.core.storage.history import JobQuery

    return view.query or JobQuery()


def _sort(view: TableView) -> SortKey:
    from gui.core.storage.history import SortKey

    return SortKey(view.sort)
