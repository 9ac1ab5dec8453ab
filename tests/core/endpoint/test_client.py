"""EndpointClient against httpx.MockTransport: the edge cases a real server rarely produces."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest

from gui.core.endpoint.client import (
    EndpointClient,
    RetryPolicy,
)
from gui.core.errors import (
    AuthRefused,
    JobNotFound,
    OperationUnsupported,
    RequestRefused,
    ServerError,
    SubmissionUncertain,
    TransportError,
)
from gui.core.records import JobState
from gui.core.targets import Target

CLOUD = Target(name="prod", kind="cloud", base_url="https://api.example.test/v2", endpoint_id="ep1")
LOCAL = Target(name="dev", kind="local", base_url="http://localhost:8000")
FAST = RetryPolicy(attempts=4, base_delay_s=0.001, max_delay_s=0.01, total_s=5)

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(
    handler: Handler, target: Target = CLOUD, key: str | None = "k-123"
) -> EndpointClient:
    return EndpointClient(
        target, key_provider=lambda: key, retry=FAST, transport=httpx.MockTransport(handler)
    )


def call(client: EndpointClient, coro_factory: Callable[[EndpointClient], object]) -> object:
    async def main() -> object:
        try:
            return await coro_factory(client)  # type: ignore[misc]
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_run_sends_the_exact_bytes_with_a_bearer_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "abc-u1", "status": "IN_QUEUE", "extra": 1})

    status = call(make_client(handler), lambda c: c.run(b'{"input":{"a":1}}'))
    assert status.job_id == "abc-u1" and status.state == JobState.IN_QUEUE  # type: ignore[attr-defined]
    (request,) = seen
    assert str(request.url) == "https://api.example.test/v2/ep1/run"
    assert request.method == "POST"
    assert request.headers["authorization"] == "Bearer k-123"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b'{"input":{"a":1}}'


def test_status_tolerates_missing_and_unknown_keys_and_maps_running() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET" and request.url.path == "/v2/ep1/status/j1"
        return httpx.Response(200, json={"id": "j1", "status": "RUNNING", "gpu": "A100",
                                         "output": {"pct": 40}, "delayTime": 12.7})  # fmt: skip

    status = call(make_client(handler), lambda c: c.status("j1"))
    assert status.state == JobState.IN_PROGRESS  # type: ignore[attr-defined]
    assert status.output == {"pct": 40} and status.delay_time_ms == 12  # type: ignore[attr-defined]
    assert status.execution_time_ms is None and status.worker_id is None  # type: ignore[attr-defined]


def test_401_becomes_auth_refused_with_advice_and_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(401, json={"error": "Unauthorized"})

    with pytest.raises(AuthRefused) as info:
        call(make_client(handler), lambda c: c.run(b"{}"))
    assert "refused by RunPod (401)" in str(info.value) and "Profiles" in str(info.value)
    assert "k-123" not in str(info.value)
    assert len(calls) == 1


def test_404_for_a_job_is_job_not_found_but_for_the_endpoint_it_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="not found")

    with pytest.raises(JobNotFound):
        call(make_client(handler), lambda c: c.status("gone"))
    with pytest.raises(RequestRefused) as info:
        call(make_client(handler), lambda c: c.run(b"{}"))
    assert "endpoint id" in str(info.value)


def test_429_is_retried_after_retry_after() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "0.2"}), httpx.Response(
        200, json={"id": "j", "status": "IN_QUEUE"})]  # fmt: skip
    times: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        times.append(asyncio.get_running_loop().time())
        return answers.pop(0)

    status = call(make_client(handler), lambda c: c.run(b"{}"))
    assert status.job_id == "j"  # type: ignore[attr-defined]
    assert times[1] - times[0] >= 0.2


def test_5xx_is_retried_then_reported_as_server_error() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"error": "overloaded"})

    with pytest.raises(ServerError) as info:
        call(make_client(handler), lambda c: c.status("j"))
    assert len(calls) == FAST.attempts
    assert "overloaded" in str(info.value)


def test_a_dropped_run_is_never_sent_twice() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    with pytest.raises(SubmissionUncertain) as info:
        call(make_client(handler), lambda c: c.run(b"{}"))
    assert len(calls) == 1
    assert "may have queued it or not" in str(info.value)


def test_a_refused_connection_is_retried_even_for_run() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            raise httpx.ConnectError("Connection refused")
        return httpx.Response(200, json={"id": "j", "status": "IN_QUEUE"})

    assert call(make_client(handler), lambda c: c.run(b"{}")).job_id == "j"  # type: ignore[attr-defined]
    assert len(calls) == 3


def test_status_reads_are_retried_after_a_drop_then_give_up_as_transport_error() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadError("reset")

    with pytest.raises(TransportError) as info:
        call(make_client(handler), lambda c: c.status("j"))
    assert not isinstance(info.value, SubmissionUncertain)
    assert len(calls) == FAST.attempts


def test_a_failed_runsync_with_http_400_still_gives_the_job_status() -> None:
    error = json.dumps(
        {"error_type": "ValueError", "error_message": "bad", "error_traceback": "tb"}
    )

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["wait"] == "5000"
        return httpx.Response(400, json={"id": "sync-1", "status": "FAILED", "error": error})

    status = call(make_client(handler), lambda c: c.runsync(b"{}", 5000))
    assert status.state == JobState.FAILED and status.error == error  # type: ignore[attr-defined]


def test_other_4xx_bodies_are_parsed_into_the_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "input must be an object"})

    with pytest.raises(RequestRefused) as info:
        call(make_client(handler), lambda c: c.run(b"{}"))
    assert info.value.body == {"error": "input must be an object"}
    assert "input must be an object" in str(info.value)


def test_local_worker_routes_post_for_status_and_no_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/run":
            return httpx.Response(200, json={"id": "test-1", "status": "IN_PROGRESS"})
        if len(seen) == 2:
            return httpx.Response(200, json={"id": "test-1", "status": "COMPLETED", "output": 7})
        return httpx.Response(200, json={"status": "FAILED", "error": "Job ID not found"})

    client = make_client(handler, LOCAL)

    async def scenario() -> None:
        try:
            assert (await client.run(b"{}")).job_id == "test-1"
            assert (await client.status("test-1")).output == 7
            with pytest.raises(JobNotFound):
                await client.status("test-1")
            with pytest.raises(OperationUnsupported):
                await client.health()
            with pytest.raises(OperationUnsupported):
                await client.cancel("test-1")
        finally:
            await client.aclose()

    asyncio.run(scenario())
    assert [r.url.path for r in seen] == ["/run", "/status/test-1", "/status/test-1"]
    assert all(r.method == "POST" for r in seen)
    assert all("authorization" not in r.headers for r in seen)


def test_health_and_purge_return_the_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/health"):
            return httpx.Response(200, json={"jobs": {"inQueue": 2}, "workers": {"unhealthy": 1}})
        return httpx.Response(200, json={"removed": 2, "status": "completed"})

    assert call(make_client(handler), lambda c: c.health())["workers"] == {"unhealthy": 1}  # type: ignore[index]
    assert call(make_client(handler), lambda c: c.purge_queue())["removed"] == 2  # type: ignore[index]


def test_answers_tolerate_odd_shapes() -> None:
    from gui.core.endpoint.answers import JobStatus, parse_retry_after

    status = JobStatus.from_payload({"status": "IN_PROGRESS", "stream": [{"output": "a"}, "b"],
                                     "error": {"not": "a string"}, "workerId": 5})  # fmt: skip
    assert status.job_id is None and status.stream == ("a", "b")
    assert status.error == '{"not": "a string"}' and status.worker_id is None
    assert not status.has_output and JobStatus.from_payload({"output": None}).has_output
    assert parse_retry_after("2.5") == 2.5 and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past


@pytest.mark.parametrize("code", [503, 522])
def test_a_run_answered_by_a_5xx_that_queued_nothing_is_sent_again(code: int) -> None:
    """503 (the server declined the request) and Cloudflare's 52x for an unreachable origin:
    no job can exist, so the submission is retried and the job queued once."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(code, json={"error": "busy"})
        return httpx.Response(200, json={"id": "j", "status": "IN_QUEUE"})

    assert call(make_client(handler), lambda c: c.run(b"{}")).job_id == "j"  # type: ignore[attr-defined]
    assert len(calls) == 3


@pytest.mark.parametrize("code", [500, 502, 504])
@pytest.mark.parametrize("operation", ["run", "runsync"])
def test_a_submission_answered_by_a_5xx_that_may_follow_acceptance_is_not_sent_again(
    code: int, operation: str
) -> None:
    """500, 502, 504: the job may already be queued (a gateway lost RunPod's answer); sending
    it again could run it twice, so it is sent once and reported as uncertain."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(code, text="<html>Bad Gateway</html>")

    with pytest.raises(SubmissionUncertain) as info:
        call(make_client(handler), lambda c: getattr(c, operation)(b"{}"))
    assert len(calls) == 1
    assert f"({code})" in str(info.value) and "not sent again" in str(info.value)


def test_a_status_read_answered_by_a_502_is_retried() -> None:
    answers = [httpx.Response(502, text="Bad Gateway"), httpx.Response(
        200, json={"id": "j", "status": "IN_PROGRESS"})]  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    status = call(make_client(handler), lambda c: c.status("j"))
    assert status.state == JobState.IN_PROGRESS  # type: ignore[attr-defined]
