"""Waiting on the engine loop until the job history has reached the disk.

``JobService.submit`` must not send a job before its SUBMITTING row is committed, or a crash could
leave a job the endpoint runs but the history never knew. Waiting for a commit per job would cost
a flush request and a cross-thread wake-up per job; the gate gives every save made in the same loop
turn one shared flush and one wake-up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Protocol

__all__ = ["CommitGate"]


class _Flushable(Protocol):
    def flush(self) -> concurrent.futures.Future[None]: ...


class CommitGate:
    """``await gate.committed()``: everything saved before the call is on disk. Loop-only."""

    def __init__(self, store: _Flushable) -> None:
        self._store = store
        self._waiting: asyncio.Future[None] | None = None

    async def committed(self) -> None:
        if self._waiting is None:
            loop = asyncio.get_running_loop()
            self._waiting = loop.create_future()
            # The flush is requested at the end of this loop turn, after every save made in it.
            loop.call_soon(self._request_flush, loop)
        await asyncio.shield(self._waiting)

    def _request_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting, self._waiting = self._waiting, None
        assert waiting is not None

        def done(flushed: concurrent.futures.Future[None]) -> None:
            if waiting.done():
                return
            error = flushed.exception()
            if error is not None:
                waiting.set_exception(error)
            else:
                waiting.set_result(None)

        self._store.flush().add_done_callback(lambda f: loop.call_soon_threadsafe(done, f))
