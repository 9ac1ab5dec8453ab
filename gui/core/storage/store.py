"""The job history: ``jobs.sqlite3`` in the data folder (WAL), written by one writer thread.

Callers on the engine loop hand over immutable snapshots with ``save``; the writer thread turns
everything queued since its last commit into one transaction (latest row per job wins), so thousands
of status changes per second cost a handful of commits and the loop never waits on the disk. A
commit starts as soon as there is something to write: an output is on disk milliseconds after it
arrived.

The file is shared with the webhook listener's delivery table; each component registers its schema
version in ``schema_versions``. Migrations run from version 1 on.

Several consoles may share the file (``gui.core.engine.leases``): every commit bumps the one-row
``change_counter`` and stamps each row it writes with the new value (``change_seq``) and with this
console's ``owner`` id; a removed job leaves a tombstone in ``job_removals``. Other consoles read
what changed since the value they last saw (``shared_view``). A commit never writes a job
another console owns, nor one that was removed: that console follows it, and the removal stands.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gui.core.errors import HistoryError
from gui.core.records import JobRecord, JobState
from gui.core.storage.job_index import SCHEMA_3, STATE_RANK
from gui.core.storage.job_logs import (
    MAX_BYTES_PER_JOB,
    MAX_LINES_PER_JOB,
    SCHEMA_4,
    JobLogLine,
)
from gui.core.storage.sqlite_file import open_database
from gui.core.targets import Target

__all__ = ["COMPONENT", "DB_FILENAME", "SCHEMA_VERSION", "JobStore", "StoredJob"]

DB_FILENAME = "jobs.sqlite3"
COMPONENT = "jobs"

__all__ += [
    "IMPORTED_OWNER",
    "JOB_COLUMNS",
    "UNFINISHED",
    "bump_change_counter",
    "migrate",
    "read_jobs",
]

UNFINISHED = (
    f"{STATE_RANK} IN ("
    + ", ".join(str(rank) for rank, state in enumerate(JobState) if not state.terminal)
    + ")"
)
"""The condition on ``jobs`` that keeps the jobs not ended yet (walks the status index)."""

IMPORTED_OWNER = "imported"
"""The ``owner`` of an unfinished job brought in by ``history import``: no console takes it over
on its own (``ConsoleLease.orphans`` leaves it out); ``history follow`` claims it when asked."""

# version -> statements that bring the previous version up to it.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE jobs (
            local_id TEXT PRIMARY KEY,
            profile TEXT NOT NULL,
            target_kind TEXT NOT NULL,
            base_url TEXT NOT NULL,
            endpoint_id TEXT NOT NULL,
            operation TEXT NOT NULL,
            job_id TEXT,
            state TEXT NOT NULL,
            request TEXT NOT NULL,
            template TEXT,
            submitted_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            delay_time_ms INTEGER,
            execution_time_ms INTEGER,
            worker_id TEXT,
            progress TEXT,
            output TEXT,
            error TEXT,
            webhook_deliveries INTEGER NOT NULL DEFAULT 0,
            webhook_missing INTEGER NOT NULL DEFAULT 0,
            note TEXT
        )""",
        "CREATE INDEX jobs_by_job_id ON jobs(job_id)",
        """CREATE TABLE job_history (
            local_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            at REAL NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (local_id, position)
        )""",
        """CREATE TABLE job_stream (
            local_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            chunk TEXT NOT NULL,
            PRIMARY KEY (local_id, position)
        )""",
    ),
    2: (
        "ALTER TABLE jobs ADD COLUMN owner TEXT",
        "ALTER TABLE jobs ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX jobs_by_change ON jobs(change_seq)",
        """CREATE TABLE consoles (
            owner TEXT PRIMARY KEY,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            kind TEXT NOT NULL,
            started_at REAL NOT NULL,
            heartbeat REAL NOT NULL,
            listener_port INTEGER
        )""",
        """CREATE TABLE job_removals (
            local_id TEXT PRIMARY KEY,
            change_seq INTEGER NOT NULL
        )""",
        "CREATE INDEX job_removals_by_change ON job_removals(change_seq)",
        """CREATE TABLE change_counter (
            one INTEGER PRIMARY KEY CHECK (one = 1),
            value INTEGER NOT NULL
        )""",
        "INSERT INTO change_counter (one, value) VALUES (1, 0)",
    ),
    3: SCHEMA_3,  # indexes for every sort and filter, text search, state counts, saved views
    4: SCHEMA_4,  # each job's worker log lines (gui.core.storage.job_logs)
    5: ("ALTER TABLE jobs ADD COLUMN origin TEXT",),  # the template, variables and row of a job
    6: (  # what the console learned around a job: its worker's release and GPU, cost, guards
        "ALTER TABLE jobs ADD COLUMN release TEXT",
        "ALTER TABLE jobs ADD COLUMN facts TEXT",
        "CREATE INDEX jobs_by_release ON jobs(release COLLATE NOCASE)",
    ),
}
SCHEMA_VERSION = max(MIGRATIONS)

