"""Injected faults: 429s, 5xx answers (before or after handling), dropped connections and latency,
each a share of requests."""

from __future__ import annotations

import asyncio
import math
import random

from aiohttp import web

from gui.sandbox.config import FaultConfig

__all__ = ["FaultInjector"]


class FaultInjector:
    """Decides, per request, whether to delay it and whether to spoil it (and how)."""

    def __init__(self, config: FaultConfig, rng: random.Random | None = None) -> None:
        self._config = config
        self._rng = rng or random.Random()

    async def apply(self, request: web.Request) -> web.StreamResponse | None:
        """Delay as configured; return a spoiled answer, or ``None`` to let the request through.

        A dropped connection is closed here, and the returned response is never delivered.
        """
        low, high = self._config.latency_ms
        if high > 0:
            await asyncio.sleep(self._rng.uniform(low, high) / 1000)
        roll = self._rng.random()
        config = self._config
        if roll < config.share_drop:
            return _drop(request)
        roll -= config.share_drop
        if roll < config.share_429:
            retry_after = str(max(0, math.ceil(config.retry_after_s)))
            return web.json_response(
                {"error": "Too many requests (sandbox fault injection). Retry later."},
                status=429,
                headers={"Retry-After": retry_after},
            )
        roll -= config.share_429
        if roll < config.share_5xx:
            status = self._rng.choice(config.codes_5xx)
            return web.json_response(
                {"error": f"Injected server error {status} (sandbox fault injection)."},
                status=status,
            )
        return None

    def answer_lost(self) -> web.Response | None:
        """For a request already handled: a gateway's 502 page in place of its answer, or
        ``None`` to deliver the answer."""
        if self._rng.random() >= self._config.share_answer_lost:
            return None
        return web.Response(
            status=502,
            text="<html><body><h1>502 Bad Gateway</h1>(sandbox fault injection: the answer "
            "was lost after the request was handled)</body></html>",
            content_type="text/html",
        )


def _drop(request: web.Request) -> web.StreamResponse:
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp wants a response; it cannot reach the client over the aborted transport.
    return web.Response(status=500)
