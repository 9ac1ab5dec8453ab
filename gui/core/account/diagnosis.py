"""Why is a job waiting? A diagnosis in words from the endpoint's settings, its workers and its
``/health``: the stuck cases of RUNPOD_API.md 10.2 and 10.8, first match wins.

1. a load-balancing endpoint: it takes no queued jobs at all;
2. max workers 0: RunPod's idle scale-down (7 days without requests) or repeated crashes;
3. no worker ready, and some are UNHEALTHY: a crash loop;
4. no worker ready, and some are THROTTLED: no capacity for the GPU where it may run;
5. no worker ready, and some are INITIALIZING: a cold start under way;
6. no worker at all: RunPod has to start one (a cold start, or waiting for capacity);
7. every ready worker busy: the queue ahead of the job;
8. workers on two releases: a rollout takes workers away while it replaces them;
9. nothing wrong found.

``diagnose_wait`` is pure (records in, words out); ``diagnose_endpoint`` fetches what it needs
through a ``ManagementClient``; ``wait_diagnosis_line`` is the whole thing for a command that
waits on a thread without a loop (``job-console run`` prints it on stderr).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gui.core.account.access import AccountUnavailable, account_access
from gui.core.account.client import ManagementClient
from gui.core.account.models import Endpoint, EndpointWorkers
from gui.core.errors import AccountError
from gui.core.targets import Target
from gui.core.wording import counted, duration_words

__all__ = [
    "COLD_START_LIMIT_S",
    "WaitDiagnosis",
    "WaitKind",
    "diagnose_endpoint",
    "diagnose_wait",
    "duration_words",
    "wait_diagnosis_line",
]

COLD_START_LIMIT_S = 7 * 60
"""A worker still starting after this is marked UNHEALTHY by RunPod (RUNPOD_INIT_TIMEOUT)."""


class WaitKind(StrEnum):
    NOT_FOR_JOBS = "not_for_jobs"
    SCALED_TO_ZERO = "scaled_to_zero"
    UNHEALTHY = "unhealthy"
    THROTTLED = "throttled"
    STARTING = "starting"
    NO_WORKERS = "no_workers"
    QUEUE_AHEAD = "queue_ahead"
    ROLLING = "rolling"
    NOTHING_FOUND = "nothing_found"


@dataclass(frozen=True, slots=True)
class WaitDiagnosis:
    """``reason``: what was found (a sentence or two); ``advice``: what to do ("" if nothing)."""

    kind: WaitKind
    reason: str
    advice: str = ""

    @property
    def text(self) -> str:
        return f"{self.reason} {self.advice}".strip()

    @property
    def found(self) -> bool:
        """Something that keeps jobs waiting was found."""
        return self.kind is not WaitKind.NOTHING_FOUND


def diagnose_wait(
    endpoint: Endpoint,
    workers: EndpointWorkers,
    health: Mapping[str, Any] | None = None,
    waited_s: float | None = None,
) -> WaitDiagnosis:
    """Why a job of ``endpoint`` waits (or would wait), from its workers and job-API ``/health``
    (None when it could not be read); ``waited_s`` is the job's time in the queue, if known."""
    name = endpoint.name or endpoint.id
    counts = workers.counts
    ready = counts["IDLE"] + counts["RUNNING"]
    queued = _queued(health)
    where = _where(endpoint)
    if not endpoint.supports_jobs:
        return WaitDiagnosis(
            WaitKind.NOT_FOR_JOBS,
            f"{name} is a load-balancing endpoint: it serves plain HTTP requests, not queued "
            "jobs (/run, /status).",
            "Send jobs to a queue endpoint.",
        )
    if endpoint.workers_max == 0:
        return WaitDiagnosis(
            WaitKind.SCALED_TO_ZERO,
            f"{name} has max workers 0, so no worker can start: RunPod sets it to 0 after 7 days "
            "without a request, and after workers crashed again and again.",
            "Raise max workers (RunPod's console: the endpoint's Manage > Edit Endpoint, or "
            f'PATCH /v2/serverless/{endpoint.id} with {{"workers": {{"max": 3}}}}); '
            "the queued jobs then start.",
        )
    if ready == 0 and counts["UNHEALTHY"]:
        return WaitDiagnosis(
            WaitKind.UNHEALTHY,
            f"{_workers(counts['UNHEALTHY'])} of {name} {_be(counts['UNHEALTHY'])} unhealthy and "
            "none is ready: a crash loop (the container exits at start or fails its checks), "
            "or a start that took over 7 minutes.",
            "Read a worker's log: system lines repeating 'start container' with no container "
            "output mean it crashes at start. Fix the image or handler and release again "
            "(RUNPOD_INIT_TIMEOUT allows a longer start).",
        )
    if ready == 0 and counts["THROTTLED"]:
        return WaitDiagnosis(
            WaitKind.THROTTLED,
            f"{_workers(counts['THROTTLED'])} of {name} {_be(counts['THROTTLED'])} throttled: "
            f"RunPod has no free {where} for {_them(counts['THROTTLED'])} now, and none is ready.",
            "Wait, or allow more GPU types or data centers for the endpoint.",
        )
    if ready == 0 and counts["INITIALIZING"]:
        late = waited_s is not None and waited_s > COLD_START_LIMIT_S
        return WaitDiagnosis(
            WaitKind.STARTING,
            f"{_workers(counts['INITIALIZING'])} of {name} {_be(counts['INITIALIZING'])} "
            "starting (pulling the image, loading the handler); none is ready yet.",
            "A start over 7 minutes makes RunPod mark the worker unhealthy: read its log, and "
            "set RUNPOD_INIT_TIMEOUT if the model needs longer."
            if late
            else "The job starts once a worker is ready; FlashBoot, a smaller image or a model "
            "on a network volume shortens starts.",
        )
    if not workers.workers:
        return WaitDiagnosis(
            WaitKind.NO_WORKERS,
            f"No worker of {name} is running (min workers {endpoint.workers_min}): RunPod has "
            "to start one for the queued job.",
            f"That is a cold start; if no worker appears for minutes, RunPod has no free {where}: "
            "allow more GPU types or data centers, or keep a worker running (min workers 1).",
        )
    if ready and counts["IDLE"] == 0 and (queued is None or queued > 0):
        waits = "waits" if queued == 1 else "wait"
        in_queue = "" if queued is None else f" and {counted(queued, 'job')} {waits} in the queue"
        at_max = len(workers.workers) >= endpoint.workers_max
        busy = (
            f"The one ready worker of {name} is busy"
            if ready == 1
            else f"All {ready} ready workers of {name} are busy"
        )
        return WaitDiagnosis(
            WaitKind.QUEUE_AHEAD,
            f"{busy}{in_queue}.",
            f"Max workers is {endpoint.workers_max}: raise it to run more jobs at once, or wait."
            if at_max
            else "RunPod adds workers while jobs wait (up to max workers "
            f"{endpoint.workers_max}); wait, or keep more running (min workers).",
        )
    outdated = sum(1 for worker in workers.workers if worker.outdated)
    if outdated or len(workers.versions) > 1:
        newest = workers.versions[0] if workers.versions else None
        on_old = outdated or sum(1 for w in workers.workers if w.version != newest)
        return WaitDiagnosis(
            WaitKind.ROLLING,
            f"A release of {name} is rolling out: {on_old} of {_workers(len(workers.workers))} "
            "still run an older one. RunPod replaces idle ones at once and busy ones after "
            "their job, so fewer workers take jobs meanwhile.",
            "Jobs start as workers come back on the new release.",
        )
    unhealthy = counts["UNHEALTHY"]
    also = f" ({_workers(unhealthy)} unhealthy)" if unhealthy else ""
    in_queue = "" if queued is None else f", {counted(queued, 'job')} in the queue"
    return WaitDiagnosis(
        WaitKind.NOTHING_FOUND,
        f"Nothing wrong found with {name}: {_workers(ready, 'ready')}{also}{in_queue}.",
        "An idle worker takes a queued job within seconds; if one stays queued, read the "
        "workers' logs."
        if waited_s is not None and waited_s > 60
        else "",
    )