# The job columns every writer fills (the store, the import); schema 3 adds the row number.
# ``release`` is ``facts``' release, in a column of its own for the ``release:`` filter.
JOB_COLUMNS = (
    "local_id", "profile", "target_kind", "base_url", "endpoint_id", "operation", "job_id", "state",
    "request", "template", "submitted_at", "started_at", "finished_at", "delay_time_ms",
    "execution_time_ms", "worker_id", "progress", "output", "error", "webhook_deliveries",
    "webhook_missing", "note", "origin", "release", "facts",
)  # fmt: skip
_WRITTEN = (*JOB_COLUMNS, "owner", "change_seq")
_UPSERT = (
    f"INSERT INTO jobs ({', '.join(_WRITTEN)}) VALUES ({', '.join('?' for _ in _WRITTEN)}) "
    f"ON CONFLICT(local_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _WRITTEN[1:])
)


@dataclass(frozen=True, slots=True)
class StoredJob:
    """A job read back from the history, with the target it was sent to."""

    record: JobRecord
    target: Target
    owner: str | None = None
    """The console that follows (or last followed) it (``gui.core.engine.leases``); None before."""
    change_seq: int = 0
    """The change number of the commit that last wrote it."""


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the job tables of the file ``conn`` opened (autocommit) up to ``SCHEMA_VERSION``."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_versions "
        "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    row = conn.execute(
        "SELECT version FROM schema_versions WHERE component = ?", (COMPONENT,)
    ).fetchone()
    current = int(row[0]) if row else 0
    if current > SCHEMA_VERSION:
        raise HistoryError(
            f"{path} was written by a newer version of the console (job schema "
            f"{current}, this one knows {SCHEMA_VERSION}). Nothing in it was changed: update the "
            "console to open it."
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Read again inside the lock: another console may have migrated meanwhile.
            row = conn.execute(
                "SELECT version FROM schema_versions WHERE component = ?", (COMPONENT,)
            ).fetchone()
            if row is None or int(row[0]) < version:
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (COMPONENT, version),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def bump_change_counter(conn: sqlite3.Connection) -> int:
    """Inside a write transaction: the next change number, which stamps what it writes."""
    conn.execute("UPDATE change_counter SET value = value + 1 WHERE one = 1")
    return int(conn.execute("SELECT value FROM change_counter WHERE one = 1").fetchone()[0])


def read_jobs(
    conn: sqlite3.Connection, where: str = "", params: Sequence[Any] = ()
) -> list[StoredJob]:
    """The jobs ``WHERE where`` (all without it), oldest first, with history and stream chunks.

    Call it inside a read transaction when the rows must agree with a change number read with them.
    """
    clause = f" WHERE {where}" if where else ""
    rows = conn.execute(
        f"SELECT {', '.join(JOB_COLUMNS)}, owner, change_seq FROM jobs{clause} "
        "ORDER BY submitted_at, rowid",
        tuple(params),
    ).fetchall()
    if not rows:
        return []
    picked = f" WHERE local_id IN (SELECT local_id FROM jobs{clause})" if where else ""
    history: dict[str, list[tuple[float, str]]] = {}
    for local_id, at, state in conn.execute(
        f"SELECT local_id, at, state FROM job_history{picked} ORDER BY local_id, position",
        tuple(params),
    ):
        history.setdefault(local_id, []).append((at, state))
    chunks: dict[str, list[Any]] = {}
    for local_id, chunk in conn.execute(
        f"SELECT local_id, chunk FROM job_stream{picked} ORDER BY local_id, position",
        tuple(params),
    ):
        chunks.setdefault(local_id, []).append(json.loads(chunk))
    return [_row_to_job(row, history, chunks) for row in rows]


def _row_to_job(
    row: Sequence[Any],
    history: dict[str, list[tuple[float, str]]],
    chunks: dict[str, list[Any]],
) -> StoredJob:
    v = dict(zip((*JOB_COLUMNS, "owner", "change_seq"), row, strict=True))
    local_id = v["local_id"]
    record = JobRecord(
        local_id=local_id,
        profile=v["profile"],
        endpoint_id=v["endpoint_id"],
        operation=v["operation"],
        request=json.loads(v["request"]),
        submitted_at=v["submitted_at"],
        state=JobState(v["state"]),
        job_id=v["job_id"],
        template=v["template"],
        started_at=v["started_at"],
        finished_at=v["finished_at"],
        delay_time_ms=v["delay_time_ms"],
        execution_time_ms=v["execution_time_ms"],
        worker_id=v["worker_id"],
        progress=_load(v["progress"]),
        output=_load(v["output"]),
        error=v["error"],
        stream=chunks.get(local_id, []),
        history=history.get(local_id, []),
        webhook_deliveries=v["webhook_deliveries"],
        webhook_missing=bool(v["webhook_missing"]),
        note=v["note"],
        origin=_load(v["origin"]),
        facts=_load(v["facts"]),
    )
    target = Target(
        name=v["profile"], kind=v["target_kind"], base_url=v["base_url"],
        endpoint_id=v["endpoint_id"],
    )  # fmt: skip
    return StoredJob(record, target, v["owner"], v["change_seq"])


@dataclass(slots=True)
class _Batch:
    rows: dict[str, tuple[JobRecord, Target]]
    history: list[tuple[str, int, float, str]]
    stream: list[tuple[str, int, str]]
    deleted: set[str]
    done: list[Future[None]]
    logs: dict[str, list[JobLogLine]] = field(default_factory=dict)


@dataclass(slots=True)
class _LogBook:
    """What the writer knows of one job's stored log: the positions and sizes still kept."""

    kept: deque[tuple[int, int]]
    next_position: int
    size: int
    seen: set[tuple[str, str, int]]  # every line kept since, to skip one read again


class JobStore:
    """Open with ``JobStore(data_dir / DB_FILENAME)``; ``load`` once; ``save`` snapshots; ``close``.

    ``save`` and ``delete`` may be called from one thread at a time (the engine loop); they never
    block on the disk. ``flush`` returns a future set once everything queued before it is committed.
    """

    def __init__(self, path: Path, owner: str | None = None) -> None:
        self.path = path
        self.owner = owner  # stamped on every row this store writes (``gui.core.engine.leases``)
        self.loaded_change = 0
        self._reading = threading.Lock()
        self._conn = open_database(path)  # the listener and other consoles share the file
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._history_written: dict[str, int] = {}
        self._stream_written: dict[str, int] = {}
        self._log_books: dict[str, _LogBook] = {}  # the writer thread's alone
        self._closed = False
        self.commits = 0  # transactions committed (for tests and the benchmark)
        self._writer = threading.Thread(
            target=self._write_loop, name="job-store-writer", daemon=True
        )
        self._writer.start()

    # -- schema --------------------------------------------------------------------------------

    def _migrate(self) -> None:
        migrate(self._conn, self.path)

    def schema_version(self) -> int:
        row = self._conn.execute(
            "SELECT version FROM schema_versions WHERE component = ?", (COMPONENT,)
        ).fetchone()
        return int(row[0]) if row else 0

    # -- reading (on start, before any save) ---------------------------------------------------

    def load(self, *, unfinished_only: bool = False) -> list[StoredJob]:
        """Every stored job (``unfinished_only``: those not ended, found by the status index
        however long the history is), oldest first, with its history and stream chunks.

        ``loaded_change`` is then the change number these rows were read at."""
        conn = self._conn
        with self._reading:  # ``close`` waits: closing a connection in use crashes the process
            if self._closed:
                raise RuntimeError("The job history was closed while it was being loaded.")
            conn.execute("BEGIN")
            try:
                jobs = read_jobs(conn, UNFINISHED if unfinished_only else "")
                self.loaded_change = int(
                    conn.execute("SELECT value FROM change_counter WHERE one = 1").fetchone()[0]
                )
            finally:
                conn.execute("COMMIT")
        self.remember(jobs)
        return jobs

    def remember(self, jobs: Iterable[StoredJob]) -> None:
        """Rows read back (at start, or claimed from another console): what they hold is written
        already, so later saves add only the rest of their history and stream."""
        for job in jobs:
            self._history_written[job.record.local_id] = len(job.record.history)
            self._stream_written[job.record.local_id] = len(job.record.stream)

    def forget(self, local_id: str) -> None:
        """The engine let the job go from memory: drop what this store knew of its saves (a job
        read back later is ``remember``-ed again). Queued saves are written all the same."""
        self._history_written.pop(local_id, None)
        self._stream_written.pop(local_id, None)

    # -- writing -------------------------------------------------------------------------------

    def save(self, record: JobRecord, target: Target) -> None:
        """Queue a snapshot for writing. ``record`` must not be mutated afterwards."""
        local_id = record.local_id
        new_history = record.history[self._history_written.get(local_id, 0) :]
        start = self._history_written.get(local_id, 0)
        self._history_written[local_id] = len(record.history)
        stream_start = self._stream_written.get(local_id, 0)
        new_chunks = record.stream[stream_start:]
        self._stream_written[local_id] = len(record.stream)
        self._queue.put(("save", (record, target, start, new_history, stream_start, new_chunks)))

    def save_logs(self, local_id: str, lines: Sequence[JobLogLine]) -> None:
        """Queue worker log lines (redacted) to append to job ``local_id``'s log, in order; the
        writer keeps the last ``MAX_LINES_PER_JOB`` lines and ``MAX_BYTES_PER_JOB`` bytes."""
        if lines:
            self._queue.put(("logs", (local_id, tuple(lines))))

    def delete(self, local_ids: Iterable[str]) -> None:
        ids = list(local_ids)
        for local_id in ids:
            self._history_written.pop(local_id, None)
            self._stream_written.pop(local_id, None)
        self._queue.put(("delete", ids))

    def flush(self) -> Future[None]:
        """A future set once everything queued so far is committed."""
        done: Future[None] = Future()
        if self._closed:
            done.set_result(None)
        else:
            self._queue.put(("flush", done))
        return done

    def close(self) -> None:
        """Write everything still queued, stop the writer thread, close the file."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(("stop", None))
        self._writer.join()
        with self._reading:
            self._conn.close()

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            items = [first]
            while True:  # take everything queued meanwhile into the same transaction
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            batch = _Batch({}, [], [], set(), [])
            stopping = self._collect(items, batch)
            try:
                self._commit(batch)
            except sqlite3.Error as exc:
                # Keep the writer alive (later batches may succeed); flushers hear of the failure.
                for future in batch.done:
                    future.set_exception(exc)
            else:
                for future in batch.done:
                    future.set_result(None)
            if stopping:
                return

    @staticmethod
    def _collect(items: list[tuple[str, Any]], batch: _Batch) -> bool:
        stopping = False
        for kind, value in items:
            if kind == "save":
                record, target, start, history, stream_start, chunks = value
                batch.rows[record.local_id] = (record, target)  # the latest snapshot wins
                batch.history.extend(
                    (record.local_id, start + i, at, str(state))
                    for i, (at, state) in enumerate(history)
                )
                batch.stream.extend(
                    (record.local_id, stream_start + i, json.dumps(chunk, ensure_ascii=False))
                    for i, chunk in enumerate(chunks)
                )
            elif kind == "logs":
                local_id, lines = value
                batch.logs.setdefault(local_id, []).extend(lines)
            elif kind == "delete":
                for local_id in value:
                    batch.rows.pop(local_id, None)
                    batch.logs.pop(local_id, None)
                    batch.deleted.add(local_id)
                batch.history = [h for h in batch.history if h[0] not in batch.deleted]
                batch.stream = [s for s in batch.stream if s[0] not in batch.deleted]
            elif kind == "flush":
                batch.done.append(value)
            elif kind == "stop":
                stopping = True
        return stopping

    def _commit(self, batch: _Batch) -> None:
        if not (batch.rows or batch.history or batch.stream or batch.deleted or batch.logs):
            return
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            change = bump_change_counter(conn)
            barred = self._barred(set(batch.rows) | {h[0] for h in batch.history} | set(batch.logs))
            conn.executemany(
                _UPSERT,
                (
                    (*_row(r, t), self.owner, change)
                    for r, t in batch.rows.values()
                    if r.local_id not in barred
                ),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO job_history (local_id, position, at, state) "
                "VALUES (?, ?, ?, ?)",
                (h for h in batch.history if h[0] not in barred),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO job_stream (local_id, position, chunk) VALUES (?, ?, ?)",
                (c for c in batch.stream if c[0] not in barred),
            )
            for local_id, lines in batch.logs.items():
                if local_id not in barred:
                    self._append_logs(local_id, lines)
            deleted = [(local_id,) for local_id in batch.deleted]
            for table in ("jobs", "job_history", "job_stream", "job_logs"):
                conn.executemany(f"DELETE FROM {table} WHERE local_id = ?", deleted)
            for local_id in batch.deleted:
                self._log_books.pop(local_id, None)
            conn.executemany(
                "INSERT OR REPLACE INTO job_removals (local_id, change_seq) VALUES (?, ?)",
                ((local_id, change) for local_id in batch.deleted),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._log_books.clear()  # read again from the file: what it holds is the truth
            raise
        self.commits += 1

    def _append_logs(self, local_id: str, lines: list[JobLogLine]) -> None:
        """Inside the writer's transaction: append ``lines`` to the job's log, then drop its
        oldest lines past the caps (``gui.core.storage.job_logs``). A line the job keeps already
        (same worker, event id and text: a second console read its worker's backlog) is skipped."""
        conn = self._conn
        book = self._log_books.get(local_id)
        if book is None:  # first lines since this store opened: read what the file keeps
            book = _LogBook(deque(), 1, 0, set())
            for position, size, worker_id, event_id, message in conn.execute(
                "SELECT position, length(CAST(message AS BLOB)), worker_id, event_id, message "
                "FROM job_logs WHERE local_id = ? ORDER BY position",
                (local_id,),
            ):
                book.kept.append((position, size))
                book.size += size
                book.next_position = position + 1
                book.seen.add(_line_key(worker_id, event_id, message))
            self._log_books[local_id] = book
        rows = []
        for line in lines:
            key = _line_key(line.worker_id, line.event_id, line.message)
            if line.event_id and key in book.seen:
                continue
            book.seen.add(key)
            size = line.size
            rows.append(line.row(local_id, book.next_position))
            book.kept.append((book.next_position, size))
            book.next_position += 1
            book.size += size
        dropped = 0
        while len(book.kept) > MAX_LINES_PER_JOB or (
            book.size > MAX_BYTES_PER_JOB and len(book.kept) > 1
        ):
            _, size = book.kept.popleft()
            book.size -= size
            dropped += 1
        if not book.kept:
            return
        first_kept = book.kept[0][0]
        conn.executemany(
            "INSERT OR REPLACE INTO job_logs (local_id, position, worker_id, event_id, at, "
            "source, level, message, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row for row in rows if int(row[1]) >= first_kept),  # type: ignore[call-overload]
        )
        if dropped:
            conn.execute(
                "DELETE FROM job_logs WHERE local_id = ? AND position < ?", (local_id, first_kept)
            )

    def _barred(self, local_ids: set[str]) -> set[str]:
        """Of ``local_ids``, those this store must not write: removed (by any console), or
        followed by another console now (this one's lease lapsed and was taken over)."""
        barred = _matching(self._conn, "SELECT local_id FROM job_removals WHERE local_id IN ({})",
                           local_ids)  # fmt: skip
        if self.owner is not None:
            barred |= owned_elsewhere(self._conn, local_ids, self.owner)
        return barred


def _line_key(worker_id: str, event_id: str, message: str) -> tuple[str, str, int]:
    """What tells a kept line from another: RunPod's event ids may be bare timestamps (shared by
    the lines of one second), so the text counts too."""
    return worker_id, event_id, hash(message)


def _matching(
    conn: sqlite3.Connection, query: str, local_ids: Iterable[str], *extra: Any
) -> set[str]:
    """The first column of ``query`` (its ``IN ({})`` filled with ``local_ids``, then ``extra``)
    over every id, in chunks under SQLite's limit on bound values."""
    ids = list(local_ids)
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        found.update(row[0] for row in conn.execute(query.format(marks), (*chunk, *extra)))
    return found


def owned_elsewhere(conn: sqlite3.Connection, local_ids: Iterable[str], owner: str) -> set[str]:
    """Of ``local_ids``, the jobs another console than ``owner`` follows."""
    return _matching(
        conn,
        "SELECT local_id FROM jobs WHERE local_id IN ({}) AND owner IS NOT NULL AND owner != ?",
        local_ids,
        owner,
    )


def _row(record: JobRecord, target: Target) -> tuple[Any, ...]:
    return (
        record.local_id, record.profile, target.kind, target.base_url, target.endpoint_id,
        record.operation, record.job_id, str(record.state),
        json.dumps(record.request, ensure_ascii=False), record.template, record.submitted_at,
        record.started_at, record.finished_at, record.delay_time_ms, record.execution_time_ms,
        record.worker_id, _dump(record.progress), _dump(record.output), record.error,
        record.webhook_deliveries, int(record.webhook_missing), record.note, _dump(record.origin),
        record.release, _dump(record.facts),
    )  # fmt: skip
