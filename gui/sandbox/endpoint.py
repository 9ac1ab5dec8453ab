"""One endpoint id's jobs and simulated workers: every state change of a job happens here."""

from __future__ import annotations

import asyncio
import logging
import secrets
import string
import time
from typing import Any

from gui.sandbox.config import SandboxConfig
from gui.sandbox.jobs import (
    CANCELLED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    IN_QUEUE,
    REMOVED,
    TIMED_OUT,
    WEBHOOK_STATES,
    JobQueue,
    SandboxJob,
)
from gui.sandbox.simulate import Finished, failure_error, perform, plan_work
from gui.sandbox.webhooks import WebhookSender

__all__ = ["SandboxEndpoint"]

log = logging.getLogger(__name__)


def _worker_id() -> str:
    """A worker id shaped like the cloud's pod ids: 14 lowercase letters and digits."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(14))


class SandboxEndpoint:
    """The queue, workers and job table behind ``/v2/{endpoint_id}/``.

    Workers are asyncio tasks that pull from one :class:`JobQueue`; a running job waits on timers
    and one interrupt future, so a thousand jobs in flight cost no task each. Expiry (TTL while
    waiting or running, retention after the end) is checked on every lookup and swept periodically.
    """

    def __init__(self, endpoint_id: str, config: SandboxConfig, webhooks: WebhookSender) -> None:
        self.endpoint_id = endpoint_id
        self._config = config
        self._webhooks = webhooks
        self._jobs: dict[str, SandboxJob] = {}
        self._queue = JobQueue()
        self._workers: list[asyncio.Task[None]] = []
        self._in_queue = 0
        self._running = 0
        self._totals = {"completed": 0, "failed": 0, "retried": 0}

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(max(1, self._config.workers)):
            task = loop.create_task(
                self._work(_worker_id()), name=f"sandbox-worker-{self.endpoint_id}"
            )
            self._workers.append(task)

    async def close(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()
        for job in self._jobs.values():
            self._release_waiters(job)

    # ---------------------------------------------------------------- operations
    def submit(self, job: SandboxJob) -> None:
        """Queue a new job (or a retried one) for the workers."""
        self._jobs[job.id] = job
        self._in_queue += 1
        self._queue.put(job)

    def lookup(self, job_id: str) -> SandboxJob | None:
        """The job, or ``None`` when unknown or expired (then it is removed: 404 from now on)."""
        job = self._jobs.get(job_id)
        if job is not None and job.expired(time.monotonic()):
            self._remove(job)
            return None
        return job

    def cancel(self, job: SandboxJob) -> None:
        """Stop a waiting or running job; a job that already ended keeps its state."""
        if job.terminal:
            return
        self._finish(job, CANCELLED, None)

    def retry(self, job: SandboxJob) -> bool:
        """Requeue a FAILED or TIMED_OUT job under the same id; False for any other state."""
        if job.status not in (FAILED, TIMED_OUT):
            return False
        job.reset_for_retry(time.monotonic())
        self._totals["retried"] += 1
        self.submit(job)
        return True

    def purge_queue(self) -> int:
        """Remove every job still waiting; running and ended jobs stay. Returns how many."""
        waiting = [job for job in self._jobs.values() if job.status == IN_QUEUE]
        for job in waiting:
            self._remove(job)
        return len(waiting)

    async def wait_until_done(self, job: SandboxJob, timeout_s: float) -> None:
        """Return when the job ends or is removed, or after ``timeout_s``, whichever comes first."""
        if job.terminal or job.status == REMOVED:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        job.waiters.append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=timeout_s)
        finally:
            if waiter in job.waiters:
                job.waiters.remove(waiter)

    def health(self) -> dict[str, Any]:
        idle = max(0, len(self._workers) - self._running)
        return {
            "jobs": {
                "completed": self._totals["completed"],
                "failed": self._totals["failed"],
                "inProgress": self._running,
                "inQueue": self._in_queue,
                "retried": self._totals["retried"],
            },
            "workers": {
                "idle": idle,
                "initializing": 0,
                "ready": idle,
                "running": self._running,
                "throttled": 0,
                "unhealthy": 0,
            },
        }

    def sweep(self) -> None:
        """Forget every job whose TTL or retention has ended (lookups check this anyway)."""
        now = time.monotonic()
        for job in [job for job in self._jobs.values() if job.expired(now)]:
            self._remove(job)

    @property
    def job_count(self) -> int:
        return len(self._jobs)

    # ---------------------------------------------------------------- workers
    async def _work(self, worker_id: str) -> None:
        while True:
            job = await self._queue.get()
            if job.expired(time.monotonic()):
                self._remove(job)
                continue
            await self._run(job, worker_id)
            await asyncio.sleep(0)  # zero-length jobs must not starve the HTTP side

    async def _run(self, job: SandboxJob, worker_id: str) -> None:
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        self._in_queue -= 1
        self._running += 1
        job.status, job.started_at, job.worker_id = IN_PROGRESS, now, worker_id
        interrupt: asyncio.Future[str] = loop.create_future()
        job.interrupt = interrupt
        timeout_at = now + job.execution_timeout_s

        async def pause(seconds: float) -> str | None:
            return await self._pause(job, interrupt, timeout_at, seconds)

        result: Finished | str
        try:
            plan = plan_work(job.input, self._config.default_duration_s)
            result = await perform(plan, pause, job, job.input)
        except Exception as exc:  # a bug in the simulation must fail the job, not kill the worker
            log.exception("sandbox worker %s failed on job %s", worker_id, job.id)
            result = Finished(error=failure_error(type(exc), str(exc), worker_id))
        finally:
            self._running -= 1
        if job.status != IN_PROGRESS:
            return  # cancelled or removed meanwhile: whoever did it has settled the job
        if isinstance(result, Finished):
            self._finish(job, FAILED if result.error is not None else COMPLETED, result)
        elif result == "timeout":
            self._finish(job, TIMED_OUT, None)

    async def _pause(
        self, job: SandboxJob, interrupt: asyncio.Future[str], timeout_at: float, seconds: float
    ) -> str | None:
        """Let ``seconds`` pass; stop early at the execution timeout, the TTL, or an interrupt."""
        if interrupt.done():
            return interrupt.result()
        now = time.monotonic()
        limit = min(timeout_at, job.expires_at)
        wait = max(0.0, seconds)
        at_limit = now + wait >= limit
        if at_limit:
            wait = max(0.0, limit - now)
        if wait > 0:
            reason = await _sleep_unless(interrupt, wait)
            if reason is not None:
                return reason
        if not at_limit:
            return None
        if job.expires_at <= timeout_at:
            self._remove(job)
            return "expired"
        return "timeout"

    # ---------------------------------------------------------------- state changes
    def _finish(self, job: SandboxJob, status: str, finished: Finished | None) -> None:
        now = time.monotonic()
        if job.status == IN_QUEUE:
            self._in_queue -= 1
        job.status, job.ended_at = status, now
        if finished is not None:
            job.output, job.has_output, job.error = (
                finished.output,
                finished.has_output,
                finished.error,
            )
        retention = self._config.retention_runsync_s if job.sync else self._config.retention_run_s
        job.expires_at = now + retention
        if status == COMPLETED:
            self._totals["completed"] += 1
        elif status in (FAILED, TIMED_OUT):
            self._totals["failed"] += 1
        self._interrupt(job, "cancelled")
        self._release_waiters(job)
        if status in WEBHOOK_STATES and job.webhook:
            self._webhooks.send(job.webhook, job.webhook_payload())

    def _remove(self, job: SandboxJob) -> None:
        if self._jobs.get(job.id) is job:
            del self._jobs[job.id]
        if job.status == IN_QUEUE:
            self._in_queue -= 1
        if job.status in (IN_QUEUE, IN_PROGRESS):
            job.status = REMOVED
        self._interrupt(job, "expired")
        self._release_waiters(job)

    @staticmethod
    def _interrupt(job: SandboxJob, reason: str) -> None:
        if job.interrupt is not None and not job.interrupt.done():
            job.interrupt.set_result(reason)
        job.interrupt = None

    @staticmethod
    def _release_waiters(job: SandboxJob) -> None:
        for waiter in job.waiters:
            if not waiter.done():
                waiter.set_result(None)
        job.waiters.clear()


async def _sleep_unless(interrupt: asyncio.Future[str], seconds: float) -> str | None:
    """Sleep ``seconds`` with one timer; wake early with the interrupt's reason if it is set."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[str | None] = loop.create_future()

    def wake(reason: str | None) -> None:
        if not waiter.done():
            waiter.set_result(reason)

    def on_interrupt(future: asyncio.Future[str]) -> None:
        wake(future.result() if not future.cancelled() else "cancelled")

    timer = loop.call_later(seconds, wake, None)
    interrupt.add_done_callback(on_interrupt)
    try:
        return await waiter
    finally:
        timer.cancel()
        interrupt.remove_done_callback(on_interrupt)
