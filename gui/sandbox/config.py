"""Settings of one sandbox server: workers, auth, limits, retention, webhooks, injected faults."""

from __future__ import annotations

from dataclasses import dataclass, field

from gui.core.limits import (
    RETENTION_RUN_S,
    RETENTION_RUNSYNC_S,
    RUNSYNC_WAIT_DEFAULT_MS,
    WEBHOOK_RETRY_INTERVAL_S,
)

__all__ = ["FaultConfig", "SandboxConfig"]


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
class SandboxConfig:
    """How a :class:`~gui.sandbox.SandboxServer` behaves. Defaults follow RunPod's cloud.

    ``rate_limits`` turns on RunPod's per-endpoint limits (``gui.core.limits.RATE_LIMITS``);
    ``rate_limit_overrides`` replaces single operations' ``(requests per window, concurrent)`` so a
    test can reach a limit quickly. ``runsync_failed_status`` is the HTTP status of a ``/runsync``
    answer whose job FAILED: the cloud answers 200 today; some documentation shows 400.
    ``runsync_wait_default_ms`` is how long ``/runsync`` (and ``/status-sync``) hold a request that
    names no ``wait``; shorten it to see a client's fallback to polling without a 90 s wait.
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
