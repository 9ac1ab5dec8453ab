"""The sandbox delivers to the listener end to end, as RunPod would, retries included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from gui.core.redact import REDACTED
from gui.sandbox import SandboxConfig, SandboxServer
from tests.support.listener_helpers import TOKEN, Served, run, serving
from tests.support.waiting import wait_until_async


async def submit(base_url: str, body: dict[str, Any]) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/sandbox-endpoint/run", json=body) as response,
    ):
        answer = await response.json()
        assert response.status == 200, answer
        job_id: str = answer["id"]
        return job_id


def test_a_sandbox_job_with_the_listeners_webhook_is_delivered_stored_and_applied(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        server = SandboxServer(SandboxConfig(default_duration_s=0.05))
        await server.start()
        try:
            async with serving(tmp_path) as served:
                body = {"input": {"prompt": "hello"}, "webhook": served.url}
                job_id = await submit(server.base_url, body)
                served.known_jobs[job_id] = "local-42"
                await served.wait_seen(1, timeout=10)
                delivery = served.seen[0]
                assert (delivery.job_id, delivery.status) == (job_id, "COMPLETED")
                assert delivery.matched_local_id == "local-42"
                assert delivery.payload["output"] == {"prompt": "hello"}
                # RunPod's delivery repeats the webhook URL: stored without its token.
                assert delivery.payload["webhook"] == served.url.replace(TOKEN, REDACTED)
                assert [p["id"] for p in served.applied] == [job_id]
                assert served.store.count() == 1
        finally:
            await server.stop()

    run(scenario())
    for path in tmp_path.glob("jobs.sqlite3*"):
        assert TOKEN.encode() not in path.read_bytes()


class FlakyFront:
    """A hop between the sandbox and the listener that forwards every try but answers the sender
    502 for the first ``failures`` ones: the listener got them, the sender never saw the 200 (a
    tunnel that dropped the answers), so RunPod's retry logic sends the same delivery again."""

    def __init__(self, target: str, failures: int) -> None:
        self.target = target
        self.failures = failures
        self.tries = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.tries += 1
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.target, data=body, headers={"Content-Type": "application/json"}) as r,
        ):
            await r.read()
            status = r.status
        return web.Response(status=502 if self.tries <= self.failures else status)

    async def __aenter__(self) -> FlakyFront:
        app = web.Application()
        app.router.add_post("/hook", self._forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site.port}/hook"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def test_a_receiver_failing_twice_gives_three_tries_stored_as_one_and_two_repeats(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        config = SandboxConfig(default_duration_s=0.05, webhook_retry_interval_s=0.05)
        server = SandboxServer(config)
        await server.start()
        try:
            served: Served
            async with serving(tmp_path) as served, FlakyFront(served.url, failures=2) as front:
                job_id = await submit(server.base_url, {"input": {"n": 1}, "webhook": front.url})
                served.known_jobs[job_id] = "local-7"
                await served.wait_seen(3, timeout=10)
                rows = sorted(served.store.list(), key=lambda d: d.id)
                assert [d.job_id for d in rows] == [job_id] * 3
                assert [d.repeat_of for d in rows] == [None, rows[0].id, rows[0].id]
                assert [p["id"] for p in served.applied] == [job_id]  # applied once
                assert served.store.get(rows[0].id).matched_local_id == "local-7"  # type: ignore[union-attr]
                # The sender is done after the third try (it got its 200): no fourth.
                await wait_until_async(lambda: server.routes.webhooks.pending == 0, timeout=5)
                assert front.tries == 3
                assert served.store.count() == 3
        finally:
            await server.stop()

    run(scenario())
