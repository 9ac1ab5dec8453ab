"""RunPod's REST v2 management API, the subset the sandbox serves beside its queue API.

Same port, same ``/v2`` (RUNPOD_API.md section 10): ``GET /v2/serverless`` and
``/v2/serverless/{id}`` (its endpoints), ``/{id}/workers`` (the simulated workers),
``/{id}/workers/{workerId}/logs`` (Server-Sent Events), ``/{id}/releases``, ``/v2/catalog/gpus``
(``+ /{id}``) and ``/v2/billing/serverless``. Lists are wrapped under a resource key and not paged,
as RunPod's are. Errors are RFC 9457 ``application/problem+json`` (``title``, ``status``,
``detail``); every authenticated answer carries the ``RateLimit-Policy`` and ``RateLimit`` headers.
The API key rule is the queue API's (``SandboxConfig.api_key``).

An endpoint id named ``serverless``, ``catalog`` or ``billing`` can't be used for the queue API's
``GET`` operations (``health``), whose paths these routes take first.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from gui.sandbox.catalog import GPU_TYPES, gpu_by_id, per_second_price
from gui.sandbox.endpoint import SandboxEndpoint
from gui.sandbox.workers import LogEntry, rfc3339

if TYPE_CHECKING:
    from gui.sandbox.app import SandboxRoutes

__all__ = ["MANAGEMENT_PREFIXES", "Management", "problem"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MANAGEMENT_PREFIXES = ("/v2/serverless", "/v2/catalog", "/v2/billing")
ROUTE_PREFIX = "rest:"
KEEPALIVE_S = 15.0  # an SSE comment this often when no line comes, so proxies keep the stream
TAIL_DEFAULT, TAIL_MAX = 100, 5000
BUCKETS = ("hour", "day", "week", "month", "year")
RATE_HEADERS = web.RequestKey("rate_headers", dict[str, str])
RATE_WINDOWS = (("minute", 60), ("hour", 3600), ("day", 86_400))
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
}


def problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """An RFC 9457 answer in RunPod's shape: ``title``, ``status``, ``detail``."""
    body = {"title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    return web.json_response(
        body, status=status, headers=headers, content_type="application/problem+json"
    )


