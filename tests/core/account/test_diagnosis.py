"""Why a job waits, diagnosed over loopback HTTP against each of the sandbox's scenarios."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from gui.core.account.access import AccountAccess
from gui.core.account.client import ManagementClient
from gui.core.account.diagnosis import (
    WaitDiagnosis,
    WaitKind,
    diagnose_endpoint,
    diagnose_wait,
    duration_words,
    wait_diagnosis_line,
)
from gui.core.account.models import Endpoint, EndpointWorkers, Worker
from gui.core.targets import Target
from gui.sandbox import SandboxConfig, SandboxThread
from gui.sandbox.config import EndpointSpec
from tests.support.waiting import wait_until


@pytest.fixture
def sandbox() -> Iterator[Callable[..., SandboxThread]]:
    started: list[SandboxThread] = []

    def start(*specs: EndpointSpec, **fields: Any) -> SandboxThread:
        fields.setdefault("default_duration_s", 0.05)
        thread = SandboxThread(SandboxConfig(endpoints=list(specs), **fields))
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.stop()


def diagnose(server: SandboxThread, endpoint_id: str, waited_s: float = 90) -> WaitDiagnosis:
    async def main() -> WaitDiagnosis:
        access = AccountAccess(server.base_url, "", endpoint_id, "sandbox")
        async with ManagementClient(access) as client:
            return await diagnose_endpoint(client, waited_s=waited_s)

    return asyncio.run(main())


def queue_a_job(server: SandboxThread, endpoint_id: str, **sandbox: Any) -> str:
    body = {"input": {"sandbox": sandbox} if sandbox else {}}
    answer = httpx.post(f"{server.base_url}/{endpoint_id}/run", json=body, timeout=10)
    job_id: str = answer.json()["id"]
    return job_id


def test_a_healthy_endpoint_with_idle_workers_has_nothing_wrong(sandbox: Any) -> None:
    server = sandbox(EndpointSpec("ep", name="fine"), workers=2)
    diagnosis = diagnose(server, "ep")
    assert diagnosis.kind is WaitKind.NOTHING_FOUND and not diagnosis.found
    assert (
        diagnosis.reason == "Nothing wrong found with fine: 2 ready workers, 0 jobs in the queue."
    )


def test_max_workers_zero_is_the_idle_scale_down(sandbox: Any) -> None:
    server = sandbox(EndpointSpec("idle", name="sdxl", workers_max=0))
    queue_a_job(server, "idle")
    diagnosis = diagnose(server, "idle")
    assert diagnosis.kind is WaitKind.SCALED_TO_ZERO
    assert diagnosis.reason.startswith("sdxl has max workers 0, so no worker can start")
    assert "7 days" in diagnosis.reason and "Raise max workers" in diagnosis.advice


def test_crash_looping_workers_are_unhealthy(sandbox: Any) -> None:
    server = sandbox(EndpointSpec("crashy", scenario="crash_loop"), workers=2)
    queue_a_job(server, "crashy")
    diagnosis = diagnose(server, "crashy")
    assert diagnosis.kind is WaitKind.UNHEALTHY
    assert diagnosis.reason.startswith("2 workers of sandbox-crashy are unhealthy and none")
    assert "crash loop" in diagnosis.reason and "start container" in diagnosis.advice


def test_throttled_workers_wait_for_capacity(sandbox: Any) -> None:
    server = sandbox(
        EndpointSpec("busy", scenario="throttled", data_center_id="EU-RO-1"), workers=1
    )
    diagnosis = diagnose(server, "busy")
    assert diagnosis.kind is WaitKind.THROTTLED
    assert diagnosis.reason == (
        "1 worker of sandbox-busy is throttled: RunPod has no free ADA_24 in EU-RO-1 for it "
        "now, and none is ready."
    )


def test_starting_workers_are_a_cold_start_and_a_long_one_is_flagged(sandbox: Any) -> None:
    server = sandbox(EndpointSpec("cold", scenario="starting"), workers=1)
    soon = diagnose(server, "cold", waited_s=30)
    late = diagnose(server, "cold", waited_s=8 * 60)
    assert soon.kind is late.kind is WaitKind.STARTING
    assert soon.reason.startswith("1 worker of sandbox-cold is starting")
    assert "FlashBoot" in soon.advice and "RUNPOD_INIT_TIMEOUT" in late.advice


def test_a_rolling_release_takes_workers_away(sandbox: Any) -> None:
    spec = EndpointSpec("new", version=2, image="runpod/sandbox-worker:1.1.0", outdated_workers=1)
    server = sandbox(spec, workers=2)
    diagnosis = diagnose(server, "new")
    assert diagnosis.kind is WaitKind.ROLLING
    assert "1 of 2 workers still run an older one" in diagnosis.reason


def test_the_queue_ahead_when_every_worker_is_busy(sandbox: Any) -> None:
    server = sandbox(EndpointSpec("one", workers_max=1))
    first = queue_a_job(server, "one", duration=60)
    wait_until(
        lambda: (
            httpx.get(f"{server.base_url}/one/status/{first}").json()["status"] == "IN_PROGRESS"
        ),
        "the first job running",
    )
    queue_a_job(server, "one")
    diagnosis = diagnose(server, "one")
    assert diagnosis.kind is WaitKind.QUEUE_AHEAD
    assert diagnosis.reason == (
        "The one ready worker of sandbox-one is busy and 1 job waits in the queue."
    )
    assert diagnosis.advice.startswith("Max workers is 1: raise it")


def test_a_load_balancing_endpoint_takes_no_jobs(sandbox: Any) -> None:
    server = sandbox(EndpointSpec("web", type="LOAD_BALANCER"))
    assert diagnose(server, "web").kind is WaitKind.NOT_FOR_JOBS


def test_no_worker_at_all_is_a_cold_start_or_no_capacity() -> None:
    endpoint = Endpoint("ep", "api", gpu_pools=("AMPERE_80",), workers_max=3)
    diagnosis = diagnose_wait(endpoint, EndpointWorkers("ep"), {"jobs": {"inQueue": 1}}, 20)
    assert diagnosis.kind is WaitKind.NO_WORKERS
    assert "RunPod has no free AMPERE_80" in diagnosis.advice


def test_unhealthy_workers_beside_ready_ones_do_not_hide_the_queue() -> None:
    endpoint = Endpoint("ep", "api", workers_max=2)
    workers = EndpointWorkers(
        "ep", (Worker("a", "RUNNING", version=1), Worker("b", "UNHEALTHY", version=1)), 1
    )
    diagnosis = diagnose_wait(endpoint, workers, {"jobs": {"inQueue": 3}})
    assert diagnosis.kind is WaitKind.QUEUE_AHEAD
    assert diagnosis.reason == ("The one ready worker of api is busy and 3 jobs wait in the queue.")


def test_the_line_for_a_waiting_command(sandbox: Any) -> None:
    server = sandbox(EndpointSpec("idle", workers_max=0))
    target = Target("Sandbox", "sandbox", server.base_url, "idle")
    line = wait_diagnosis_line(target, None, 125)
    assert line.startswith("IN_QUEUE for 2 min 5 s: sandbox-idle has max workers 0")


def test_the_line_says_why_it_cannot_tell() -> None:
    cloud = Target("prod", "cloud", endpoint_id="ep1")
    line = wait_diagnosis_line(cloud, None, 61, environ={})
    assert line.startswith("IN_QUEUE for 1 min 1 s; why can't be told: prod has no API key")
    local = wait_diagnosis_line(Target("dev", "local", "http://127.0.0.1:1"), None, 5)
    assert "local worker" in local


def test_duration_words() -> None:
    assert [duration_words(s) for s in (0, 45, 60, 125, 3600, 3720)] == [
        "0 s", "45 s", "1 min", "2 min 5 s", "1 h", "1 h 2 min",
    ]  # fmt: skip
