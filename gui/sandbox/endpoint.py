"""One endpoint id's jobs and simulated workers: every state change of a job happens here.

Workers write log lines as the runpod SDK does (``gui.sandbox.workers``), and every job a worker ran
is kept as a :class:`JobRun` (GPU, seconds) for the billing buckets of the management API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import string
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gui.sandbox.config import EndpointSpec, SandboxConfig
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
from gui.sandbox.simulate import RUNPOD_VERSION, Finished, failure_error, perform, plan_work
from gui.sandbox.webhooks import WebhookSender
from gui.sandbox.workers import SimWorker, WorkerStatus, sdk_line

__all__ = ["JobRun", "SandboxEndpoint"]

log = logging.getLogger(__name__)
STARTING_LINE = f"--- Starting Serverless Worker |  Version {RUNPOD_VERSION} ---"
MAX_RUNS_KEPT = 100_000  # job runs kept for billing, oldest dropped first


@dataclass(frozen=True)
class JobRun:
    """One job's run on a worker, for billing: when it ended, how long it ran, on what."""

    ended: datetime
    seconds: float
    gpu_type_id: str
    gpu_count: int


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
        self.spec: EndpointSpec = config.endpoint_spec(endpoint_id)
        self.created_wall = datetime.now(UTC)
        self.workers: list[SimWorker] = []
        self.runs: deque[JobRun] = deque(maxlen=MAX_RUNS_KEPT)
        self._config = config
        self._webhooks = webhooks
        self._jobs: dict[str, SandboxJob] = {}
        self._queue = JobQueue()
        self._workers: list[asyncio.Task[None]] = []
        self._in_queue = 0
        self._running = 0
        self._totals = {"completed": 0, "failed": 0, "retried": 0}

    def start(self) -> None:
        """Start the spec's workers: none with ``workers_max`` 0, so jobs stay IN_QUEUE."""
        loop = asyncio.get_running_loop()
        spec = self.spec
        for number in range(self._config.worker_count(spec)):
            outdated = number < spec.outdated_workers
            worker = SimWorker(
                _worker_id(),
                gpu_type_id=spec.gpu_type_id,
                gpu_count=spec.gpu_count,
                data_center_id=spec.data_center_id,
                image=spec.previous_image if outdated else spec.image,
                version=spec.version - 1 if outdated else spec.version,
                log_lines=self._config.worker_log_lines,
            )
            self.workers.append(worker)
            if spec.scenario == "throttled":  # waits for capacity that never comes: no task
                worker.status = "THROTTLED"
                continue
            if spec.scenario == "starting":  # placed, its container never gets ready: no task
                worker.start_container()
                continue
            if spec.scenario == "crash_loop":
                worker.status = "UNHEALTHY"
                work = self._crash_loop(worker)
            else:  # ready at once, as the queue API's workers always were
                worker.start_container()
                worker.log.write("container", sdk_line(None, STARTING_LINE))
                worker.status = "IDLE"
                work = self._work(worker)
            task = loop.create_task(work, name=f"sandbox-worker-{self.endpoint_id}")
            self._workers.append(task)

    def worker(self, worker_id: str) -> SimWorker | None:
        for worker in self.workers:
            if worker.id == worker_id:
                return worker
        return None

    async def close(self) -> None:
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()
        for worker in self.workers:
            worker.log.close()
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
        counts = self.worker_counts()
        idle = counts["IDLE"]
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
                "initializing": counts["INITIALIZING"],
                "ready": idle,
                "running": self._running,
                "throttled": counts["THROTTLED"],
                "unhealthy": counts["UNHEALTHY"],
            },
        }

    def worker_counts(self) -> dict[WorkerStatus, int]:
        counts: dict[WorkerStatus, int] = {
            "RUNNING": 0,
            "IDLE": 0,
            "INITIALIZING": 0,
            "THROTTLED": 0,
            "UNHEALTHY": 0,
        }
        for worker in self.workers:
            counts[worker.status] += 1
        return counts

    def sweep(self) -> None:
        """Forget every job whose TTL or retention has ended (lookups check this anyway)."""
        now = time.monotonic()
        for job in [job for job in self._jobs.values() if job.expired(now)]:
            self._remove(job)

    @property
    def job_count(self) -> int:
        return len(self._jobs)

    # ---------------------------------------------------------------- workers
    async def _work(self, worker: SimWorker) -> None:
        while True:
            job = await self._queue.get()
            if job.expired(time.monotonic()):
                self._remove(job)
                continue
            await self._run(job, worker)
            await asyncio.sleep(0)  # zero-length jobs must not starve the HTTP side

    async def _crash_loop(self, worker: SimWorker) -> None:
        """A worker whose container exits at start, again and again: UNHEALTHY, no job taken."""
        while True:
            worker.start_container()  # the host's "start container", with no container output
            await asyncio.sleep(self._config.crash_restart_s)

    async def _run(self, job: SandboxJob, worker: SimWorker) -> None:
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        worker_id = worker.id
        self._in_queue -= 1
        self._running += 1
        worker.status = "RUNNING"
        job.status, job.started_at, job.worker_id = IN_PROGRESS, now, worker_id
        interrupt: asyncio.Future[str] = loop.create_future()
        job.interrupt = interrupt
        timeout_at = now + job.execution_timeout_s

        async def pause(seconds: float) -> str | None:
            return await self._pause(job, interrupt, timeout_at, seconds)

        result: Finished | str
        write = worker.log.write
        write("container", sdk_line(job.id, "Started."))
        try:
            plan = plan_work(job.input, self._config.default_duration_s)
            write("container", f"sandbox handler: working for {plan.duration_s:g} s")  # untagged
            result = await perform(
                plan, pause, job, job.input, lambda text: write("container", sdk_line(job.id, text))
            )
        except Exception as exc:  # a bug in the simulation must fail the job, not kill the worker
            log.exception("sandbox worker %s failed on job %s", worker_id, job.id)
            result = Finished(error=failure_error(type(exc), str(exc), worker_id))
        finally:
            self._running -= 1
            worker.status = "IDLE"
            self.runs.append(
                JobRun(
                    datetime.now(UTC),
                    time.monotonic() - now,
                    worker.gpu_type_id,
                    worker.gpu_count,
                )
            )
        if isinstance(result, Finished):
            if result.error is not None:
                write("container", sdk_line(job.id, "Captured Handler Exception", "ERROR"))
                write("container", sdk_line(job.id, result.error, "ERROR"))
            elif result.has_output:
                output = result.output
                text = output if isinstance(output, str) else json.dumps(output)
                write("container", sdk_line(job.id, f"Handler output: {text}", "DEBUG"))
            write("container", sdk_line(job.id, "Finished."))
        if job.status != IN_PROGRESS:
            return  # cancelled or removed meanwhile: whoever did it has settled the job
        if result == "worker_lost":
            write("system", "container exited with code 137")
            worker.start_container()
            self._interrupt(job, "worker_lost")
            job.requeue_after_worker_loss()
            self._totals["retried"] += 1
            self._in_queue += 1
            self._queue.put(job)
            return
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
