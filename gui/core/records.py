"""Typed records of jobs, shared by the engine, the store, the command line and the window.

RunPod's answers are loose (keys come and go); these records are what the rest of the console sees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gui.core.limits import Operation

__all__ = [
    "GUARD_STEP",
    "TERMINAL_STATES",
    "JobError",
    "JobRecord",
    "JobState",
    "NoteKind",
    "parse_state",
    "status_unreachable_note",
]


class JobState(StrEnum):
    """RunPod's job states, plus four the console adds of its own."""

    SUBMITTING = "SUBMITTING"  # console: the request is on its way, no id yet
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"
    EXPIRED = "EXPIRED"  # console: RunPod answered 404 for a job it once knew (retention ended)
    PURGED = "PURGED"  # console: this console purged the queue it waited in (then 404)
    NOT_SENT = "NOT_SENT"  # console: the request never reached the endpoint (refused or no answer)

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {
        JobState.COMPLETED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.TIMED_OUT,
        JobState.EXPIRED,
        JobState.PURGED,
        JobState.NOT_SENT,
    }
)

# RunPod's documentation lists RUNNING too; it means the same as IN_PROGRESS.
_ALIASES = {"RUNNING": JobState.IN_PROGRESS}


def parse_state(value: object) -> JobState | None:
    """Map a status string from RunPod to a state; ``None`` for anything unrecognised."""
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    if text in _ALIASES:
        return _ALIASES[text]
    try:
        state = JobState(text)
    except ValueError:
        return None
    # The console's own states never come from the wire.
    if state in (JobState.SUBMITTING, JobState.EXPIRED, JobState.PURGED, JobState.NOT_SENT):
        return None
    return state


@dataclass(slots=True)
class JobError:
    """A FAILED job's ``error``, parsed when the handler raised (the string is then JSON)."""

    message: str
    type: str | None = None
    traceback: str | None = None
    hostname: str | None = None
    worker_id: str | None = None
    runpod_version: str | None = None
    raw: str = ""

    @classmethod
    def parse(cls, raw: object) -> JobError:
        if not isinstance(raw, str):
            dumped = json.dumps(raw) if raw is not None else ""
            return cls(message=dumped, raw=dumped)
        try:
            data = json.loads(raw)
        except ValueError:
            return cls(message=raw, raw=raw)
        if not isinstance(data, dict):
            return cls(message=raw, raw=raw)

        def field_text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(
            message=field_text("error_message") or raw,
            type=field_text("error_type"),
            traceback=field_text("error_traceback"),
            hostname=field_text("hostname"),
            worker_id=field_text("worker_id"),
            runpod_version=field_text("runpod_version"),
            raw=raw,
        )


class NoteKind(StrEnum):
    """What a record's ``note`` is about, for code that acts on it (the text is for people)."""

    STATUS_UNREACHABLE = "status unreachable"  # the last /status failed; the next answer clears it
    EXPLANATION = "explanation"  # why it was not sent, or why it ended: it stays


_STATUS_UNREACHABLE = "Could not get this job's status: "

GUARD_STEP = "GUARD: "
"""How a spend guard's action starts its step in ``JobRecord.history`` (between the states):
``GUARD: cancelling: retried 4 times (limit 3)``. Every other step is a ``JobState`` value."""


def status_unreachable_note(reason: str) -> str:
    """The note of a job whose last status request failed with ``reason``."""
    return f"{_STATUS_UNREACHABLE}{reason} The console keeps trying."


@dataclass(slots=True)
class JobRecord:
    """Everything the console knows about one job. ``local_id`` is ours; ``job_id`` is RunPod's.

    ``request`` is always the redacted body: no secret ever reaches a record.
    """

    local_id: str
    profile: str
    endpoint_id: str
    operation: Operation
    request: dict[str, Any]
    submitted_at: float  # unix time, seconds
    state: JobState = JobState.SUBMITTING
    job_id: str | None = None
    template: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    delay_time_ms: int | None = None
    execution_time_ms: int | None = None
    worker_id: str | None = None
    progress: Any = None  # the worker's progress_update value while IN_PROGRESS
    output: Any = None
    error: str | None = None  # RunPod's raw error string; see ``JobError.parse``
    stream: list[Any] = field(default_factory=list)
    # (unix time, a state, or a guard step: GUARD_STEP)
    history: list[tuple[float, str]] = field(default_factory=list)
    webhook_deliveries: int = 0
    webhook_missing: bool = False
    note: str | None = None  # the console's own explanation, e.g. why a request was not sent
    # What made the request when it came from a template with placeholders (``request`` is then
    # the body as sent, expanded): ``body`` (the template, placeholders kept, redacted),
    # ``file`` (the template or request file), ``variables`` (the values used), and from a data
    # run ``data`` (the data file), ``row`` (its number) and ``name`` (its name column).
    origin: dict[str, Any] | None = None
    # What the console learned around the job (``gui.core.account.job_facts``): ``release``,
    # ``image``, ``version``, ``gpu``, ``gpu_count``, ``data_center`` of the worker that ran it
    # (``worker`` names it), ``cost`` (its estimate once ended) and ``guard`` (a spend guard that
    # cancelled it: ``kind``, ``reason``). None until something is known.
    facts: dict[str, Any] | None = None

    @property
    def terminal(self) -> bool:
        return self.state.terminal

    @property
    def note_kind(self) -> NoteKind | None:
        """The kind of ``note``, ``None`` without one. Told from the note's text, which is what
        the history keeps, so a note read back after a restart has its kind too."""
        if self.note is None:
            return None
        if self.note.startswith(_STATUS_UNREACHABLE):
            return NoteKind.STATUS_UNREACHABLE
        return NoteKind.EXPLANATION

    @property
    def source_body(self) -> dict[str, Any]:
        """The body to edit again: the template with its placeholders when the job was made from
        one (not the 7 MB of a file it inlined), else the request as sent."""
        body = None if self.origin is None else self.origin.get("body")
        return body if isinstance(body, dict) else self.request

    @property
    def row(self) -> int | None:
        """The data row the job was made from (its number), None outside a data run."""
        row = None if self.origin is None else self.origin.get("row")
        return row if isinstance(row, int) else None

    @property
    def release(self) -> str | None:
        """The release (``v4``, or the image) of the worker that ran the job, when known."""
        value = None if self.facts is None else self.facts.get("release")
        return value if isinstance(value, str) and value else None

    @property
    def parsed_error(self) -> JobError | None:
        return None if self.error is None else JobError.parse(self.error)
