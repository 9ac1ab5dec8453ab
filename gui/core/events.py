"""What the engine tells its subscribers (the window's bridge, the command line).

Each record in an event is a snapshot: a copy that nobody mutates afterwards, safe to keep and to
read from any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from gui.core.records import JobRecord

__all__ = ["EngineEvent", "JobAdded", "JobChanged", "JobsRemoved"]


@dataclass(frozen=True, slots=True)
class JobAdded:
    """A new job entered the history (it is SUBMITTING, about to be sent)."""

    record: JobRecord


@dataclass(frozen=True, slots=True)
class JobChanged:
    """Something about a job changed: its state, times, progress, output, stream or note."""

    record: JobRecord


@dataclass(frozen=True, slots=True)
class JobsRemoved:
    """Jobs were removed from the history."""

    local_ids: tuple[str, ...]


EngineEvent = JobAdded | JobChanged | JobsRemoved
