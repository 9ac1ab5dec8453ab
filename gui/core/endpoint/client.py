"""An async client for one RunPod Serverless queue endpoint (or the sandbox, or a local worker).

Every operation of RUNPOD_API.md §1 as ``httpx.Request``s over one reused transport (aiohttp's
connection pool by default, ``httpx.MockTransport`` in tests) with explicit timeouts and a
connection limit. Answers come back as ``JobStatus`` records or plain dicts; failures as the
errors of ``gui.core.errors``.

Retries: 429, 5xx and connection failures are retried with exponential backoff and full jitter,
honouring ``Retry-After``, bounded in attempts and total time. A job submission (``/run``,
``/runsync``) is retried only when it certainly did not queue a job, since RunPod has no
idempotency key and a job sent twice runs (and bills) twice:

- sent again: a refused connection or a connect timeout (nothing left), a 429, a 503, and
  Cloudflare's 521, 522, 523, 525 and 526 (its origin was never reached). A 503 means the server
  declined to handle the request (RFC 9110 §15.6.4): it is how an overloaded endpoint sheds work.
- not sent again (``SubmissionUncertain``): any other 5xx, and a connection that broke *after* the
  body was sent (a read timeout, a reset, a dropped connection). A 500 can come from a server that
  failed after it queued the job; a 502 or 504 comes from a gateway (RunPod's API sits behind one)
  whose upstream got the request and then failed to answer in time or at all; so the job may be
  queued already. The job is recorded as NOT_SENT with a note that says it may be queued, and the
  person decides (they can look at the endpoint's queue; the console cannot: RunPod lists no jobs).

Reads (``/status``, ``/stream``, ``/health``...) change nothing and are retried on every 5xx.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from gui.core.endpoint.answers import JobStatus, error_for_response, parse_body, parse_retry_after
from gui.core.endpoint.ratelimit import EndpointLimiter
from gui.core.endpoint.transport import AiohttpTransport
from gui.core.errors import (
    ConsoleError,
    JobNotFound,
    OperationUnsupported,
    RateLimited,
    RequestRefused,
    ServerError,
    SubmissionUncertain,
    TransportError,
)
from gui.core.limits import RATE_LIMITS, RUNSYNC_WAIT_DEFAULT_MS
from gui.core.targets import Target

__all__ = [
    "EndpointClient",
    "JobStatus",
    "RetryPolicy",
]

KeyProvider = Callable[[], str | None]
_Default = Literal["default"]  # keep the client's read timeout

# Errors raised before a single byte of the request left: always safe to send again.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SUBMIT_OPERATIONS = frozenset({"run", "runsync"})
# 5xx answers that prove no job was queued (see the module docstring): safe to send again.
_NOT_TAKEN_5XX = frozenset({503, 521, 522, 523, 525, 526})
_LOCAL_NOT_FOUND = "Job ID not found"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: at most ``attempts`` requests within ``total_s`` seconds."""

    attempts: int = 8
    unreachable_attempts: int = 4  # no answer at all: the endpoint is probably down; fail sooner
    base_delay_s: float = 0.25
    max_delay_s: float = 10.0
    total_s: float = 90.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential backoff; never sooner than the server's ``Retry-After``."""
        backoff = random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt))
        if retry_after is not None:
            return max(retry_after, backoff) + random.uniform(0, self.base_delay_s)
        return backoff


@dataclass(frozen=True, slots=True)
class _Retryable:
    """A failure worth another attempt (when the policy allows one)."""

    error: ConsoleError
    retry_after: float | None = None
    unreachable: bool = False


