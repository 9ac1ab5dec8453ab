"""Recording what the console learns around each job it follows (``JobRecord.facts``): the
release and GPU of the worker that runs it, and its cost estimate once it ended.

``JobService`` tells ``FactRecorder.observe`` of every change of a job it owns (beside the log
follower). Once a job's status names its worker (IN_PROGRESS, or an end), the worker is looked up
in its endpoint's worker list (``AccountCache``: one request per endpoint every few seconds at
most, shared by its jobs); once it ended, its estimate is made from its execution time, that
worker's GPU and the catalog (read once per engine run). Each finding is merged in with
``JobService.add_facts`` (saved and announced). A job that moved to another worker is looked up
again. Local workers and targets without a management API (a cloud profile with no key) get no
facts: ``access_for`` raises ``AccountUnavailable`` for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from gui.core.account.access import AccountAccess, AccountUnavailable
from gui.core.account.job_facts import AccountCache, cost_facts, job_cost, worker_facts
from gui.core.errors import ConsoleError
from gui.core.records import JobRecord, JobState
from gui.core.targets import Target

__all__ = ["FactRecorder"]

log = logging.getLogger(__name__)

AddFacts = Callable[[str, Mapping[str, Any]], None]


class FactRecorder:
    """Runs on the engine loop; ``add_facts(local_id, facts)`` is ``JobService.add_facts``."""

    def __init__(
        self,
        add_facts: AddFacts,
        access_for: Callable[[Target], AccountAccess],
        cache: AccountCache | None = None,
    ) -> None:
        self._add_facts = add_facts
        self._access_for = access_for
        self.cache = cache or AccountCache()
        self._accesses: dict[Target, AccountAccess | None] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}
        self._latest: dict[str, tuple[JobRecord, Target]] = {}  # seen while a lookup ran
        self._looked_up: set[tuple[str, str]] = set()  # (local id, worker id)
        self._costed: set[str] = set()
        self._closed = False  # jobs the closing engine ends afterwards are left as they are

    def observe(self, record: JobRecord, target: Target) -> None:
        """A job of this console changed: learn what is still unknown about it."""
        local_id = record.local_id
        if self._closed or target.kind == "local" or record.job_id is None:
            return
        if local_id in self._pending:
            self._latest[local_id] = (record, target)
            return
        worker_id = self._worker_to_look_up(record)
        costs = record.terminal and record.state is not JobState.NOT_SENT
        wants_cost = costs and local_id not in self._costed and "cost" not in (record.facts or {})
        if worker_id is None and not wants_cost:
            return
        access = self._access(target)
        if access is None:
            return
        if worker_id is not None:
            self._looked_up.add((local_id, worker_id))
        if wants_cost:
            self._costed.add(local_id)
        task = asyncio.get_running_loop().create_task(
            self._learn(record, access, worker_id, wants_cost), name=f"job-facts-{local_id}"
        )
        self._pending[local_id] = task

    def _worker_to_look_up(self, record: JobRecord) -> str | None:
        worker_id = record.worker_id
        if not worker_id or not (record.state is JobState.IN_PROGRESS or record.terminal):
            return None
        if (record.facts or {}).get("worker") == worker_id:
            return None
        return None if (record.local_id, worker_id) in self._looked_up else worker_id

    def _access(self, target: Target) -> AccountAccess | None:
        if target not in self._accesses:
            try:
                self._accesses[target] = self._access_for(target)
            except AccountUnavailable:
                self._accesses[target] = None  # no management API here: no facts, silently
        return self._accesses[target]

    async def _learn(
        self, record: JobRecord, access: AccountAccess, worker_id: str | None, wants_cost: bool
    ) -> None:
        local_id = record.local_id
        try:
            facts = dict(record.facts or {})
            if worker_id is not None:
                try:
                    worker = await self.cache.worker(access, worker_id)
                except ConsoleError as exc:
                    log.warning("the worker of job %s could not be read: %s", local_id, exc)
                    worker = None
                if worker is not None:
                    facts.update(worker_facts(worker))
                    self._add_facts(local_id, worker_facts(worker))
            if wants_cost:
                if facts.get("worker") != record.worker_id:
                    # Its worker is not known (gone before it was looked up): no GPU to price.
                    facts = {k: v for k, v in facts.items() if k not in ("gpu", "gpu_count")}
                self._add_facts(local_id, {"cost": await self._cost(record, facts, access)})
        except Exception:
            log.exception("learning about job %s failed", local_id)
        finally:
            self._pending.pop(local_id, None)
            latest = self._latest.pop(local_id, None)
            if latest is not None:
                self.observe(*latest)

    async def _cost(
        self, record: JobRecord, facts: dict[str, Any], access: AccountAccess
    ) -> dict[str, Any]:
        try:
            prices = await self.cache.prices(access)
        except ConsoleError as exc:
            return {"usd": None, "missing": f"the GPU catalog could not be read ({exc})"}
        ended = JobRecord(
            record.local_id, record.profile, record.endpoint_id, record.operation, {},
            record.submitted_at, record.state, execution_time_ms=record.execution_time_ms,
            facts=facts,
        )  # fmt: skip
        return cost_facts(job_cost(ended, prices))

    async def settled(self) -> None:
        """Wait until every lookup started so far (and those they started) has ended."""
        while self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)

    async def aclose(self) -> None:
        self._closed = True
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pending.clear()
        await self.cache.aclose()
