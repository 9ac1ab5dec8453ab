"""A client-side limiter that keeps the console under RunPod's published rate limits.

RunPod counts requests per endpoint and operation over 10 seconds and caps concurrent requests
(``limits.RATE_LIMITS``). The limiter enforces both on our side so that a batch never earns a 429 of
its own making: a sliding log (no 10-second window anywhere holds more than N requests, counted
conservatively, see ``OperationLimiter``) and a semaphore for concurrency.
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
    """Limits one operation of one endpoint: ``requests`` per ``window`` seconds, ``concurrent``.

    A request occupies its window slot from the moment it is granted until ``window`` seconds
    after its answer arrived: the server counts it at some moment in between, which the client
    cannot see, so only this reckoning guarantees the server never counts more than ``requests``.
    """

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
        self._finished: deque[float] = deque()  # when recent requests got their answers
        self._open = 0  # granted, not answered yet
        self._answered = asyncio.Event()
        self._order = asyncio.Lock()  # waiters take window slots first come, first served
        self._concurrency = asyncio.Semaphore(concurrent) if concurrent else None

    def _used(self, now: float) -> int:
        while self._finished and now - self._finished[0] >= self.window:
            self._finished.popleft()
        return len(self._finished) + self._open

    async def _take_window_slot(self) -> None:
        async with self._order:
            while True:
                now = self._clock()
                if self._used(now) < self.requests:
                    self._open += 1
                    return
                self._answered.clear()
                if self._finished:
                    wait = self._finished[0] + self.window - now + 0.001
                    try:
                        await asyncio.wait_for(self._answered.wait(), wait)
                    except TimeoutError:
                        pass
                else:  # every slot is held by a request in flight: wait for an answer
                    await self._answered.wait()

    def _release_window_slot(self) -> None:
        self._open -= 1
        self._finished.append(self._clock())
        self._answered.set()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request's slot for the duration of the ``async with`` block."""
        if self._concurrency is None:
            await self._take_window_slot()
            try:
                yield
            finally:
                self._release_window_slot()
            return
        async with self._concurrency:
            await self._take_window_slot()
            try:
                yield
            finally:
                self._release_window_slot()


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
