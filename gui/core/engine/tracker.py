"""When to ask about each job: one scheduler for every tracked job.

A heap of (due time, job) and a single task that wakes for the earliest one, instead of a task and
a sleep per job: ten thousand tracked jobs cost ten thousand heap entries, not ten thousand tasks.
Polls run as short tasks, at most ``max_in_flight`` at once (the client's rate limiter spreads them
further within RunPod's limits).

Adaptive intervals: a fresh job is asked about quickly; the longer it has run, the less often it is
asked (a fixed share of its age), up to a cap. A job that streams is asked at least every
``stream_max_s`` so its chunks arrive while it runs.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["JobTracker", "PollPolicy"]

log = logging.getLogger(__name__)

PollFunction = Callable[[str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Seconds between polls of one job: ``growth`` times its age, within [min_s, max_s]."""

    first_s: float = 0.25
    min_s: float = 0.25
    max_s: float = 5.0
    growth: float = 0.25
    stream_max_s: float = 1.0
    max_in_flight: int = 256

    def interval(self, age_s: float, *, streaming: bool = False) -> float:
        cap = min(self.max_s, self.stream_max_s) if streaming else self.max_s
        return max(self.min_s, min(cap, age_s * self.growth))


@dataclass(slots=True)
class _Tracked:
    since: float
    streaming: bool
    generation: int


class JobTracker:
    """Calls ``poll(local_id)`` for each tracked job when it is due.

    ``poll`` returns ``True`` to keep tracking the job (then it is scheduled again) and ``False``
    once the job needs no more polling (terminal). All methods run on the engine loop.
    """

    def __init__(self, poll: PollFunction, policy: PollPolicy | None = None) -> None:
        self.policy = policy or PollPolicy()
        self._poll = poll
        self._jobs: dict[str, _Tracked] = {}
        self._heap: list[tuple[float, int, str, int]] = []
        self._order = itertools.count()
        self._generations = itertools.count()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(self.policy.max_in_flight)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._scheduler: asyncio.Task[None] | None = None
        self.polls = 0  # polls started (for tests and the benchmark)

    def __len__(self) -> int:
        return len(self._jobs)

    def is_tracked(self, local_id: str) -> bool:
        return local_id in self._jobs

    def track(self, local_id: str, *, streaming: bool = False, delay: float | None = None) -> None:
        """Follow a job from now on (again, if it was tracked before: its age restarts)."""
        now = time.monotonic()
        entry = _Tracked(since=now, streaming=streaming, generation=next(self._generations))
        self._jobs[local_id] = entry
        self._schedule(local_id, entry, now + (self.policy.first_s if delay is None else delay))

    def untrack(self, local_id: str) -> None:
        """Stop polling a job (its heap entry is skipped when it comes up)."""
        self._jobs.pop(local_id, None)

    def poll_soon(self, local_id: str) -> None:
        """Ask about a tracked job at once (e.g. after a cancel or a retry)."""
        entry = self._jobs.get(local_id)
        if entry is not None:
            entry.generation = next(self._generations)
            self._schedule(local_id, entry, time.monotonic())

    def _schedule(self, local_id: str, entry: _Tracked, due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._order), local_id, entry.generation))
        if self._heap[0][2] == local_id:
            self._wake.set()

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._scheduler is None:
            self._scheduler = asyncio.get_running_loop().create_task(
                self._run(), name="job-tracker"
            )

    async def stop(self) -> None:
        """Cancel the scheduler and every poll in flight, and wait for them to end."""
        tasks = [*self._in_flight]
        if self._scheduler is not None:
            tasks.append(self._scheduler)
            self._scheduler = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._in_flight.clear()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            await self._start_due_polls()
            timeout = self._heap[0][0] - time.monotonic() if self._heap else None
            if timeout is not None and timeout <= 0:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _start_due_polls(self) -> None:
        while self._heap and self._heap[0][0] <= time.monotonic():
            _, _, local_id, generation = heapq.heappop(self._heap)
            entry = self._jobs.get(local_id)
            if entry is None or entry.generation != generation:
                continue  # untracked, or rescheduled since
            await self._slots.acquire()
            if self._jobs.get(local_id) is not entry or entry.generation != generation:
                self._slots.release()
                continue
            entry.generation = next(self._generations)  # this poll now owns the job's schedule
            task = asyncio.get_running_loop().create_task(
                self._poll_one(local_id, entry.generation)
            )
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _poll_one(self, local_id: str, generation: int) -> None:
        keep = True
        try:
            entry = self._jobs.get(local_id)
            if entry is None or entry.generation != generation:
                return  # untracked (or polled by someone else) between scheduling and starting
            self.polls += 1
            keep = await self._poll(local_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in one poll must not stop the others
            log.exception("polling job %s failed", local_id)
        finally:
            self._slots.release()
        entry = self._jobs.get(local_id)
        if entry is None or entry.generation != generation:
            return  # untracked, or polled/rescheduled by someone else meanwhile
        if not keep:
            self._jobs.pop(local_id, None)
            return
        now = time.monotonic()
        interval = self.policy.interval(now - entry.since, streaming=entry.streaming)
        self._schedule(local_id, entry, now + interval)
