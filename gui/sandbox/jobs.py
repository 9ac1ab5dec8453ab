"""One job's state inside the sandbox, the answers RunPod gives about it, and the work queue."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TERMINAL", "WEBHOOK_STATES", "JobQueue", "SandboxJob", "new_job_id"]

IN_QUEUE = "IN_QUEUE"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
TIMED_OUT = "TIMED_OUT"
REMOVED = "REMOVED"  # internal: gone from the table (TTL, retention, purge); never sent
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED, TIMED_OUT})
# RunPod calls the webhook when a job ends this way; a cancelled job gets no delivery.
WEBHOOK_STATES = frozenset({COMPLETED, FAILED, TIMED_OUT})


def new_job_id(sync: bool) -> str:
    """An id shaped like the cloud's: a UUID with a region suffix, ``sync-`` for runsync jobs."""
    return f"{'sync-' if sync else ''}{uuid.uuid4()}-u1"


@dataclass(eq=False)
class SandboxJob:
    """A job as the sandbox keeps it. Times are ``time.monotonic()`` seconds."""

    id: str
    input: dict[str, Any]
    sync: bool
    webhook: str | None = None
    low_priority: bool = False
    execution_timeout_s: float = 600.0
    ttl_s: float = 86_400.0
    status: str = IN_QUEUE
    created_at: float = field(default_factory=time.monotonic)
    queued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    ended_at: float | None = None
    # Gone (404) from this moment: its TTL while it waits or runs, its retention after it ends.
    expires_at: float = 0.0
    worker_id: str | None = None
    retries: int = 0  # times RunPod put it back in the queue after its worker died
    output: Any = None
    has_output: bool = False
    error: str | None = None
    stream_buffer: list[Any] = field(default_factory=list)
    # Set by whoever stops the job early ("cancelled", "expired"); awaited by the running worker.
    interrupt: asyncio.Future[str] | None = None
    waiters: list[asyncio.Future[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.expires_at = self.created_at + self.ttl_s

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def status_payload(self) -> dict[str, Any]:
        """The ``/status`` answer: id, status, then timings, worker, output and error as known."""
        payload: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.started_at is not None:
            payload["delayTime"] = _ms(self.started_at - self.queued_at)
            if self.ended_at is not None:
                payload["executionTime"] = _ms(self.ended_at - self.started_at)
            if self.worker_id is not None:
                payload["workerId"] = self.worker_id
        if self.retries:
            payload["retries"] = self.retries
        if self.has_output:
            payload["output"] = self.output
        if self.error is not None:
            payload["error"] = self.error
        return payload

    def webhook_payload(self) -> dict[str, Any]:
        """What RunPod POSTs to ``webhook`` when the job ends: the status plus input and webhook."""
        payload = self.status_payload()
        payload["input"] = self.input
        payload["webhook"] = self.webhook
        return payload

    def requeue_after_worker_loss(self) -> None:
        """Back to the queue after its worker died: same id and TTL, ``retries`` one more."""
        self.status = IN_QUEUE
        self.retries += 1
        self.started_at = None
        self.worker_id = None
        self.output, self.has_output = None, False
        self.stream_buffer.clear()
        self.interrupt = None

    def reset_for_retry(self, now: float) -> None:
        """Back to the queue under the same id, with output, error and timings cleared."""
        self.status = IN_QUEUE
        self.queued_at = now
        self.started_at = self.ended_at = None
        self.worker_id = None
        self.output, self.has_output, self.error = None, False, None
        self.stream_buffer.clear()
        self.interrupt = None
        self.expires_at = now + self.ttl_s


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


class JobQueue:
    """FIFO queue of jobs, normal priority before ``lowPriority``; workers ``await get()``.

    Removing a job (cancel, purge, TTL) is lazy: ``get`` skips any job no longer ``IN_QUEUE``, so
    cancelling costs nothing here and ten thousand waiting jobs cost two deques.
    """

    def __init__(self) -> None:
        self._normal: deque[SandboxJob] = deque()
        self._low: deque[SandboxJob] = deque()
        self._getters: deque[asyncio.Future[SandboxJob]] = deque()

    def put(self, job: SandboxJob) -> None:
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(job)
                return
        (self._low if job.low_priority else self._normal).append(job)

    async def get(self) -> SandboxJob:
        """The next job still waiting; waits until there is one."""
        while True:
            job = self._pop_waiting()
            if job is None:
                getter: asyncio.Future[SandboxJob] = asyncio.get_running_loop().create_future()
                self._getters.append(getter)
                job = await getter
            if job.status == IN_QUEUE:
                return job

    def _pop_waiting(self) -> SandboxJob | None:
        for lane in (self._normal, self._low):
            while lane:
                job = lane.popleft()
                if job.status == IN_QUEUE:
                    return job
        return None
