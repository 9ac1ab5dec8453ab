"""How news of a job (a poll, a submit answer, a webhook delivery) changes its record.

One set of rules for every source, so a webhook and a poll can never disagree:
- the first terminal state is final: nothing arriving later changes a terminal record;
- ``output`` while IN_PROGRESS is progress, not the result;
- a 404 for a job once known means it expired; it never becomes FAILED. When this console purged
  the queue the job was waiting in, the 404 means it was purged (``mark_purged``);
- a job of the built-in sandbox ends when the console quits (the sandbox runs inside it): it is
  marked CANCELLED with a note saying so (``mark_ended_by_quit``), not left for a 404 at the next
  start to call it expired.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gui.core.endpoint.answers import JobStatus
from gui.core.records import JobRecord, JobState

__all__ = [
    "QUIT_NOTE",
    "append_stream",
    "mark_ended_by_quit",
    "mark_expired",
    "mark_not_sent",
    "mark_purged",
    "merge_status",
    "set_state",
]

QUIT_NOTE = (
    "Ended when the console quit: the built-in sandbox runs inside the console, so its jobs stop "
    "with it. It did not fail; submit it again to run it."
)


def set_state(record: JobRecord, state: JobState, now: float) -> bool:
    """Move to ``state`` and note it in the history; ``False`` when nothing changed."""
    if record.state == state:
        return False
    record.state = state
    record.history.append((now, str(state)))
    if state == JobState.IN_PROGRESS and record.started_at is None:
        record.started_at = now
    if state.terminal and record.finished_at is None:
        record.finished_at = now
    return True


def merge_status(record: JobRecord, status: JobStatus, now: float) -> bool:
    """Fold one answer into ``record``; ``True`` when the record changed.

    A terminal record is never changed (late polls, repeated webhook deliveries, a local worker's
    later "Job ID not found").
    """
    if record.terminal:
        return False
    before = _fingerprint(record)
    if status.job_id and record.job_id is None:
        record.job_id = status.job_id
    if status.delay_time_ms is not None:
        record.delay_time_ms = status.delay_time_ms
    if status.execution_time_ms is not None:
        record.execution_time_ms = status.execution_time_ms
    if status.worker_id is not None:
        record.worker_id = status.worker_id
    append_stream(record, status.stream)
    state = status.state
    if state is None:
        return _fingerprint(record) != before
    if state.terminal:
        if status.has_output:
            record.output = status.output
        if status.error is not None:
            record.error = status.error
        if record.started_at is None and state != JobState.CANCELLED and record.delay_time_ms:
            # Never seen running (it was quick): estimate the start from the queue time.
            record.started_at = record.submitted_at + record.delay_time_ms / 1000
    elif state == JobState.IN_PROGRESS and status.has_output and status.output is not None:
        record.progress = status.output
    set_state(record, state, now)
    return _fingerprint(record) != before


def append_stream(record: JobRecord, chunks: Iterable[Any]) -> bool:
    """Keep stream chunks in the order they arrived."""
    added = list(chunks)
    record.stream.extend(added)
    return bool(added)


def mark_expired(record: JobRecord, now: float) -> bool:
    """The endpoint answered 404 for a job it once knew: its retention (or TTL) ended."""
    note = (
        "The endpoint no longer knows this job (404): its results expired after the retention "
        "period, its TTL ran out before it finished, or it was purged from the queue. It did "
        "not fail."
    )
    return _end_with_note(record, JobState.EXPIRED, note, now)


def mark_purged(record: JobRecord, now: float) -> bool:
    """404 for a job that waited in a queue this console purged: the purge removed it."""
    note = (
        "Purged: removed from the endpoint's queue by Purge queue, asked from this console, "
        "before it ran, so the endpoint no longer knows it (404). It did not fail; submit it "
        "again to run it."
    )
    return _end_with_note(record, JobState.PURGED, note, now)


def mark_ended_by_quit(record: JobRecord, now: float) -> bool:
    """A job of the built-in sandbox still open when the engine stops: it ends with the sandbox."""
    return _end_with_note(record, JobState.CANCELLED, QUIT_NOTE, now)


def _end_with_note(record: JobRecord, state: JobState, note: str, now: float) -> bool:
    """End an open job in ``state`` with ``note`` saying why; False when it had already ended."""
    if record.terminal:
        return False
    record.note = note
    return set_state(record, state, now)


def mark_not_sent(record: JobRecord, now: float, reason: str) -> bool:
    """The request did not reach the endpoint (or might not have): say why in ``note``."""
    if record.terminal:
        return False
    record.note = reason
    return set_state(record, JobState.NOT_SENT, now)


def _fingerprint(record: JobRecord) -> tuple[Any, ...]:
    return (
        record.state,
        record.job_id,
        record.delay_time_ms,
        record.execution_time_ms,
        record.worker_id,
        record.progress,
        len(record.stream),
    )
