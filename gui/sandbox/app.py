"""The HTTP side of the sandbox: RunPod's routes under ``/v2/{endpoint_id}/``, checks, replies.

The management API's routes (``/v2/serverless``, ``/v2/catalog``, ``/v2/billing``) come first and
answer in their own shapes (``gui.sandbox.management``).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from gui.core.limits import (
    EXECUTION_TIMEOUT_DEFAULT_MS,
    MAX_BODY_BYTES,
    RUNSYNC_WAIT_MS,
    TTL_DEFAULT_MS,
)
from gui.sandbox.config import SandboxConfig
from gui.sandbox.endpoint import SandboxEndpoint
from gui.sandbox.faults import FaultInjector
from gui.sandbox.jobs import IN_QUEUE, REMOVED, SandboxJob, new_job_id
from gui.sandbox.management import Management
from gui.sandbox.ratelimit import RateLimiter
from gui.sandbox.webhooks import WebhookSender

__all__ = ["SandboxRoutes"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Room above the largest payload limit, so an oversized body is refused with our JSON 413.
CLIENT_MAX_SIZE = max(MAX_BODY_BYTES.values()) + 1024 * 1024
ROUTES_HINT = (
    "Not found. The sandbox serves /v2/{endpoint_id}/ followed by run, runsync, status/{id}, "
    "status-sync/{id}, stream/{id}, cancel/{id}, retry/{id}, purge-queue or health."
)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


def _gone(job_id: str) -> web.Response:
    return _error(404, f"Job {job_id} was not found: it never existed, expired, or was purged.")


class SandboxRoutes:
    """The endpoints, limiter, faults and webhook sender of one server, and its aiohttp app."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.webhooks = WebhookSender(config.webhook_retry_interval_s)
        self.endpoints: dict[str, SandboxEndpoint] = {}
        self._limiter = RateLimiter(config.rate_limit_overrides) if config.rate_limits else None
        self._faults = FaultInjector(config.faults) if config.faults.any_fault else None
        self.management = Management(self, self._authorized)
        self._closed = False

    def application(self) -> web.Application:
        app = web.Application(client_max_size=CLIENT_MAX_SIZE, middlewares=[self._gate])
        self.management.add_routes(app)  # first: /v2/serverless/... before /v2/{endpoint_id}/...
        base = "/v2/{endpoint_id}"
        job = "{job_id}"
        table: list[tuple[str, str, str, Handler]] = [
            ("run", "POST", f"{base}/run", self._run),
            ("runsync", "POST", f"{base}/runsync", self._runsync),
            ("status", "GET", f"{base}/status/{job}", self._status),
            ("status", "POST", f"{base}/status/{job}", self._status),
            ("status-sync", "GET", f"{base}/status-sync/{job}", self._status_sync),
            ("status-sync", "POST", f"{base}/status-sync/{job}", self._status_sync),
            ("stream", "GET", f"{base}/stream/{job}", self._stream),
            ("stream", "POST", f"{base}/stream/{job}", self._stream),
            ("cancel", "POST", f"{base}/cancel/{job}", self._cancel),
            ("retry", "POST", f"{base}/retry/{job}", self._retry),
            ("purge-queue", "POST", f"{base}/purge-queue", self._purge_queue),
            ("health", "GET", f"{base}/health", self._health),
        ]
        for operation, method, path, handler in table:
            app.router.add_route(method, path, handler, name=f"{operation}:{method}")
        return app

    def endpoint(self, endpoint_id: str) -> SandboxEndpoint:
        """The endpoint with this id, created (workers started) on first use."""
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            if self._closed:  # stopping: no new workers that nobody would cancel
                raise web.HTTPServiceUnavailable(reason="The sandbox is shutting down.")
            endpoint = SandboxEndpoint(endpoint_id, self.config, self.webhooks)
            endpoint.start()
            self.endpoints[endpoint_id] = endpoint
        return endpoint

    def start_configured(self) -> None:
        """Create the configured endpoints (workers started), so the management API lists them."""
        for spec in self.config.endpoints:
            self.endpoint(spec.id)

    async def close(self) -> None:
        self._closed = True
        for endpoint in self.endpoints.values():
            await endpoint.close()
        await self.webhooks.close()

    # ---------------------------------------------------------------- the gate
    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Faults, then auth, then rate limits; aiohttp's own errors become JSON answers."""
        if self._faults is None:
            return await self._admitted(request, handler)
        spoiled = await self._faults.apply(request)
        if spoiled is not None:
            return spoiled
        answer = await self._admitted(request, handler)
        if answer.prepared:  # already on its way (a stream): nothing to replace
            return answer
        return self._faults.answer_lost() or answer

    async def _admitted(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Auth, then rate limits, then the handler."""
        if self.management.owns(request):
            return await self.management.admit(request, handler)
        if self.config.api_key is not None and not self._authorized(request):
            return _error(
                401, "Unauthorized: send the sandbox's API key as 'Authorization: Bearer KEY'."
            )
        route_name = request.match_info.route.name
        if self._limiter is None or route_name is None:
            return await self._guarded(request, handler)
        endpoint_id, operation = request.match_info["endpoint_id"], route_name.split(":")[0]
        retry_after = self._limiter.acquire(endpoint_id, operation)
        if retry_after is not None:
            return _error(
                429,
                f"Rate limit of /{operation} exceeded for endpoint {endpoint_id}; retry later.",
                headers={"Retry-After": str(int(retry_after))},
            )
        try:
            return await self._guarded(request, handler)
        finally:
            self._limiter.release(endpoint_id, operation)

    @staticmethod
    async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPRequestEntityTooLarge:
            return _error(413, "The request body is larger than RunPod accepts.")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = ROUTES_HINT if exc.status == 404 else exc.reason
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            return _error(exc.status, message, headers=allow)

    def _authorized(self, request: web.Request) -> bool:
        assert self.config.api_key is not None
        header = request.headers.get("Authorization", "").strip()
        token = header[7:].strip() if header[:7].lower() == "bearer " else header
        return hmac.compare_digest(token.encode(), self.config.api_key.encode())

    # ---------------------------------------------------------------- submitting
    async def _run(self, request: web.Request) -> web.StreamResponse:
        job = await self._new_job(request, sync=False)
        if isinstance(job, web.Response):
            return job
        self.endpoint(request.match_info["endpoint_id"]).submit(job)
        return web.json_response({"id": job.id, "status": IN_QUEUE})

    async def _runsync(self, request: web.Request) -> web.StreamResponse:
        wait_s = self._wait_s(request)
        if wait_s is None:
            return _error(400, "The wait query parameter must be a whole number of milliseconds.")
        job = await self._new_job(request, sync=True)
        if isinstance(job, web.Response):
            return job
        endpoint = self.endpoint(request.match_info["endpoint_id"])
        endpoint.submit(job)
        await endpoint.wait_until_done(job, wait_s)
        if job.status == REMOVED:
            return _gone(job.id)
        status = self.config.runsync_failed_status if job.status == "FAILED" else 200
        return web.json_response(job.status_payload(), status=status)

    async def _new_job(self, request: web.Request, sync: bool) -> SandboxJob | web.Response:
        """Read and check a request body as RunPod does; an error answer when it is refused."""
        limit = MAX_BODY_BYTES["runsync" if sync else "run"]
        too_large = _error(
            413,
            f"The request body exceeds {limit // (1024 * 1024)} MB, the limit of this operation.",
        )
        if request.content_length is not None and request.content_length > limit:
            return too_large
        raw = await request.read()
        if len(raw) > limit:
            return too_large
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return _error(400, 'The request body must be a JSON object like {"input": {...}}.')
        if not isinstance(body.get("input"), dict):
            return _error(400, "The request needs an 'input' key holding a JSON object.")
        return _job_from_body(body, sync)

    def _wait_s(self, request: web.Request) -> float | None:
        """Seconds to hold a runsync or status-sync request; ``None`` for a malformed ``wait``.

        A client's ``wait`` is kept within RunPod's range; the configured default is used as is.
        """
        if "wait" not in request.query:
            return self.config.runsync_wait_default_ms / 1000
        wait_ms = _query_ms(request, "wait", None)
        if wait_ms is None:
            return None
        low, high = RUNSYNC_WAIT_MS
        return min(max(wait_ms, low), high) / 1000

    # ---------------------------------------------------------------- one job
    def _found(self, request: web.Request) -> tuple[SandboxEndpoint, SandboxJob] | web.Response:
        endpoint = self.endpoint(request.match_info["endpoint_id"])
        job_id = request.match_info["job_id"]
        job = endpoint.lookup(job_id)
        if job is None:
            return _gone(job_id)
        return endpoint, job

    async def _status(self, request: web.Request) -> web.StreamResponse:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        _, job = found
        ttl_ms = _query_ms(request, "ttl", None)
        if ttl_ms is not None and ttl_ms > 0:
            job.expires_at = time.monotonic() + ttl_ms / 1000
        return web.json_response(job.status_payload())

    async def _status_sync(self, request: web.Request) -> web.StreamResponse:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        endpoint, job = found
        wait_s = self._wait_s(request)
        if wait_s is None:
            return _error(400, "The wait query parameter must be a whole number of milliseconds.")
        await endpoint.wait_until_done(job, wait_s)
        if job.status == REMOVED:
            return _gone(job.id)
        return web.json_response(job.status_payload())

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        _, job = found
        chunks = [{"output": chunk} for chunk in job.stream_buffer]
        job.stream_buffer.clear()
        return web.json_response({"status": job.status, "stream": chunks})

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        endpoint, job = found
        endpoint.cancel(job)
        return web.json_response({"id": job.id, "status": job.status})

    async def _retry(self, request: web.Request) -> web.StreamResponse:
        found = self._found(request)
        if isinstance(found, web.Response):
            return found
        endpoint, job = found
        previous = job.status
        if not endpoint.retry(job):
            return _error(
                400, f"Only FAILED or TIMED_OUT jobs can be retried; job {job.id} is {previous}."
            )
        return web.json_response({"id": job.id, "status": job.status})

    # ---------------------------------------------------------------- the endpoint
    async def _purge_queue(self, request: web.Request) -> web.StreamResponse:
        removed = self.endpoint(request.match_info["endpoint_id"]).purge_queue()
        return web.json_response({"removed": removed, "status": "completed"})

    async def _health(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.endpoint(request.match_info["endpoint_id"]).health())


def _query_ms(request: web.Request, name: str, default: int | None) -> int | None:
    """A whole-milliseconds query parameter; ``default`` when absent, ``None`` when malformed."""
    text = request.query.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        return None


def _job_from_body(body: dict[str, Any], sync: bool) -> SandboxJob | web.Response:
    """The job a checked body asks for; keys other than RunPod's four are dropped here."""
    webhook = body.get("webhook")
    if webhook is not None and not (
        isinstance(webhook, str) and webhook.startswith(("http://", "https://"))
    ):
        return _error(400, "webhook must be an http:// or https:// URL.")
    policy = body.get("policy") or {}
    if not isinstance(policy, dict):
        return _error(400, "policy must be a JSON object.")
    timeout_ms = _policy_ms(policy, "executionTimeout", EXECUTION_TIMEOUT_DEFAULT_MS)
    ttl_ms = _policy_ms(policy, "ttl", TTL_DEFAULT_MS)
    if timeout_ms is None or ttl_ms is None:
        return _error(400, "policy.executionTimeout and policy.ttl must be positive milliseconds.")
    low_priority = policy.get("lowPriority", False)
    if not isinstance(low_priority, bool):
        return _error(400, "policy.lowPriority must be true or false.")
    # s3Config goes to the worker only; the simulated worker has no use for it, so it is not kept.
    return SandboxJob(
        id=new_job_id(sync),
        input=body["input"],
        sync=sync,
        webhook=webhook,
        low_priority=low_priority,
        execution_timeout_s=timeout_ms / 1000,
        ttl_s=ttl_ms / 1000,
    )


def _policy_ms(policy: dict[str, Any], key: str, default: int) -> int | None:
    value = policy.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)
