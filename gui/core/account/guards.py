"""Spend guards: a profile's limits on what a job may cost in retries and time, off by default.

- ``max_retries``: cancel a job RunPod has put back in the queue more than N times (``retries``
  in its status: its worker died under it; a crash loop runs up a bill, retry after retry);
- ``start_within_s``: cancel a job still waiting (IN_QUEUE) this long after it was submitted;
- ``finish_within_s``: cancel a job not ended this long after it was submitted.

RunPod's own ``policy.ttl`` deletes a job when it runs out (its status answers 404 afterwards);
a guard cancels it (``/cancel``) and the history keeps the job, with a step saying which guard
acted and a note saying why. ``check_guards`` is pure: the engine (``gui.core.engine.guards``)
asks it at every status answer of a job it follows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gui.core.records import JobRecord, JobState
from gui.core.wording import duration_words

__all__ = [
    "MAX_DEADLINE_S",
    "GuardVerdict",
    "SpendGuards",
    "check_guards",
    "parse_duration",
]

MAX_DEADLINE_S = 7 * 24 * 3600  # RunPod keeps no job longer (policy.ttl's maximum)
MAX_RETRIES_LIMIT = 1000
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)\s*(d|h|m|min|s)?)", re.I)
_UNIT_S = {"d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1, None: 1}


def parse_duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``10m``, ``1h30m``, ``2d``; ``ValueError`` in words."""
    cleaned = text.strip().lower().replace(" ", "")
    total, position = 0.0, 0
    for match in _DURATION.finditer(cleaned):
        if match.start() != position or not match.group(0):
            break
        total += float(match.group(1)) * _UNIT_S[match.group(2)]
        position = match.end()
    if not cleaned or position != len(cleaned):
        raise ValueError(
            f"{text!r} is not a duration: write seconds or a number with s, m, h or d "
            "(90, 10m, 1h30m, 2d)."
        )
    if total <= 0 or total > MAX_DEADLINE_S:
        raise ValueError(
            f"{text!r}: a deadline is more than 0 and at most 7 days (RunPod keeps no job longer)."
        )
    return total


@dataclass(frozen=True, slots=True)
class SpendGuards:
    """A profile's guards; a field that is None is off (all are, by default)."""

    max_retries: int | None = None
    start_within_s: float | None = None
    finish_within_s: float | None = None

    def __post_init__(self) -> None:
        if self.max_retries is not None and not 0 <= self.max_retries <= MAX_RETRIES_LIMIT:
            raise ValueError(
                f"max retries must be 0 to {MAX_RETRIES_LIMIT} (0 cancels at the first retry)."
            )
        for name in ("start_within_s", "finish_within_s"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= MAX_DEADLINE_S:
                raise ValueError("A deadline is more than 0 and at most 7 days.")

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.max_retries, self.start_within_s,
                                           self.finish_within_s))  # fmt: skip

    def describe(self) -> str:
        """``cancel after 3 retries, if not started within 10 min`` or ``off``."""
        parts = []
        if self.max_retries is not None:
            parts.append(f"cancel after {self.max_retries} retries")
        if self.start_within_s is not None:
            parts.append(f"if not started within {duration_words(self.start_within_s)}")
        if self.finish_within_s is not None:
            parts.append(f"if not ended within {duration_words(self.finish_within_s)}")
        if not parts:
            return "off"
        if parts[0].startswith("if"):
            parts[0] = f"cancel {parts[0]}"
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        data = {"maxRetries": self.max_retries, "startWithinS": self.start_within_s,
                "finishWithinS": self.finish_within_s}  # fmt: skip
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpendGuards:
        """Tolerant: a value that is not a number of the right range is left off."""

        def number(key: str) -> float | None:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            return float(value) if 0 < value <= MAX_DEADLINE_S else None

        raw = data.get("maxRetries")
        retries = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        return cls(
            max_retries=retries
            if retries is not None and 0 <= retries <= MAX_RETRIES_LIMIT
            else None,
            start_within_s=number("startWithinS"),
            finish_within_s=number("finishWithinS"),
        )


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """A guard that says cancel: ``kind`` (``max_retries``, ``start_within``, ``finish_within``),
    ``step`` (short, for the job's history) and ``reason`` (a sentence, for its note)."""

    kind: str
    step: str
    reason: str


def check_guards(
    guards: SpendGuards, record: JobRecord, retries: int | None, now: float
) -> GuardVerdict | None:
    """Should ``record`` (not ended, with a RunPod id) be cancelled now? ``retries`` is the
    ``retries`` of its latest status (None when RunPod did not say)."""
    if record.terminal or record.job_id is None:
        return None
    waited = now - record.submitted_at
    limit = guards.max_retries
    if limit is not None and retries is not None and retries > limit:
        return GuardVerdict(
            "max_retries",
            f"retried {retries} times (limit {limit})",
            f"Cancelled by this profile's spend guard: RunPod retried the job {retries} times "
            f"(its worker stopped under it each time), more than the limit of {limit}. Read the "
            "worker's log (the Logs tab) for why it stops.",
        )
    start = guards.start_within_s
    if start is not None and record.state is JobState.IN_QUEUE and waited > start:
        return GuardVerdict(
            "start_within",
            f"not started within {duration_words(start)}",
            f"Cancelled by this profile's spend guard: still waiting in the queue "
            f"{duration_words(waited)} after it was sent, over the limit of "
            f"{duration_words(start)} to start. Look at why it waited (the endpoint's workers).",
        )
    finish = guards.finish_within_s
    if finish is not None and waited > finish:
        return GuardVerdict(
            "finish_within",
            f"not ended within {duration_words(finish)}",
            f"Cancelled by this profile's spend guard: not ended {duration_words(waited)} "
            f"after it was sent, over the limit of {duration_words(finish)}.",
        )
    return None