async def diagnose_endpoint(
    client: ManagementClient, endpoint_id: str | None = None, waited_s: float | None = None
) -> WaitDiagnosis:
    """Fetch the endpoint, its workers and its ``/health`` (tolerated when unreadable), then
    ``diagnose_wait``. Raises ``AccountError`` when the endpoint or its workers can't be read."""
    endpoint = await client.endpoint(endpoint_id)
    workers = await client.workers(endpoint.id)
    health: dict[str, Any] | None = None
    if endpoint.health_url:
        try:
            health = await client.job_health(endpoint.health_url)
        except AccountError:
            health = None
    return diagnose_wait(endpoint, workers, health, waited_s)


def wait_diagnosis_line(
    target: Target,
    api_key: str | None,
    waited_s: float,
    *,
    management_url: str = "",
    environ: Mapping[str, str] | None = None,
) -> str:
    """One line for a person watching a job wait: ``IN_QUEUE for 2 min 5 s: <diagnosis>``, or
    why no diagnosis can be made (no key, no management API, an error). Never raises.

    Runs its own event loop: call it from a thread that has none (a command's main thread).
    """
    head = f"IN_QUEUE for {duration_words(waited_s)}"
    try:
        access = account_access(target, api_key, management_url=management_url, environ=environ)
    except AccountUnavailable as exc:
        return f"{head}; why can't be told: {exc}"

    async def fetch() -> WaitDiagnosis:
        async with ManagementClient(access) as client:
            return await diagnose_endpoint(client, waited_s=waited_s)

    try:
        diagnosis = asyncio.run(fetch())
    except (AccountError, ValueError) as exc:
        return f"{head}; why can't be told: {exc}"
    return f"{head}: {diagnosis.text}"


def _queued(health: Mapping[str, Any] | None) -> int | None:
    jobs = health.get("jobs") if isinstance(health, Mapping) else None
    value = jobs.get("inQueue") if isinstance(jobs, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _where(endpoint: Endpoint) -> str:
    gpu = endpoint.hardware or "GPU"
    places = ", ".join(endpoint.data_center_ids)
    return f"{gpu} in {places}" if places else gpu


def _workers(count: int, adjective: str = "") -> str:
    noun = f"{adjective} worker" if adjective else "worker"
    return counted(count, noun)


def _be(count: int) -> str:
    return "is" if count == 1 else "are"


def _them(count: int) -> str:
    return "it" if count == 1 else "them"
