"""What the management API (REST v2) answers, as frozen records: endpoints, workers, releases,
GPU prices and billing (RUNPOD_API.md section 10).

Parsing is tolerant: an unknown field is ignored, a missing optional one gets a neutral value,
and where RunPod's spec or its history gives two forms, both are read:

- v1 names beside v2's (``workersMin``/``workersMax``/``idleTimeout``, ``gpuIds``/``gpuTypeIds``,
  ``gpuCount``, ``executionTimeoutMs``, ``scalerType``/``scalerValue``, ``version``): an account
  answered by an older host, or a mirror of one, still reads.
- ``type`` may be absent on legacy endpoints: read as a queue endpoint, the only kind they had.
- ``flashboot`` is a string (``"OFF"``, ``"FLASHBOOT"``...); a bool is read as ON/OFF.
- a workers ``summary`` whose ``total`` disagrees with the list (the spec's own example does):
  the list counts, ``summary`` keeps what was sent.
- times are RFC 3339 strings, or epoch milliseconds (batch ``createdAt``).
- billing amounts under their record names (``gpuAmount``) or the aggregate's prefixed names
  (``serverlessGpuAmount``).
- a status, type or source in lower case is upper-cased.

A value of the wrong type is not an error: it reads as missing. A record without its ``id`` is
the one thing refused (``ValueError``), since nothing could name it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "LOAD_BALANCER",
    "QUEUE",
    "WORKER_STATES",
    "BillingAmounts",
    "BillingRecord",
    "BillingReport",
    "Endpoint",
    "EndpointWorkers",
    "GpuPrice",
    "Release",
    "ReleaseChange",
    "Releases",
    "Rollout",
    "Worker",
    "parse_time",
]

QUEUE, LOAD_BALANCER = "QUEUE", "LOAD_BALANCER"
WORKER_STATES = ("RUNNING", "IDLE", "INITIALIZING", "THROTTLED", "UNHEALTHY")
"""RunPod's worker states; ``Worker.status`` may also hold a newer one it adds later."""


