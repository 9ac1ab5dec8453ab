"""RunPod's published numbers, in one place (RUNPOD_API.md §3 and §4).

The validator, the client's limiter, the tracker and the sandbox all read these; nothing else in the
code base may spell them out.
"""

from __future__ import annotations

from typing import Final, Literal, TypeGuard

Operation = Literal["run", "runsync"]

OPERATIONS: Final[tuple[Operation, ...]] = ("run", "runsync")


def is_operation(value: object) -> TypeGuard[Operation]:
    """True when ``value`` names an operation that sends a job ("run" or "runsync")."""
    return value in OPERATIONS


# Payload limits, counted on the compact serialization that is sent.
MAX_BODY_BYTES: Final[dict[Operation, int]] = {"run": 10 * 1024 * 1024, "runsync": 20 * 1024 * 1024}

# Top-level keys RunPod reads; any other is discarded.
TOP_LEVEL_KEYS: Final[tuple[str, ...]] = ("input", "webhook", "policy", "s3Config")
POLICY_KEYS: Final[tuple[str, ...]] = ("executionTimeout", "ttl", "lowPriority")
S3_REQUIRED_KEYS: Final[tuple[str, ...]] = ("accessId", "accessSecret", "bucketName", "endpointUrl")
S3_OPTIONAL_KEYS: Final[tuple[str, ...]] = ("objectPath",)

SEVEN_DAYS_MS: Final = 7 * 24 * 3600 * 1000
EXECUTION_TIMEOUT_MS: Final = (5_000, SEVEN_DAYS_MS)
EXECUTION_TIMEOUT_DEFAULT_MS: Final = 600_000
TTL_MS: Final = (10_000, SEVEN_DAYS_MS)
TTL_DEFAULT_MS: Final = 86_400_000

# /runsync's wait query, milliseconds.
RUNSYNC_WAIT_MS: Final = (1_000, 300_000)
RUNSYNC_WAIT_DEFAULT_MS: Final = 90_000

# Retention of results after a job ends, seconds.
RETENTION_RUN_S: Final = 30 * 60
RETENTION_RUNSYNC_S: Final = 60

# Rate limits per endpoint: operation -> (requests per window, concurrent requests).
RATE_WINDOW_S: Final = 10.0
RATE_LIMITS: Final[dict[str, tuple[int, int | None]]] = {
    "run": (1000, 200),
    "runsync": (2000, 400),
    "status": (2000, 400),
    "status-sync": (2000, 400),
    "stream": (2000, 400),
    "cancel": (100, 20),
    "purge-queue": (2, None),
    # Not published; generous values so the limiter never blocks them in practice.
    "retry": (100, 20),
    "health": (100, 20),
}

# Webhooks: RunPod tries a delivery up to 3 times, 10 s apart.
WEBHOOK_TRIES: Final = 3
WEBHOOK_RETRY_INTERVAL_S: Final = 10.0
# How long after a job's end its webhook may still come: RunPod's tries span (tries - 1)
# intervals; the margin covers the send itself and a slow tunnel.
WEBHOOK_GRACE_S: Final = (WEBHOOK_TRIES - 1) * WEBHOOK_RETRY_INTERVAL_S + 10.0

# Stream chunks are at most 1 MB each.
MAX_STREAM_CHUNK_BYTES: Final = 1024 * 1024

DEFAULT_BASE_URL: Final = "https://api.runpod.ai/v2"
DEFAULT_MANAGEMENT_URL: Final = "https://api.runpod.io/v2"
"""RunPod's management API (REST v2): endpoints, workers, logs, prices, billing (another host)."""
