"""RunPod's per-endpoint rate limits: requests per sliding window and requests in flight."""

from __future__ import annotations

import math
import time
from collections import deque

from gui.core.limits import RATE_LIMITS, RATE_WINDOW_S

__all__ = ["RateLimiter"]


class RateLimiter:
    """Counts requests per ``(endpoint, operation)``; ``acquire`` says how long to back off.

    Limits are RUNPOD_API.md §4 (``gui.core.limits.RATE_LIMITS``), with ``overrides`` replacing
    single operations. An operation without a limit is never refused.
    """

    def __init__(
        self,
        overrides: dict[str, tuple[int, int | None]] | None = None,
        window_s: float = RATE_WINDOW_S,
    ) -> None:
        self._limits = {**RATE_LIMITS, **(overrides or {})}
        self._window_s = window_s
        self._recent: dict[tuple[str, str], deque[float]] = {}
        self._in_flight: dict[tuple[str, str], int] = {}

    def acquire(self, endpoint_id: str, operation: str) -> float | None:
        """Count a request: ``None`` if allowed (then ``release`` it after), else Retry-After s."""
        limit = self._limits.get(operation)
        if limit is None:
            return None
        per_window, concurrent = limit
        key = (endpoint_id, operation)
        now = time.monotonic()
        recent = self._recent.setdefault(key, deque())
        while recent and recent[0] <= now - self._window_s:
            recent.popleft()
        if len(recent) >= per_window:
            return max(1.0, math.ceil(recent[0] + self._window_s - now))
        in_flight = self._in_flight.get(key, 0)
        if concurrent is not None and in_flight >= concurrent:
            return 1.0
        recent.append(now)
        self._in_flight[key] = in_flight + 1
        return None

    def release(self, endpoint_id: str, operation: str) -> None:
        key = (endpoint_id, operation)
        if key in self._in_flight:
            self._in_flight[key] = max(0, self._in_flight[key] - 1)
