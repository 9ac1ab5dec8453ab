"""Webhook deliveries as RunPod makes them: POST the final payload, retry on anything but 200."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from gui.core.limits import WEBHOOK_TRIES

__all__ = ["WebhookSender"]

log = logging.getLogger(__name__)


class WebhookSender:
    """Sends deliveries in the background; a failing receiver never disturbs the queue.

    Each delivery is tried up to ``WEBHOOK_TRIES`` times, ``retry_interval_s`` apart, until the
    receiver answers 200 (RUNPOD_API.md §5). ``close()`` cancels what is still pending.
    """

    def __init__(self, retry_interval_s: float, timeout_s: float = 10.0) -> None:
        self._retry_interval_s = retry_interval_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, url: str, payload: dict[str, Any]) -> None:
        """Start delivering ``payload`` to ``url``; returns at once."""
        task = asyncio.get_running_loop().create_task(self._deliver(url, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def _deliver(self, url: str, payload: dict[str, Any]) -> None:
        for attempt in range(1, WEBHOOK_TRIES + 1):
            if await self._try_once(url, payload):
                return
            if attempt < WEBHOOK_TRIES:
                await asyncio.sleep(self._retry_interval_s)
        log.info("webhook for job %s gave up after %d tries", payload.get("id"), WEBHOOK_TRIES)

    async def _try_once(self, url: str, payload: dict[str, Any]) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(url, json=payload) as response:
                await response.read()
                return response.status == 200
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.info("webhook for job %s failed: %s", payload.get("id"), type(exc).__name__)
            return False

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
