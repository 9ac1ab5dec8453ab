"""Starting and stopping: inside a running loop, on a thread, on a busy port; workers stay alive."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import httpx
import pytest

import gui.sandbox.endpoint
from gui.sandbox import SandboxConfig, SandboxServer, SandboxThread
from tests.support.sandbox_helpers import StartSandbox, wait_status


def test_server_runs_inside_the_callers_loop_and_closes_its_socket() -> None:
    async def scenario() -> None:
        server = SandboxServer(SandboxConfig(default_duration_s=0.01))
        await server.start()
        assert server.port > 0 and server.base_url == f"http://127.0.0.1:{server.port}/v2"
        async with aiohttp.ClientSession() as session:
            url = f"{server.base_url}/e/runsync"
            async with session.post(url, json={"input": {"a": 1}}) as answer:
                assert (await answer.json())["output"] == {"a": 1}
        await server.stop()
        await server.stop()  # a second stop is harmless
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", server.port)
        current = asyncio.current_task()
        assert [task for task in asyncio.all_tasks() if task is not current] == []

    asyncio.run(scenario())


def test_stop_with_jobs_running_and_queued_leaves_nothing_behind() -> None:
    async def scenario() -> None:
        server = SandboxServer(SandboxConfig(workers=2))
        await server.start()
        async with aiohttp.ClientSession() as session:
            for _ in range(5):
                body = {"input": {"sandbox": {"duration": 30}}}
                async with session.post(f"{server.base_url}/e/run", json=body) as answer:
                    assert answer.status == 200
        await server.stop()
        current = asyncio.current_task()
        assert [task for task in asyncio.all_tasks() if task is not current] == []

    asyncio.run(scenario())


def test_thread_on_a_busy_port_raises_the_os_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        sandbox = SandboxThread(port=taken.getsockname()[1])
        with pytest.raises(OSError):
            sandbox.start()
        sandbox.stop()  # nothing to stop, and no error


def test_thread_context_manager_serves_then_stops() -> None:
    with SandboxThread() as sandbox:
        url = f"{sandbox.base_url}/e/health"
        assert httpx.get(url).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(url)


def test_a_simulation_bug_fails_the_job_and_the_worker_goes_on(
    start_sandbox: StartSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_plan_work = gui.sandbox.endpoint.plan_work

    def plan_work(job_input: dict[str, Any], default_duration_s: float) -> Any:
        if job_input.get("explode"):
            raise KeyError("simulated bug")
        return real_plan_work(job_input, default_duration_s)

    monkeypatch.setattr(gui.sandbox.endpoint, "plan_work", plan_work)
    _, client = start_sandbox(workers=1)
    bad = client.post("/run", json={"input": {"explode": True}}).json()["id"]
    assert "simulated bug" in wait_status(client, bad, "FAILED")["error"]
    good = client.post("/run", json={"input": {"fine": True}}).json()["id"]
    assert wait_status(client, good, "COMPLETED")["output"] == {"fine": True}


def _ipv6_loopback_works() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback_works(), reason="no IPv6 loopback on this machine")
def test_ipv6_host_gets_a_bracketed_base_url() -> None:
    with SandboxThread(host="::1") as sandbox:
        assert sandbox.base_url == f"http://[::1]:{sandbox.port}/v2"
        assert httpx.get(f"{sandbox.base_url}/e/health").status_code == 200
