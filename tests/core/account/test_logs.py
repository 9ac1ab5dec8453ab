"""One worker's log as Server-Sent Events (gui.core.account.logs): every line form RUNPOD_API.md
gives, read from a real sandbox over loopback, resumed after a dropped connection."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gui.core.account.access import AccountAccess
from gui.core.account.logs import LogBackoff, LogLine, WorkerLogStream, parse_event, parse_line
from gui.core.errors import AuthRefused
from gui.core.redact import REDACTED
from gui.sandbox import SandboxConfig, SandboxThread
from tests.support.sandbox_helpers import wait_status

# Built from two parts so the repository holds no key-shaped literal for secret scanners.
FAKE_KEY = "rpa_" + "A1B2C3D4E5F6G7H8J9K0" * 2


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"requestId": "a1-u1", "message": "Started.", "level": "INFO"}',
         ("INFO", "Started.", "a1-u1")),
        ('{"requestId": null, "message": "--- Starting Serverless Worker ---", "level": "INFO"}',
         ("INFO", "--- Starting Serverless Worker ---", None)),
        ('{"request_id": "b2", "message": "snake", "level": "warn"}', ("WARN", "snake", "b2")),
        ("INFO   | a1b2c3 | Started.", ("INFO", "Started.", "a1b2c3")),
        ("ERROR  | plain message", ("ERROR", "plain message", None)),
        ("2026-06-01 - INFO - [Request: job-7] - loading", ("", "2026-06-01 - INFO - "
                                                           "[Request: job-7] - loading", "job-7")),
        ("print from a handler", ("", "print from a handler", None)),
        ('{"not": "sdk"}', ("", '{"not": "sdk"}', None)),
    ],
)  # fmt: skip
def test_every_line_form_is_read(line: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_line(line) == expected


def test_an_event_that_is_not_json_is_its_own_line_and_keys_are_redacted() -> None:
    event = parse_event("7", f"raw text with {FAKE_KEY} and my-secret-value", ("my-secret-value",))
    sdk = parse_event(
        "2026-06-01T12:05:04Z/000000000042",
        json.dumps({"ts": "2026-06-01T12:05:04Z", "source": "container",
                    "line": json.dumps({"requestId": "j1", "message": f"key={FAKE_KEY}",
                                        "level": "DEBUG"})}),
    )  # fmt: skip

    assert event == LogLine("", "", f"raw text with {REDACTED} and {REDACTED}", None, "7")
    assert sdk == LogLine(
        "2026-06-01T12:05:04Z", "DEBUG", f"key={REDACTED}", "j1",
        "2026-06-01T12:05:04Z/000000000042", "container",
    )  # fmt: skip


# -- against the sandbox ---------------------------------------------------------------------------


def run_job(sandbox: SandboxThread, job_input: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=f"{sandbox.base_url}/ep", timeout=10) as client:
        job_id = client.post("/run", json={"input": job_input}).json()["id"]
        return wait_status(client, job_id, "COMPLETED", "FAILED")


def access_for(sandbox: SandboxThread, key: str = "") -> AccountAccess:
    return AccountAccess(sandbox.base_url, key, "ep")


async def read(stream: WorkerLogStream, count: int, client: httpx.AsyncClient) -> list[LogLine]:
    lines: list[LogLine] = []
    async with asyncio.timeout(20), contextlib.aclosing(stream.lines()) as reading:
        async for line in reading:
            lines.append(line)
            if len(lines) == count:
                break
    return lines


class Dropping(httpx.AsyncBaseTransport):
    """The real transport, but each log stream breaks (a read error) after ``cut`` bytes: a
    dropped connection as the client sees it, in the middle of an event."""

    def __init__(self, cut: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._cut = cut
        self.connections = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not request.url.path.endswith("/logs"):
            return response
        self.connections += 1
        return httpx.Response(
            response.status_code, headers=response.headers, stream=_Cut(response, self._cut)
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Cut(httpx.AsyncByteStream):
    def __init__(self, response: httpx.Response, cut: int) -> None:
        self._response, self._cut = response, cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._response.aiter_raw():
            room = self._cut - sent
            if len(chunk) >= room:
                yield chunk[:room]
                raise httpx.ReadError("connection dropped (test)")
            sent += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


def test_a_workers_lines_are_read_tagged_with_the_job() -> None:
    with SandboxThread(SandboxConfig(workers=1, default_duration_s=0.05)) as sandbox:
        done = run_job(sandbox, {"sandbox": {"log": ["one", "two"], "duration": 0.2}})

        async def main() -> list[LogLine]:
            async with httpx.AsyncClient() as client:
                stream = WorkerLogStream(client, access_for(sandbox), done["workerId"])
                return await read(stream, 6, client)

        lines = asyncio.run(main())

    tagged = [line.message for line in lines if line.request_id == done["id"]]
    assert tagged[:3] == ["Started.", "one", "two"]
    assert (lines[0].source, lines[0].message) == ("system", "start container")
    assert lines[1].request_id is None and "Starting Serverless Worker" in lines[1].message
    assert any(line.request_id is None and "working for" in line.message for line in lines)
    assert all(line.event_id and line.time for line in lines)


def test_a_dropped_stream_resumes_with_last_event_id_and_loses_or_doubles_nothing() -> None:
    config = SandboxConfig(workers=1, default_duration_s=0.05)
    with SandboxThread(config) as sandbox:
        done = run_job(sandbox, {"sandbox": {"log": 40, "duration": 0.2}})
        worker = done["workerId"]
        log = sandbox.server.routes.endpoints["ep"].worker(worker).log  # type: ignore[union-attr]
        expected = [entry.event_id for entry in log.entries()]
        pauses: list[float] = []

        async def sleep(seconds: float) -> None:
            pauses.append(seconds)

        async def main() -> tuple[list[LogLine], int]:
            transport = Dropping(cut=700)
            async with httpx.AsyncClient(transport=transport) as client:
                stream = WorkerLogStream(
                    client, access_for(sandbox), worker, backoff=LogBackoff(0.01, 0.05), sleep=sleep
                )
                lines = await read(stream, len(expected), client)
                return lines, transport.connections

        lines, connections = asyncio.run(main())

    assert [line.event_id for line in lines] == expected
    assert connections > 3
    assert pauses and max(pauses) <= 0.05


def test_a_gone_worker_ends_the_stream_and_a_refused_key_says_so() -> None:
    with SandboxThread(SandboxConfig(workers=1, api_key="sandbox-key")) as sandbox:
        with httpx.Client(base_url=f"{sandbox.base_url}/ep", timeout=10) as client:
            client.get("/health", headers={"Authorization": "Bearer sandbox-key"})

        async def main() -> list[LogLine]:
            async with httpx.AsyncClient() as client:
                gone = WorkerLogStream(client, access_for(sandbox, "sandbox-key"), "nosuchworker")
                lines = [line async for line in gone.lines()]
                refused = WorkerLogStream(client, access_for(sandbox, "wrong-key"), "any")
                with pytest.raises(AuthRefused, match="refused the key"):
                    await anext(refused.lines())
                return lines

        assert asyncio.run(main()) == []
