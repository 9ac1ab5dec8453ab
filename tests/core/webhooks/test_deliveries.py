"""DeliveryStore: rows in the shared SQLite file, repeats recognised, nothing secret stored."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from gui.core.webhooks.deliveries import (
    SCHEMA_COMPONENT,
    SCHEMA_VERSION,
    TOKEN_PLACEHOLDER_PATH,
    Delivery,
    DeliveryStore,
    NewDelivery,
    payload_digest,
)

COMPLETED = {"id": "job-1", "status": "COMPLETED", "output": {"text": ["hi"]}, "delayTime": 12}


def test_add_then_read_back_from_a_fresh_connection(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    store = DeliveryStore(path)
    stored = store.add(
        payload=COMPLETED,
        size=81,
        remote="127.0.0.1",
        headers={"Content-Type": "application/json"},
        job_id="job-1",
        status="COMPLETED",
        received_at=1700000000.5,
    )
    store.close()

    reopened = DeliveryStore(path)
    got = reopened.get(stored.id)
    assert got == stored
    assert got is not None
    assert got.payload == COMPLETED
    assert got.headers == {"Content-Type": "application/json"}
    assert got.path == TOKEN_PLACEHOLDER_PATH
    assert got.repeat_of is None and got.matched_local_id is None
    assert reopened.count() == 1
    assert reopened.get(stored.id + 1) is None
    reopened.close()


def test_schema_registered_and_wal_shared_with_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    store = DeliveryStore(path)
    other = sqlite3.connect(path)  # as the JobStore would: its own connection, same file
    other.execute("CREATE TABLE IF NOT EXISTS jobs (local_id TEXT PRIMARY KEY)")
    other.execute("INSERT INTO jobs VALUES ('a')")
    other.commit()
    store.add(payload={"id": "x"}, size=10, job_id="x")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    versions = dict(other.execute("SELECT component, version FROM schema_versions").fetchall())
    assert versions == {SCHEMA_COMPONENT: SCHEMA_VERSION}
    assert other.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 1
    other.close()
    store.close()


def test_same_job_status_and_payload_is_a_repeat_of_the_first(tmp_path: Path) -> None:
    store = DeliveryStore(tmp_path / "jobs.sqlite3")
    first = store.add(payload=COMPLETED, size=1, job_id="job-1", status="COMPLETED")
    store.set_matched(first.id, "local-7")
    # Same content with keys in another order: the digest is canonical.
    reordered = dict(reversed(list(COMPLETED.items())))
    second = store.add(payload=reordered, size=1, job_id="job-1", status="COMPLETED")
    third = store.add(payload=COMPLETED, size=1, job_id="job-1", status="COMPLETED")
    assert second.repeat_of == first.id and third.repeat_of == first.id
    assert second.matched_local_id == "local-7"  # a repeat shows the job its first was merged into
    # Another status, another payload or another job is not a repeat.
    failed = store.add(
        payload={**COMPLETED, "status": "FAILED"}, size=1, job_id="job-1", status="FAILED"
    )
    changed = store.add(
        payload={**COMPLETED, "delayTime": 13}, size=1, job_id="job-1", status="COMPLETED"
    )
    other_job = store.add(
        payload={**COMPLETED, "id": "job-2"}, size=1, job_id="job-2", status="COMPLETED"
    )
    assert (failed.repeat_of, changed.repeat_of, other_job.repeat_of) == (None, None, None)
    assert store.get(first.id).matched_local_id == "local-7"  # type: ignore[union-attr]
    store.close()


def test_payloads_without_a_job_id_are_never_repeats(tmp_path: Path) -> None:
    store = DeliveryStore(tmp_path / "jobs.sqlite3")
    local = {"output": {"answer": 42}}
    a = store.add(payload=local, size=1)
    b = store.add(payload=local, size=1)
    assert (a.repeat_of, b.repeat_of) == (None, None)
    store.close()


def test_digest_ignores_key_order_and_spacing_only() -> None:
    assert payload_digest({"a": 1, "b": [1, 2]}) == payload_digest({"b": [1, 2], "a": 1})
    assert payload_digest({"a": 1}) != payload_digest({"a": 1.5})
    assert payload_digest({"a": "\ud800"}) != payload_digest({"a": "x"})


def test_list_is_newest_first_with_paging_and_optional_payloads(tmp_path: Path) -> None:
    store = DeliveryStore(tmp_path / "jobs.sqlite3")
    ids = [store.add(payload={"id": f"j{i}"}, size=i, job_id=f"j{i}").id for i in range(5)]
    page = store.list(limit=2, offset=1)
    assert [d.id for d in page] == [ids[3], ids[2]]
    assert page[0].payload == {"id": "j3"}
    light = store.list(limit=10, with_payload=False)
    assert [d.id for d in light] == list(reversed(ids))
    assert all(d.payload is None for d in light)
    assert [d.id for d in store.list_after(ids[2])] == ids[3:]
    store.close()


def test_lone_surrogates_and_odd_headers_are_stored_safely(tmp_path: Path) -> None:
    store = DeliveryStore(tmp_path / "jobs.sqlite3")
    payload = {"id": "j", "output": "\ud800 broken", "emoji": "\U0001f600"}
    stored = store.add(payload=payload, size=3, job_id="j", headers={"X-Odd": "caf\udce9"})
    got = store.get(stored.id)
    assert got is not None and got.payload == payload and got.headers == {"X-Odd": "caf\udce9"}
    store.close()


def test_concurrent_writers_from_threads_lose_nothing(tmp_path: Path) -> None:
    store = DeliveryStore(tmp_path / "jobs.sqlite3")

    def write(worker: int) -> None:
        for i in range(50):
            store.add(payload={"id": f"w{worker}-{i}"}, size=1, job_id=f"w{worker}-{i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 200
    store.close()


def test_add_many_is_one_transaction_that_keeps_out_only_the_unstorable(tmp_path: Path) -> None:
    store = DeliveryStore(tmp_path / "jobs.sqlite3")
    entries = [
        NewDelivery(payload={"id": "a"}, size=1, job_id="a", status="COMPLETED"),
        NewDelivery(payload={"bad": {1, 2}}, size=1),  # a set is not JSON
        NewDelivery(payload={"id": "a"}, size=1, job_id="a", status="COMPLETED"),
    ]
    first, refused, repeat = store.add_many(entries)
    assert isinstance(refused, ValueError)
    assert isinstance(first, Delivery) and isinstance(repeat, Delivery)
    assert repeat.repeat_of == first.id  # a repeat is recognised within the same transaction
    assert store.count() == 2
    store.close()


def test_a_history_from_a_newer_console_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    DeliveryStore(path).close()
    newer = sqlite3.connect(path)
    newer.execute("UPDATE schema_versions SET version = 99 WHERE component = 'deliveries'")
    newer.commit()
    newer.close()
    with pytest.raises(RuntimeError, match="newer version"):
        DeliveryStore(path)
    check = sqlite3.connect(path)
    assert check.execute("SELECT version FROM schema_versions").fetchone()[0] == 99
    check.close()


def test_only_strict_json_is_stored(tmp_path: Path) -> None:
    store = DeliveryStore(tmp_path / "jobs.sqlite3")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            store.add(payload={"id": "x", "value": bad}, size=1, job_id="x")
    assert store.count() == 0
    store.close()
