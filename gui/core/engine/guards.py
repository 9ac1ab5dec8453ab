"""Applying the spend guards (``gui.core.account.guards``) to the jobs the engine follows.

``JobService`` tells ``GuardKeeper.observe`` of every status answer of a job it follows (and of
every poll that got none); when a guard of the job's profile says so, the job is cancelled through
``JobService.cancel(local_id, guard=...)``, which records a ``GUARD:`` step in the job's history
before the cancel and, once cancelled, the reason in its note and ``facts["guard"]``. A cancel
that fails is tried again ``retry_after_s`` later; a job is never cancelled twice at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from gui.core.account.guards import GuardVerdict, SpendGuards, check_guards
from gui.core.endpoint.answers import JobStatus
from gui.core.errors import ConsoleError
from gui.core.records import JobRecord

if TYPE_CHECKING:
    from gui.core.engine.jobs import JobService

__all__ = ["GuardKeeper", "retries_of"]

log = logging.getLogger(__name__)


def retries_of(answer: JobStatus | None) -> int | None:
    """``retries`` of a status answer (RunPod's count of requeues), None when absent."""
    value = None if answer is None else answer.payload.get("retries")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class GuardKeeper:
    """Runs on the engine loop. ``guards_for(profile)`` gives a profile's guards."""

    def __init__(
        self,
        service: JobService,
        guards_for: Callable[[str], SpendGuards],
        *,
        retry_after_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._service = service
        self._guards_for = guards_for
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._retries: dict[str, int] = {}  # the most RunPod said, per job
        self._acting: dict[str, asyncio.Task[None]] = {}
        self._not_before: dict[str, float] = {}
        self.cancelled: list[tuple[str, str]] = []  # (local id, guard kind): tests read it

    def observe(self, record: JobRecord, answer: JobStatus | None) -> None:
        local_id = record.local_id
        if record.terminal:
            self._forget(local_id)
            return
        retries = retries_of(answer)
        if retries is not None:
            self._retries[local_id] = max(retries, self._retries.get(local_id, 0))
        guards = self._guards_for(record.profile)
        if not guards.active or local_id in self._acting:
            return
        now = self._clock()
        if now < self._not_before.get(local_id, 0.0):
            return
        verdict = check_guards(guards, record, self._retries.get(local_id), now)
        if verdict is not None:
            task = asyncio.get_running_loop().create_task(self._cancel(local_id, verdict))
            self._acting[local_id] = task

    async def _cancel(self, local_id: str, verdict: GuardVerdict) -> None:
        try:
            record = await self._service.cancel(local_id, guard=verdict)
        except ConsoleError as exc:
            log.warning("a spend guard could not cancel job %s: %s", local_id, exc)
            self._not_before[local_id] = self._clock() + self._retry_after_s
        except Exception:
            log.exception("a spend guard failed to cancel job %s", local_id)
            self._not_before[local_id] = self._clock() + self._retry_after_s
        else:
            if record.terminal:
                self.cancelled.append((local_id, verdict.kind))
                self._forget(local_id)
        finally:
            self._acting.pop(local_id, None)

    def _forget(self, local_id: str) -> None:
        self._retries.pop(local_id, None)
        self._not_before.pop(local_id, None)

    async def aclose(self) -> None:
        tasks = list(self._acting.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
