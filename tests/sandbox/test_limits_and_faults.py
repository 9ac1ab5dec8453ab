"""Rate limits (RUNPOD_API.md §4) and injected faults: 429 with Retry-After, 5xx, drops, latency."""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from gui.core.limits import RATE_LIMITS
from gui.sandbox import FaultConfig
from gui.sandbox.ratelimit import RateLimiter
from tests.support.sandbox_helpers import StartSandbox
from tests.support.waiting import wait_until


def test_purge_queue_limit_is_runpods_two_per_window(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(rate_limits=True)
    per_window = RATE_LIMITS["purge-queue"][0]
    for _ in range(per_window):
        assert client.post("/purge-queue").status_code == 200
    refused = client.post("/purge-queue")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert "purge-queue" in refused.json()["error"]
    assert client.get("/health").status_code == 200  # other operations have their own budget


def test_limits_count_per_endpoint(start_sandbox: StartSandbox) -> None:
    sandbox, client = start_sandbox(rate_limits=True, rate_limit_overrides={"run": (2, None)})
    for _ in range(2):
        assert client.post("/run", json={"input": {}}).status_code == 200
    assert client.post("/run", json={"input": {}}).status_code == 429
    with httpx.Client(base_url=f"{sandbox.base_url}/other") as other:
        assert other.post("/run", json={"input": {}}).status_code == 200


@pytest.mark.slow
def test_concurrent_limit_refuses_requests_in_flight(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(rate_limits=True, rate_limit_overrides={"runsync": (100, 1)})
    body = {"input": {"sandbox": {"duration": 1.5}}}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(client.post, "/runsync", json=body)
        # Wait until the first runsync is being served (its job is running), then try a second.
        wait_until(
            lambda: client.get("/health").json()["jobs"]["inProgress"] > 0, "the first job runs"
        )
        second = client.post("/runsync", json={"input": {}})
        assert second.status_code == 429 and "Retry-After" in second.headers
        assert slow.result(10).status_code == 200
    assert client.post("/runsync", json={"input": {}}).status_code == 200


def test_limits_are_off_by_default(sandbox_client: httpx.Client) -> None:
    assert all(sandbox_client.post("/purge-queue").status_code == 200 for _ in range(5))


def test_rate_limiter_window_slides() -> None:
    limiter = RateLimiter({"run": (2, None)}, window_s=0.1)
    assert limiter.acquire("e", "run") is None
    assert limiter.acquire("e", "run") is None
    assert limiter.acquire("e", "run") is not None
    time.sleep(0.12)
    assert limiter.acquire("e", "run") is None
    assert limiter.acquire("e", "unlisted-operation") is None


def test_injected_429_has_retry_after_and_creates_no_job(start_sandbox: StartSandbox) -> None:
    sandbox, client = start_sandbox(faults=FaultConfig(share_429=1.0, retry_after_s=3))
    answer = client.post("/run", json={"input": {}})
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert "error" in answer.json()
    assert all(endpoint.job_count == 0 for endpoint in sandbox.server.routes.endpoints.values())


def test_injected_5xx(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(faults=FaultConfig(share_5xx=1.0))
    statuses = {client.get("/health").status_code for _ in range(30)}
    assert statuses <= {500, 502, 503} and len(statuses) >= 2


def test_injected_5xx_codes_can_be_chosen(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(faults=FaultConfig(share_5xx=1.0, codes_5xx=(504,)))
    assert {client.get("/health").status_code for _ in range(5)} == {504}


def test_a_lost_answer_comes_after_the_job_was_queued(start_sandbox: StartSandbox) -> None:
    sandbox, client = start_sandbox(faults=FaultConfig(share_answer_lost=1.0))
    answer = client.post("/run", json={"input": {}})
    assert answer.status_code == 502 and "Bad Gateway" in answer.text
    assert sandbox.server.routes.endpoints["ep"].job_count == 1


def test_injected_drop_closes_the_connection_unanswered(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(faults=FaultConfig(share_drop=1.0))
    with pytest.raises(httpx.TransportError):
        client.post("/run", json={"input": {}})


def test_injected_shares_mix(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(faults=FaultConfig(share_429=0.3, share_5xx=0.3))
    statuses = [client.get("/health").status_code for _ in range(200)]
    assert {200, 429} <= set(statuses) and set(statuses) & {500, 502, 503}


def test_injected_latency_delays_every_request(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox(faults=FaultConfig(latency_ms=(120, 150)))
    started = time.monotonic()
    assert client.get("/health").status_code == 200
    assert time.monotonic() - started >= 0.12
