"""Replaying a stored delivery: its payload POSTed to a URL the person gives, as RunPod would send
it, to test their own receiver. Runs on the engine's loop with its HTTP client
(``Engine.replay_delivery``): the window never waits on the network."""

from __future__ import annotations

import time

import httpx

from gui.core.errors import ConsoleError

__all__ = ["replay_delivery"]


async def replay_delivery(
    client: httpx.AsyncClient, url: str, raw: str, *, timeout_s: float = 10.0
) -> str:
    """POST ``raw`` (a stored payload) to ``url``; a line saying what came back. Raises
    ``ConsoleError`` when no answer came."""
    started = time.perf_counter()
    try:
        response = await client.post(
            url,
            content=raw.encode("utf-8", "surrogatepass"),
            headers={"Content-Type": "application/json"},
            timeout=timeout_s,
        )
    except httpx.HTTPError as exc:
        raise ConsoleError(
            f"No answer from {url} ({type(exc).__name__}). Check that the receiver is running "
            "and the URL is right."
        ) from None
    elapsed_ms = (time.perf_counter() - started) * 1000
    return f"Replayed to {url}: HTTP {response.status_code} in {elapsed_ms:.0f} ms"
