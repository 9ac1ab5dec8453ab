"""Hostile requests get a plain status and change nothing: nothing stored, nothing applied.

Oversized and stalled bodies are sent over raw sockets, so the test controls exactly which bytes
reach the listener and can see the connection close before the body was sent.
"""

from __future__ import annotations

import asyncio
import io
import socket
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gui.core.webhooks.deliveries import DeliveryStore
from gui.core.webhooks.listener import WebhookListener
from tests.support.listener_helpers import (
    COMPLETED,
    TOKEN,
    Served,
    head,
    read_until_closed,
    run,
    serving,
)
from tests.support.waiting import wait_until_async


def assert_unchanged(served: Served) -> None:
    assert served.store.count() == 0
    assert served.applied == []
    assert served.seen == []
    assert served.listener.received == 0


async def request(
    served: Served, method: str, path: str, data: bytes = b"", headers: dict[str, str] | None = None
) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method, served.base() + path, data=_payload(data), headers=headers
        ) as response,
    ):
        await response.read()
        return response.status


def _payload(data: bytes) -> bytes | io.BytesIO:
    # aiohttp warns that large raw bytes would block its loop; a file-like body is streamed.
    return io.BytesIO(data) if len(data) > 1_000_000 else data


WRONG_PATHS = [
    "/",
    "/webhook",
    "/webhook/",
    f"/webhook/{TOKEN}x",
    f"/webhook/{TOKEN[:-1]}",
    f"/webhook/{TOKEN}/",
    f"/webhook/{TOKEN.lower()}",
    f"/other/{TOKEN}",
    f"/webhook/{TOKEN} ",
]


@pytest.mark.parametrize("path", WRONG_PATHS)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_a_wrong_or_missing_token_is_404(tmp_path: Path, path: str, method: str) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            body = b'{"id": "x", "status": "COMPLETED"}'
            assert await request(served, method, path, body) == 404
            assert_unchanged(served)

    run(scenario())


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_another_method_is_405(tmp_path: Path, method: str) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            body = b'{"id": "x", "status": "COMPLETED"}'
            assert await request(served, method, f"/webhook/{TOKEN}", body) == 405
            assert_unchanged(served)

    run(scenario())


NOT_A_DELIVERY = {
    "empty": b"",
    "text": b"hello",
    "truncated": b'{"id": "x", "status": ',
    "array": b'[{"id": "x"}]',
    "string": b'"x"',
    "number": b"42",
    "null": b"null",
    "nan": b'{"id": "x", "delayTime": NaN}',
    "infinity": b'{"id": "x", "delayTime": Infinity}',
    "huge-int": b'{"id": "x", "n": ' + b"9" * 5000 + b"}",
    "bad-utf8": b'{"id": "\xff\xfe"}',
    "deep": b"[" * 200_000 + b"]" * 200_000,
    "deep-object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "two-values": b'{"id": "x"} {"id": "y"}',
}


@pytest.mark.parametrize("body", NOT_A_DELIVERY.values(), ids=NOT_A_DELIVERY.keys())
def test_a_body_that_is_not_a_json_object_is_400(tmp_path: Path, body: bytes) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            headers = {"Content-Type": "application/json"}
            assert await request(served, "POST", f"/webhook/{TOKEN}", body, headers) == 400
            assert_unchanged(served)

    run(scenario())


# -- raw sockets ----------------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_413_and_closed_before_any_body(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:  # the real limit: 25 MB
            reader, writer = await asyncio.open_connection("127.0.0.1", served.listener.port)
            writer.write(head(f"Content-Length: {25 * 1024 * 1024 + 1}\r\n"))
            await writer.drain()
            # Not one byte of body sent: the answer and the close come from the header alone.
            answer = await read_until_closed(reader)
            assert answer.startswith(b"HTTP/1.1 413")
            writer.close()
            assert_unchanged(served)

    run(scenario())


