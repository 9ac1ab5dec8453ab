"""An async client for RunPod's management API (REST v2): endpoints, workers, releases, the GPU
catalog and billing (RUNPOD_API.md section 10). Worker logs (SSE) are ``gui.core.account.logs``.

One ``httpx.AsyncClient`` per ``ManagementClient``, with explicit connect and read timeouts; the
management API is another host with its own per-user rate limit (60 a minute in the spec's
example), so the client asks sparingly and backs off:

- a 429 is sent again after its ``Retry-After`` (never sooner); one that asks for more than
  ``ManagementRetry.max_retry_after_s`` is not waited for: the error says when to try again.
- a 5xx, a refused connection or a timeout is sent again with exponential backoff and jitter, a
  few times at most (every request here is a read, safe to repeat).

Every other failure is an ``AccountError`` whose message is words: the problem's ``title``,
``detail`` and ``errors`` (RFC 9457), and for 401/403 what to do about the key. The key goes in the
``Authorization`` header of each request and nowhere else: not in a message, a log or ``repr``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from gui.core.account.access import AccountAccess
from gui.core.account.models import (
    BillingReport,
    Endpoint,
    EndpointWorkers,
    GpuPrice,
    Releases,
)
from gui.core.endpoint.answers import parse_retry_after
from gui.core.errors import AccountError
from gui.core.wording import counted

__all__ = [
    "BILLING_BUCKETS",
    "ManagementClient",
    "ManagementRetry",
    "problem_message",
]

BILLING_BUCKETS = ("hour", "day", "week", "month", "year")
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
_RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ManagementRetry:
    """How hard to try: ``attempts`` requests at most (``unreachable_attempts`` when no answer
    comes at all: a wrong URL or a host that is down fails soon), backoff from ``base_delay_s``
    up to ``max_delay_s``; a 429 is waited for only up to ``max_retry_after_s``."""

    attempts: int = 4
    unreachable_attempts: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter backoff for the ``attempt``-th retry; never sooner than ``retry_after``."""
        backoff = random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
        return backoff if retry_after is None else retry_after + backoff / 4


@dataclass(frozen=True, slots=True)
class _Failed:
    """A failed request, and the seconds to wait before another try (None: don't try again)."""

    error: AccountError
    wait_s: float | None = None
    unreachable: bool = False


