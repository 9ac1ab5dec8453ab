"""Noticing webhooks that never came.

RunPod POSTs a job's result to its ``webhook`` when the job ends, trying 3 times 10 s apart. When
polling saw a job end but no delivery reached the console's own listener within that span (plus a
margin), the endpoint or the tunnel in front of the listener is broken: the job is flagged
``webhook_missing``, something a person running an endpoint needs to know.

Only webhooks aimed at the console's listener are watched (``expect_at``): a webhook pointing at
someone else's server is none of the console's business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gui.core.limits import WEBHOOK_GRACE_S
from gui.core.records import JobState

__all__ = ["WebhookWatch"]

# RunPod sends webhooks for these ends only (RUNPOD_API.md §5).
_DELIVERED_STATES = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.TIMED_OUT})


class WebhookWatch:
    """Runs on the engine loop. ``on_missing(local_id)`` is called when a delivery is overdue."""

    def __init__(self, on_missing: Callable[[str], None], grace_s: float = WEBHOOK_GRACE_S) -> None:
        self.grace_s = grace_s
        self._on_missing = on_missing
        self._prefixes: tuple[str, ...] = ()
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def expect_at(self, urls: Sequence[str]) -> None:
        """The URLs (or URL prefixes) at which this console receives webhooks."""
        self._prefixes = tuple(url for url in urls if url)

    def watches(self, request: Mapping[str, Any]) -> bool:
        webhook = request.get("webhook")
        return isinstance(webhook, str) and any(webhook.startswith(p) for p in self._prefixes)

    def job_ended(self, local_id: str, state: JobState, request: Mapping[str, Any]) -> None:
        """Polling saw the job end: start waiting for its delivery, if one is due."""
        if state not in _DELIVERED_STATES or not self.watches(request) or local_id in self._timers:
            return
        loop = asyncio.get_running_loop()
        self._timers[local_id] = loop.call_later(self.grace_s, self._overdue, local_id)

    def delivered(self, local_id: str) -> None:
        timer = self._timers.pop(local_id, None)
        if timer is not None:
            timer.cancel()

    def forget(self, local_id: str) -> None:
        self.delivered(local_id)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _overdue(self, local_id: str) -> None:
        self._timers.pop(local_id, None)
        self._on_missing(local_id)
