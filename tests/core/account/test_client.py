"""ManagementClient against the sandbox's REST v2 over loopback, and a tiny aiohttp server for
the answers the sandbox never gives (a 429 with a short Retry-After, 5xx, a v1 body)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from aiohttp import web

from gui.core.account.access import AccountAccess
from gui.core.account.client import ManagementClient, ManagementRetry
from gui.core.account.models import LOAD_BALANCER, QUEUE
from gui.core.errors import AccountError
from gui.sandbox import SandboxConfig, SandboxThread
from gui.sandbox.config import EndpointSpec

T = TypeVar("T")
KEY = "rpa_" + "sandbox-key-for-tests"


@pytest.fixture
def sandbox() -> Iterator[Callable[..., SandboxThread]]:
    started: list[SandboxThread] = []

    def start(**fields: Any) -> SandboxThread:
        fields.setdefault("default_duration_s", 0.05)
        thread = SandboxThread(SandboxConfig(**fields))
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.stop()


def call(
    access: AccountAccess,
    use: Callable[[ManagementClient], Awaitable[T]],
    *,
    waits: list[float] | None = None,
    retry: ManagementRetry | None = None,
) -> T:
    """Run ``use`` on a fresh client; the waits between tries are recorded, not slept."""

    async def record(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    async def main() -> T:
        async with ManagementClient(access, sleep=record, retry=retry) as client:
            return await use(client)

    return asyncio.run(main())


def access_to(sandbox: SandboxThread, endpoint_id: str = "", key: str = "") -> AccountAccess:
    return AccountAccess(sandbox.base_url, key, endpoint_id, "test")


def test_endpoints_are_read_with_their_type_gpu_and_worker_limits(sandbox: Any) -> None:
    image_spec = EndpointSpec(
        "img4m7x2k9", name="image-generator", gpu_type_id="NVIDIA L40S", gpu_count=2, workers_max=3
    )
    lb_spec = EndpointSpec("lb1", name="web-api", type="LOAD_BALANCER", workers_max=1)
    server = sandbox(endpoints=[image_spec, lb_spec, EndpointSpec("idle", workers_max=0)])
    endpoints = call(access_to(server), lambda c: c.endpoints())

    by_id = {e.id: e for e in endpoints}
    assert list(by_id) == ["img4m7x2k9", "lb1", "idle"]
    image = by_id["img4m7x2k9"]
    assert (image.name, image.type, image.supports_jobs) == ("image-generator", QUEUE, True)
    assert (image.gpu_pools, image.gpu_count) == (("ADA_48_PRO",), 2)
    assert image.hardware == "2 x ADA_48_PRO"
    assert (image.workers_min, image.workers_max) == (0, 3)
    assert image.health_url == f"{server.base_url}/img4m7x2k9/health"
    assert (by_id["lb1"].type, by_id["lb1"].supports_jobs) == (LOAD_BALANCER, False)
    assert by_id["lb1"].health_url == ""
    assert by_id["idle"].workers_max == 0


def test_workers_releases_catalog_and_health_of_a_rolling_endpoint(sandbox: Any) -> None:
    spec = EndpointSpec("new", version=2, image="runpod/sandbox-worker:1.1.0", outdated_workers=1)
    server = sandbox(endpoints=[spec], workers=2)
    access = access_to(server, "new")

    async def read(client: ManagementClient) -> Any:
        endpoint = await client.endpoint()
        return (
            await client.workers(),
            await client.releases(),
            await client.gpu_catalog(),
            await client.job_health(endpoint.health_url),
        )

    workers, releases, catalog, health = call(access, read)

    assert workers.endpoint_version == 2 and len(workers.workers) == 2
    assert workers.versions == (2, 1)
    assert sorted(w.outdated for w in workers.workers) == [False, True]
    for worker in workers.workers:
        assert worker.status == "IDLE" and worker.ready
        assert worker.gpu_type_id == "NVIDIA GeForce RTX 4090" and worker.gpu_count == 1
        assert worker.data_center_id == "US-KS-2"
        assert worker.uptime_s is not None and worker.started_at is not None
    assert workers.counts["IDLE"] == 2 and workers.summary["total"] == 2
    assert releases.rollout.in_progress and releases.rollout.workers_on_latest == 1
    assert [r.version for r in releases.releases] == [2, 1]
    assert releases.releases[0].changes[0].new == "runpod/sandbox-worker:1.1.0"
    prices = {gpu.id: gpu for gpu in catalog}
    rtx = prices["NVIDIA GeForce RTX 4090"]
    assert rtx.pool == "ADA_24" and rtx.serverless_per_second == pytest.approx(0.00031)
    assert health["jobs"]["inQueue"] == 0 and health["workers"]["idle"] == 2


def test_billing_reads_the_buckets_of_the_jobs_the_sandbox_ran(sandbox: Any) -> None:
    server = sandbox(endpoints=[EndpointSpec("ep")], workers=1)
    job = httpx.post(f"{server.base_url}/ep/runsync", json={"input": {}}, timeout=10).json()
    assert job["status"] == "COMPLETED"

    report = call(access_to(server), lambda c: c.billing(endpoint_id="ep", last_n=1))

    assert len(report.records) == 1 and report.records[0].endpoint_id == "ep"
    assert report.bucket_size == "day"
    # A 50 ms job is billed one second, rounded up: one GPU-second of a 4090.
    assert report.totals.total == pytest.approx(0.00031)
    assert report.total_for("ep") == pytest.approx(0.00031)


def test_an_unknown_endpoint_is_a_404_problem_in_words(sandbox: Any) -> None:
    server = sandbox()
    with pytest.raises(AccountError) as caught:
        call(access_to(server), lambda c: c.workers("nope"))
    error = caught.value
    assert error.status_code == 404 and error.title == "Not Found"
    assert str(error).startswith("The workers of endpoint nope was not found (Not Found, 404: ")
    assert "Endpoint nope was not found" in str(error)


def test_a_refused_key_says_what_to_do_and_never_shows_the_key(sandbox: Any) -> None:
    server = sandbox(api_key=KEY)
    wrong = "rpa_" + "wrong-key-of-the-test"
    with pytest.raises(AccountError) as caught:
        call(access_to(server, key=wrong), lambda c: c.endpoints())
    message = str(caught.value)
    assert caught.value.status_code == 401
    assert "refused the API key (Unauthorized, 401: invalid bearer token)" in message
    assert "RUNPOD_API_KEY" in message and wrong not in message and KEY not in message
    # The right key reads.
    assert call(access_to(server, key=KEY), lambda c: c.endpoints()) == []


def test_a_long_retry_after_is_not_waited_for_and_says_when(sandbox: Any) -> None:
    server = sandbox(rate_limits=True, management_quotas=(1, 3000, 50_000))
    waits: list[float] = []

    async def twice(client: ManagementClient) -> None:
        await client.endpoints()
        await client.endpoints()

    with pytest.raises(AccountError) as caught:
        call(access_to(server), twice, waits=waits)
    assert caught.value.status_code == 429 and waits == []
    assert caught.value.retry_after is not None and caught.value.retry_after > 30
    assert "rate limit was reached (Too Many Requests, 429: " in str(caught.value)
    assert f"Try again in {caught.value.retry_after:.0f} s" in str(caught.value)


# -- a tiny server for answers the sandbox does not give ---------------------------------------


class TinyServer:
    """An aiohttp server on its own thread answering from a list, one answer per request."""

    def __init__(self, answers: list[Callable[[], web.Response]]) -> None:
        self.answers = answers
        self.seen: list[dict[str, str]] = []
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        self.seen.append(dict(request.headers))
        return self.answers.pop(0)()

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/v2"
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> TinyServer:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()


def problem(status: int, detail: str, **extra: Any) -> Callable[[], web.Response]:
    headers = extra.pop("headers", None)
    body = {"title": extra.pop("title", "Error"), "status": status, "detail": detail, **extra}
    return lambda: web.json_response(
        body, status=status, headers=headers, content_type="application/problem+json"
    )


def endpoints(*ids: str) -> Callable[[], web.Response]:
    return lambda: web.json_response(
        {"endpoints": [{"id": i, "name": i, "workers": {"min": 0, "max": 1}} for i in ids]}
    )


def test_a_429_is_sent_again_after_its_retry_after() -> None:
    limited = problem(
        429,
        "rate limit exceeded for the minute window",
        title="Too Many Requests",
        headers={"Retry-After": "2"},
    )
    waits: list[float] = []
    with TinyServer([limited, endpoints("a1")]) as server:
        access = AccountAccess(server.url, KEY, "", "test")
        listed = call(access, lambda c: c.endpoints(), waits=waits)
    assert [e.id for e in listed] == ["a1"]
    assert len(server.seen) == 2 and len(waits) == 1 and waits[0] >= 2
    assert all(seen["Authorization"] == f"Bearer {KEY}" for seen in server.seen)


def test_5xx_is_tried_a_few_times_then_said_in_words() -> None:
    failing = problem(503, "upstream unavailable", title="Service Unavailable")
    waits: list[float] = []
    with TinyServer([failing] * 3) as server:
        access = AccountAccess(server.url, KEY, "", "test")
        with pytest.raises(AccountError) as caught:
            call(access, lambda c: c.endpoints(), waits=waits, retry=ManagementRetry(attempts=3))
    assert len(server.seen) == 3 and len(waits) == 2
    assert str(caught.value) == (
        "The management API failed to answer the list of endpoints (Service Unavailable, "
        "503: upstream unavailable), after 3 tries. Try again later."
    )


def test_a_5xx_then_success_reads() -> None:
    with TinyServer([problem(502, "bad gateway"), endpoints("a1", "b2")]) as server:
        listed = call(AccountAccess(server.url, KEY, "", "t"), lambda c: c.endpoints(), waits=[])
    assert [e.id for e in listed] == ["a1", "b2"]


def test_a_validation_problem_lists_its_errors() -> None:
    errors = ["$: additional properties 'bogus' not allowed", "$.lastN: >= 1"]
    invalid = problem(
        422, "Request validation failed.", title="Unprocessable Entity", errors=errors
    )
    with TinyServer([invalid]) as server, pytest.raises(AccountError) as caught:
        call(AccountAccess(server.url, KEY, "", "t"), lambda c: c.billing(last_n=1))
    assert caught.value.errors == tuple(errors)
    assert str(caught.value) == (
        "The management API refused the request for serverless billing (Unprocessable Entity, "
        "422: Request validation failed.; $: additional properties 'bogus' not allowed; "
        "$.lastN: >= 1)."
    )


def test_a_403_says_which_key_scope_reads_serverless() -> None:
    forbidden = problem(403, "access denied", title="Forbidden")
    with TinyServer([forbidden]) as server, pytest.raises(AccountError) as caught:
        call(AccountAccess(server.url, KEY, "ep", "t"), lambda c: c.workers())
    assert "has no access to the workers of endpoint ep (Forbidden, 403: access denied)" in str(
        caught.value
    )
    assert "Read Only" in str(caught.value)


def test_a_v1_message_body_and_a_page_that_is_not_json() -> None:
    v1 = lambda: web.json_response({"message": "Endpoint not found"}, status=404)  # noqa: E731
    html = lambda: web.Response(text="<html>hello</html>", content_type="text/html")  # noqa: E731
    with TinyServer([v1, html]) as server:
        access = AccountAccess(server.url, KEY, "ep", "t")
        with pytest.raises(AccountError) as not_found:
            call(access, lambda c: c.endpoint())
        with pytest.raises(AccountError) as not_json:
            call(access, lambda c: c.endpoints())
    assert str(not_found.value) == "Endpoint ep was not found (Not Found, 404: Endpoint not found)."
    assert "not a JSON object" in str(not_json.value) and "ends in /v2" in str(not_json.value)


def test_an_unreachable_host_is_said_in_words_after_a_few_tries() -> None:
    with TinyServer([]) as server:
        url = server.url  # the port is free once the server stops
    waits: list[float] = []
    with pytest.raises(AccountError) as caught:
        call(AccountAccess(url, KEY, "", "t"), lambda c: c.endpoints(), waits=waits)
    assert caught.value.status_code is None and len(waits) == 1
    assert str(caught.value).startswith(f"Could not reach the management API at {url}/serverless")
    assert KEY not in str(caught.value)
