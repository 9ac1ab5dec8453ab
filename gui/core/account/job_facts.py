"""What the console learns around a job from the management API, kept in ``JobRecord.facts``:
the release (version, image) and GPU (type, count) of the worker that ran it, and, once it ended,
its cost estimate (``gui.core.account.cost``).

``AccountCache`` asks sparingly: one ``ManagementClient`` per management API and key, an
endpoint's workers at most once per ``max_age_s`` (every job running there shares the answer),
and the GPU catalog once per engine run (a failed read is tried again after ``retry_s``).
``worker_facts``, ``cost_facts`` and ``stored_cost`` turn records into the facts' plain JSON and
back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from gui.core.account.access import AccountAccess
from gui.core.account.client import ManagementClient
from gui.core.account.cost import CostEstimate, estimate_job_cost, price_table
from gui.core.account.models import EndpointWorkers, GpuPrice, Worker
from gui.core.errors import AccountError
from gui.core.records import JobRecord

__all__ = ["AccountCache", "cost_facts", "job_cost", "stored_cost", "worker_facts"]

log = logging.getLogger(__name__)

_ClientKey = tuple[str, str]  # (management base URL, key)


def worker_facts(worker: Worker) -> dict[str, Any]:
    """The facts a job keeps of the worker that ran it (None values left out)."""
    facts = {
        "worker": worker.id,
        "release": worker.release or None,
        "version": worker.version,
        "image": worker.image or None,
        "gpu": worker.gpu_type_id,
        "gpu_count": worker.gpu_count or None,
        "data_center": worker.data_center_id,
    }
    return {key: value for key, value in facts.items() if value is not None}


def job_cost(record: JobRecord, prices: Mapping[str, GpuPrice]) -> CostEstimate:
    """The estimate of an ended job from its execution time and its worker's facts."""
    facts = record.facts or {}
    gpu = facts.get("gpu")
    count = facts.get("gpu_count")
    return estimate_job_cost(
        record.execution_time_ms,
        gpu if isinstance(gpu, str) else None,
        count if isinstance(count, int) else 0,
        prices,
    )


def cost_facts(estimate: CostEstimate) -> dict[str, Any]:
    """``facts["cost"]``: ``usd`` (None without an estimate, then ``missing`` says why),
    ``seconds``, ``gpu``, ``gpu_count``, ``per_gpu_second``."""
    facts = {
        "usd": estimate.usd,
        "seconds": estimate.billed_seconds,
        "gpu": estimate.gpu_type_id,
        "gpu_count": estimate.gpu_count or None,
        "per_gpu_second": estimate.per_gpu_second,
        "missing": estimate.missing or None,
    }
    return {key: value for key, value in facts.items() if value is not None or key == "usd"}


def stored_cost(record: JobRecord) -> CostEstimate | None:
    """The estimate kept with a job (``cost_facts``), None when it has none."""
    cost = None if record.facts is None else record.facts.get("cost")
    if not isinstance(cost, dict):
        return None

    def number(key: str) -> float | None:
        value = cost.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    seconds = number("seconds")
    count = number("gpu_count")
    gpu = cost.get("gpu")
    return CostEstimate(
        number("usd"),
        None if seconds is None else int(seconds),
        gpu if isinstance(gpu, str) else None,
        0 if count is None else int(count),
        number("per_gpu_second"),
        str(cost.get("missing") or ""),
    )


class AccountCache:
    """Answers of the management APIs the engine's jobs run behind; runs on the engine loop."""

    def __init__(
        self,
        *,
        max_age_s: float = 3.0,
        retry_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        make_client: Callable[[AccountAccess], ManagementClient] = ManagementClient,
    ) -> None:
        self._max_age_s = max_age_s
        self._retry_s = retry_s
        self._clock = clock
        self._make_client = make_client
        self._clients: dict[_ClientKey, ManagementClient] = {}
        self._workers: dict[tuple[str, str], tuple[float, EndpointWorkers]] = {}
        self._fetching: dict[tuple[str, str], asyncio.Future[EndpointWorkers]] = {}
        self._prices: dict[str, dict[str, GpuPrice]] = {}
        self._price_failures: dict[str, tuple[float, str]] = {}
        self._price_lock = asyncio.Lock()
        self.requests = 0  # workers and catalog reads sent (tests read it)

    def _client(self, access: AccountAccess) -> ManagementClient:
        key = (access.base_url, access.api_key)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = self._make_client(access)
        return client

    async def worker(self, access: AccountAccess, worker_id: str) -> Worker | None:
        """The endpoint's worker ``worker_id``, None when it is not listed (gone); an answer at
        most ``max_age_s`` old, asked again once (after that age) for a worker it does not list.
        ``AccountError`` when the workers can't be read."""
        key = (access.base_url, access.endpoint_id)
        cached = self._workers.get(key)
        if cached is not None:
            found = _find(cached[1], worker_id)
            age = self._clock() - cached[0]
            if found is not None and age < self._max_age_s:
                return found
            if age < self._max_age_s:
                await asyncio.sleep(self._max_age_s - age)  # a new worker: ask once more, later
        return _find(await self._fetch_workers(access, key), worker_id)

    async def _fetch_workers(self, access: AccountAccess, key: tuple[str, str]) -> EndpointWorkers:
        cached = self._workers.get(key)
        if cached is not None and self._clock() - cached[0] < self._max_age_s:
            return cached[1]
        running = self._fetching.get(key)
        if running is None:
            running = asyncio.ensure_future(self._read_workers(access, key))
            self._fetching[key] = running
            running.add_done_callback(lambda _: self._fetching.pop(key, None))
        return await asyncio.shield(running)

    async def _read_workers(self, access: AccountAccess, key: tuple[str, str]) -> EndpointWorkers:
        self.requests += 1
        workers = await self._client(access).workers(access.endpoint_id)
        self._workers[key] = (self._clock(), workers)
        return workers

    async def prices(self, access: AccountAccess) -> dict[str, GpuPrice]:
        """The GPU catalog by type id, read once per management API; ``AccountError`` saying
        why when it can't be read (asked again after ``retry_s``)."""
        base = access.base_url
        async with self._price_lock:
            if base in self._prices:
                return self._prices[base]
            failed = self._price_failures.get(base)
            if failed is not None and self._clock() - failed[0] < self._retry_s:
                raise AccountError(failed[1])
            self.requests += 1
            try:
                table = price_table(await self._client(access).gpu_catalog())
            except AccountError as exc:
                self._price_failures[base] = (self._clock(), str(exc))
                raise
            self._prices[base] = table
            return table

    async def aclose(self) -> None:
        for running in list(self._fetching.values()):
            running.cancel()
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _find(workers: EndpointWorkers, worker_id: str) -> Worker | None:
    return next((w for w in workers.workers if w.id == worker_id), None)