class EndpointClient:
    """Talks to one target. Create one per target and reuse it; ``aclose`` when done.

    ``key_provider`` is asked for the API key as each request leaves (never stored here).
    ``limits`` maps operations to RunPod's rate limits; ``None`` turns the limiter off.
    """

    def __init__(
        self,
        target: Target,
        *,
        key_provider: KeyProvider | None = None,
        limits: Mapping[str, tuple[int, int | None]] | None = RATE_LIMITS,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        self.retry_policy = retry or RetryPolicy()
        self.request_counts: Counter[str] = Counter()  # requests sent, per operation
        self.answer_counts: Counter[int] = Counter()  # answers received, per HTTP status
        self._key_provider = key_provider
        self._limiter = EndpointLimiter(limits if target.kind != "local" else None)
        self.timeout = timeout or httpx.Timeout(30.0, connect=10.0, pool=120.0)
        # Requests go straight to the transport: httpx.AsyncClient's per-request cookie, auth and
        # redirect handling cost more CPU than the request itself when following 10,000 jobs,
        # and RunPod's API needs none of them.
        self._transport = transport or AiohttpTransport(max_connections=max_connections)
        # Requests beyond the connection pool wait here, as cheap waiters, not as built requests.
        self._in_flight = asyncio.Semaphore(max_connections)

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- operations ---------------------------------------------------------------------------

    async def run(self, body: bytes, *, on_send: Callable[[], None] | None = None) -> JobStatus:
        """POST /run: queue a job; answers at once with its id (usually IN_QUEUE).

        ``on_send`` is called as the request leaves (after any wait for a rate-limit slot)."""
        payload = await self._job_call("run", "POST", "run", content=body, on_send=on_send)
        return JobStatus.from_payload(payload)

    async def runsync(
        self,
        body: bytes,
        wait_ms: int | None = None,
        *,
        on_send: Callable[[], None] | None = None,
    ) -> JobStatus:
        """POST /runsync: the job's final status, or its id with a non-terminal state if it
        outlived ``wait_ms`` (then poll it like a /run job). ``on_send`` as for ``run``."""
        wait = wait_ms if wait_ms is not None else RUNSYNC_WAIT_DEFAULT_MS
        params = {"wait": str(wait)} if self.target.kind != "local" else None
        read_timeout = wait / 1000 + 30.0 if self.target.kind != "local" else None
        payload = await self._job_call(
            "runsync", "POST", "runsync", content=body, params=params, read_timeout=read_timeout,
            on_send=on_send,
        )  # fmt: skip
        return JobStatus.from_payload(payload)

    async def status(self, job_id: str) -> JobStatus:
        """The job's state. A local worker runs the handler inside its first status call."""
        if self.target.kind == "local":
            payload = await self._job_call(
                "status", "POST", f"status/{job_id}", job_id=job_id, read_timeout=None
            )
            if payload.get("status") == "FAILED" and payload.get("error") == _LOCAL_NOT_FOUND:
                # The local server forgets a job after its first terminal answer.
                raise JobNotFound(
                    f"The local worker no longer knows job {job_id}: it forgets a job once it "
                    "reported its result.",
                    status_code=200,
                    body=payload,
                )
        else:
            payload = await self._job_call("status", "GET", f"status/{job_id}", job_id=job_id)
        return JobStatus.from_payload(payload)

    async def stream(self, job_id: str) -> JobStatus:
        """The stream chunks buffered since the last call (``JobStatus.stream``)."""
        method = "POST" if self.target.kind == "local" else "GET"
        payload = await self._job_call("stream", method, f"stream/{job_id}", job_id=job_id)
        return JobStatus.from_payload(payload)

    async def cancel(self, job_id: str) -> JobStatus:
        self._require_cloud_api("cancel")
        return JobStatus.from_payload(
            await self._job_call("cancel", "POST", f"cancel/{job_id}", job_id=job_id)
        )

    async def retry(self, job_id: str) -> JobStatus:
        """Requeue a FAILED or TIMED_OUT job under the same id."""
        self._require_cloud_api("retry")
        return JobStatus.from_payload(
            await self._job_call("retry", "POST", f"retry/{job_id}", job_id=job_id)
        )

    async def purge_queue(self) -> dict[str, Any]:
        """Remove the endpoint's queued jobs (not running ones): ``{"removed": N, ...}``."""
        self._require_cloud_api("purge-queue")
        return await self._job_call("purge-queue", "POST", "purge-queue")

    async def health(self) -> dict[str, Any]:
        """``{"jobs": {...}, "workers": {...}}``; both hold open sets of counters."""
        self._require_cloud_api("health")
        return await self._job_call("health", "GET", "health")

    # -- the request loop ----------------------------------------------------------------------

    def _require_cloud_api(self, operation: str) -> None:
        if self.target.kind == "local":
            raise OperationUnsupported(
                f"A local worker (--rp_serve_api) has no /{operation}. Stop or restart the worker "
                "process instead, or use a cloud endpoint or the sandbox."
            )

    def _headers(self) -> dict[str, str]:
        headers = {"accept": "application/json", "content-type": "application/json"}
        if self.target.kind != "local" and self._key_provider is not None:
            key = self._key_provider()
            if key:
                headers["authorization"] = f"Bearer {key}"
        return headers

    async def _job_call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
        job_id: str | None = None,
        read_timeout: float | _Default | None = "default",
        on_send: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Send with retries; the answer's JSON object (also a 4xx that carries a job status)."""
        policy = self.retry_policy
        deadline = time.monotonic() + policy.total_s
        url = f"{self.target.endpoint_url}/{path}"
        attempt = 0
        while True:
            outcome = await self._attempt(
                operation, method, url, content, params, job_id, read_timeout, on_send
            )
            if not isinstance(outcome, _Retryable):
                return outcome
            attempt += 1
            delay = policy.delay(attempt, outcome.retry_after)
            limit = policy.unreachable_attempts if outcome.unreachable else policy.attempts
            if attempt >= limit or time.monotonic() + delay > deadline:
                raise outcome.error
            await asyncio.sleep(delay)

    async def _attempt(
        self,
        operation: str,
        method: str,
        url: str,
        content: bytes | None,
        params: dict[str, str] | None,
        job_id: str | None,
        read_timeout: float | _Default | None,
        on_send: Callable[[], None] | None = None,
    ) -> dict[str, Any] | _Retryable:
        timeout = self.timeout
        if read_timeout != "default":
            timeout = httpx.Timeout(
                connect=timeout.connect, read=read_timeout, write=timeout.write, pool=timeout.pool
            )
        async with self._limiter.slot(operation), self._in_flight:
            request = httpx.Request(
                method, url, params=params, content=content, headers=self._headers(),
                extensions={"timeout": timeout.as_dict()},
            )  # fmt: skip
            self.request_counts[operation] += 1
            if on_send is not None:
                on_send()
            try:
                response = await self._transport.handle_async_request(request)
                await response.aread()
            except httpx.TransportError as exc:
                return self._transport_failure(operation, url, exc)
        self.answer_counts[response.status_code] += 1
        return self._read_answer(response, operation, job_id)

    def _transport_failure(self, operation: str, url: str, exc: httpx.TransportError) -> _Retryable:
        reason = str(exc) or type(exc).__name__
        if operation in _SUBMIT_OPERATIONS and not isinstance(exc, _NOT_SENT_ERRORS):
            raise SubmissionUncertain(
                f"The connection to {url} broke after the job was sent ({reason}). The endpoint "
                "may have queued it or not; it was not sent again, so that it cannot run twice. "
                "Check the endpoint's queue, then retry by hand if it is missing."
            ) from exc
        return _Retryable(
            TransportError(
                f"Could not reach {url} ({reason}). Check the base URL, that the endpoint is "
                "up, and your network connection."
            ),
            unreachable=isinstance(exc, _NOT_SENT_ERRORS),
        )

    def _read_answer(
        self, response: httpx.Response, operation: str, job_id: str | None
    ) -> dict[str, Any] | _Retryable:
        code = response.status_code
        if code < 400:
            body = parse_body(response)
            if isinstance(body, dict):
                return body
            raise RequestRefused(
                f"{self.target.endpoint_url} answered /{operation} with something that is not "
                "a JSON object. Is the base URL a RunPod endpoint?",
                status_code=code,
                body=body,
            )
        error = error_for_response(response, self.target, operation, job_id)
        if isinstance(error, RateLimited):
            return _Retryable(error, error.retry_after)
        if isinstance(error, ServerError):
            if operation in _SUBMIT_OPERATIONS and code not in _NOT_TAKEN_5XX:
                raise SubmissionUncertain(
                    f"{self.target.endpoint_url} answered /{operation} with a server error "
                    f"({code}). The endpoint may have queued the job before that error (a "
                    "gateway's 502 or 504 can follow RunPod's acceptance); it was not sent again, "
                    "so that it cannot run twice. Check the endpoint's queue, then send it again "
                    "if it is missing."
                ) from error
            return _Retryable(error, parse_retry_after(response.headers.get("retry-after")))
        if 400 <= code < 500 and code not in (401, 403, 404, 429):
            body = error.body
            # RunPod documents a FAILED runsync with HTTP 400: the body is still a job status.
            if isinstance(body, dict) and body.get("id") and body.get("status"):
                return body
        raise error
