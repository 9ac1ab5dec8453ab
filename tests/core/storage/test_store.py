"""JobStore: a real SQLite file in a temporary folder."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gui.core.records import JobRecord, JobState
from gui.core.storage.store import DB_FILENAME, SCHEMA_VERSION, JobStore
from gui.core.targets import Target
from gui.core.webhooks.deliveries import DeliveryStore

TARGET = Target(name="prod", kind="cloud", base_url="https://api.example.test/v2", endpoint_id="ep")


def record(local_id: str, **changes: object) -> JobRecord:
    base = JobRecord(
        local_id=local_id, profile="prod", endpoint_id="ep", operation="run",
        request={"input": {"x": 1}, "s3Config": {"accessSecret": "<redacted>"}},
        submitted_at=1000.0, history=[(1000.0, "SUBMITTING")],
    )  # fmt: skip
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_round_trip_with_history_stream_and_target(data_dir: Path) -> None:
    store = JobStore(data_dir / DB_FILENAME)
    assert store.load() == []
    job = record("a")
    store.save(job, TARGET)
    job2 = record("a", state=JobState.COMPLETED, job_id="j-1", output={"big": "x" * 1000},
                  stream=["c1", {"c": 2}], delay_time_ms=5, execution_time_ms=7, worker_id="w",
                  progress="1/2", finished_at=1002.0,
                  history=[(1000.0, "SUBMITTING"), (1001.0, "IN_QUEUE"),
                           (1002.0, "COMPLETED")])  # fmt: skip
    store.save(job2, TARGET)
    store.flush().result(timeout=5)
    store.close()

    again = JobStore(data_dir / DB_FILENAME)
    (loaded,) = again.load()
    again.close()
    assert loaded.target == TARGET
    assert loaded.record == job2


def test_many_saves_are_batched_into_few_commits(data_dir: Path) -> None:
    store = JobStore(data_dir / DB_FILENAME)
    store.load()
    for i in range(2000):
        store.save(record(f"j{i}", state=JobState.IN_QUEUE), TARGET)
    store.flush().result(timeout=10)
    assert store.commits < 200
    store.close()
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 2000


def test_delete_removes_rows_history_and_stream(data_dir: Path) -> None:
    store = JobStore(data_dir / DB_FILENAME)
    store.load()
    store.save(record("a", stream=["x"]), TARGET)
    store.save(record("b"), TARGET)
    store.delete(["a"])
    store.close()
    again = JobStore(data_dir / DB_FILENAME)
    assert [j.record.local_id for j in again.load()] == ["b"]
    again.close()
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        assert conn.execute("SELECT count(*) FROM job_stream").fetchone()[0] == 0


def test_schema_version_is_registered_beside_other_components(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    with sqlite3.connect(path) as conn:  # the listener may have created the file first
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER)")
        conn.execute("INSERT INTO schema_versions VALUES ('deliveries', 3)")
    store = JobStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    with sqlite3.connect(path) as conn:
        rows = dict(conn.execute("SELECT component, version FROM schema_versions"))
        assert rows == {"deliveries": 3, "jobs": SCHEMA_VERSION}
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    JobStore(path).close()  # reopening does not migrate twice


def test_a_history_from_a_newer_console_is_refused_untouched(data_dir: Path) -> None:
    import pytest

    from gui.core.errors import ConsoleError

    path = data_dir / DB_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER)")
        conn.execute("INSERT INTO schema_versions VALUES ('jobs', 99)")
    with pytest.raises(ConsoleError, match="newer version"):
        JobStore(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version FROM schema_versions").fetchone() == (99,)


def test_commit_gate_shares_one_flush_among_waiters_of_one_loop_turn(data_dir: Path) -> None:
    import asyncio

    from gui.core.engine.commit_gate import CommitGate

    store = JobStore(data_dir / DB_FILENAME)
    store.load()
    flushes = 0
    real_flush = store.flush

    def counting_flush():  # type: ignore[no-untyped-def]
        nonlocal flushes
        flushes += 1
        return real_flush()

    store.flush = counting_flush  # type: ignore[method-assign]
    gate = CommitGate(store)

    async def save_then_wait(n: int) -> None:
        store.save(record(f"job{n}"), TARGET)
        await gate.committed()

    async def main() -> None:
        await asyncio.gather(*(save_then_wait(n) for n in range(100)))

    asyncio.run(main())
    assert flushes == 1
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:  # all on disk when the wait ended
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 100
    store.close()


def _modes(data_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mode & 0o777 for p in data_dir.glob(DB_FILENAME + "*")}


@pytest.mark.skipif(os.name != "posix", reason="files have no modes here")
@pytest.mark.parametrize("opened_first", ["jobs", "deliveries"])
def test_the_history_and_its_wal_files_are_the_owners_alone(
    data_dir: Path, opened_first: str
) -> None:
    previous = os.umask(0o022)  # the usual umask, whatever the test runner's
    try:
        path = data_dir / DB_FILENAME
        first: Any = JobStore(path) if opened_first == "jobs" else DeliveryStore(path)
        second: Any = DeliveryStore(path) if opened_first == "jobs" else JobStore(path)
        store = first if opened_first == "jobs" else second
        store.load()
        store.save(record("a"), TARGET)
        store.flush().result(timeout=5)
        modes = _modes(data_dir)
        first.close()
        second.close()
    finally:
        os.umask(previous)
    assert {DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}, {name: oct(mode) for name, mode in modes.items()}


@pytest.mark.skipif(os.name != "posix", reason="files have no modes here")
def test_a_history_left_readable_by_others_is_narrowed(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    JobStore(path).close()
    for name in (DB_FILENAME, DB_FILENAME + "-wal"):
        (data_dir / name).touch()
        (data_dir / name).chmod(0o644)  # as an earlier version left them
    store = JobStore(path)
    assert store.load() == []
    store.close()
    assert set(_modes(data_dir).values()) == {0o600}
