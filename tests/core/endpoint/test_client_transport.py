"""The aiohttp-backed transport over real loopback sockets: answers, drops, refusals, timeouts."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
from collections.abc import Awaitable, Callable

import httpx
import pytest
from aiohttp import web

from gui.core.endpoint.client import EndpointClient, RetryPolicy
from gui.core.endpoint.transport import AiohttpTransport
from gui.core.errors import SubmissionUncertain, TransportError
from gui.core.targets import Target

FAST = RetryPolicy(attempts=3, unreachable_attempts=3, base_delay_s=0.01, total_s=5)


async def serve(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.AppRunner:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def port_of(runner: web.AppRunner) -> int:
    server = runner.addresses[0]
    return int(server[1])


def test_answers_keep_status_headers_and_gzip_bodies() -> None:
    async def handler(request: web.Request) -> web.Response:
        answer = {"id": "j", "status": "IN_QUEUE", "auth": request.headers.get("authorization")}
        headers = {"content-encoding": "gzip", "content-type": "application/json"}
        return web.Response(body=gzip.compress(json.dumps(answer).encode()), headers=headers)

    async def main() -> None:
        runner = await serve(handler)
        base = f"http://127.0.0.1:{port_of(runner)}/v2"
        client = EndpointClient(Target("t", "cloud", base, "ep"), key_provider=lambda: "k")
        try:
            status = await client.run(b'{"input":{}}')
            assert status.job_id == "j" and status.payload["auth"] == "Bearer k"
        finally:
            await client.aclose()
            await runner.cleanup()

    asyncio.run(main())


@pytest.mark.parametrize("how", ["closed", "reset"])
def test_a_dropped_run_is_uncertain_and_sent_once_but_status_is_retried(how: str) -> None:
    """The connection breaks after the body left: closed, or reset (RST). A transport that calls
    either "not sent" (httpx-aiohttp 0.2.0 raises ConnectTimeout for both) would send the job again,
    and it would run twice."""
    hits: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        await request.read()
        assert request.transport is not None
        if how == "reset":
            sock = request.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        request.transport.close()  # drop the connection without an answer
        return web.Response()

    async def main() -> None:
        runner = await serve(handler)
        base = f"http://127.0.0.1:{port_of(runner)}/v2"
        client = EndpointClient(Target("t", "cloud", base, "ep"), retry=FAST)
        try:
            with pytest.raises(SubmissionUncertain):
                await client.run(b"{}")
            assert hits == ["/v2/ep/run"]
            with pytest.raises(TransportError):
                await client.status("j")
            # aiohttp itself also tries an idempotent GET once more on a dropped connection.
            assert hits.count("/v2/ep/status/j") >= FAST.attempts
        finally:
            await client.aclose()
            await runner.cleanup()

    asyncio.run(main())


def test_refused_connections_and_read_timeouts_map_to_httpx_errors() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.6)
        return web.Response(text="{}")

    async def main() -> None:
        transport = AiohttpTransport()
        async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(0.2)) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{closed_port}/")
            runner = await serve(slow)
            try:
                with pytest.raises(httpx.ReadTimeout):
                    await http.get(f"http://127.0.0.1:{port_of(runner)}/")
            finally:
                await runner.cleanup()

    asyncio.run(main())


def test_a_request_cancelled_halfway_through_its_answer_gives_its_connection_back() -> None:
    """The engine cancels requests in flight (closing, removing a job): with one connection, the
    next request must still get it."""
    started, finish = asyncio.Event(), asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/fast":
            return web.Response(text="{}")
        answer = web.StreamResponse(headers={"content-length": "20"})
        await answer.prepare(request)
        await answer.write(b"x" * 10)
        started.set()
        await finish.wait()  # the client goes away first
        return answer

    async def main() -> None:
        runner = await serve(handler)
        base = f"http://127.0.0.1:{port_of(runner)}"
        transport = AiohttpTransport(max_connections=1)
        timeout = {"timeout": httpx.Timeout(5.0, pool=1.0).as_dict()}

        async def fetch(path: str) -> httpx.Response:
            request = httpx.Request("GET", base + path, extensions=timeout)
            response = await transport.handle_async_request(request)
            await response.aread()
            return response

        try:
            slow = asyncio.create_task(fetch("/slow"))
            await started.wait()
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert (await fetch("/fast")).json() == {}
        finally:
            finish.set()
            await transport.aclose()
            await runner.cleanup()

    asyncio.run(main())


def test_proxies_come_from_the_environment_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", "internal.test")
    transport = AiohttpTransport()
    assert transport._proxy_for(httpx.URL("https://api.runpod.ai/v2")) == "http://proxy.test:3128"
    assert transport._proxy_for(httpx.URL("https://internal.test/v2")) is None
    assert transport._proxy_for(httpx.URL("http://plain.test/v2")) is None  # no HTTP_PROXY
