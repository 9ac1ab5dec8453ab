"""A simulated worker as RunPod's management API shows it: its state, placement and log lines.

Each worker keeps its log in a bounded buffer (``SandboxConfig.worker_log_lines``), the way a
RunPod worker's log lives on its host: ``GET /v2/serverless/{id}/workers/{workerId}/logs`` reads it
as Server-Sent Events. Container lines are what the runpod SDK prints on the platform
(``rp_logger.py``, 1.12.0): ``{"requestId": JOB_ID, "message": ..., "level": ...}`` with that key
order and default separators; a handler's own prints arrive raw and untagged.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "LogEntry",
    "SimWorker",
    "WorkerLog",
    "rfc3339",
    "sdk_line",
]

WorkerStatus = Literal["RUNNING", "IDLE", "INITIALIZING", "THROTTLED", "UNHEALTHY"]
LogSource = Literal["container", "system"]
SDK_MAX_MESSAGE = 4096  # rp_logger cuts longer messages in the middle


def rfc3339(moment: datetime) -> str:
    """``2026-06-01T12:05:04Z``: RunPod's form, whole seconds, UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sdk_line(job_id: str | None, message: str, level: str = "INFO") -> str:
    """One line as the runpod SDK prints it on the platform, long messages cut as it cuts them."""
    if len(message) > SDK_MAX_MESSAGE:
        half = SDK_MAX_MESSAGE // 2
        cut = len(message) - 2 * half
        message = f"{message[:half]}\n...TRUNCATED {cut} CHARACTERS...\n{message[-half:]}"
    return json.dumps({"requestId": job_id, "message": message, "level": level})


@dataclass(frozen=True)
class LogEntry:
    """One log line; ``seq`` grows by one per line of its worker, from 1."""

    seq: int
    ts: str
    source: LogSource
    line: str

    @property
    def event_id(self) -> str:
        """``<ts>/<12-digit seq>``, the form of the spec's example id."""
        return f"{self.ts}/{self.seq:012d}"

    def data(self) -> str:
        return json.dumps(
            {"ts": self.ts, "source": self.source, "line": self.line}, separators=(",", ":")
        )


class WorkerLog:
    """A worker's last ``capacity`` lines, and a way to wait for the next one."""

    def __init__(self, capacity: int) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=max(1, capacity))
        self._seq = 0
        self._waiters: list[asyncio.Future[None]] = []
        self.closed = False

    def write(self, source: LogSource, line: str) -> LogEntry:
        self._seq += 1
        entry = LogEntry(self._seq, rfc3339(datetime.now(UTC)), source, line)
        self._entries.append(entry)
        self._wake()
        return entry

    def entries(self) -> list[LogEntry]:
        return list(self._entries)

    def after(self, seq: int) -> list[LogEntry]:
        """The lines still kept whose ``seq`` is above ``seq``, oldest first; reads only those."""
        count = min(self._seq - seq, len(self._entries))
        if count <= 0:
            return []
        newest_first = list(itertools.islice(reversed(self._entries), count))
        newest_first.reverse()
        return newest_first

    @property
    def last_seq(self) -> int:
        return self._seq

    async def wait(self, after_seq: int, timeout_s: float) -> None:
        """Return once a line after ``after_seq`` exists, the log closes or ``timeout_s`` ends."""
        if self._seq > after_seq or self.closed:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=timeout_s)
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()


class SimWorker:
    """One simulated worker: what ``GET /v2/serverless/{id}/workers`` lists about it."""

    def __init__(
        self,
        worker_id: str,
        *,
        gpu_type_id: str,
        gpu_count: int,
        data_center_id: str,
        image: str,
        version: int,
        log_lines: int,
    ) -> None:
        self.id = worker_id
        self.status: WorkerStatus = "INITIALIZING"
        self.gpu_type_id = gpu_type_id
        self.gpu_count = gpu_count
        self.data_center_id = data_center_id
        self.image = image
        self.version = version
        self.placed = False  # on a host: GPU, data center and uptime are known
        self.started_wall: datetime | None = None
        self.started_at: float | None = None  # time.monotonic()
        self.log = WorkerLog(log_lines)

    def start_container(self) -> None:
        """A (re)start on its host: placed, uptime from now, the host's log line."""
        self.placed = True
        self.started_wall = datetime.now(UTC)
        self.started_at = time.monotonic()
        self.log.write("system", "start container")

    def description(self, endpoint_version: int) -> dict[str, Any]:
        """RunPod's Worker object."""
        placed = self.placed and self.started_at is not None and self.started_wall is not None
        return {
            "id": self.id,
            "status": self.status,
            "isStale": self.version != endpoint_version,
            "version": self.version,
            "gpuCount": self.gpu_count,
            "image": self.image,
            "uptimeSeconds": int(time.monotonic() - self.started_at)
            if placed and self.started_at is not None
            else None,
            "gpuTypeId": self.gpu_type_id if placed else None,
            "dataCenterId": self.data_center_id if placed else None,
            "startedAt": rfc3339(self.started_wall)
            if placed and self.started_wall is not None
            else None,
        }
