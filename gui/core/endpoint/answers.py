"""RunPod's answers as typed records, and HTTP failures as the console's errors.

RunPod's payloads are loose: keys come and go, numbers may be missing. ``JobStatus.from_payload``
takes whatever arrived and keeps what the console understands; the raw payload stays attached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from gui.core.errors import (
    AuthRefused,
    JobNotFound,
    RateLimited,
    RemoteError,
    RequestRefused,
    ServerError,
)
from gui.core.records import JobState, parse_state
from gui.core.targets import Target

__all__ = ["JobStatus", "error_for_response", "parse_body", "parse_retry_after"]


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return None


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One answer about one job: /run, /runsync, /status, /stream, /cancel, /retry or a webhook.

    ``state`` is ``None`` when the status string was missing or unknown. ``has_output`` tells an
    absent ``output`` from an ``output`` that is JSON ``null``.
    """

    job_id: str | None
    state: JobState | None
    raw_status: str | None = None
    output: Any = None
    has_output: bool = False
    error: str | None = None
    delay_time_ms: int | None = None
    execution_time_ms: int | None = None
    worker_id: str | None = None
    stream: tuple[Any, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> JobStatus:
        job_id = payload.get("id")
        raw_status = payload.get("status")
        error = payload.get("error")
        if error is not None and not isinstance(error, str):
            error = json.dumps(error)
        stream_items = payload.get("stream")
        chunks: tuple[Any, ...] = ()
        if isinstance(stream_items, list):
            chunks = tuple(
                item.get("output") if isinstance(item, dict) and "output" in item else item
                for item in stream_items
            )
        worker = payload.get("workerId")
        return cls(
            job_id=str(job_id) if job_id is not None else None,
            state=parse_state(raw_status),
            raw_status=raw_status if isinstance(raw_status, str) else None,
            output=payload.get("output"),
            has_output="output" in payload,
            error=error,
            delay_time_ms=_int_or_none(payload.get("delayTime")),
            execution_time_ms=_int_or_none(payload.get("executionTime")),
            worker_id=worker if isinstance(worker, str) else None,
            stream=chunks,
            payload=payload,
        )


def parse_body(response: httpx.Response) -> Any:
    """The answer's JSON, or its text when it is not JSON (``None`` when empty)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import time

    return max(0.0, when.timestamp() - time.time())


def _detail(body: Any) -> str:
    """A short excerpt of an error body for a message a person reads."""
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            if body.get(key):
                text = body[key] if isinstance(body[key], str) else json.dumps(body[key])
                return f": {text[:300]}"
        return f": {json.dumps(body)[:300]}"
    if isinstance(body, str) and body.strip():
        return f": {body.strip()[:300]}"
    return ""


def _where(target: Target) -> str:
    return {"cloud": "RunPod", "sandbox": "the sandbox", "local": "the local worker"}[target.kind]


def error_for_response(
    response: httpx.Response, target: Target, operation: str, job_id: str | None
) -> RemoteError:
    """The console's error for an HTTP error answer, with a message saying what to do."""
    code = response.status_code
    body = parse_body(response)
    where = _where(target)
    if code in (401, 403):
        return AuthRefused(
            f"The API key was refused by {where} ({code}). Set a new one in Profiles.",
            status_code=code,
            body=body,
        )
    if code == 404 and job_id is not None:
        return JobNotFound(
            f"{where.capitalize()} does not know job {job_id} (404): its results expired after "
            "the retention period, or the id is wrong.",
            status_code=code,
            body=body,
        )
    if code == 404:
        return RequestRefused(
            f"{where.capitalize()} has no endpoint at {target.endpoint_url} for /{operation} "
            "(404). Check the endpoint id and base URL in Profiles.",
            status_code=code,
            body=body,
        )
    if code == 429:
        return RateLimited(
            f"{where.capitalize()} kept answering 'too many requests' (429) to /{operation}. "
            "Wait a little and try again, or send fewer jobs at once.",
            body=body,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    if code >= 500:
        return ServerError(
            f"{where.capitalize()} failed with a server error ({code}) on /{operation}"
            f"{_detail(body)}. Try again later.",
            status_code=code,
            body=body,
        )
    return RequestRefused(
        f"{where.capitalize()} refused /{operation} ({code}){_detail(body)}.",
        status_code=code,
        body=body,
    )
