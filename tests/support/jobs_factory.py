"""Job records for UI tests, shaped like the engine's snapshots."""

from __future__ import annotations

import dataclasses
from typing import Any

from gui.core.records import JobRecord, JobState


def make_record(local_id: str, state: JobState = JobState.IN_QUEUE, **changes: Any) -> JobRecord:
    values: dict[str, Any] = {
        "local_id": local_id,
        "profile": "Sandbox",
        "endpoint_id": "sandbox",
        "operation": "run",
        "request": {"input": {"prompt": f"hello {local_id}"}},
        "submitted_at": 1_700_000_000.0,
        "state": state,
        "job_id": f"job-{local_id}",
    }
    values.update(changes)
    return JobRecord(**values)


def evolve(record: JobRecord, **changes: Any) -> JobRecord:
    """A new snapshot of the same job, as the engine would emit it."""
    return dataclasses.replace(record, **changes)
