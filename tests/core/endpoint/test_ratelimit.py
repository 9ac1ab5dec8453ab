"""The client-side limiter keeps every sliding window under its limit and caps concurrency."""

from __future__ import annotations

import asyncio

from gui.core.endpoint.ratelimit import EndpointLimiter, OperationLimiter


def test_no_window_holds_more_than_the_limit() -> None:
    async def main() -> list[float]:
        limiter = OperationLimiter(5, None, window=0.2)
        loop = asyncio.get_running_loop()
        granted: list[float] = []

        async def one() -> None:
            async with limiter.slot():
                granted.append(loop.time())

        await asyncio.gather(*(one() for _ in range(12)))
        return granted

    granted = sorted(asyncio.run(main()))
    assert len(granted) == 12
    for i in range(len(granted) - 5):
        assert granted[i + 5] - granted[i] >= 0.2 - 1e-3


def test_concurrency_is_capped() -> None:
    async def main() -> int:
        limiter = EndpointLimiter({"status": (1000, 3)})
        running = peak = 0

        async def one() -> None:
            nonlocal running, peak
            async with limiter.slot("status"):
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0.01)
                running -= 1

        await asyncio.gather(*(one() for _ in range(20)))
        return peak

    assert asyncio.run(main()) == 3


def test_unknown_operations_and_disabled_limits_pass_through() -> None:
    assert EndpointLimiter(None).for_operation("run") is None
    assert EndpointLimiter({"run": (1, 1)}).for_operation("health") is None
