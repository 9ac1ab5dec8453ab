"""Steps for tests that talk to a sandbox over loopback HTTP (the ``start_sandbox`` and
``sandbox_client`` fixtures are in ``tests/sandbox/conftest.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from aiohttp import web

from gui.sandbox import SandboxThread
from gui.sandbox.app import SandboxRoutes
from tests.support.waiting import wait_until

StartSandbox = Callable[..., tuple[SandboxThread, httpx.Client]]
"""The ``start_sandbox`` fixture: config fields in; the sandbox and a client for ``ep`` out."""


def wait_status(
    client: httpx.Client, job_id: str, *states: str, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll ``/status`` until the job is in one of ``states``; the last payload."""

    def reached() -> dict[str, Any] | None:
        payload: dict[str, Any] = client.get(f"/status/{job_id}").json()
        return payload if payload.get("status") in states else None

    return wait_until(reached, f"job {job_id} in {' or '.join(states)}", timeout=timeout)


class SandboxRequests:
    """What every sandbox in this process is asked (until the test ends), and with which API
    key: consoles in other processes, started with different ``RUNPOD_API_KEY``s, are told apart
    by it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._lock = threading.Lock()
        self._seen: list[tuple[str, str]] = []
        admitted = SandboxRoutes._admitted

        async def recording(
            routes: SandboxRoutes, request: web.Request, handler: Any
        ) -> web.StreamResponse:
            with self._lock:
                self._seen.append((request.path, request.headers.get("Authorization", "")))
            return await admitted(routes, request, handler)

        monkeypatch.setattr(SandboxRoutes, "_admitted", recording)

    def keys(self, path_part: str) -> list[str]:
        """The key of each request whose path holds ``path_part``, in order."""
        with self._lock:
            return [key.removeprefix("Bearer ") for path, key in self._seen if path_part in path]