class _Problem(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class _RateCounter:
    """Fixed minute, hour and day windows of the management API's requests (one user)."""

    def __init__(self, quotas: tuple[int, int, int]) -> None:
        self._quotas = quotas
        self._starts = [0.0, 0.0, 0.0]
        self._counts = [0, 0, 0]

    def take(self) -> tuple[dict[str, str], int | None]:
        """Count one request: its headers, and seconds to wait when a quota is spent."""
        now = time.monotonic()
        for index, (_, window) in enumerate(RATE_WINDOWS):
            if self._counts[index] == 0 or now >= self._starts[index] + window:
                self._starts[index], self._counts[index] = now, 0
        spent = [i for i, quota in enumerate(self._quotas) if self._counts[i] >= quota]
        if not spent:
            for index in range(len(self._counts)):
                self._counts[index] += 1
        resets = [
            max(0, math.ceil(self._starts[i] + window - now))
            for i, (_, window) in enumerate(RATE_WINDOWS)
        ]
        policy = ", ".join(
            f'"{name}";q={quota};w={window}'
            for (name, window), quota in zip(RATE_WINDOWS, self._quotas, strict=True)
        )
        state = ", ".join(
            f'"{name}";r={max(0, quota - count)};t={reset}'
            for (name, _), quota, count, reset in zip(
                RATE_WINDOWS, self._quotas, self._counts, resets, strict=True
            )
        )
        headers = {"RateLimit-Policy": policy, "RateLimit": state}
        return headers, (max(1, max(resets[i] for i in spent)) if spent else None)


class Management:
    """The management routes of one server; reads the live endpoints of its ``SandboxRoutes``."""

    def __init__(self, routes: SandboxRoutes, authorized: Callable[[web.Request], bool]) -> None:
        self._routes = routes
        self._authorized = authorized
        self._rates = _RateCounter(routes.config.management_quotas)

    def add_routes(self, app: web.Application) -> None:
        endpoint = "/v2/serverless/{serverless_id}"
        table: list[tuple[str, str, Handler]] = [
            ("endpoints", "/v2/serverless", self._endpoints),
            ("endpoint", endpoint, self._endpoint),
            ("workers", f"{endpoint}/workers", self._workers),
            ("logs", f"{endpoint}/workers/{{worker_id}}/logs", self._logs),
            ("releases", f"{endpoint}/releases", self._releases),
            ("gpus", "/v2/catalog/gpus", self._gpus),
            ("gpu", "/v2/catalog/gpus/{gpu_id}", self._gpu),
            ("billing", "/v2/billing/serverless", self._billing),
        ]
        for name, path, handler in table:
            app.router.add_route("GET", path, handler, name=f"{ROUTE_PREFIX}{name}")

    @staticmethod
    def owns(request: web.Request) -> bool:
        """A management route, or an unknown path under one of its prefixes."""
        name = request.match_info.route.name
        if name is not None:
            return name.startswith(ROUTE_PREFIX)
        path = request.path.rstrip("/")
        return any(path == p or path.startswith(f"{p}/") for p in MANAGEMENT_PREFIXES)

    async def admit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Auth, then the rate windows, then the handler; every error as problem+json."""
        if self._routes.config.api_key is not None and not self._authorized(request):
            given = request.headers.get("Authorization", "").strip()
            return problem(401, "invalid bearer token" if given else "missing bearer token")
        rate_headers, retry_after = self._rates.take()
        if retry_after is not None and self._routes.config.rate_limits:
            return problem(
                429,
                "rate limit exceeded; wait for the window in Retry-After",
                headers={**rate_headers, "Retry-After": str(retry_after)},
            )
        request[RATE_HEADERS] = rate_headers
        try:
            answer = await handler(request)
        except _Problem as exc:
            answer = problem(exc.status, exc.detail)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            if exc.status == 404:
                answer = problem(404, f"The requested path was not found: {request.path}.")
            elif exc.status == 405:
                answer = problem(
                    405,
                    "The requested method is not allowed for this path; the sandbox serves "
                    "GET here.",
                    headers={"Allow": exc.headers.get("Allow", "GET")},
                )
            else:
                answer = problem(exc.status, exc.reason)
        if not answer.prepared:
            answer.headers.update(rate_headers)
        return answer

    # ---------------------------------------------------------------- endpoints
    def _find(self, request: web.Request) -> SandboxEndpoint:
        endpoint_id = request.match_info["serverless_id"]
        endpoint = self._routes.endpoints.get(endpoint_id)
        if endpoint is None:
            raise _Problem(
                404,
                f"Endpoint {endpoint_id} was not found: the sandbox knows the endpoints of its "
                "configuration and those its queue API has served.",
            )
        return endpoint

    async def _endpoints(self, request: web.Request) -> web.StreamResponse:
        endpoints = sorted(self._routes.endpoints.values(), key=lambda e: e.created_wall)
        return web.json_response(
            {"endpoints": [self._describe(request, endpoint) for endpoint in endpoints]}
        )

    async def _endpoint(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self._describe(request, self._find(request)))

    def _describe(self, request: web.Request, endpoint: SandboxEndpoint) -> dict[str, Any]:
        """RunPod's Endpoint object."""
        spec = endpoint.spec
        base = f"{request.scheme}://{request.host}/v2/{spec.id}"
        gpu = gpu_by_id(spec.gpu_type_id)
        queue = spec.type == "QUEUE"
        urls = (
            {
                "run": f"{base}/run",
                "runSync": f"{base}/runsync",
                "status": f"{base}/status/{{job_id}}",
                "stream": f"{base}/stream/{{job_id}}",
                "cancel": f"{base}/cancel/{{job_id}}",
                "retry": f"{base}/retry/{{job_id}}",
                "purgeQueue": f"{base}/purge-queue",
                "health": f"{base}/health",
            }
            if queue
            else {"base": base, "health": f"{base}/ping"}
        )
        return {
            "id": spec.id,
            "name": spec.display_name,
            "type": spec.type,
            "requestUrls": urls,
            "image": spec.image,
            "args": "",
            "disk": 20,
            "ports": [],
            "env": {},
            "registry": None,
            "gpu": {
                "pools": [gpu.pool] if gpu is not None else [],
                "count": spec.gpu_count,
                "allowedCudaVersions": [],
                "minCudaVersion": None,
            },
            "workers": {
                "min": spec.workers_min,
                "max": self._routes.config.worker_count(spec),
                "idleTimeout": spec.idle_timeout_s,
            },
            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}
            if queue
            else {"type": "REQUEST_COUNT", "requestCount": 4},
            "dataCenterIds": [spec.data_center_id],
            "networkVolumes": [],
            "timeout": spec.timeout_ms,
            "flashboot": spec.flashboot,
            "createdAt": rfc3339(endpoint.created_wall),
        }

    # ---------------------------------------------------------------- workers
    async def _workers(self, request: web.Request) -> web.StreamResponse:
        endpoint = self._find(request)
        counts = endpoint.worker_counts()
        summary = {status.lower(): count for status, count in counts.items()}
        summary["total"] = len(endpoint.workers)
        version = endpoint.spec.version
        return web.json_response(
            {
                "workers": [worker.description(version) for worker in endpoint.workers],
                "summary": summary,
                "endpointVersion": version,
            }
        )

    async def _releases(self, request: web.Request) -> web.StreamResponse:
        endpoint = self._find(request)
        spec = endpoint.spec
        on_latest = sum(1 for worker in endpoint.workers if worker.version == spec.version)
        total = len(endpoint.workers)
        created = rfc3339(endpoint.created_wall)
        releases: list[dict[str, Any]] = [
            {
                "id": f"{spec.id}-r{spec.version}",
                "version": spec.version,
                "source": "MANUAL",
                "buildId": None,
                "createdByUserId": None,
                "workerCount": on_latest,
                "createdAt": created,
                "diff": []
                if spec.version <= 1
                else [
                    {"field": "template.imageName", "old": spec.previous_image, "new": spec.image}
                ],
            }
        ]
        if spec.version > 1:
            releases.append(
                {
                    "id": f"{spec.id}-r{spec.version - 1}",
                    "version": spec.version - 1,
                    "source": "MANUAL",
                    "buildId": None,
                    "createdByUserId": None,
                    "workerCount": total - on_latest,
                    "createdAt": created,
                    "diff": [],
                }
            )
        rollout = {
            "inProgress": on_latest < total,
            "workersOnLatest": on_latest,
            "workersTotal": total,
            "percentOnLatest": round(100 * on_latest / total) if total else 0,
        }
        return web.json_response(
            {"endpointVersion": spec.version, "rollout": rollout, "releases": releases}
        )

    # ---------------------------------------------------------------- logs (SSE)
    async def _logs(self, request: web.Request) -> web.StreamResponse:
        endpoint = self._find(request)
        worker_id = request.match_info["worker_id"]
        worker = endpoint.worker(worker_id)
        if worker is None:
            raise _Problem(
                404,
                f"Worker {worker_id} is not an active worker of endpoint {endpoint.endpoint_id}; "
                "GET /v2/serverless/{id}/workers lists them.",
            )
        source = request.query.get("source")
        if source not in (None, "container", "system"):
            raise _Problem(400, "source must be 'container' or 'system' (omit it for both).")
        tail = _int_query(request, "tail", TAIL_DEFAULT, 0, TAIL_MAX)
        since = _time_query(request, "since")
        log = worker.log
        entries = [e for e in log.entries() if source is None or e.source == source]
        last_event_id = request.headers.get("Last-Event-ID", "").strip()
        if last_event_id:
            backlog = _after_event(entries, last_event_id)
        elif since is not None:
            backlog = [e for e in entries if _parse_time(e.ts) >= since]
        else:
            backlog = entries[len(entries) - tail :] if tail else []
        cursor = log.last_seq
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "Connection": "keep-alive",
                "X-Accel-Buffering": "no",
                **request.get(RATE_HEADERS, {}),
            }
        )
        await response.prepare(request)
        try:
            await _send(response, backlog)
            while not log.closed:
                await log.wait(cursor, KEEPALIVE_S)
                fresh = log.after(cursor)
                if fresh:
                    cursor = fresh[-1].seq
                    await _send(response, (e for e in fresh if source in (None, e.source)))
                elif not log.closed:
                    await response.write(b": keepalive\n\n")
        except ConnectionError:  # the client went away
            pass
        return response

    # ---------------------------------------------------------------- catalog
    async def _gpus(self, request: web.Request) -> web.StreamResponse:
        availability = _availability(request)
        return web.json_response({"gpus": [gpu.description(availability) for gpu in GPU_TYPES]})

    async def _gpu(self, request: web.Request) -> web.StreamResponse:
        gpu_id = request.match_info["gpu_id"]
        gpu = gpu_by_id(gpu_id)
        if gpu is None:
            raise _Problem(
                404,
                f"GPU type {gpu_id!r} is not in the sandbox's catalog; GET /v2/catalog/gpus "
                "lists its ids.",
            )
        return web.json_response(gpu.description(_availability(request)))

    # ---------------------------------------------------------------- billing
    async def _billing(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        size = query.get("bucketSize", "day")
        if size not in BUCKETS:
            raise _Problem(400, f"bucketSize must be one of {', '.join(BUCKETS)}.")
        serverless_id = query.get("serverlessId")
        now = datetime.now(UTC)
        if "lastN" in query:
            if "startTime" in query or "endTime" in query:
                raise _Problem(400, "lastN can't be combined with startTime or endTime.")
            last_n = _int_query(request, "lastN", 1, 1, 100_000)
            end = _step(_floor(now, size), size)
            start = end
            for _ in range(last_n):
                start = _step(start, size, back=True)
        else:
            start = _floor(_time_query(request, "startTime") or now - timedelta(days=30), size)
            end_at = _time_query(request, "endTime") or now
            end = _floor(end_at, size)
            if end < end_at:
                end = _step(end, size)
        if end <= start:
            raise _Problem(400, "endTime must be after startTime.")
        amounts: dict[tuple[datetime, str], float] = {}
        for endpoint in self._routes.endpoints.values():
            if serverless_id is not None and endpoint.endpoint_id != serverless_id:
                continue
            for run in endpoint.runs:
                if start <= run.ended < end:
                    key = (_floor(run.ended, size), endpoint.endpoint_id)
                    cost = math.ceil(run.seconds) * per_second_price(run.gpu_type_id)
                    amounts[key] = amounts.get(key, 0.0) + cost * run.gpu_count
        records = [
            {
                "startTime": rfc3339(bucket),
                "endTime": rfc3339(_step(bucket, size)),
                "serverlessId": endpoint_id,
                **_amounts(gpu),
            }
            for (bucket, endpoint_id), gpu in sorted(amounts.items())
        ]
        total = sum(amounts.values())
        return web.json_response(
            {
                "records": records,
                "metadata": {
                    "query": {
                        "startTime": rfc3339(start),
                        "endTime": rfc3339(end),
                        "bucketSize": size,
                        "serverlessId": serverless_id,
                    },
                    "recordCount": len(records),
                    "uniqueServerlessCount": len({r["serverlessId"] for r in records}),
                    "totals": _amounts(total),
                },
            }
        )


async def _send(response: web.StreamResponse, entries: Iterable[LogEntry]) -> None:
    chunk = "".join(f"id: {e.event_id}\ndata: {e.data()}\n\n" for e in entries)
    if chunk:
        await response.write(chunk.encode())
    else:
        await asyncio.sleep(0)


def _after_event(entries: list[LogEntry], last_event_id: str) -> list[LogEntry]:
    """The lines after a ``Last-Event-ID``: ``<ts>/<seq>`` (ours) or a bare timestamp."""
    stamp, _, seq_text = last_event_id.partition("/")
    if seq_text.isdigit():
        seq = int(seq_text)
        return [e for e in entries if e.seq > seq]
    try:
        after = _parse_time(stamp)
    except ValueError:
        raise _Problem(
            400, "Last-Event-ID must be an event id this stream sent, or an RFC 3339 time."
        ) from None
    return [e for e in entries if _parse_time(e.ts) > after]


def _availability(request: web.Request) -> bool:
    include = request.query.get("include")
    product = request.query.get("product")
    if include is None:
        if product is not None:
            raise _Problem(400, "product is only valid with include=AVAILABILITY.")
        return False
    if include != "AVAILABILITY":
        raise _Problem(400, "include must be AVAILABILITY.")
    products = {"POD", "CLUSTER", "SERVERLESS"}
    if not product or not set(product.split(",")) <= products:
        raise _Problem(400, "include=AVAILABILITY needs product=POD, CLUSTER or SERVERLESS.")
    return True


def _amounts(gpu: float) -> dict[str, float]:
    gpu = round(gpu, 6)
    return {"totalAmount": gpu, "gpuAmount": gpu, "cpuAmount": 0, "diskAmount": 0, "feeAmount": 0}


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise _Problem(400, f"{name} must be a whole number from {low} to {high}.")
    return value


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment.astimezone(UTC)


def _time_query(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return _parse_time(text)
    except ValueError:
        raise _Problem(
            400, f"{name} must be an RFC 3339 time with a zone, e.g. 2026-06-01T12:00:00Z."
        ) from None


def _floor(moment: datetime, size: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if size == "hour":
        return moment
    moment = moment.replace(hour=0)
    if size == "week":
        return moment - timedelta(days=moment.weekday())
    if size == "month":
        return moment.replace(day=1)
    if size == "year":
        return moment.replace(month=1, day=1)
    return moment


def _step(moment: datetime, size: str, back: bool = False) -> datetime:
    sign = -1 if back else 1
    if size in ("hour", "day", "week"):
        unit = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
        return moment + sign * unit[size]
    months = 12 if size == "year" else 1
    index = moment.year * 12 + moment.month - 1 + sign * months
    return moment.replace(year=index // 12, month=index % 12 + 1)
