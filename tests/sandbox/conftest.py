"""Sandbox tests run against a real server over loopback HTTP, on its own loop thread."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gui.sandbox import SandboxConfig, SandboxThread
from tests.support.sandbox_helpers import StartSandbox


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start a sandbox with the given config fields; returns it and a client for endpoint ``ep``
    (``endpoint_id=None``: for the sandbox's ``/v2``, where the management API lives)."""
    started: list[tuple[SandboxThread, httpx.Client]] = []

    def start(
        endpoint_id: str | None = "ep", headers: dict[str, str] | None = None, **fields: Any
    ) -> tuple[SandboxThread, httpx.Client]:
        fields.setdefault("default_duration_s", 0.05)
        sandbox = SandboxThread(SandboxConfig(**fields))
        sandbox.start()
        base_url = sandbox.base_url if endpoint_id is None else f"{sandbox.base_url}/{endpoint_id}"
        client = httpx.Client(base_url=base_url, headers=headers, timeout=10)
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
