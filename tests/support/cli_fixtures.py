"""A profile for a sandbox's endpoint, and jobs sent to it from outside the console (as curl or the
SDK would): for the command line's history, follow and logs tests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gui.cli import main
from gui.sandbox import SandboxThread


@pytest.fixture
def remote(sandbox: SandboxThread, capsys: pytest.CaptureFixture[str]) -> str:
    """A profile named "remote" for the sandbox's endpoint "ep" (a `job-console sandbox`)."""
    add = ["profile", "add", "remote", "--endpoint", "ep", "--base-url", sandbox.base_url]
    assert main(add) == 0
    capsys.readouterr()
    return "remote"


def send(sandbox: SandboxThread, job_input: dict[str, Any]) -> str:
    """Send a job the way curl would, outside the console; its RunPod id."""
    answer = httpx.post(f"{sandbox.base_url}/ep/run", json={"input": job_input}, timeout=10)
    answer.raise_for_status()
    job_id: str = answer.json()["id"]
    return job_id
