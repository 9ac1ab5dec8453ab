"""The history in and out as files: ``job-console history show``, ``export`` and ``import``.

A job goes out in the shape of the window's export (``export.record_to_dict``: no secret, times
as ISO 8601) as a JSON array or JSON lines, read from the store a page at a time, so exporting a
million jobs costs what a page costs.

An import (a colleague's history, another machine's) is all or nothing. The file is read once,
as a stream: each job is checked and written to temporary tables of this connection (SQLite's temp
database, outside the history file, spilling to disk), so a bad line stops the import before the
history is touched, and the history is not locked while the file is read. Then one transaction
copies the new jobs in with a few SQL statements. A job is new unless the history (or an earlier
line of the file) holds its ``local_id``, or its RunPod ``job_id`` for the same endpoint: importing
a file twice adds nothing the second time. Requests are redacted as every record's are
(``gui.core.redact``). An unfinished job is stored with the owner ``IMPORTED_OWNER``, so no console
follows it on its own; ``history follow`` does when asked.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

from gui.core.errors import HistoryFileInvalid
from gui.core.limits import DEFAULT_BASE_URL
from gui.core.records import GUARD_STEP, TERMINAL_STATES, JobRecord, JobState
from gui.core.redact import redact_body
from gui.core.storage.export import EXPORT_FORMAT, record_to_dict
from gui.core.storage.sqlite_file import open_database
from gui.core.storage.store import (
    DB_FILENAME,
    IMPORTED_OWNER,
    JOB_COLUMNS,
    StoredJob,
    bump_change_counter,
    migrate,
    read_jobs,
)
from gui.core.targets import SANDBOX_ENDPOINT_ID

__all__ = [
    "ImportReport",
    "find_jobs",
    "import_history",
    "iter_records",
    "open_history",
    "write_export",
]

PAGE = 1000
"""Jobs read from the store at a time by an export."""
_STAGE_BATCH = 2000  # jobs checked before they are written to the temporary tables together
_READ_CHUNK = 1 << 16
_COPY_CACHE_KIB = 128 * 1024  # SQLite's page cache while the jobs are copied in

_TERMINAL = tuple(sorted(str(state) for state in TERMINAL_STATES))
_STATES = frozenset(str(state) for state in JobState)


def open_history(data_dir: Path) -> sqlite3.Connection:
    """A connection (autocommit) to the data folder's history, migrated to this release's
    schema; a history written by a newer release raises ``ConsoleError`` and is left as it is."""
    path = data_dir / DB_FILENAME
    conn = open_database(path, check_same_thread=True)
    try:
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


# -- reading ---------------------------------------------------------------------------------------


def find_jobs(conn: sqlite3.Connection, job_ref: str) -> list[StoredJob]:
    """The jobs whose local id or RunPod id is ``job_ref``: the local id's first, then the others
    newest first (one RunPod id may name jobs of several endpoints)."""
    jobs = read_jobs(conn, "local_id = ? OR job_id = ?", (job_ref, job_ref))
    return sorted(jobs, key=lambda job: (job.record.local_id != job_ref, -job.record.submitted_at))


def iter_records(conn: sqlite3.Connection, page: int = PAGE) -> Iterator[JobRecord]:
    """Every job of the history in the order it was recorded, ``page`` jobs read at a time,
    all from one snapshot of the file (a read transaction)."""
    conn.execute("BEGIN")
    try:
        after = 0
        while True:
            row = conn.execute(
                "SELECT max(rowid) FROM (SELECT rowid FROM jobs WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?)",
                (after, page),
            ).fetchone()
            if row[0] is None:
                return
            last = int(row[0])
            for job in read_jobs(conn, "rowid > ? AND rowid <= ?", (after, last)):
                yield job.record
            after = last
    finally:
        conn.execute("COMMIT")


def write_export(records: Iterator[JobRecord], out: IO[str], *, lines: bool) -> int:
    """Write the jobs to ``out`` as JSON lines (``lines``) or one JSON array; how many."""
    count = 0
    if not lines:
        out.write("[")
    for record in records:
        item = record_to_dict(record)
        if lines:
            out.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
        else:
            out.write(",\n" if count else "\n")
            out.write(json.dumps(item, indent=2, ensure_ascii=False, default=str))
        count += 1
    if not lines:
        out.write("\n]\n" if count else "]\n")
    return count


# -- importing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    read: int = 0
    """Jobs in the file."""
    added: int = 0
    """Jobs new to the history, now in it."""
    unfinished: list[str] = field(default_factory=list)
    """Local ids of the added jobs that had not ended: stored, not followed."""

    @property
    def already_there(self) -> int:
        """Jobs the history held already (or that an earlier line of the file held)."""
        return self.read - self.added


def import_history(conn: sqlite3.Connection, source: Path) -> ImportReport:
    """Add the jobs of ``source`` (a JSON array or JSON lines in ``record_to_dict``'s shape) to
    the history ``conn`` opened (``open_history``); all of them or, when one is wrong, none
    (``HistoryFileInvalid`` names its line and field)."""
    report = ImportReport()
    _create_stage(conn)
    try:
        try:
            with source.open(encoding="utf-8-sig", newline="\n") as handle:
                report.read = _stage(conn, _items(handle, str(source)), str(source))
        except UnicodeDecodeError as exc:
            raise HistoryFileInvalid(
                f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start}): it is not a "
                "history export. Nothing was imported."
            ) from None
        if report.read == 0:
            raise HistoryFileInvalid(
                f"{source} holds no job (an export is a JSON array, or one JSON job per line). "
                "Nothing was imported."
            )
        _copy_in(conn, report)
    finally:
        conn.execute("DROP TABLE IF EXISTS temp.import_jobs")
        conn.execute("DROP TABLE IF EXISTS temp.import_history")
        conn.execute("DROP TABLE IF EXISTS temp.import_stream")
    return report


def _create_stage(conn: sqlite3.Connection) -> None:
    columns = ", ".join(JOB_COLUMNS)
    conn.execute(f"CREATE TEMP TABLE import_jobs (seq INTEGER PRIMARY KEY, {columns})")
    conn.execute("CREATE TEMP TABLE import_history (seq INTEGER, position INTEGER, at, state)")
    conn.execute("CREATE TEMP TABLE import_stream (seq INTEGER, position INTEGER, chunk)")


def _stage(conn: sqlite3.Connection, items: Iterator[tuple[str, Any]], source: str) -> int:
    """Check every job of the file and write it to the temporary tables; how many there were."""
    jobs: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    stream: list[tuple[Any, ...]] = []
    count = 0
    marks = ", ".join("?" for _ in range(len(JOB_COLUMNS) + 1))
    columns = ", ".join(JOB_COLUMNS)

    def write() -> None:
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO import_jobs (seq, {columns}) VALUES ({marks})", jobs)
        conn.executemany("INSERT INTO import_history VALUES (?, ?, ?, ?)", history)
        conn.executemany("INSERT INTO import_stream VALUES (?, ?, ?)", stream)
        conn.execute("COMMIT")
        jobs.clear()
        history.clear()
        stream.clear()

    for where, item in items:
        count += 1
        row, states, chunks = _job_row(item, f"{source}:{where}")
        jobs.append((count, *row))
        history.extend((count, i, at, state) for i, (at, state) in enumerate(states))
        stream.extend((count, i, chunk) for i, chunk in enumerate(chunks))
        if len(jobs) >= _STAGE_BATCH:
            write()
    write()
    return count


def _copy_in(conn: sqlite3.Connection, report: ImportReport) -> None:
    """One transaction: drop what the history (or an earlier line) holds already, copy the rest."""
    # Within the file, the first line of a job wins.
    conn.execute("CREATE INDEX temp.import_jobs_by_local ON import_jobs(local_id)")
    conn.execute("CREATE INDEX temp.import_jobs_by_job ON import_jobs(endpoint_id, job_id)")
    conn.execute(
        "DELETE FROM import_jobs WHERE EXISTS (SELECT 1 FROM import_jobs AS e "
        "WHERE e.local_id = import_jobs.local_id AND e.seq < import_jobs.seq)"
    )
    conn.execute(
        "DELETE FROM import_jobs WHERE job_id IS NOT NULL AND EXISTS (SELECT 1 FROM import_jobs "
        "AS e WHERE e.endpoint_id = import_jobs.endpoint_id AND e.job_id = import_jobs.job_id "
        "AND e.seq < import_jobs.seq)"
    )
    columns = ", ".join(JOB_COLUMNS)
    open_states = f"state NOT IN ({', '.join('?' for _ in _TERMINAL)})"
    # The history's indexes take the new keys in random order: with SQLite's default 2 MB page
    # cache a million jobs took 142.5 s (7,018 jobs/s, peak 29 MB); with 128 MB, 68.7 s (14,547
    # jobs/s, peak 172 MB: the cache, whatever the size of the file). bench_import.py measures.
    conn.execute(f"PRAGMA cache_size = -{_COPY_CACHE_KIB}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "DELETE FROM import_jobs WHERE local_id IN (SELECT local_id FROM main.jobs) OR "
            "(job_id IS NOT NULL AND EXISTS (SELECT 1 FROM main.jobs AS j "
            "WHERE j.job_id = import_jobs.job_id AND j.endpoint_id = import_jobs.endpoint_id))"
        )
        change = bump_change_counter(conn)
        conn.execute(
            f"INSERT INTO main.jobs ({columns}, owner, change_seq) SELECT {columns}, "
            f"CASE WHEN {open_states} THEN ? END, ? FROM import_jobs ORDER BY seq",
            (*_TERMINAL, IMPORTED_OWNER, change),
        )
        for table, values in (("job_history", "h.position, h.at, h.state"),
                              ("job_stream", "h.position, h.chunk")):  # fmt: skip
            source = "import_history" if table == "job_history" else "import_stream"
            conn.execute(
                f"INSERT OR REPLACE INTO main.{table} SELECT j.local_id, {values} "
                f"FROM {source} AS h JOIN import_jobs AS j ON j.seq = h.seq"
            )
        # A job removed here once and imported now is wanted again: its tombstone goes.
        conn.execute(
            "DELETE FROM main.job_removals WHERE local_id IN (SELECT local_id FROM import_jobs)"
        )
        report.added = int(conn.execute("SELECT count(*) FROM import_jobs").fetchone()[0])
        report.unfinished = [
            row[0]
            for row in conn.execute(
                f"SELECT local_id FROM import_jobs WHERE {open_states} ORDER BY seq", _TERMINAL
            )
        ]
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# -- reading the file ------------------------------------------------------------------------------

_SPACE = re.compile(r"[ \t\r\n]*")


def _items(handle: IO[str], source: str) -> Iterator[tuple[str, Any]]:
    """Each job of the file with where it stands ("7", "40 (item 3 of the array)"), parsed."""
    head = handle.read(_READ_CHUNK)
    first = head.lstrip(" \t\r\n")[:1]
    handle.seek(0)
    if first == "[":
        yield from _array_items(handle, source)
    elif first in ("{", ""):
        yield from _jsonl_items(handle, source)
    else:
        raise HistoryFileInvalid(
            f"{source}:1: this is not a history export: it should be a JSON array of jobs or one "
            "JSON job per line (JSONL), as `job-console history export` or the window's Export "
            "writes. Nothing was imported."
        )


def _jsonl_items(handle: IO[str], source: str) -> Iterator[tuple[str, Any]]:
    for number, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HistoryFileInvalid(
                f"{source}:{number}:{exc.colno}: line {number} is not JSON ({exc.msg}). Each line "
                "holds one job as a JSON object. Nothing was imported."
            ) from None
        yield f"{number}", item


def _array_items(handle: IO[str], source: str) -> Iterator[tuple[str, Any]]:
    """The items of a JSON array, decoded one at a time from a buffer that holds about one."""
    decoder = json.JSONDecoder()
    buf, pos, eof = handle.read(_READ_CHUNK), 0, False
    line, counted = 1, 0  # the line at ``counted`` in ``buf``

    def line_at(at: int) -> int:
        nonlocal line, counted
        line += buf.count("\n", counted, at)
        counted = at
        return line

    def more() -> bool:
        nonlocal buf, pos, counted, eof
        if eof:
            return False
        chunk = handle.read(max(_READ_CHUNK, len(buf) - pos))  # doubles for a large item
        if not chunk:
            eof = True
            return False
        line_at(pos)
        buf, counted, pos = buf[pos:] + chunk, 0, 0
        return True

    def skip_space() -> str:
        nonlocal pos
        while True:
            match = _SPACE.match(buf, pos)
            pos = match.end() if match else pos
            if pos < len(buf) or not more():
                return buf[pos : pos + 1]

    def invalid(what: str) -> HistoryFileInvalid:
        return HistoryFileInvalid(
            f"{source}:{line_at(min(pos, len(buf)))}: {what}. Nothing was imported."
        )

    skip_space()
    pos += 1  # the "["
    index = 0
    if skip_space() == "]":
        pos += 1
    else:
        while True:
            if skip_space() != "{":
                raise invalid(f"item {index} of the array is not a JSON object (a job)")
            where = f"{line_at(pos)}"
            while True:
                try:
                    item, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    if not more():
                        pos = exc.pos
                        problem = f"item {index} of the array is not JSON ({exc.msg})"
                        raise invalid(problem) from None
            pos = end
            yield f"{where} (item {index} of the array)", item
            index += 1
            after = skip_space()
            pos += 1
            if after == "]":
                break
            if after != ",":
                pos -= 1
                raise invalid(f"expected ',' or ']' after item {index - 1} of the array")
    if skip_space() != "":
        raise invalid("something follows the end of the array")


# -- checking one job ------------------------------------------------------------------------------


def _job_row(item: Any, where: str) -> tuple[tuple[Any, ...], list[tuple[float, str]], list[str]]:
    """The ``jobs`` row of one exported job, its states and its stream chunks (JSON text)."""
    if not isinstance(item, dict):
        raise HistoryFileInvalid(f"{where}: a job is a JSON object, not {_kind(item)}. "
                                 "Nothing was imported.")  # fmt: skip
    check = _Checker(item, where)
    version = check.get("format", int, required=False)
    if version is not None and version > EXPORT_FORMAT:
        raise HistoryFileInvalid(
            f"{where}: this job was exported by a newer release of the console (format "
            f"{version}; this one reads format {EXPORT_FORMAT} and older). Update the console "
            "to import it. Nothing was imported."
        )
    local_id = check.text("local_id")
    endpoint_id = check.get("endpoint_id", str)
    operation = check.get("operation", str)
    if operation not in ("run", "runsync"):
        check.wrong("operation", "'run' or 'runsync'")
    state = check.get("state", str)
    if state not in _STATES:
        check.wrong("state", f"one of {', '.join(sorted(_STATES))}")
    request = check.get("request", dict)
    sandbox = endpoint_id == SANDBOX_ENDPOINT_ID
    row = (
        local_id, check.get("profile", str), "sandbox" if sandbox else "cloud",
        "" if sandbox else DEFAULT_BASE_URL, endpoint_id, operation,
        check.get("job_id", str, required=False), state,
        json.dumps(redact_body(request), ensure_ascii=False),
        check.get("template", str, required=False), check.time("submitted_at"),
        check.maybe_time("started_at"), check.maybe_time("finished_at"),
        check.count("delay_time_ms"), check.count("execution_time_ms"),
        check.get("worker_id", str, required=False), _dumped(item.get("progress")),
        _dumped(item.get("output")), check.get("error", str, required=False),
        check.count("webhook_deliveries") or 0, 0, check.get("note", str, required=False),
        _dumped(redact_body(check.get("origin", dict, required=False))),
        *_facts(check.get("facts", dict, required=False)),
    )  # fmt: skip
    states: list[tuple[float, str]] = []
    for i, step in enumerate(check.get("history", list, required=False) or []):
        if not isinstance(step, dict):
            raise HistoryFileInvalid(
                f"{where}: field 'history[{i}]' is {_kind(step)}; it should be an object "
                '{"at": time, "state": state}. Nothing was imported.'
            )
        inner = _Checker(step, where, f"history[{i}].")
        step_state = inner.get("state", str)
        if step_state not in _STATES and not step_state.startswith(GUARD_STEP):
            inner.wrong("state", f"one of {', '.join(sorted(_STATES))}")
        states.append((inner.time("at"), step_state))
    chunks = [json.dumps(c, ensure_ascii=False)
              for c in check.get("stream", list, required=False) or []]  # fmt: skip
    return row, states, chunks


def _facts(facts: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """The ``release`` and ``facts`` columns of an exported job's ``facts`` (None before them)."""
    if not facts:
        return None, None
    release = facts.get("release")
    return (release if isinstance(release, str) and release else None), _dumped(facts)


def _dumped(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true or false",
             int: "a number", float: "a number", type(None): "null"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


class _Checker:
    """Reads the fields of one job, raising ``HistoryFileInvalid`` naming the line and field."""

    def __init__(self, item: dict[str, Any], where: str, prefix: str = "") -> None:
        self.item, self.where, self.prefix = item, where, prefix

    def wrong(self, name: str, should: str) -> NoReturn:
        problem = f"is {_kind(self.item[name])}" if name in self.item else "is missing"
        raise HistoryFileInvalid(
            f"{self.where}: field '{self.prefix}{name}' {problem}; it should be {should}. "
            "Nothing was imported."
        )

    def get(self, name: str, kind: type, *, required: bool = True) -> Any:
        value = self.item.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.wrong(name, "a whole number" if kind is int else _kind(kind()))
        return value

    def text(self, name: str) -> str:
        value: str = self.get(name, str)
        if not value.strip():
            self.wrong(name, "a non-empty string")
        return value

    def count(self, name: str) -> int | None:
        value: int | None = self.get(name, int, required=False)
        if value is not None and value < 0:
            self.wrong(name, "a whole number from 0")
        return value

    def maybe_time(self, name: str) -> float | None:
        return None if self.item.get(name) is None else self.time(name)

    def time(self, name: str) -> float:
        """An ISO 8601 time (UTC when it names no zone), or seconds since 1970."""
        value = self.item.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                return float(value)
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                return moment.timestamp()
        self.wrong(name, "an ISO 8601 time such as 2025-01-31T12:00:00.000+00:00")
