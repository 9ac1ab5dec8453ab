"""Steps for tests that talk to a sandbox over loopback HTTP (the ``start_sandbox`` and
``sandbox_client`` fixtures are in ``tests/sandbox/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from gui.sandbox import SandboxThread
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
