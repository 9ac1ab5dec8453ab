"""Export jobs from the history to JSON or CSV files that people can share: no secret in them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gui.core.files import write_text_atomic
from gui.core.records import JobRecord
from gui.core.redact import redact_body

__all__ = ["CSV_COLUMNS", "EXPORT_FORMAT", "export_csv", "export_json", "record_to_dict"]

EXPORT_FORMAT = 1
"""The version of ``record_to_dict``'s shape, written in each job as ``format``. A change that an
older console would read wrongly raises it; ``history import`` refuses a job of a higher one."""

CSV_COLUMNS: tuple[str, ...] = (
    "local_id",
    "job_id",
    "profile",
    "endpoint_id",
    "operation",
    "state",
    "submitted_at",
    "started_at",
    "finished_at",
    "delay_time_ms",
    "execution_time_ms",
    "worker_id",
    "template",
    "webhook_deliveries",
    "error",
    "output",
)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="milliseconds")


def record_to_dict(record: JobRecord) -> dict[str, Any]:
    """A JSON-ready view of one job; times as ISO 8601 UTC, the request redacted once more."""
    return {
        "format": EXPORT_FORMAT,
        "local_id": record.local_id,
        "job_id": record.job_id,
        "profile": record.profile,
        "endpoint_id": record.endpoint_id,
        "operation": record.operation,
        "state": record.state.value,
        "template": record.template,
        "submitted_at": _iso(record.submitted_at),
        "started_at": _iso(record.started_at),
        "finished_at": _iso(record.finished_at),
        "delay_time_ms": record.delay_time_ms,
        "execution_time_ms": record.execution_time_ms,
        "worker_id": record.worker_id,
        # Records hold redacted bodies already; redacting again costs little and guards any path
        # that forgot.
        "request": redact_body(record.request),
        "output": record.output,
        "error": record.error,
        "progress": record.progress,
        "stream": record.stream,
        "history": [{"at": _iso(at), "state": state} for at, state in record.history],
        "webhook_deliveries": record.webhook_deliveries,
        "note": record.note,
        # Added in the same format 1: an older console's import leaves it out, reading the rest.
        "origin": redact_body(record.origin),
        # Added in format 1 too: the worker's release and GPU, the cost estimate, a guard's action.
        "facts": record.facts,
    }


def export_json(records: list[JobRecord], path: Path) -> None:
    """Write the jobs as a JSON array (atomically)."""
    data = [record_to_dict(record) for record in records]
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def export_csv(records: list[JobRecord], path: Path) -> None:
    """Write one CSV row per job (atomically); the output is compact JSON in its own column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = record_to_dict(record)
        output = row["output"]
        row["output"] = (
            "" if output is None else json.dumps(output, ensure_ascii=False, default=str)
        )
        writer.writerow(["" if row[column] is None else row[column] for column in CSV_COLUMNS])
    write_text_atomic(path, buffer.getvalue())