# -- reading loose JSON --------------------------------------------------------------------------


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` that ``data`` holds with a value other than None."""
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _first_int(*values: Any) -> int | None:
    """The first of ``values`` that reads as a whole number (0 counts)."""
    for value in values:
        number = _int(value)
        if number is not None:
            return number
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _strings(value: Any) -> tuple[str, ...]:
    """A list of strings, or one comma-joined string (v1's ``gpuIds: "ADA_24,AMPERE_16"``)."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Sequence):
        return tuple(item for item in value if isinstance(item, str) and item)
    return ()


def _upper(value: Any, default: str = "") -> str:
    return value.strip().upper() if isinstance(value, str) and value.strip() else default


def _id(data: Mapping[str, Any], what: str) -> str:
    value = data.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"the management API sent {what} without an id")
    return value


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time (``2026-06-01T12:00:00Z``) or epoch milliseconds, in UTC, else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "zZ":
        text = f"{text[:-1]}+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- endpoints -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One serverless endpoint (``GET /v2/serverless``).

    ``gpu_pools`` are pool ids (``ADA_24``) or, from v1, GPU type ids; ``cpu_flavors`` is set on
    CPU endpoints instead. ``workers_max`` 0 means no worker can start (RunPod's idle scale-down
    after 7 days). ``timeout_ms`` is the per-job execution timeout.
    """

    id: str
    name: str
    type: str = QUEUE
    gpu_pools: tuple[str, ...] = ()
    gpu_excluded: tuple[str, ...] = ()
    gpu_count: int = 0
    cpu_flavors: tuple[str, ...] = ()
    workers_min: int = 0
    workers_max: int = 0
    idle_timeout_s: int | None = None
    scaling: str = ""
    scaling_value: float | None = None
    data_center_ids: tuple[str, ...] = ()
    timeout_ms: int | None = None
    flashboot: str = ""
    image: str = ""
    created_at: datetime | None = None
    version: int | None = None  # v1 only; v2 tells it with the workers and releases
    health_url: str = ""  # the job API's /health of a queue endpoint (requestUrls.health)

    @property
    def supports_jobs(self) -> bool:
        """Queue endpoints take jobs (/run, /status); load-balancing ones serve plain HTTP."""
        return self.type != LOAD_BALANCER

    @property
    def hardware(self) -> str:
        """``2 x ADA_24``, ``ADA_24 | AMPERE_24``, ``CPU cpu5c``, or "" when not told."""
        if self.cpu_flavors and not self.gpu_pools:
            return f"CPU {', '.join(self.cpu_flavors)}"
        if not self.gpu_pools:
            return ""
        pools = " | ".join(self.gpu_pools)
        return f"{self.gpu_count} x {pools}" if self.gpu_count > 1 else pools

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Endpoint:
        gpu = _obj(data.get("gpu"))
        workers = _obj(data.get("workers"))
        scaling = _obj(data.get("scaling"))
        scaling_type = _upper(_first(scaling, "type") or data.get("scalerType"))
        scaling_value = _float(
            _first(scaling, "queueDelay", "requestCount", "value")
            if scaling
            else data.get("scalerValue")
        )
        flashboot = data.get("flashboot")
        if isinstance(flashboot, bool):
            flashboot = "FLASHBOOT" if flashboot else "OFF"
        cpu = data.get("cpu")
        cpu_flavors = (
            tuple(_str(_obj(item).get("id")) for item in cpu if _str(_obj(item).get("id")))
            if isinstance(cpu, Sequence) and not isinstance(cpu, str)
            else _strings(data.get("instanceIds"))
        )
        return cls(
            id=_id(data, "an endpoint"),
            name=_str(data.get("name")),
            type=_upper(data.get("type"), QUEUE),
            gpu_pools=_strings(_first(gpu, "pools") or _first(data, "gpuIds", "gpuTypeIds")),
            gpu_excluded=_strings(gpu.get("excludedTypes")),
            gpu_count=_first_int(gpu.get("count"), data.get("gpuCount")) or 0,
            cpu_flavors=cpu_flavors,
            workers_min=_first_int(workers.get("min"), data.get("workersMin")) or 0,
            workers_max=_first_int(workers.get("max"), data.get("workersMax")) or 0,
            idle_timeout_s=_first_int(workers.get("idleTimeout"), data.get("idleTimeout")),
            scaling=scaling_type,
            scaling_value=scaling_value,
            data_center_ids=_strings(_first(data, "dataCenterIds", "locations")),
            timeout_ms=_first_int(data.get("timeout"), data.get("executionTimeoutMs")),
            flashboot=_upper(flashboot),
            image=_str(_first(data, "image", "imageName")),
            created_at=parse_time(data.get("createdAt")),
            version=_int(data.get("version")),
            health_url=_str(_obj(data.get("requestUrls")).get("health"))
            if _upper(data.get("type"), QUEUE) != LOAD_BALANCER
            else "",
        )


# -- workers -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Worker:
    """One active worker (``GET /v2/serverless/{id}/workers``); scaled-down ones are not listed.

    ``outdated`` is RunPod's ``isStale``: it runs an older release than the endpoint's. GPU, data
    center, uptime and start are None until RunPod has placed the worker on a host.
    """

    id: str
    status: str
    outdated: bool = False
    version: int | None = None
    gpu_count: int = 0
    image: str = ""
    uptime_s: int | None = None
    gpu_type_id: str | None = None
    data_center_id: str | None = None
    started_at: datetime | None = None

    @property
    def ready(self) -> bool:
        """Taking jobs (IDLE) or running one (RUNNING)."""
        return self.status in ("IDLE", "RUNNING")

    @property
    def release(self) -> str:
        """``v4`` (and the image when known), or the image alone."""
        if self.version is not None:
            return f"v{self.version} {self.image}".rstrip()
        return self.image

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Worker:
        return cls(
            id=_id(data, "a worker"),
            status=_upper(_first(data, "status", "state", "desiredStatus"), "UNKNOWN"),
            outdated=_bool(_first(data, "isStale", "outdated")),
            version=_int(data.get("version")),
            gpu_count=_int(data.get("gpuCount")) or 0,
            image=_str(_first(data, "image", "imageName")),
            uptime_s=_first_int(data.get("uptimeSeconds"), data.get("uptimeInSeconds")),
            gpu_type_id=_opt_str(_first(data, "gpuTypeId", "gpuType")),
            data_center_id=_opt_str(_first(data, "dataCenterId", "location")),
            started_at=parse_time(data.get("startedAt")),
        )


@dataclass(frozen=True, slots=True)
class EndpointWorkers:
    """An endpoint's active workers, the version they should run, and RunPod's summary.

    ``counts`` are counted from ``workers`` (the spec's example summary disagrees with its own
    list); ``summary`` keeps RunPod's figures as sent, lower-case state names and ``total``.
    """

    endpoint_id: str
    workers: tuple[Worker, ...] = ()
    endpoint_version: int | None = None
    summary: Mapping[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Workers per state (every one of ``WORKER_STATES``, and any other state seen)."""
        counts = dict.fromkeys(WORKER_STATES, 0)
        for worker in self.workers:
            counts[worker.status] = counts.get(worker.status, 0) + 1
        return counts

    @property
    def versions(self) -> tuple[int, ...]:
        """The distinct release versions the workers run, newest first."""
        versions = {w.version for w in self.workers if w.version is not None}
        return tuple(sorted(versions, reverse=True))

    @property
    def images(self) -> tuple[str, ...]:
        return tuple(sorted({w.image for w in self.workers if w.image}))

    @classmethod
    def from_json(cls, endpoint_id: str, data: Mapping[str, Any]) -> EndpointWorkers:
        raw = data.get("workers")
        items = raw if isinstance(raw, Sequence) and not isinstance(raw, str) else []
        workers = tuple(Worker.from_json(_obj(item)) for item in items if _obj(item).get("id"))
        summary = {
            str(key).lower(): value
            for key, value in _obj(data.get("summary")).items()
            if isinstance(value, int) and not isinstance(value, bool)
        }
        return cls(endpoint_id, workers, _int(data.get("endpointVersion")), summary)


# -- releases ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReleaseChange:
    """One field a release changed; ``old``/``new`` are raw JSON (None when added or removed)."""

    field: str
    old: Any = None
    new: Any = None


@dataclass(frozen=True, slots=True)
class Release:
    id: str
    version: int | None = None
    source: str = ""
    build_id: str | None = None
    worker_count: int = 0
    created_at: datetime | None = None
    changes: tuple[ReleaseChange, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Release:
        diff = data.get("diff")
        entries = diff if isinstance(diff, Sequence) and not isinstance(diff, str) else []
        return cls(
            id=_id(data, "a release"),
            version=_int(data.get("version")),
            source=_upper(data.get("source")),
            build_id=_opt_str(data.get("buildId")),
            worker_count=_int(data.get("workerCount")) or 0,
            created_at=parse_time(data.get("createdAt")),
            changes=tuple(
                ReleaseChange(_str(_obj(e).get("field")), _obj(e).get("old"), _obj(e).get("new"))
                for e in entries
                if _str(_obj(e).get("field"))
            ),
        )


@dataclass(frozen=True, slots=True)
class Rollout:
    in_progress: bool = False
    workers_on_latest: int = 0
    workers_total: int = 0
    percent_on_latest: int = 0


@dataclass(frozen=True, slots=True)
class Releases:
    """``GET /v2/serverless/{id}/releases``: newest release first, and the rollout's progress."""

    endpoint_id: str
    endpoint_version: int | None = None
    rollout: Rollout = Rollout()
    releases: tuple[Release, ...] = ()

    @classmethod
    def from_json(cls, endpoint_id: str, data: Mapping[str, Any]) -> Releases:
        raw = data.get("releases")
        items = raw if isinstance(raw, Sequence) and not isinstance(raw, str) else []
        rollout = _obj(data.get("rollout"))
        return cls(
            endpoint_id,
            _int(data.get("endpointVersion")),
            Rollout(
                _bool(rollout.get("inProgress")),
                _int(rollout.get("workersOnLatest")) or 0,
                _int(rollout.get("workersTotal")) or 0,
                _int(rollout.get("percentOnLatest")) or 0,
            ),
            tuple(Release.from_json(_obj(item)) for item in items if _obj(item).get("id")),
        )


# -- GPU catalog ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GpuPrice:
    """A GPU type of the catalog (``GET /v2/catalog/gpus``) and its prices.

    Prices are USD per GPU per hour, as the API gives them; ``serverless_per_hour`` is None when the
    type is in no serverless pool open to the account. Negotiated discounts are not in it.
    """

    id: str
    name: str = ""
    pool: str | None = None
    memory_gb: int | None = None
    serverless_per_hour: float | None = None
    secure_per_hour: float | None = None
    community_per_hour: float | None = None

    @property
    def serverless_per_second(self) -> float | None:
        """USD per GPU per second (RunPod bills serverless by the second)."""
        price = self.serverless_per_hour
        return None if price is None else price / 3600

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GpuPrice:
        price = _obj(data.get("price"))
        return cls(
            id=_id(data, "a GPU type"),
            name=_str(_first(data, "name", "displayName")),
            pool=_opt_str(data.get("pool")),
            memory_gb=_first_int(data.get("memory"), data.get("memoryInGb")),
            serverless_per_hour=_float(price.get("serverless")),
            secure_per_hour=_float(_first(price, "secure") if price else data.get("securePrice")),
            community_per_hour=_float(
                _first(price, "community") if price else data.get("communityPrice")
            ),
        )


# -- billing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillingAmounts:
    """USD amounts of one bucket, or of a whole query."""

    total: float = 0.0
    gpu: float = 0.0
    cpu: float = 0.0
    disk: float = 0.0
    fee: float = 0.0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BillingAmounts:
        def amount(name: str) -> float:
            prefixed = f"serverless{name[0].upper()}{name[1:]}"
            return _float(_first(data, name, prefixed)) or 0.0

        return cls(
            amount("totalAmount"),
            amount("gpuAmount"),
            amount("cpuAmount"),
            amount("diskAmount"),
            amount("feeAmount"),
        )


@dataclass(frozen=True, slots=True)
class BillingRecord:
    """One bucket (``[start, end)``) of one endpoint's serverless bill."""

    start: datetime | None
    end: datetime | None
    endpoint_id: str | None
    amounts: BillingAmounts

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BillingRecord:
        return cls(
            parse_time(data.get("startTime")),
            parse_time(data.get("endTime")),
            _opt_str(_first(data, "serverlessId", "endpointId")),
            BillingAmounts.from_json(data),
        )


@dataclass(frozen=True, slots=True)
class BillingReport:
    """``GET /v2/billing/serverless``: the buckets, the period RunPod settled on, and the totals
    (summed from the records when RunPod sends none)."""

    records: tuple[BillingRecord, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    bucket_size: str = ""
    totals: BillingAmounts = BillingAmounts()

    def total_for(self, endpoint_id: str) -> float:
        """USD billed to one endpoint over the report's period."""
        return sum(r.amounts.total for r in self.records if r.endpoint_id == endpoint_id)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BillingReport:
        raw = data.get("records")
        items = raw if isinstance(raw, Sequence) and not isinstance(raw, str) else []
        records = tuple(BillingRecord.from_json(_obj(item)) for item in items)
        metadata = _obj(data.get("metadata"))
        query = _obj(metadata.get("query"))
        if isinstance(metadata.get("totals"), Mapping):
            totals = BillingAmounts.from_json(_obj(metadata.get("totals")))
        else:
            totals = BillingAmounts(
                *(
                    round(sum(getattr(r.amounts, part) for r in records), 6)
                    for part in ("total", "gpu", "cpu", "disk", "fee")
                )
            )
        return cls(
            records,
            parse_time(query.get("startTime")),
            parse_time(query.get("endTime")),
            _str(query.get("bucketSize")),
            totals,
        )
