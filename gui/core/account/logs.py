"""One worker's log, followed as RunPod serves it: Server-Sent Events, resumed after a drop.

``GET {management}/serverless/{endpoint}/workers/{worker}/logs`` (RUNPOD_API.md 10.3) answers
``text/event-stream``: an ``id:`` and a ``data:`` line per event, the data JSON
``{"ts", "source", "line"}``. ``WorkerLogStream.lines()`` reads it with httpx-sse (a kept SSE
reader, not a hand parser), and when the connection drops or the server ends the stream it connects
again with ``Last-Event-ID`` set to the last event it read, after a bounded backoff, so no line is
lost or read twice. It ends when the worker is gone (404: only active workers have logs) or when
the caller stops iterating.

Each event becomes a ``LogLine`` (``parse_event``), tolerant of every form the API and the
runpod SDK give a ``line``:

- the SDK on the platform: ``{"requestId": "...", "message": "...", "level": "INFO"}``
  (``requestId`` may be null; ``request_id`` in snake case is taken too);
- the SDK off the platform: ``INFO   | JOB_ID | message`` or ``INFO   | message``;
- a handler's own output, raw, with ``[Request: JOB_ID]`` somewhere in it or untagged;
- a ``data:`` payload that is not JSON is itself the line (runpod-mcp's reading).

Every message is redacted (``gui.core.redact.redact_log_text``) before a ``LogLine`` holds it:
the key the stream was read with, any other secret the caller names and anything shaped like a
RunPod API key become ``<redacted>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from gui.core.account.access import AccountAccess
from gui.core.errors import AuthRefused, ConsoleError, RateLimited
from gui.core.redact import redact_log_text

__all__ = [
    "LOG_LEVELS",
    "LogBackoff",
    "LogLine",
    "WorkerLogStream",
    "parse_event",
    "parse_line",
]

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "TIP", "WARN", "WARNING", "ERROR", "CRITICAL")
DEFAULT_TAIL = 500  # lines of backfill on a first connection (RunPod's default is 100, max 5000)

_PLAIN = re.compile(
    r"^(?P<level>" + "|".join(LOG_LEVELS) + r")\s*\|\s(?:(?P<job>[^\s|]+)\s\|\s)?(?P<message>.*)$",
    re.DOTALL,
)
_REQUEST_TAG = re.compile(r"\[Request: ([^\]\s]+)\]")


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a worker's log, redacted.

    ``time`` is the event's RFC 3339 ``ts`` ("" when it had none), ``source`` ``container`` or
    ``system``, ``level`` the SDK's level ("" for raw output), ``request_id`` the job the line is
    tagged with (None: untagged), ``event_id`` the SSE id to resume after ("" when none).
    """

    time: str
    level: str
    message: str
    request_id: str | None
    event_id: str = ""
    source: str = "container"


def parse_line(line: str) -> tuple[str, str, str | None]:
    """``(level, message, request_id)`` of one container line, in any of the module's forms."""
    text = line.rstrip("\r\n")
    if text.startswith("{"):
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and "message" in data:
            request_id = data.get("requestId", data.get("request_id"))
            level = data.get("level")
            message = data["message"]
            return (
                level.upper() if isinstance(level, str) else "",
                message if isinstance(message, str) else json.dumps(message),
                request_id if isinstance(request_id, str) and request_id else None,
            )
    plain = _PLAIN.match(text)
    if plain is not None:
        return plain["level"], plain["message"], plain["job"]
    tagged = _REQUEST_TAG.search(text)
    return "", text, tagged.group(1) if tagged else None


def parse_event(event_id: str, data: str, secrets: tuple[str, ...] = ()) -> LogLine:
    """The ``LogLine`` of one SSE event (its ``id`` and ``data``), redacted with ``secrets``."""
    payload: Any
    try:
        payload = json.loads(data)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("line"), str):
        ts, source, line = payload.get("ts"), payload.get("source"), payload["line"]
    else:
        ts, source, line = None, None, data
    level, message, request_id = parse_line(line)
    return LogLine(
        time=ts if isinstance(ts, str) else "",
        level=level,
        message=redact_log_text(message, secrets),
        request_id=None if request_id is None else redact_log_text(request_id, secrets),
        event_id=event_id,
        source=source if isinstance(source, str) and source else "container",
    )


class _WorkerGone(Exception):
    """The worker is not active any more (404): its log went with it, and the stream ends."""


