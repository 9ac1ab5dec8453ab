"""An endpoint as a workers view shows it: its settings, its active workers, its queue and why its
jobs would wait, read together (``read_endpoint_status``) so the view shows one moment.

``EndpointStatus.summary`` is the one line above the workers (``2 active workers: 1 running,
1 idle · release v4``); ``worker_row`` is a worker's cells in words (state, GPU, data center,
uptime, release, outdated), the same for the window's table and anything else that lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gui.core.account.client import ManagementClient
from gui.core.account.diagnosis import WaitDiagnosis, diagnose_wait, duration_words
from gui.core.account.models import WORKER_STATES, Endpoint, EndpointWorkers, Worker
from gui.core.errors import AccountError
from gui.core.wording import counted

__all__ = ["EndpointStatus", "read_endpoint_status", "worker_row"]


@dataclass(frozen=True, slots=True)
class EndpointStatus:
    """One reading of an endpoint: ``health`` is its job API's ``/health`` (None when unread)."""

    endpoint: Endpoint
    workers: EndpointWorkers
    diagnosis: WaitDiagnosis
    health: Mapping[str, Any] | None = None

    @property
    def title(self) -> str:
        """``image-generator (4m7x2k9q)``, or the id alone."""
        endpoint = self.endpoint
        return f"{endpoint.name} ({endpoint.id})" if endpoint.name else endpoint.id

    @property
    def summary(self) -> str:
        """``3 active workers: 1 running, 2 unhealthy · 1 outdated · release v4 · 2 in queue``."""
        listed = self.workers.workers
        head = counted(len(listed), "active worker")
        states = [
            f"{count} {state.lower()}" for state, count in self.workers.counts.items() if count
        ]
        parts = [f"{head}: {', '.join(states)}" if states else head]
        outdated = sum(1 for worker in listed if worker.outdated)
        if outdated:
            parts.append(f"{outdated} outdated")
        if self.workers.endpoint_version is not None:
            parts.append(f"release v{self.workers.endpoint_version}")
        parts.append(f"workers {self.endpoint.workers_min}-{self.endpoint.workers_max}")
        queued = _jobs(self.health, "inQueue")
        if queued is not None:
            parts.append(f"{queued} in queue")
        return " · ".join(parts)


def worker_row(worker: Worker) -> tuple[str, str, str, str, str, str, str]:
    """A worker's cells: id, state, GPU, data center, uptime, release, "outdated" (or ""); "-"
    where RunPod has not told yet."""
    if not worker.gpu_type_id:
        gpu = "-"  # not placed on a host yet
    elif worker.gpu_count > 1:
        gpu = f"{worker.gpu_count} x {worker.gpu_type_id}"
    else:
        gpu = worker.gpu_type_id
    uptime = duration_words(worker.uptime_s) if worker.uptime_s is not None else "-"
    state = worker.status if worker.status not in WORKER_STATES else worker.status.capitalize()
    return (
        worker.id,
        state,
        gpu,
        worker.data_center_id or "-",
        uptime,
        worker.release or "-",
        "outdated" if worker.outdated else "",
    )


async def read_endpoint_status(
    client: ManagementClient, endpoint_id: str | None = None, waited_s: float | None = None
) -> EndpointStatus:
    """The endpoint, its workers and its ``/health`` (tolerated when unreadable), and the
    diagnosis they give. Raises ``AccountError`` when the endpoint or its workers can't be read."""
    endpoint = await client.endpoint(endpoint_id)
    workers = await client.workers(endpoint.id)
    health: dict[str, Any] | None = None
    if endpoint.health_url:
        try:
            health = await client.job_health(endpoint.health_url)
        except AccountError:
            health = None  # the diagnosis does without the queue's length
    return EndpointStatus(
        endpoint, workers, diagnose_wait(endpoint, workers, health, waited_s), health
    )


def _jobs(health: Mapping[str, Any] | None, name: str) -> int | None:
    jobs = health.get("jobs") if isinstance(health, Mapping) else None
    value = jobs.get(name) if isinstance(jobs, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
