"""Settings of one sandbox server: workers, auth, limits, retention, webhooks, injected faults,
and the endpoints its management API (REST v2) describes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gui.core.limits import (
    RETENTION_RUN_S,
    RETENTION_RUNSYNC_S,
    RUNSYNC_WAIT_DEFAULT_MS,
    WEBHOOK_RETRY_INTERVAL_S,
)

__all__ = ["EndpointSpec", "FaultConfig", "SandboxConfig", "WorkerScenario"]

# How an endpoint's simulated workers behave: "healthy" ones take jobs; "crash_loop" ones restart
# every ``crash_restart_s`` and never take a job (UNHEALTHY); "throttled" ones wait for capacity
# that never comes (THROTTLED); "starting" ones are in a cold start that does not end (an image
# pull or a model download: INITIALIZING). Jobs of the last three stay IN_QUEUE, as on RunPod.
WorkerScenario = Literal["healthy", "crash_loop", "throttled", "starting"]
WORKER_SCENARIOS: tuple[WorkerScenario, ...] = ("healthy", "crash_loop", "throttled", "starting")


@dataclass
class FaultConfig:
    """Faults injected into requests under ``/v2``, each a share between 0 and 1.

    ``share_429`` answers 429 with ``Retry-After: retry_after_s``; ``share_5xx`` answers one of
    ``codes_5xx`` (500, 502 or 503); ``share_drop`` closes the connection without an answer;
    ``latency_ms`` adds a delay drawn uniformly from ``(low, high)`` milliseconds to every request
    (``(x, x)`` for a fixed delay). A request faulted so never reaches the handler: no job is
    created or changed by it.

    ``share_answer_lost`` is the other kind of 5xx: the request *is* handled (a ``/run`` queues its
    job), then its answer is replaced by a gateway's 502 page, as when a proxy in front of RunPod
    loses the endpoint's answer.
    """

    share_429: float = 0
    share_5xx: float = 0
    share_drop: float = 0
    latency_ms: tuple[float, float] = (0, 0)
    retry_after_s: float = 1.0
    codes_5xx: tuple[int, ...] = (500, 502, 503)
    share_answer_lost: float = 0

    @property
    def any_fault(self) -> bool:
        return bool(
            self.share_429
            or self.share_5xx
            or self.share_drop
            or self.share_answer_lost
            or max(self.latency_ms) > 0
        )


@dataclass
class EndpointSpec:
    """One endpoint as the management API (``GET /v2/serverless``) describes it.

    The queue API still serves any endpoint id; an id used there without a spec gets this class's
    defaults. ``workers_max`` is how many simulated workers run (``None``: the server's
    ``workers``; 0: none, so jobs stay IN_QUEUE, like an endpoint RunPod scaled down after 7 idle
    days). ``gpu_type_id`` is a catalog id (``gui.sandbox.catalog``); ``version`` and ``image``
    are the current release; ``outdated_workers`` of the workers still run release
    ``version - 1`` (a rolling release, ``isStale`` true).
    """

    id: str
    name: str = ""  # "" : "sandbox-<id>"
    type: Literal["QUEUE", "LOAD_BALANCER"] = "QUEUE"
    gpu_type_id: str = "NVIDIA GeForce RTX 4090"
    gpu_count: int = 1
    workers_min: int = 0
    workers_max: int | None = None
    idle_timeout_s: int = 5
    data_center_id: str = "US-KS-2"
    image: str = "runpod/sandbox-worker:1.0.0"
    version: int = 1
    outdated_workers: int = 0
    previous_image: str = "runpod/sandbox-worker:0.9.0"
    flashboot: Literal["OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT"] = "FLASHBOOT"
    timeout_ms: int = 600_000
    scenario: WorkerScenario = "healthy"

    @property
    def display_name(self) -> str:
        return self.name or f"sandbox-{self.id}"


@dataclass
class SandboxConfig:
    """How a :class:`~gui.sandbox.SandboxServer` behaves. Defaults follow RunPod's cloud.

    ``rate_limits`` turns on RunPod's per-endpoint limits (``gui.core.limits.RATE_LIMITS``);
    ``rate_limit_overrides`` replaces single operations' ``(requests per window, concurrent)`` so a
    test can reach a limit quickly. ``runsync_failed_status`` is the HTTP status of a ``/runsync``
    answer whose job FAILED: the cloud answers 200 today; some documentation shows 400.
    ``runsync_wait_default_ms`` is how long ``/runsync`` (and ``/status-sync``) hold a request that
    names no ``wait``; shorten it to see a client's fallback to polling without a 90 s wait.

    The management API (``gui.sandbox.management``): ``endpoints`` are described (and their
    workers started) from the server's start; other ids appear once the queue API used them.
    ``worker_log_lines`` bounds each worker's log buffer; ``crash_restart_s`` is how often a
    crash-looping worker restarts; ``management_quotas`` are the per-minute, -hour and -day
    request quotas its ``RateLimit`` headers count down (enforced with 429 only when
    ``rate_limits`` is on).
    """

    workers: int = 2
    api_key: str | None = None  # None: no auth required
    rate_limits: bool = False
    rate_limit_overrides: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    retention_run_s: float = RETENTION_RUN_S
    retention_runsync_s: float = RETENTION_RUNSYNC_S
    webhook_retry_interval_s: float = WEBHOOK_RETRY_INTERVAL_S
    default_duration_s: float = 0.2  # how long the default echo job takes
    runsync_failed_status: int = 200
    runsync_wait_default_ms: int = RUNSYNC_WAIT_DEFAULT_MS  # when a request gives no ``wait``
    faults: FaultConfig = field(default_factory=FaultConfig)
    endpoints: list[EndpointSpec] = field(default_factory=list)
    worker_log_lines: int = 2000
    crash_restart_s: float = 5.0
    management_quotas: tuple[int, int, int] = (60, 3000, 50_000)

    def endpoint_spec(self, endpoint_id: str) -> EndpointSpec:
        """The configured spec of this id, or the defaults for an id first seen by the queue API."""
        for spec in self.endpoints:
            if spec.id == endpoint_id:
                return spec
        return EndpointSpec(endpoint_id)

    def worker_count(self, spec: EndpointSpec) -> int:
        return max(1, self.workers) if spec.workers_max is None else max(0, spec.workers_max)
