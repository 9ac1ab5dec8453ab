"""A history exported, and imported again beside the same export written by an older release (one
field missing): how the export format's compatibility is tested."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gui.core.records import JobRecord
from gui.core.storage.transfer import import_history, iter_records, open_history, write_export


def reimported_with_older(
    data_dir: Path, tmp_path: Path, missing: str
) -> tuple[dict[str, Any], dict[str, JobRecord]]:
    """Export the one job of ``data_dir``'s history as JSONL, then import into a new folder that
    export and a copy of its job without ``missing`` (local id "older", as a release before that
    field wrote it). The exported line, and the imported records by local id."""
    conn = open_history(data_dir)
    out = tmp_path / "out.jsonl"
    with out.open("w", encoding="utf-8") as handle:
        write_export(iter_records(conn), handle, lines=True)
    conn.close()
    (exported,) = [json.loads(line) for line in out.read_text().splitlines()]
    older = dict(exported, local_id="older", job_id=None)
    del older[missing]
    (tmp_path / "older.jsonl").write_text(json.dumps(older) + "\n", encoding="utf-8")

    other = tmp_path / "other"
    other.mkdir()
    conn = open_history(other)
    assert import_history(conn, out).added == 1
    assert import_history(conn, tmp_path / "older.jsonl").added == 1
    records = {r.local_id: r for r in iter_records(conn)}
    conn.close()
    return exported, records
