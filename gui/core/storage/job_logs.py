"""Schema 4 of the job tables: a job's worker log lines, kept with the job so they outlive the
worker (RunPod's worker logs vanish with the worker).

``store.MIGRATIONS[4]`` is ``SCHEMA_4``: the table ``job_logs``, one row per kept line, numbered
per job (``position``, from 1, in the order the lines were read). The store's writer thread appends
them (``JobStore.save_logs``) in the same transactions as the job rows, and keeps at most
``MAX_LINES_PER_JOB`` lines and ``MAX_BYTES_PER_JOB`` bytes of messages (UTF-8) per job: the
oldest lines go first, so a chatty job keeps its last 2,000 lines (or its last megabyte), where its
end and its error are.

The lines are not in the text search (``job_index``): the search covers what a job was asked and
answered, and a megabyte of log per job would make the index many times the size of the history.
They are not exported either (``transfer``, ``export``): an export is a job's record to share or
move; its log is read here, or with ``job-console logs``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

__all__ = [
    "MAX_BYTES_PER_JOB",
    "MAX_LINES_PER_JOB",
    "SCHEMA_4",
    "JobLogLine",
    "read_job_logs",
]

MAX_LINES_PER_JOB = 2_000
MAX_BYTES_PER_JOB = 1_048_576

SCHEMA_4: tuple[str, ...] = (
    """CREATE TABLE job_logs (
        local_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        worker_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        at TEXT NOT NULL,
        source TEXT NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        request_id TEXT,
        PRIMARY KEY (local_id, position)
    )""",
)

COLUMNS = ("worker_id", "event_id", "at", "source", "level", "message", "request_id")


@dataclass(frozen=True, slots=True)
class JobLogLine:
    """One kept line of a job's worker log (already redacted).

    ``request_id`` is the job's RunPod id when the line was tagged with it; ``None`` marks an
    untagged line of the job's worker written while the job ran there (``untagged``). ``at`` is
    the line's RFC 3339 time, ``position`` its number in the job's log (0 before it is stored).
    """

    worker_id: str
    event_id: str
    at: str
    source: str
    level: str
    message: str
    request_id: str | None
    position: int = 0

    @property
    def untagged(self) -> bool:
        return self.request_id is None

    @property
    def size(self) -> int:
        """What the line counts toward ``MAX_BYTES_PER_JOB``."""
        return len(self.message.encode("utf-8", "replace"))

    def row(self, local_id: str, position: int) -> tuple[object, ...]:
        return (local_id, position, *(getattr(self, name) for name in COLUMNS))

    def to_json(self) -> dict[str, object]:
        """The line as ``job-console logs --json`` and ``history show`` print it."""
        return {
            "position": self.position,
            "time": self.at,
            "worker": self.worker_id,
            "source": self.source,
            "level": self.level,
            "message": self.message,
            "requestId": self.request_id,
            "untagged": self.untagged,
        }


def read_job_logs(
    conn: sqlite3.Connection, local_id: str, *, after: int = 0, last: int | None = None
) -> list[JobLogLine]:
    """The kept lines of job ``local_id`` with a position above ``after``, oldest first; only
    the ``last`` N of them when given."""
    if last is not None:
        rows = conn.execute(
            f"SELECT {', '.join(COLUMNS)}, position FROM job_logs WHERE local_id = ? AND "
            "position > ? ORDER BY position DESC LIMIT ?",
            (local_id, after, last),
        ).fetchall()
        rows.reverse()
    else:
        rows = conn.execute(
            f"SELECT {', '.join(COLUMNS)}, position FROM job_logs WHERE local_id = ? AND "
            "position > ? ORDER BY position",
            (local_id, after),
        ).fetchall()
    return [JobLogLine(*row) for row in rows]
