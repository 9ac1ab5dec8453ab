"""A client-side limiter that keeps the console under RunPod's published rate limits.

RunPod counts requests per endpoint and operation over 10 seconds and caps concurrent requests
(``limits.RATE_LIMITS``). The limiter enforces both on our side so that a batch never earns a 429 of
its own making: a sliding log of the last N grants (strict: no 10-second window anywhere holds more
than N) and a semaphore for concurrency.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from gui.core.limits import RATE_LIMITS, RATE_WINDOW_S

__all__ = ["EndpointLimiter", "OperationLimiter"]


class OperationLimiter:
    """Limits one operation of one endpoint: ``requests`` per ``window`` seconds, ``concurrent``."""

    def __init__(
        self,
        requests: int,
        concurrent: int | None,
        *,
        window: float = RATE_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if requests < 1:
            raise ValueError("requests must be at least 1")
        self.requests = requests
        self.window = window
        self._clock = clock
        self._grants: deque[float] = deque()
        self._order = asyncio.Lock()  # waiters take window slots first come, first served
        self._concurrency = asyncio.Semaphore(concurrent) if concurrent else None

    async def _take_window_slot(self) -> None:
        async with self._order:
            while True:
                now = self._clock()
                while self._grants and now - self._grants[0] >= self.window:
                    self._grants.popleft()
                if len(self._grants) < self.requests:
                    self._grants.append(now)
                    return
                await asyncio.sleep(self._grants[0] + self.window - now + 0.001)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request's slot for the duration of the ``async with`` block."""
        if self._concurrency is None:
            await self._take_window_slot()
            yield
            return
        async with self._concurrency:
            await self._take_window_slot()
            yield

    @property
    def granted_in_window(self) -> int:
        """Grants within the last window (for tests and diagnostics)."""
        now = self._clock()
        return sum(1 for t in self._grants if now - t < self.window)


class EndpointLimiter:
    """One ``OperationLimiter`` per operation of an endpoint, made on first use.

    ``limits`` maps an operation to (requests per window, concurrent); ``None`` disables limiting
    (used for a local worker, which has no published limits).
    """

    def __init__(
        self,
        limits: Mapping[str, tuple[int, int | None]] | None = RATE_LIMITS,
        *,
        window: float = RATE_WINDOW_S,
    ) -> None:
        self._limits = dict(limits) if limits is not None else None
        self._window = window
        self._operations: dict[str, OperationLimiter] = {}

    def for_operation(self, operation: str) -> OperationLimiter | None:
        if self._limits is None or operation not in self._limits:
            return None
        limiter = self._operations.get(operation)
        if limiter is None:
            requests, concurrent = self._limits[operation]
            limiter = OperationLimiter(requests, concurrent, window=self._window)
            self._operations[operation] = limiter
        return limiter

    @asynccontextmanager
    async def slot(self, operation: str) -> AsyncIterator[None]:
        limiter = self.for_operation(operation)
        if limiter is None:
            yield
            return
        async with limiter.slot():
            yield
