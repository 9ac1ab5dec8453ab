"""Sandbox tests run against a real server over loopback HTTP, on its own loop thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from gui.sandbox import SandboxConfig, SandboxThread

StartSandbox = Callable[..., tuple[SandboxThread, httpx.Client]]


def wait_for(condition: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01) -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value: {value!r})")
        time.sleep(interval)


def wait_status(
    client: httpx.Client, job_id: str, *states: str, timeout: float = 5.0
) -> dict[str, Any]:
    """Poll ``/status`` until the job is in one of ``states``; the last payload."""

    def reached() -> dict[str, Any] | None:
        payload: dict[str, Any] = client.get(f"/status/{job_id}").json()
        return payload if payload.get("status") in states else None

    result: dict[str, Any] = wait_for(reached, timeout)
    return result


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start a sandbox with the given config fields; returns it and a client for endpoint ``ep``."""
    started: list[tuple[SandboxThread, httpx.Client]] = []

    def start(
        endpoint_id: str = "ep", headers: dict[str, str] | None = None, **fields: Any
    ) -> tuple[SandboxThread, httpx.Client]:
        fields.setdefault("default_duration_s", 0.05)
        sandbox = SandboxThread(SandboxConfig(**fields))
        sandbox.start()
        client = httpx.Client(
            base_url=f"{sandbox.base_url}/{endpoint_id}", headers=headers, timeout=10
        )
        started.append((sandbox, client))
        return sandbox, client

    yield start
    for sandbox, client in started:
        client.close()
        sandbox.stop()


@pytest.fixture
def sandbox_client(start_sandbox: StartSandbox) -> httpx.Client:
    """A client for endpoint ``ep`` of a default sandbox (2 workers, 50 ms echo jobs)."""
    return start_sandbox()[1]
