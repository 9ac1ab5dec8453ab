"""What each cell of a job's row shows: the columns, their text, colour, icon and tooltip, and the
times a job's row reads (queue time, run time, the running clock). No model logic here."""

from __future__ import annotations

import time
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from gui.core.records import JobRecord, JobState
from gui.ui.jobs.style import format_duration_ms, format_time, state_color, state_icon

__all__ = [
    "HEADERS",
    "SORTABLE",
    "JobColumn",
    "cost_text",
    "cost_tooltip",
    "display",
    "is_running",
    "job_span_ms",
    "queue_time_ms",
    "run_time_ms",
    "status_decoration",
    "tooltip",
]


class JobColumn(IntEnum):
    JOB_ID = 0
    TARGET = 1
    STATUS = 2
    SUBMITTED = 3
    QUEUE_TIME = 4
    RUN_TIME = 5
    WORKER = 6
    WEBHOOK = 7
    TEMPLATE = 8
    ROW = 9  # the data run's row: "3 · third"
    COST = 10  # the estimate kept in the job's facts
    RELEASE = 11  # the release of the worker that ran it


SORTABLE = frozenset(JobColumn) - {JobColumn.ROW, JobColumn.COST, JobColumn.RELEASE}
"""The columns a header click sorts by (in SQL, on an index); the others keep the sort."""

HEADERS = {
    JobColumn.JOB_ID: "Job id",
    JobColumn.TARGET: "Target",
    JobColumn.STATUS: "Status",
    JobColumn.SUBMITTED: "Submitted",
    JobColumn.QUEUE_TIME: "Queue time",
    JobColumn.RUN_TIME: "Run time",
    JobColumn.WORKER: "Worker",
    JobColumn.WEBHOOK: "Webhook",
    JobColumn.TEMPLATE: "Template",
    JobColumn.ROW: "Row",
    JobColumn.COST: "Cost",
    JobColumn.RELEASE: "Release",
}


def queue_time_ms(record: JobRecord) -> float | None:
    """RunPod's ``delayTime``, or what the console saw when RunPod did not say."""
    if record.delay_time_ms is not None:
        return float(record.delay_time_ms)
    if record.started_at is not None:
        return max(0.0, (record.started_at - record.submitted_at) * 1000.0)
    return None


def run_time_ms(record: JobRecord, now: float | None = None) -> float | None:
    """RunPod's ``executionTime``, or the span the console saw between start and end; for a job
    running now, the time since it started (until ``now``, by default the clock's time)."""
    if record.execution_time_ms is not None:
        return float(record.execution_time_ms)
    if record.started_at is not None and record.finished_at is not None:
        return max(0.0, (record.finished_at - record.started_at) * 1000.0)
    if is_running(record):
        assert record.started_at is not None
        return max(0.0, ((time.time() if now is None else now) - record.started_at) * 1000.0)
    return None


def job_span_ms(record: JobRecord) -> float | None:
    """From submitting to the end, as the console saw it (None until the job ends)."""
    if record.finished_at is None:
        return None
    return max(0.0, (record.finished_at - record.submitted_at) * 1000.0)


def is_running(record: JobRecord) -> bool:
    """Started and not ended: its run time grows with the clock."""
    return (
        record.state == JobState.IN_PROGRESS
        and record.started_at is not None
        and record.finished_at is None
        and record.execution_time_ms is None
    )


def _webhook_text(record: JobRecord) -> str:
    if record.webhook_deliveries:
        return (
            f"received {record.webhook_deliveries} times"
            if record.webhook_deliveries > 1
            else "received"
        )
    return "missing" if record.webhook_missing else ""


# -- presentation ----------------------------------------------------------------------------------
def display(record: JobRecord, column: int, now: float) -> str | None:
    if column == JobColumn.JOB_ID:
        return record.job_id or "(not assigned)"
    if column == JobColumn.TARGET:
        return record.profile
    if column == JobColumn.STATUS:
        return record.state.value
    if column == JobColumn.SUBMITTED:
        return format_time(record.submitted_at)
    if column == JobColumn.QUEUE_TIME:
        return format_duration_ms(queue_time_ms(record))
    if column == JobColumn.RUN_TIME:
        return format_duration_ms(run_time_ms(record, now))
    if column == JobColumn.WORKER:
        return record.worker_id or ""
    if column == JobColumn.WEBHOOK:
        return _webhook_text(record)
    if column == JobColumn.TEMPLATE:
        return record.template or ""
    if column == JobColumn.ROW:
        return row_text(record)
    if column == JobColumn.COST:
        return cost_text(record)
    if column == JobColumn.RELEASE:
        return record.release or ""
    return None


def row_text(record: JobRecord) -> str:
    """The data run's row the job was made from: its number and name ("3 · third"); "" for a
    job of no data run."""
    origin = record.origin or {}
    row, name = origin.get("row"), origin.get("name")
    parts = [str(value) for value in (row, name) if value is not None and value != ""]
    return " · ".join(parts)


def _cost(record: JobRecord) -> dict[str, Any] | None:
    cost = None if record.facts is None else record.facts.get("cost")
    return cost if isinstance(cost, dict) else None


def cost_text(record: JobRecord) -> str:
    """The estimated cost (``$0.00062``); "—" when the job ended without one; "" before."""
    cost = _cost(record)
    if cost is None:
        return ""
    usd = cost.get("usd")
    if isinstance(usd, bool) or not isinstance(usd, int | float):
        return "—"
    from gui.core.account.cost import format_usd

    return format_usd(float(usd))


def cost_tooltip(record: JobRecord) -> str | None:
    """How the estimate was made and what it leaves out, or why there is none (None: no cost
    kept yet)."""
    if _cost(record) is None:
        return None
    from gui.core.account.cost import LEAVES_OUT
    from gui.core.account.job_facts import stored_cost

    estimate = stored_cost(record)
    return None if estimate is None else f"Cost: {estimate.text}. {LEAVES_OUT}"


def status_decoration(record: JobRecord, role: int, waiting: str | None = None) -> Any:
    """The Status cell's icon, colour and tooltip; ``waiting``: why the job waits (a job queued
    long, ``gui.ui.jobs.waiting``), shown as a warning icon and in the tooltip."""
    if role == Qt.ItemDataRole.DecorationRole:
        if waiting:
            from gui.ui.jobs.waiting import waiting_icon

            return waiting_icon()
        return state_icon(record.state)
    if role == Qt.ItemDataRole.ForegroundRole:
        return state_color(record.state)
    if role == Qt.ItemDataRole.ToolTipRole:
        tip = _status_tooltip(record)
        return f"{tip}\nWhy it waits: {waiting}" if waiting else tip
    return None


def tooltip(record: JobRecord, column: int) -> str | None:
    if column == JobColumn.JOB_ID:
        return f"Job id: {record.job_id or '(none yet)'}\nLocal id: {record.local_id}"
    if column == JobColumn.SUBMITTED:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.submitted_at))
    if column == JobColumn.WEBHOOK and record.webhook_missing:
        return "The job ended but no webhook delivery arrived."
    if column == JobColumn.COST:
        return cost_tooltip(record)
    if column == JobColumn.ROW and record.origin and record.origin.get("data"):
        return f"Row {row_text(record)} of {record.origin['data']}"
    return None


def _status_tooltip(record: JobRecord) -> str:
    lines = [record.state.value]
    if record.note:
        lines.append(record.note)
    error = record.parsed_error
    if error is not None:
        lines.append(f"{error.type + ': ' if error.type else ''}{error.message}"[:300])
    return "\n".join(lines)
