"""'Test connection' for a profile: one harmless request, and a plain sentence about what happened.

Cloud and sandbox targets get ``GET {endpoint}/health`` with the key; a local worker's test server
has no health route, so it gets ``GET /openapi.json`` (its FastAPI schema), which runs nothing.
A coroutine over a given ``httpx.AsyncClient``: the window asks the engine
(``Engine.check_connection``, on its loop with its client, which also knows where the built-in
sandbox runs); the command line runs it with a client of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from gui.core.redact import redact_text
from gui.core.targets import Target

__all__ = ["ConnectionResult", "check_connection"]


@dataclass(frozen=True, slots=True)
class ConnectionResult:
    """``ok`` and a sentence for a person; ``status_code`` when an HTTP answer came back."""

    ok: bool
    message: str
    status_code: int | None = None


async def check_connection(
    client: httpx.AsyncClient, target: Target, api_key: str | None, *, timeout: float = 10.0
) -> ConnectionResult:
    """Ask ``target`` one harmless question and say plainly what worked or what failed."""
    if not target.base_url:
        return ConnectionResult(False, "No URL is known for this profile yet (is it running?).")
    if target.kind == "local":
        url = f"{target.endpoint_url}/openapi.json"
        headers = {}
    else:
        url = f"{target.endpoint_url}/health"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = await client.get(url, headers=headers, timeout=timeout, follow_redirects=False)
    except httpx.TimeoutException:
        return ConnectionResult(False, f"Unreachable: {url} did not answer within {timeout:g} s.")
    except httpx.HTTPError as exc:
        reason = redact_text(str(exc) or type(exc).__name__, [api_key or ""])
        hint = " Is the worker running? Start it first." if target.kind == "local" else ""
        return ConnectionResult(False, f"Unreachable: {url} ({reason}).{hint}")
    if target.kind == "local":
        return _judge_local(url, response)
    return _judge_endpoint(url, response, has_key=bool(api_key))


def _judge_endpoint(url: str, response: httpx.Response, *, has_key: bool) -> ConnectionResult:
    code = response.status_code
    if code in (401, 403):
        what = "The API key was refused" if has_key else "The endpoint wants an API key"
        return ConnectionResult(
            False, f"{what} ({code}). Set the profile's key (or RUNPOD_API_KEY).", code
        )
    if code == 404:
        return ConnectionResult(
            False, f"Unknown endpoint (404) at {url}: check the endpoint id and base URL.", code
        )
    if code >= 400:
        return ConnectionResult(False, f"The endpoint answered HTTP {code} at {url}.", code)
    health = _json(response)
    if not isinstance(health, dict) or not isinstance(health.get("workers"), dict):
        return ConnectionResult(
            False, f"{url} answered, but not with a RunPod health report: wrong base URL?", code
        )
    return ConnectionResult(True, f"Connected: {_summarize_health(health)}.", code)


def _judge_local(url: str, response: httpx.Response) -> ConnectionResult:
    code = response.status_code
    schema = _json(response)
    paths = schema.get("paths") if isinstance(schema, dict) else None
    if code == 200 and isinstance(paths, dict) and "/run" in paths:
        return ConnectionResult(True, "Connected: the worker's test server answers.", code)
    return ConnectionResult(
        False,
        f"Something answers at {url} (HTTP {code}), but not a worker started with --rp_serve_api.",
        code,
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _summarize_health(health: dict[str, Any]) -> str:
    workers = health.get("workers") or {}
    jobs = health.get("jobs") or {}
    worker_text = ", ".join(f"{count} {state}" for state, count in workers.items()) or "none"
    queued = jobs.get("inQueue", 0) if isinstance(jobs, dict) else 0
    running = jobs.get("inProgress", 0) if isinstance(jobs, dict) else 0
    return f"workers {worker_text}; jobs {queued} in queue, {running} in progress"