@dataclass(frozen=True, slots=True)
class LogBackoff:
    """Seconds before reconnecting: ``first_s``, doubled after each failure, at most ``max_s``.

    A connection that delivered an event resets it. ``give_up_after`` failures in a row end the
    stream (``None``: keep trying while the caller iterates)."""

    first_s: float = 0.25
    max_s: float = 10.0
    give_up_after: int | None = None

    def delay(self, failures: int) -> float:
        return min(self.max_s, self.first_s * 2.0 ** max(0, failures - 1))


class WorkerLogStream:
    """Follows one worker's log through ``client``; iterate ``lines()``.

    ``last_event_id`` is the cursor: set it before ``lines()`` to resume where an earlier stream
    stopped; it moves with every event read. ``reconnects`` counts the connections made after the
    first. ``sleep`` is how the backoff waits (tests pass a recorder).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        access: AccountAccess,
        worker_id: str,
        *,
        tail: int = DEFAULT_TAIL,
        backoff: LogBackoff | None = None,
        secrets: Sequence[str] = (),
        last_event_id: str = "",
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._access = access
        self.worker_id = worker_id
        self._tail = tail
        self._backoff = backoff or LogBackoff()
        self._secrets = tuple(s for s in (access.api_key, *secrets) if s)
        self.last_event_id = last_event_id
        self.reconnects = 0
        self._sleep = sleep

    @property
    def url(self) -> str:
        return self._access.url(
            f"serverless/{self._access.endpoint_id}/workers/{self.worker_id}/logs"
        )

    async def lines(self) -> AsyncGenerator[LogLine, None]:
        """Every line from the first connection on, across reconnections, until the worker is
        gone (then it returns) or the key is refused (``AuthRefused``)."""
        failures = 0
        first = True
        while True:
            if not first:
                self.reconnects += 1
            first = False
            got_any = False
            try:
                async with contextlib.aclosing(self._connection()) as connection:
                    async for line in connection:
                        got_any = True
                        yield line
            except _WorkerGone:
                return
            except AuthRefused:
                raise
            except (httpx.HTTPError, SSEError, ConsoleError) as exc:
                # A drop, a refused connection, a 5xx or a 429: connect again after a pause.
                wait = exc.retry_after if isinstance(exc, RateLimited) else None
            else:  # the server ended the stream (it restarted, or a proxy cut it)
                wait = None
            failures = 0 if got_any else failures + 1
            limit = self._backoff.give_up_after
            if limit is not None and failures >= limit:
                return
            delay = self._backoff.delay(max(1, failures))
            await self._sleep(max(delay, min(wait or 0.0, self._backoff.max_s * 6)))

    async def _connection(self) -> AsyncGenerator[LogLine, None]:
        headers = {**self._access.headers, "Accept": "text/event-stream"}
        params: dict[str, str] = {}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        else:
            params["tail"] = str(self._tail)
        # No read timeout: a quiet worker sends nothing (or a keepalive comment) for long spells.
        timeout = httpx.Timeout(10.0, read=None)
        async with self._client.stream(
            "GET", self.url, headers=headers, params=params, timeout=timeout
        ) as response:
            if response.status_code != 200:
                await response.aread()
                raise _refusal(response, self.worker_id)
            async for event in EventSource(response).aiter_sse():
                if not event.data and not event.id:
                    continue
                line = parse_event(event.id, event.data, self._secrets)
                if event.id:
                    self.last_event_id = event.id
                yield line


def _refusal(response: httpx.Response, worker_id: str) -> Exception:
    """What a non-200 answer to a log request means, in words (RFC 9457 ``detail`` when given)."""
    status = response.status_code
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or "")
    except ValueError:
        detail = response.text[:200]
    if status == 404:
        return _WorkerGone(f"Worker {worker_id} is gone: its log went with it. {detail}".strip())
    if status == 429:
        after = response.headers.get("Retry-After", "")
        return RateLimited(
            "The management API's rate limit was reached; the log is read again after a pause.",
            retry_after=float(after) if after.isdigit() else None,
        )
    if status in (401, 403):
        return AuthRefused(
            f"The management API refused the key ({status}: {detail or 'no reason given'}). "
            "Open Profiles to set a key with read access.",
            status_code=status,
        )
    return ConsoleError(f"The worker log answered {status}: {detail or 'no reason given'}.")
