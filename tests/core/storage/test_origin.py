"""A job's origin (template, variables, data row) in the history: stored, exported, imported; an
export written before origins existed still imports."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gui.core.records import JobRecord, JobState
from gui.core.storage.store import DB_FILENAME, MIGRATIONS, JobStore
from gui.core.targets import Target
from tests.support.export_helpers import reimported_with_older

TARGET = Target(name="prod", kind="cloud", base_url="https://api.example.test/v2", endpoint_id="ep")
ORIGIN = {
    "body": {"input": {"prompt": "{{prompt}}", "image": "{{file:cat.png}}"}},
    "file": "/tmp/t.json",
    "variables": {"prompt": "a cat", "apiKey": "rpa_SECRETSECRET"},
    "data": "/tmp/rows.csv",
    "row": 3,
    "name": "third",
}


def made_from_template(local_id: str) -> JobRecord:
    return JobRecord(
        local_id=local_id, profile="prod", endpoint_id="ep", operation="run",
        request={"input": {"prompt": "a cat", "image": "QUJD"}}, submitted_at=1000.0,
        state=JobState.FAILED, history=[(1000.0, "SUBMITTING")], origin=ORIGIN,
    )  # fmt: skip


def test_the_origin_round_trips_through_the_store_and_gives_the_template_back(
    data_dir: Path,
) -> None:
    store = JobStore(data_dir / DB_FILENAME)
    store.load()
    store.save(made_from_template("a"), TARGET)
    store.flush().result(timeout=5)
    store.close()
    again = JobStore(data_dir / DB_FILENAME)
    (loaded,) = again.load()
    again.close()
    assert loaded.record.origin == ORIGIN
    assert loaded.record.source_body == ORIGIN["body"]
    assert loaded.record.row == 3
    plain = made_from_template("b")
    plain.origin = None
    assert plain.source_body == plain.request and plain.row is None


def test_a_schema_3_history_gains_the_column_and_keeps_its_jobs(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER)")
        for version in (1, 2, 3):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute("INSERT INTO schema_versions VALUES ('jobs', 3)")
        conn.execute(
            "INSERT INTO jobs (local_id, profile, target_kind, base_url, endpoint_id, operation, "
            "state, request, submitted_at) VALUES ('old', 'prod', 'cloud', 'u', 'ep', 'run', "
            """'COMPLETED', '{"input": {}}', 5.0)"""
        )
    conn.close()
    store = JobStore(path)
    (loaded,) = store.load()
    store.close()
    assert loaded.record.local_id == "old" and loaded.record.origin is None


def test_export_and_import_keep_the_origin_redacted_and_old_exports_still_import(
    data_dir: Path, tmp_path: Path
) -> None:
    store = JobStore(data_dir / DB_FILENAME)
    store.load()
    store.save(made_from_template("a"), TARGET)
    store.flush().result(timeout=5)
    store.close()
    exported, records = reimported_with_older(data_dir, tmp_path, "origin")
    assert exported["origin"]["variables"]["apiKey"] == "<redacted>"
    assert exported["format"] == 1
    assert records["a"].origin == exported["origin"]
    assert records["a"].source_body == ORIGIN["body"]
    assert records["older"].origin is None
