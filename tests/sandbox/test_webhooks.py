"""Webhooks as the cloud sends them (RUNPOD_API.md §5): the final payload, retried until a 200."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from gui.core.limits import WEBHOOK_TRIES
from gui.sandbox import SandboxConfig, SandboxServer
from tests.support.waiting import wait_until_async


class Receiver:
    """A webhook receiver on loopback answering a scripted series of statuses (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.deliveries: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.sandbox: SandboxServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.deliveries.append(await request.json())
        self.arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok")

    async def until(self, count: int, timeout: float = 5.0) -> None:
        async def reached() -> None:
            while len(self.deliveries) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(reached(), timeout)

    async def until_sender_idle(self) -> None:
        """Until the sandbox has no delivery left to try (each got its 200 or its last try)."""
        assert self.sandbox is not None
        webhooks = self.sandbox.routes.webhooks
        await wait_until_async(lambda: webhooks.pending == 0, "the sandbox's deliveries ended")


@asynccontextmanager
async def serving(statuses: list[int], **fields: Any) -> AsyncIterator[tuple[str, Receiver, str]]:
    """A sandbox (50 ms retry spacing) and a receiver; yields (endpoint URL, receiver, hook URL)."""
    receiver = Receiver(statuses)
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fields.setdefault("default_duration_s", 0.01)
    fields.setdefault("webhook_retry_interval_s", 0.05)
    server = SandboxServer(SandboxConfig(**fields))
    receiver.sandbox = server
    await server.start()
    try:
        yield f"{server.base_url}/ep", receiver, f"http://127.0.0.1:{port}/hook"
    finally:
        await server.stop()
        await runner.cleanup()


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with session.post(url, json=body) as answer:
        result: dict[str, Any] = await answer.json()
        return result


def test_receiver_answering_500_twice_gets_exactly_three_deliveries() -> None:
    async def scenario() -> None:
        async with serving([500, 500, 200]) as (base, receiver, hook), aiohttp.ClientSession() as s:
            body = {"input": {"prompt": "hi"}, "webhook": hook, "extra": 1, "s3Config": {}}
            job = await _post(s, f"{base}/run", body)
            await receiver.until(3)
            await receiver.until_sender_idle()  # no fourth try is left to come
            assert len(receiver.deliveries) == WEBHOOK_TRIES == 3
            for delivery in receiver.deliveries:
                assert set(delivery) == {
                    "id", "status", "delayTime", "executionTime", "workerId", "output", "input",
                    "webhook",
                }  # fmt: skip
                assert delivery["id"] == job["id"] and delivery["status"] == "COMPLETED"
                assert delivery["input"] == {"prompt": "hi"} and delivery["webhook"] == hook
                assert delivery["output"] == {"prompt": "hi"}

    asyncio.run(scenario())


def test_receiver_that_always_fails_gets_three_tries_and_the_queue_goes_on() -> None:
    async def scenario() -> None:
        async with serving([500] * 10) as (base, receiver, hook), aiohttp.ClientSession() as s:
            await _post(s, f"{base}/run", {"input": {}, "webhook": hook})
            later = await _post(s, f"{base}/runsync", {"input": {"after": 1}})
            assert later["status"] == "COMPLETED"
            await receiver.until(3)
            await receiver.until_sender_idle()
            assert len(receiver.deliveries) == 3

    asyncio.run(scenario())


def test_unreachable_webhook_does_not_disturb_the_job() -> None:
    async def scenario() -> None:
        async with serving([]) as (base, _, _hook), aiohttp.ClientSession() as s:
            body = {"input": {"x": 1}, "webhook": "http://127.0.0.1:9/nothing-listens"}
            answer = await _post(s, f"{base}/runsync", body)
            assert answer["status"] == "COMPLETED"

    asyncio.run(scenario())


def test_failed_and_timed_out_jobs_are_delivered_cancelled_are_not() -> None:
    async def scenario() -> None:
        async with serving([]) as (base, receiver, hook), aiohttp.ClientSession() as s:
            failing = {"input": {"sandbox": {"fail": "no"}}, "webhook": hook}
            slow = {"input": {"sandbox": {"duration": 9}}, "webhook": hook}
            timing_out = {**slow, "policy": {"executionTimeout": 50}}
            cancelled = await _post(s, f"{base}/run", slow)
            await _post(s, f"{base}/cancel/{cancelled['id']}", {})
            await _post(s, f"{base}/run", failing)
            await _post(s, f"{base}/run", timing_out)
            await receiver.until(2)
            await receiver.until_sender_idle()  # the cancelled job's delivery would be one of them
            by_status = {d["status"]: d for d in receiver.deliveries}
            assert set(by_status) == {"FAILED", "TIMED_OUT"}
            assert json.loads(by_status["FAILED"]["error"])["error_message"] == "no"

    asyncio.run(scenario())


def test_stop_cancels_pending_deliveries() -> None:
    async def scenario() -> None:
        receiver_statuses = [500] * 10
        async with (
            serving(receiver_statuses, webhook_retry_interval_s=60) as (
                base,
                receiver,
                hook,
            ),
            aiohttp.ClientSession() as s,
        ):
            await _post(s, f"{base}/run", {"input": {}, "webhook": hook})
            await receiver.until(1)
        # Leaving the block stopped the server while a retry was 60 s away: no task may be left.
        assert len(receiver.deliveries) == 1
        current = asyncio.current_task()
        assert [t for t in asyncio.all_tasks() if t is not current] == []

    asyncio.run(scenario())