class ManagementClient:
    """Reads one account's management API. Use it as ``async with ManagementClient(access)``, or
    call ``aclose``. ``transport`` (``httpx.MockTransport`` in tests) and ``sleep`` (the waits
    between tries) can be swapped; ``requests`` counts the HTTP requests sent."""

    def __init__(
        self,
        access: AccountAccess,
        *,
        timeout: httpx.Timeout | None = None,
        retry: ManagementRetry | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.access = access
        self.retry = retry or ManagementRetry()
        self.requests = 0
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    async def __aenter__(self) -> ManagementClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the API -----------------------------------------------------------------------------

    async def endpoints(self) -> list[Endpoint]:
        """Every endpoint of the account (RunPod pages nothing: one request)."""
        body = await self.get_json("serverless", what="the list of endpoints")
        return [Endpoint.from_json(item) for item in _items(body, "endpoints") if item.get("id")]

    async def endpoint(self, endpoint_id: str | None = None) -> Endpoint:
        """One endpoint (the access's own when ``endpoint_id`` is None)."""
        endpoint_id = self._endpoint_id(endpoint_id)
        body = await self.get_json(
            f"serverless/{quote(endpoint_id, safe='')}", what=f"endpoint {endpoint_id}"
        )
        return Endpoint.from_json(body)

    async def workers(self, endpoint_id: str | None = None) -> EndpointWorkers:
        """The endpoint's active workers (scaled-down ones are not listed)."""
        endpoint_id = self._endpoint_id(endpoint_id)
        body = await self.get_json(
            f"serverless/{quote(endpoint_id, safe='')}/workers",
            what=f"the workers of endpoint {endpoint_id}",
        )
        return EndpointWorkers.from_json(endpoint_id, body)

    async def releases(self, endpoint_id: str | None = None) -> Releases:
        """The endpoint's releases, newest first, and its rollout."""
        endpoint_id = self._endpoint_id(endpoint_id)
        body = await self.get_json(
            f"serverless/{quote(endpoint_id, safe='')}/releases",
            what=f"the releases of endpoint {endpoint_id}",
        )
        return Releases.from_json(endpoint_id, body)

    async def gpu_catalog(self) -> list[GpuPrice]:
        """The GPU types and their prices (USD per GPU per hour, serverless list price)."""
        body = await self.get_json("catalog/gpus", what="the GPU catalog")
        return [
            GpuPrice.from_json(item)
            for item in _items(body, "gpus")
            if item.get("id") and item.get("id") != "unknown"  # a sentinel the catalog returns
        ]

    async def gpu(self, gpu_type_id: str) -> GpuPrice:
        body = await self.get_json(
            f"catalog/gpus/{quote(gpu_type_id, safe='')}", what=f"GPU type {gpu_type_id!r}"
        )
        return GpuPrice.from_json(body)

    async def billing(
        self,
        *,
        endpoint_id: str | None = None,
        bucket_size: str = "day",
        start: datetime | None = None,
        end: datetime | None = None,
        last_n: int | None = None,
    ) -> BillingReport:
        """Serverless billing buckets (``/v2/billing/serverless``), of one endpoint or all.

        ``start``/``end`` (end exclusive; RunPod snaps both to whole buckets) or ``last_n`` buckets
        up to now, not both; neither: the last 30 days.
        """
        if bucket_size not in BILLING_BUCKETS:
            raise ValueError(f"bucket_size must be one of {', '.join(BILLING_BUCKETS)}")
        if last_n is not None and (start is not None or end is not None):
            raise ValueError("give last_n or start/end, not both")
        params: dict[str, str] = {"bucketSize": bucket_size}
        if endpoint_id:
            params["serverlessId"] = endpoint_id
        if start is not None:
            params["startTime"] = _rfc3339(start)
        if end is not None:
            params["endTime"] = _rfc3339(end)
        if last_n is not None:
            params["lastN"] = str(max(1, last_n))
        body = await self.get_json("billing/serverless", params=params, what="serverless billing")
        return BillingReport.from_json(body)

    async def job_health(self, health_url: str) -> dict[str, Any]:
        """The job API's ``/health`` of an endpoint (``Endpoint.health_url``): ``jobs`` (inQueue,
        inProgress, retried...) and ``workers`` counts. Another host; the same key."""
        return await self.get_json(health_url, what="the endpoint's health")

    # -- requests ----------------------------------------------------------------------------

    async def get_json(
        self, path: str, *, params: Mapping[str, str] | None = None, what: str = "the answer"
    ) -> dict[str, Any]:
        """GET ``path`` (under the access's base URL, or an absolute URL) with retries; the JSON
        object it answers, or ``AccountError`` in words."""
        url = path if path.startswith(("http://", "https://")) else self.access.url(path)
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._attempt(url, params, what, attempt)
            if not isinstance(outcome, _Failed):
                return outcome
            limit = self.retry.unreachable_attempts if outcome.unreachable else self.retry.attempts
            if outcome.wait_s is None or attempt >= limit:
                raise outcome.error
            await self._sleep(outcome.wait_s)

    async def _attempt(
        self, url: str, params: Mapping[str, str] | None, what: str, attempt: int
    ) -> dict[str, Any] | _Failed:
        """One request: the answer's JSON object, or why it failed and when to try again."""
        self.requests += 1
        try:
            response = await self._http.get(url, params=params, headers=self.access.headers)
        except httpx.TransportError as exc:
            return _Failed(self._unreachable(url, exc), self.retry.delay(attempt, None), True)
        code = response.status_code
        if code < 400:
            body = _json(response)
            if isinstance(body, dict):
                return body
            return _Failed(
                AccountError(
                    f"{self._host()} answered {what} with something that is not a JSON object "
                    f"(HTTP {code}). Is {self.access.base_url} RunPod's management API (it ends "
                    "in /v2)? Check RUNPOD_API_URL or the profile's management URL.",
                    status_code=code,
                )
            )
        error = self._error(response, what, attempt)
        if code not in _RETRIED_STATUSES:
            return _Failed(error)
        asked = error.retry_after
        if code == 429 and asked is not None and asked > self.retry.max_retry_after_s:
            return _Failed(error)
        return _Failed(error, self.retry.delay(attempt, error.retry_after))

    def _error(self, response: httpx.Response, what: str, attempt: int) -> AccountError:
        code = response.status_code
        body = _json(response)
        title, detail, errors = _problem(body, response)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        said = problem_message(code, title, detail, errors)
        if code == 401:
            message = (
                f"The management API refused the API key ({said}). Set a valid key: in "
                "Profiles (kept in the keyring) or in RUNPOD_API_KEY."
            )
        elif code == 403:
            message = (
                f"The API key has no access to {what} ({said}). Use a key whose scope reads "
                "Serverless (All or Read Only, in RunPod's console under Settings > API Keys)."
            )
        elif code == 404:
            message = f"{_capital(what)} was not found ({said})."
        elif code == 429:
            wait = f"{retry_after:.0f} s" if retry_after is not None else "a minute"
            message = (
                f"The management API's rate limit was reached ({said}). Try again in {wait}; "
                "it counts every request of this account's key."
            )
        elif code >= 500:
            message = (
                f"The management API failed to answer {what} ({said}), after "
                f"{counted(attempt, 'try', 'tries')}. Try again later."
            )
        else:
            message = f"The management API refused the request for {what} ({said})."
        return AccountError(
            message,
            status_code=code,
            title=title,
            detail=detail,
            errors=errors,
            retry_after=retry_after,
        )

    def _unreachable(self, url: str, exc: httpx.TransportError) -> AccountError:
        reason = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            reason = f"no answer in time: {reason}"
        return AccountError(
            f"Could not reach the management API at {_without_query(url)} ({reason}). Check "
            "the URL (RUNPOD_API_URL or the profile's management URL) and the network."
        )

    def _endpoint_id(self, endpoint_id: str | None) -> str:
        chosen = endpoint_id or self.access.endpoint_id
        if not chosen:
            raise ValueError("no endpoint id: name one, or use a profile that has one")
        return chosen

    def _host(self) -> str:
        return httpx.URL(self.access.base_url).host or self.access.base_url


def problem_message(status: int, title: str, detail: str, errors: Sequence[str] = ()) -> str:
    """An RFC 9457 problem in words: ``Not Found, 404: resource not found; $.x: required``."""
    head = f"{title}, {status}" if title else f"HTTP {status}"
    text = f"{head}: {detail}" if detail else head
    if errors:
        text += "; " + "; ".join(errors)
    return text


def _problem(body: Any, response: httpx.Response) -> tuple[str, str, tuple[str, ...]]:
    """``(title, detail, errors)`` of an error answer: RFC 9457, v1's ``{"message"}``/``{"error"}``,
    or the first words of a text body (a proxy's HTML page gives none)."""
    if isinstance(body, dict):
        title = body.get("title") if isinstance(body.get("title"), str) else ""
        detail = next(
            (body[k] for k in ("detail", "message", "error") if isinstance(body.get(k), str)), ""
        )
        raw_errors = body.get("errors")
        errors: tuple[str, ...] = ()
        if isinstance(raw_errors, list):
            errors = tuple(str(e) if not isinstance(e, str) else e for e in raw_errors)
        elif isinstance(raw_errors, str):
            errors = (raw_errors,)
        return title or response.reason_phrase, detail, errors
    text = response.text.strip() if isinstance(body, str) else ""
    if text.startswith("<"):
        text = ""
    return response.reason_phrase, text[:200], ()


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _items(body: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The JSON objects of the list under ``key`` (RunPod wraps each list in an object)."""
    raw = body.get(key, [])
    return [item for item in raw if isinstance(item, Mapping)] if isinstance(raw, list) else []


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
