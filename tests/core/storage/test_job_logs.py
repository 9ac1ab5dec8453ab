"""A job's worker log lines in the history (schema 4, ``job_logs``): written by the store's writer,
capped per job, removed with the job, and a schema-3 file brought up to date with its search
intact. Real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gui.core.records import JobRecord, JobState
from gui.core.storage.history import HistoryReader, SortKey, parse_search
from gui.core.storage.job_logs import MAX_BYTES_PER_JOB, MAX_LINES_PER_JOB, JobLogLine
from gui.core.storage.store import (
    DB_FILENAME,
    JOB_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    JobStore,
    _row,
)
from gui.core.targets import Target

TARGET = Target(name="prod", kind="cloud", base_url="https://api.example.test/v2", endpoint_id="ep")


def job(local_id: str, **changes: object) -> JobRecord:
    record = JobRecord(
        local_id=local_id, profile="prod", endpoint_id="ep", operation="run",
        request={"input": {"prompt": f"a lighthouse for {local_id}"}}, submitted_at=1000.0,
        history=[(1000.0, "SUBMITTING")], job_id=f"rp-{local_id}",
    )  # fmt: skip
    for key, value in changes.items():
        setattr(record, key, value)
    return record


def line(n: int, message: str | None = None, request_id: str | None = "rp-a") -> JobLogLine:
    return JobLogLine(
        "w1", f"2026-06-01T12:00:00Z/{n:012d}", "2026-06-01T12:00:00Z", "container", "INFO",
        f"line {n}" if message is None else message, request_id,
    )  # fmt: skip


def test_lines_are_kept_in_order_across_stores_and_untagged_ones_stay_marked(
    data_dir: Path,
) -> None:
    path = data_dir / DB_FILENAME
    store = JobStore(path)
    store.save(job("a"), TARGET)
    store.save_logs("a", [line(1), line(2, "print from the handler", request_id=None)])
    store.close()
    again = JobStore(path)  # a later console appends after what the file keeps
    again.load()
    again.save_logs("a", [line(3)])
    again.close()

    with HistoryReader(path) as reader:
        kept = reader.logs("a")
        assert [(x.position, x.message, x.untagged) for x in kept] == [
            (1, "line 1", False), (2, "print from the handler", True), (3, "line 3", False),
        ]  # fmt: skip
        assert [x.position for x in reader.logs("a", after=1)] == [2, 3]
        assert [x.position for x in reader.logs("a", last=1)] == [3]


def test_each_job_keeps_its_last_lines_within_the_line_and_byte_caps(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    store = JobStore(path)
    store.save(job("a"), TARGET)
    store.save(job("b"), TARGET)
    for start in range(0, MAX_LINES_PER_JOB + 500, 250):  # several commits
        store.save_logs("a", [line(n) for n in range(start + 1, start + 251)])
        store.flush().result(timeout=10)
    big = "x" * (MAX_BYTES_PER_JOB // 10)
    store.save_logs("b", [line(n, f"{n} {big}") for n in range(1, 16)])
    store.close()

    with HistoryReader(path) as reader:
        a = reader.logs("a")
        b = reader.logs("b")
    assert len(a) == MAX_LINES_PER_JOB
    assert a[0].message == "line 501" and a[-1].message == f"line {MAX_LINES_PER_JOB + 500}"
    assert sum(x.size for x in b) <= MAX_BYTES_PER_JOB
    assert [x.message.split()[0] for x in b] == [str(n) for n in range(7, 16)]


def test_removing_a_job_removes_its_lines(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    store = JobStore(path)
    store.save(job("a"), TARGET)
    store.save_logs("a", [line(1)])
    store.flush().result(timeout=10)
    store.delete(["a"])
    store.save_logs("a", [line(2)])  # a line still on its way when the job went: not kept
    store.close()

    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM job_logs").fetchone() == (0,)
    conn.close()


def schema_3_file(path: Path, records: list[JobRecord]) -> None:
    """A history as the previous release (schema 3) wrote it: its statements, its rows."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER)")
        for version in (1, 2, 3):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute("INSERT INTO schema_versions VALUES ('jobs', 3)")
        conn.execute("INSERT INTO schema_versions VALUES ('deliveries', 3)")
        # Schema 3's columns: today's less ``origin`` (schema 5), ``release`` and ``facts``
        # (schema 6), the last three of JOB_COLUMNS.
        assert JOB_COLUMNS[-3:] == ("origin", "release", "facts")
        columns = (*JOB_COLUMNS[:-3], "owner", "change_seq")
        insert = f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        for change, record in enumerate(records, start=1):
            conn.execute(insert, (*_row(record, TARGET)[:-3], None, change))
            conn.executemany(
                "INSERT INTO job_history (local_id, position, at, state) VALUES (?, ?, ?, ?)",
                [(record.local_id, i, at, state) for i, (at, state) in enumerate(record.history)],
            )
        conn.execute("UPDATE change_counter SET value = ?", (len(records),))
    conn.close()


def test_a_schema_3_history_gains_job_logs_and_keeps_its_jobs_and_search(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    records = [job(f"j{i}", state=JobState.COMPLETED, output={"caption": f"tugboat {i}"})
               for i in range(5)]  # fmt: skip
    schema_3_file(path, records)

    store = JobStore(path)
    loaded = store.load()
    store.save_logs("j3", [line(1, "loading the tugboat model", request_id="rp-j3")])
    store.close()

    assert [s.record for s in loaded] == records
    with sqlite3.connect(path) as conn:
        versions = dict(conn.execute("SELECT component, version FROM schema_versions"))
    conn.close()
    assert versions == {"jobs": SCHEMA_VERSION, "deliveries": 3}
    with HistoryReader(path) as reader:
        page = reader.page(parse_search("tugboat 3"), SortKey.SUBMITTED, False, 0, 10)
        assert [r.local_id for r in page] == ["j3"]
        assert reader.count(parse_search("tugboat")) == 5  # log lines are not searched
        assert [x.message for x in reader.logs("j3")] == ["loading the tugboat model"]


def test_a_line_read_again_by_another_console_is_kept_once(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    store = JobStore(path)
    store.save(job("a"), TARGET)
    store.save_logs("a", [line(1), line(2)])
    store.close()
    again = JobStore(path)  # took the job over and read its worker's backlog from the start
    again.load()
    again.save_logs("a", [line(1), line(2), line(3), line(3, "same second, other text")])
    again.close()

    with HistoryReader(path) as reader:
        assert [x.message for x in reader.logs("a")] == [
            "line 1", "line 2", "line 3", "same second, other text",
        ]  # fmt: skip
