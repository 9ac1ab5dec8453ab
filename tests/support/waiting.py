"""Waiting for something another thread or process does: poll a condition until it holds.

There is one ``wait_until`` for plain threads (and one ``wait_until_async`` for a test's own
asyncio loop, which must yield to the loop between polls). A timeout only bounds how long a broken
test hangs; no test asserts anything about how long a wait took (machines are shared and noisy).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

INTERVAL_S = 0.02


def wait_until(
    condition: Callable[[], T | None], what: str = "the condition", *, timeout: float = 30.0
) -> T:
    """Poll ``condition`` until it returns something truthy and return that; fail the test with
    ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {timeout} s: {what} (last: {value!r})")
        time.sleep(INTERVAL_S)


async def wait_until_async(
    condition: Callable[[], T | None], what: str = "the condition", *, timeout: float = 30.0
) -> T:
    """``wait_until`` inside a coroutine: the loop runs (the listener serves) between polls."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {timeout} s: {what} (last: {value!r})")
        await asyncio.sleep(0.005)
