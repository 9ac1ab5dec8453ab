"""The official ``runpod`` SDK (1.12.0), an independent client, works against the sandbox unchanged.

The SDK reads ``RUNPOD_ENDPOINT_BASE_URL`` once, at import, into ``runpod.endpoint_url_base``; its
classes read that attribute when they are built. One test runs the SDK in a fresh interpreter with
the variable set, exactly as a newcomer would; the others set the attribute for this process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
import runpod

from gui.sandbox import SandboxConfig, SandboxThread

pytestmark = [pytest.mark.integration, pytest.mark.slow]

KEY = "sdk-test-key"


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxThread]:
    config = SandboxConfig(api_key=KEY, default_duration_s=0.05)
    with SandboxThread(config) as running:
        monkeypatch.setattr(runpod, "endpoint_url_base", running.base_url)
        yield running


def test_endpoint_run_then_job_status_and_output(sandbox: SandboxThread) -> None:
    endpoint = runpod.Endpoint("sdk-ep", api_key=KEY)
    job = endpoint.run({"input": {"prompt": "hello"}})
    assert job.status() in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED")
    assert job.output(timeout=10) == {"prompt": "hello"}
    assert job.status() == "COMPLETED"


def test_endpoint_run_wraps_a_bare_input(sandbox: SandboxThread) -> None:
    job = runpod.Endpoint("sdk-ep", api_key=KEY).run({"prompt": "bare"})
    assert job.output(timeout=10) == {"prompt": "bare"}


def test_run_sync_returns_the_output(sandbox: SandboxThread) -> None:
    endpoint = runpod.Endpoint("sdk-ep", api_key=KEY)
    assert endpoint.run_sync({"input": {"n": 7}}, timeout=10) == {"n": 7}


def test_run_sync_holds_the_request_open_for_a_longer_job(sandbox: SandboxThread) -> None:
    endpoint = runpod.Endpoint("sdk-ep", api_key=KEY)
    # The SDK sends no wait, so the sandbox holds the request up to the default 90 s.
    body = {"input": {"sandbox": {"duration": 1.2}, "k": 1}}
    result: dict[str, Any] = endpoint.run_sync(body, timeout=10)
    assert result["k"] == 1


def test_run_sync_falls_back_to_polling_when_the_job_outlives_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    requests = logging.getLogger("tests.sandbox.sdk-requests")
    requests.setLevel(logging.INFO)
    requests.propagate = False
    seen = _Recorder()
    requests.addHandler(seen)
    config = SandboxConfig(api_key=KEY, runsync_wait_default_ms=300)
    try:
        with SandboxThread(config, request_log=requests) as running:
            monkeypatch.setattr(runpod, "endpoint_url_base", running.base_url)
            endpoint = runpod.Endpoint("sdk-ep", api_key=KEY)
            # /runsync answers IN_PROGRESS after 0.3 s; the SDK then polls /status to the end.
            body = {"input": {"sandbox": {"duration": 1.0}, "k": 2}}
            result: dict[str, Any] = endpoint.run_sync(body, timeout=10)
    finally:
        requests.removeHandler(seen)
    assert result["k"] == 2
    paths = [line.split('"')[1] for line in seen.lines]
    assert paths[0].startswith("POST /v2/sdk-ep/runsync")
    assert any(path.startswith("GET /v2/sdk-ep/status/sync-") for path in paths[1:])


class _Recorder(logging.Handler):
    """Keeps the sandbox's request log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_job_cancel(sandbox: SandboxThread) -> None:
    endpoint = runpod.Endpoint("sdk-ep", api_key=KEY)
    job = endpoint.run({"input": {"sandbox": {"duration": 30}}})
    answer = job.cancel()
    assert answer == {"id": job.job_id, "status": "CANCELLED"}
    assert job.status() == "CANCELLED"


def test_job_stream(sandbox: SandboxThread) -> None:
    job = runpod.Endpoint("sdk-ep", api_key=KEY).run({"input": {"sandbox": {"stream": 3}}})
    assert list(job.stream()) == ["chunk 1", "chunk 2", "chunk 3"]


def test_health_and_purge_queue(sandbox: SandboxThread) -> None:
    endpoint = runpod.Endpoint("sdk-ep", api_key=KEY)
    blockers = [endpoint.run({"input": {"sandbox": {"duration": 30}}}) for _ in range(2)]
    queued = [endpoint.run({"input": {"i": i}}) for i in range(3)]
    health = endpoint.health()
    assert health["jobs"]["inQueue"] + health["jobs"]["inProgress"] == 5
    assert endpoint.purge_queue() == {"removed": 3, "status": "completed"}
    assert endpoint.health()["jobs"]["inQueue"] == 0
    for job in blockers:
        job.cancel()
    assert queued  # purged jobs answer 404 from now on


def test_wrong_key_is_refused_as_the_sdk_expects(sandbox: SandboxThread) -> None:
    with pytest.raises(RuntimeError, match="401"):
        runpod.Endpoint("sdk-ep", api_key="wrong").health()


def test_asyncio_endpoint_run_status_output(sandbox: SandboxThread) -> None:
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            endpoint = runpod.AsyncioEndpoint("sdk-ep", session, api_key=KEY)
            job = await endpoint.run({"prompt": "async"})
            assert await job.status() in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED")
            assert await job.output(timeout=10) == {"prompt": "async"}
            assert await job.status() == "COMPLETED"
            slow = await endpoint.run({"sandbox": {"duration": 30}})
            assert (await slow.cancel())["status"] == "CANCELLED"
            assert (await endpoint.health())["jobs"]["completed"] >= 1

    asyncio.run(scenario())


def test_sdk_pointed_by_environment_variable_in_a_fresh_interpreter() -> None:
    script = textwrap.dedent(
        """
        import runpod
        endpoint = runpod.Endpoint("env-ep", api_key="k")
        job = endpoint.run({"input": {"via": "env"}})
        print(job.output(timeout=20))
        print(endpoint.run_sync({"input": {"sync": True}}, timeout=20))
        """
    )
    with SandboxThread(SandboxConfig(api_key="k", default_duration_s=0.05)) as running:
        env = {**os.environ, "RUNPOD_ENDPOINT_BASE_URL": running.base_url}
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["{'via': 'env'}", "{'sync': True}"]
