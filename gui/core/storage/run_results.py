"""The results of a data run: one line per data row (its variables, status, job id, output, error)
in CSV or JSONL. ``job-console run --data --results FILE`` writes them as the jobs end; the
window's *Export data run results* (and ``export_run_results``) writes them afterwards, from the
data file and the history, both through ``RowResults``.

Columns: ``row, name, status, job_id, variables, output, error``. ``status`` is the job's state,
``INVALID`` for a row that made no valid body (``error`` says why), ``NOT_SENT`` for one whose
request could not be sent, and (export only) ``NOT_RUN`` for a valid row the history holds no job
of. In CSV ``variables`` and ``output`` are JSON text. The variables are the row's own, as the data
file holds them now.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from gui.core.errors import RequestFileError

if TYPE_CHECKING:
    from gui.core.request.datarows import DataRow
    from gui.core.request.datarun import RunTemplate
    from gui.core.storage.history import HistoryReader

__all__ = ["RESULT_COLUMNS", "RESULT_SUFFIXES", "RowResults", "export_run_results"]

RESULT_COLUMNS = ("row", "name", "status", "job_id", "variables", "output", "error")
RESULT_SUFFIXES = (".csv", ".jsonl")


class RowResults:
    """Writes one line per row to an open text file: CSV (with a header) or JSONL (``lines``)."""

    def __init__(self, handle: IO[str], lines: bool) -> None:
        self.handle, self.lines = handle, lines
        self.written = 0
        self._writer = None if lines else csv.writer(handle)
        if self._writer is not None:
            self._writer.writerow(RESULT_COLUMNS)

    @classmethod
    def open(cls, path: Path) -> RowResults:
        """Results written to ``path`` (``.csv`` or ``.jsonl``); close them when done.

        Raises ``RequestFileError`` saying what to do for another suffix or a file that can't be
        written."""
        suffix = path.suffix.lower()
        if suffix not in RESULT_SUFFIXES:
            raise RequestFileError(f"{path}: write the results to a .csv or .jsonl file.")
        try:
            handle = path.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise RequestFileError(f"{path} can't be written ({exc.strerror}).") from None
        return cls(handle, suffix == ".jsonl")

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> RowResults:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def write(
        self, row: DataRow, status: str, job_id: str | None, output: Any, error: str | None
    ) -> None:
        """One row's line (flushed: a run stopped half-way keeps what ended)."""
        item = {"row": row.number, "name": row.name, "status": status, "job_id": job_id,
                "variables": row.values, "output": output, "error": error}  # fmt: skip
        if self._writer is None:
            self.handle.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
        else:
            self._writer.writerow([
                "" if item[c] is None else
                json.dumps(item[c], ensure_ascii=False, default=str)
                if c in ("variables", "output") else item[c]
                for c in RESULT_COLUMNS
            ])  # fmt: skip
        self.handle.flush()
        self.written += 1


def export_run_results(
    reader: HistoryReader,
    template: RunTemplate,
    data: Path,
    results: RowResults,
    stopped: Callable[[], bool] | None = None,
) -> dict[str, int]:
    """Write a line for every row of ``data``: its last job in the history for this template and
    data file (``HistoryReader.row_jobs``), else ``INVALID`` or ``NOT_RUN``. Rows and jobs are
    both read in row order and merged, so memory stays that of one row. ``stopped()`` (optional)
    ends it early. Answers the count of lines per status."""
    from gui.core.request.datarows import read_rows

    file = str(template.path) if template.path is not None else None
    counts: dict[str, int] = {}
    with closing(reader.row_jobs(file, str(data))) as jobs:  # closed: the reader is let go
        job = next(jobs, None)
        for row in read_rows(data):
            if stopped is not None and stopped():
                break
            while job is not None and job.row < row.number:
                job = next(jobs, None)
            if job is not None and job.row == row.number:
                status, error = job.state, job.error or job.note
                results.write(row, status, job.job_id, job.output, error)
            else:
                prepared = template.prepare(row)
                status = "NOT_RUN" if prepared.ok else "INVALID"
                results.write(row, status, None, None, "; ".join(prepared.problems) or None)
            counts[status] = counts.get(status, 0) + 1
    return counts