def test_a_streamed_body_over_the_limit_is_413_and_closed_midway(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, max_body_bytes=4096) as served:
            reader, writer = await asyncio.open_connection("127.0.0.1", served.listener.port)
            writer.write(head("Transfer-Encoding: chunked\r\n"))
            chunk = b"x" * 1024
            for _ in range(6):  # 6 KB, over the 4 KB limit; the stream is never terminated
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            answer = await read_until_closed(reader)
            assert answer.startswith(b"HTTP/1.1 413")
            writer.close()
            assert_unchanged(served)

    run(scenario())


def test_a_large_body_within_the_limit_is_accepted(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, max_body_bytes=2 * 1024 * 1024) as served:
            payload = {**COMPLETED, "output": "y" * (2 * 1024 * 1024 - 1000)}
            assert await request(served, "POST", f"/webhook/{TOKEN}", _json(payload)) == 200
            assert served.store.count() == 1

    run(scenario())


def test_a_sender_stalled_in_its_headers_is_cut_off(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, read_timeout_s=0.3) as served:
            reader, writer = await asyncio.open_connection("127.0.0.1", served.listener.port)
            writer.write(f"POST /webhook/{TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
            await writer.drain()
            started = time.monotonic()
            assert await read_until_closed(reader, timeout=5.0) == b""
            assert time.monotonic() - started < 4.0
            writer.close()
            assert_unchanged(served)

    run(scenario())


def test_a_sender_stalled_in_its_body_gets_408_and_is_cut_off(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, read_timeout_s=0.3) as served:
            reader, writer = await asyncio.open_connection("127.0.0.1", served.listener.port)
            writer.write(head("Content-Length: 100\r\n") + b'{"id": "x", ')
            await writer.drain()
            answer = await read_until_closed(reader)
            assert answer.startswith(b"HTTP/1.1 408")
            writer.close()
            assert_unchanged(served)

    run(scenario())


def test_a_trickling_sender_is_cut_off_at_the_body_deadline(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, read_timeout_s=0.5, body_deadline_s=0.6) as served:
            reader, writer = await asyncio.open_connection("127.0.0.1", served.listener.port)
            body = _json({**COMPLETED, "pad": "z" * 200})
            writer.write(head(f"Content-Length: {len(body)}\r\n"))

            async def trickle() -> None:
                # One byte every 20 ms keeps each read under read_timeout_s: only the deadline
                # can stop it (the whole body would take about 5 s).
                for byte in body:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(0.02)

            sender = asyncio.create_task(trickle())
            started = time.monotonic()
            answer = await read_until_closed(reader)
            assert time.monotonic() - started < 3.0
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            assert answer.startswith(b"HTTP/1.1 408")
            writer.close()
            assert_unchanged(served)

    run(scenario())


def test_a_sender_that_leaves_midway_stores_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            reader, writer = await asyncio.open_connection("127.0.0.1", served.listener.port)
            writer.write(head("Content-Length: 500\r\n") + b'{"id": "x", "status": "COMPLETED"}')
            await writer.drain()
            writer.write_eof()  # half-close: the promised 500 bytes never come
            await read_until_closed(reader)
            writer.close()
            # The server side has finished with the dead request once its connection is gone.
            await wait_until_async(lambda: served.listener.connections == 0, "connection closed")
            assert_unchanged(served)

    run(scenario())


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


# -- reachability ---------------------------------------------------------------------------


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback, or None (nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP connect only picks a route and a source address
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def can_connect(host: str, port: int) -> bool:
    try:
        async with asyncio.timeout(2.0):
            _reader, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


def test_by_default_it_is_not_reachable_on_another_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")

    async def scenario() -> None:
        store = DeliveryStore(tmp_path / "jobs.sqlite3")
        quiet = WebhookListener(store, TOKEN, port=0)
        async with quiet:
            assert not quiet.exposed
            assert await can_connect("127.0.0.1", quiet.port)
            assert not await can_connect(address, quiet.port)
        # Control: bound to every interface on purpose, the same address reaches it.
        exposed = WebhookListener(store, TOKEN, host="0.0.0.0", port=0)
        async with exposed:
            assert exposed.exposed
            assert await can_connect(address, exposed.port)
        store.close()

    run(scenario())
    assert "not to loopback" in caplog.text
    assert TOKEN not in caplog.text
