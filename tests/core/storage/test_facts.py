"""What the console learned around a job (its worker's release and GPU, its cost, a guard's
action) in the history: stored (schema 6), filtered by ``release:``, exported and imported; a
schema-5 file and an export written before facts existed still open and import."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gui.core.records import GUARD_STEP, JobRecord, JobState
from gui.core.storage.history import HistoryReader, parse_search
from gui.core.storage.store import DB_FILENAME, MIGRATIONS, JobStore
from gui.core.targets import Target
from tests.support.export_helpers import reimported_with_older

TARGET = Target(name="prod", kind="cloud", base_url="https://api.example.test/v2", endpoint_id="ep")
GUARD_REASON = "Cancelled by a spend guard: RunPod retried it 4 times, more than 3."


def ran_on(local_id: str, version: int, image: str) -> JobRecord:
    return JobRecord(
        local_id=local_id, profile="prod", endpoint_id="ep", operation="run",
        request={"input": {}}, submitted_at=1000.0 + version, state=JobState.CANCELLED,
        history=[(1000.0, "IN_QUEUE"), (1001.0, f"{GUARD_STEP}cancelling: retried 4 times"),
                 (1002.0, "CANCELLED")],
        note=GUARD_REASON,
        facts={"release": f"v{version} {image}", "version": version, "image": image,
               "gpu": "NVIDIA GeForce RTX 4090", "gpu_count": 1, "worker": "w1",
               "cost": {"usd": 0.00031, "seconds": 1},
               "guard": {"kind": "max_retries", "reason": GUARD_REASON}},
    )  # fmt: skip


def saved(data_dir: Path, *records: JobRecord) -> None:
    store = JobStore(data_dir / DB_FILENAME)
    store.load()
    for record in records:
        store.save(record, TARGET)
    store.flush().result(timeout=5)
    store.close()


def test_facts_round_trip_and_release_filters_by_version_image_or_both(data_dir: Path) -> None:
    saved(data_dir, ran_on("old", 1, "me/worker:0.9"), ran_on("new", 2, "me/worker:1.0"))
    store = JobStore(data_dir / DB_FILENAME)
    loaded = {job.record.local_id: job.record for job in store.load()}
    store.close()
    facts = loaded["new"].facts
    assert facts is not None and facts["gpu"] == "NVIDIA GeForce RTX 4090"
    assert loaded["new"].release == "v2 me/worker:1.0"
    assert loaded["old"].history[1][1].startswith(GUARD_STEP)

    with HistoryReader(data_dir / DB_FILENAME) as reader:

        def found(search: str) -> list[str]:
            return [r.local_id for r in reader.page(parse_search(search))]

        assert found("release:v2") == ["new"]
        assert found("release:ME/WORKER:0.9") == ["old"]
        assert found('release:"v1 me/worker:0.9"') == ["old"]
        assert found("release:v2,v1") == ["new", "old"]
        assert found("release:v") == []  # a whole version, not a prefix
        row = reader.page(parse_search("release:v2"))[0]
    assert row.release == "v2 me/worker:1.0"  # the table's rows carry the facts


def test_a_schema_5_history_gains_the_columns_and_keeps_its_jobs(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER)")
        for version in range(1, 6):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute("INSERT INTO schema_versions VALUES ('jobs', 5)")
        conn.execute(
            "INSERT INTO jobs (local_id, profile, target_kind, base_url, endpoint_id, operation, "
            "state, request, submitted_at) VALUES ('old', 'prod', 'cloud', 'u', 'ep', 'run', "
            """'COMPLETED', '{"input": {}}', 5.0)"""
        )
    conn.close()
    store = JobStore(path)
    (loaded,) = store.load()
    assert store.schema_version() == 6
    store.close()
    assert loaded.record.local_id == "old" and loaded.record.facts is None
    assert loaded.record.release is None


def test_export_and_import_keep_facts_and_guard_steps_and_old_exports_still_import(
    data_dir: Path, tmp_path: Path
) -> None:
    saved(data_dir, ran_on("a", 2, "me/worker:1.0"))
    exported, records = reimported_with_older(data_dir, tmp_path, "facts")
    assert exported["facts"]["guard"]["kind"] == "max_retries"
    assert records["a"].facts == exported["facts"]
    assert records["a"].release == "v2 me/worker:1.0"
    assert [state for _, state in records["a"].history][1].startswith(GUARD_STEP)
    assert records["older"].facts is None
    with HistoryReader(tmp_path / "other" / DB_FILENAME) as reader:  # where it was imported
        assert [r.local_id for r in reader.page(parse_search("release:v2"))] == ["a"]
