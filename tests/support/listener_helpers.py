"""The webhook listener's test helpers: a listener on a free loopback port (``serving``, in the
test's own loop, or ``ThreadedListener``, on a loop thread as the engine runs it) with what its
callback applied and its subscribers saw, and ways to send it deliveries (``post``, or raw bytes:
``head`` and ``read_until_closed``).

TOKEN is a made-up listener token (the listener's real one is a secret that never reaches a file).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from gui.core.webhooks.deliveries import Delivery, DeliveryStore
from gui.core.webhooks.listener import WebhookListener
from tests.support.waiting import wait_until_async

TOKEN = "tok-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
COMPLETED = {
    "id": "e4616554-495e-4e66-838b-c55f2ea7ecbc-e1",
    "status": "COMPLETED",
    "delayTime": 4736,
    "executionTime": 157,
    "input": {"prompt": "hi"},
    "output": {"results": [{"success": True}]},
    "webhook": "https://example.test/hook",
}


@dataclass
class Served:
    """A running listener, its store, and what its callback and subscriber saw."""

    listener: WebhookListener
    store: DeliveryStore
    known_jobs: dict[str, str]
    applied: list[dict[str, Any]] = field(default_factory=list)
    seen: list[Delivery] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.listener.url

    def base(self) -> str:
        return f"http://127.0.0.1:{self.listener.port}"

    async def wait_seen(self, count: int, timeout: float = 30.0) -> None:
        await wait_until_async(
            lambda: len(self.seen) >= count, f"{count} deliveries seen", timeout=timeout
        )


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path, known_jobs: dict[str, str] | None = None, **options: Any
) -> AsyncIterator[Served]:
    """A listener on a free loopback port whose callback maps job ids through ``known_jobs``."""
    store = DeliveryStore(tmp_path / "jobs.sqlite3")
    served = Served(listener=None, store=store, known_jobs=dict(known_jobs or {}))  # type: ignore[arg-type]

    async def on_delivery(payload: dict[str, Any]) -> str | None:
        served.applied.append(payload)
        job_id = payload.get("id")
        return (
            served.known_jobs.get(job_id) if isinstance(job_id, str) else served.known_jobs.get("")
        )

    options.setdefault("port", 0)
    listener = WebhookListener(store, TOKEN, on_delivery=on_delivery, **options)
    served.listener = listener
    listener.subscribe(served.seen.append)
    await listener.start()
    try:
        yield served
    finally:
        await listener.stop()
        store.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def post(
    url: str, body: Any = None, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        kwargs: dict[str, Any] = {"data": data} if data is not None else {"json": body}
        async with session.post(url, headers=headers, **kwargs) as response:
            text = await response.text()
            is_json = response.content_type == "application/json"
            return response.status, (await response.json()) if is_json else text


class ThreadedListener:
    """A WebhookListener on its own loop thread, recording what the tracker and subscribers got."""

    def __init__(self, path: Path) -> None:
        self.store = DeliveryStore(path)
        self.applied: list[dict[str, Any]] = []
        self.seen: dict[int, Delivery] = {}
        self._seen_changed = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.listener = WebhookListener(self.store, TOKEN, port=0, on_delivery=self._apply)
        self.listener.subscribe(self._on_delivery)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _apply(self, payload: dict[str, Any]) -> str | None:
        self.applied.append(payload)
        return "local-" + payload["id"] if isinstance(payload.get("id"), str) else None

    def _on_delivery(self, delivery: Delivery) -> None:
        with self._seen_changed:
            self.seen[delivery.id] = delivery
            self._seen_changed.notify_all()

    def wait_seen(self, delivery_id: int, timeout: float = 5.0) -> Delivery:
        with self._seen_changed:
            assert self._seen_changed.wait_for(lambda: delivery_id in self.seen, timeout)
            return self.seen[delivery_id]

    def __enter__(self) -> ThreadedListener:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.listener.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.listener.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
        self.store.close()


async def read_until_closed(reader: asyncio.StreamReader, timeout: float = 5.0) -> bytes:
    """Everything the listener sends until it closes the connection (fails if it never does)."""
    received = b""
    async with asyncio.timeout(timeout):
        while True:
            try:
                chunk = await reader.read(65536)
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk


def head(extra: str) -> bytes:
    return f"POST /webhook/{TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()
