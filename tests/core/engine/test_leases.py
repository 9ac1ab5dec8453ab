"""Several consoles on one data folder: the schema, claiming, and what a starting
console leaves alone. A real SQLite file; the multi-process cases are in
tests/integration/test_consoles_together.py."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from gui.core.engine import leases
from gui.core.engine.engine import Engine
from gui.core.engine.leases import ConsoleLease
from gui.core.records import JobRecord, JobState
from gui.core.storage.store import DB_FILENAME, MIGRATIONS, SCHEMA_VERSION, JobStore
from gui.core.targets import Target
from gui.sandbox import SandboxServer
from tests.support.waiting import wait_until

TARGET = Target(name="cloud", kind="cloud", base_url="http://127.0.0.1:9/v2", endpoint_id="ep")


def submitting(local_id: str) -> JobRecord:
    now = time.time()
    return JobRecord(local_id=local_id, profile="cloud", endpoint_id="ep", operation="run",
                     request={"input": {}}, submitted_at=now,
                     history=[(now, str(JobState.SUBMITTING))])  # fmt: skip


def history_states(path: Path, local_id: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT state FROM job_history WHERE local_id = ? ORDER BY position", (local_id,)
        ).fetchall()
    return [row[0] for row in rows]


def test_a_schema_1_history_is_migrated_and_its_unfinished_jobs_are_claimable(
    data_dir: Path,
) -> None:
    path = data_dir / DB_FILENAME
    with sqlite3.connect(path) as conn:  # a file as schema 1 left it
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER)")
        for statement in MIGRATIONS[1]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_versions VALUES ('jobs', 1)")
        conn.execute(
            "INSERT INTO jobs (local_id, profile, target_kind, base_url, endpoint_id, operation, "
            "job_id, state, request, submitted_at) VALUES ('old', 'cloud', 'cloud', 'u', 'ep', "
            "'run', 'j1', 'IN_QUEUE', '{}', 1.0)"
        )
    store = JobStore(path)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        (job,) = store.load()
    finally:
        store.close()
    assert (job.record.local_id, job.record.state, job.owner, job.change_seq) == (
        "old", JobState.IN_QUEUE, None, 0)  # fmt: skip
    lease = ConsoleLease(path, "resume")
    try:
        lease.register()
        assert lease.orphans() == ["old"]
        assert lease.claim(["old"]) == {"old"}
        assert [j.owner for j in lease.read(["old"])] == [lease.owner]
    finally:
        lease.release()


def test_a_live_consoles_jobs_are_not_claimed_and_a_gone_ones_are(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    first, second = ConsoleLease(path, "run"), ConsoleLease(path, "window")
    first.register()
    second.register()
    store = JobStore(path, owner=first.owner)
    store.save(submitting("a"), TARGET)
    store.flush().result(timeout=10)
    store.close()
    try:
        assert second.orphans() == [] and second.claim(["a"]) == set()
        first.release()  # a clean close: its unfinished jobs are free at once
        assert second.orphans() == ["a"] and second.claim(["a"]) == {"a"}
    finally:
        second.release()


def test_a_store_never_writes_a_job_another_console_took_over(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    lapsed, taker = ConsoleLease(path, "run"), ConsoleLease(path, "window")
    taker.register()
    store = JobStore(path, owner=lapsed.owner)  # never registered: as if its lease expired
    store.save(submitting("a"), TARGET)
    store.flush().result(timeout=10)
    assert taker.claim(["a"]) == {"a"}
    record = submitting("a")
    record.state = JobState.NOT_SENT
    record.history.append((time.time(), "NOT_SENT"))
    store.save(record, TARGET)
    store.flush().result(timeout=10)
    store.close()
    try:
        (job,) = taker.read(["a"])
    finally:
        taker.release()
    assert job.record.state == JobState.SUBMITTING and job.owner == taker.owner
    assert history_states(path, "a") == ["SUBMITTING"]


def test_a_starting_engine_leaves_a_live_consoles_submitting_job_alone_and_takes_it_once_it_is_gone(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "HEARTBEAT_S", 0.1)
    path = data_dir / DB_FILENAME
    sender = ConsoleLease(path, "run")  # another console, still sending job "a"
    sender.register()
    store = JobStore(path, owner=sender.owner)
    store.save(submitting("a"), TARGET)
    store.flush().result(timeout=10)
    store.close()
    engine = Engine(data_dir, sandbox=SandboxServer)
    engine.start()
    try:
        assert engine.resumed == ()
        assert {r.local_id: r.state for r in engine.jobs()} == {"a": JobState.SUBMITTING}
        assert history_states(path, "a") == ["SUBMITTING"]
        sender.release()  # it stopped without an answer: the window's next heartbeat takes it
        wait_until(lambda: {r.state for r in engine.jobs()} == {JobState.NOT_SENT})
        engine.flush().result(timeout=10)
    finally:
        engine.close()
    assert history_states(path, "a") == ["SUBMITTING", "NOT_SENT"]
