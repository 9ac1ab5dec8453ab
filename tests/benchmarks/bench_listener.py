"""Benchmark: 20,000 webhook deliveries from concurrent senders on loopback.

Run by hand: ``python tests/benchmarks/bench_listener.py [--deliveries N] [--senders N]``.

Each server runs in its own process (so senders and server don't share a GIL), on loopback:

- baseline: a bare aiohttp route that reads the body and answers 200, storing nothing;
- listener: the real ``WebhookListener`` (token check, size and time limits, JSON parsing, one
  SQLite transaction per delivery before the 200, the hand-off to a tracker callback after it).

Prints deliveries per second for both, the ratio (goal: at least 0.5x), latency percentiles, and
checks that no delivery was lost: every one answered 200 is counted in SQLite afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

TOKEN = "bench-" + "x" * 40


def _payload(index: int) -> bytes:
    return json.dumps(
        {
            "id": f"bench-{index:06d}-e1",
            "status": "COMPLETED",
            "delayTime": 4736,
            "executionTime": 157,
            "input": {"prompt": "a photo of a cat"},
            "output": {"results": [{"success": True, "index": index}]},
            "webhook": "https://example.test/hook",
        }
    ).encode()


# -- servers (child processes) --------------------------------------------------------------


async def _serve_baseline(ready: Connection) -> None:
    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook/{token}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    await _until_told_to_stop(ready, site.port)
    await runner.cleanup()


async def _serve_listener(ready: Connection, database: str) -> None:
    from gui.core.webhooks.deliveries import DeliveryStore
    from gui.core.webhooks.listener import WebhookListener

    applied = 0

    async def on_delivery(payload: dict[str, Any]) -> str | None:
        nonlocal applied
        applied += 1
        return None

    store = DeliveryStore(Path(database))
    listener = WebhookListener(store, TOKEN, port=0, on_delivery=on_delivery)
    await listener.start()
    await _until_told_to_stop(ready, listener.port)
    await listener.stop()
    store.close()
    ready.send(applied)


async def _until_told_to_stop(ready: Connection, port: int) -> None:
    """Report the port, wait for the senders to finish, then report this process's CPU time (all
    threads): a figure other processes on a busy machine disturb far less than wall time."""
    cpu_started = time.process_time()
    ready.send(port)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ready.recv)
    ready.send(time.process_time() - cpu_started)


def _server_main(kind: str, ready: Connection, database: str) -> None:
    if kind == "baseline":
        asyncio.run(_serve_baseline(ready))
    else:
        asyncio.run(_serve_listener(ready, database))


# -- senders (this process) -----------------------------------------------------------------


async def _send_all(port: int, deliveries: int, senders: int) -> tuple[float, list[float], int]:
    url = f"http://127.0.0.1:{port}/webhook/{TOKEN}"
    bodies = [_payload(i) for i in range(deliveries)]
    next_index = 0
    latencies: list[float] = []
    failures = 0
    headers = {"Content-Type": "application/json", "User-Agent": "RunPod-Webhook/bench"}

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal next_index, failures
        while next_index < deliveries:
            body = bodies[next_index]
            next_index += 1
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(senders)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, failures


def _round(kind: str, deliveries: int, senders: int, database: str) -> dict[str, Any]:
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_server_main, args=(kind, child, database))
    server.start()
    port = parent.recv()
    elapsed, latencies, failures = asyncio.run(_send_all(port, deliveries, senders))
    parent.send("stop")
    server_cpu = parent.recv()
    applied = parent.recv() if kind == "listener" else None
    server.join(60)
    latencies.sort()
    return {
        "kind": kind,
        "rate": deliveries / elapsed,
        "cpu_us": 1e6 * server_cpu / deliveries,
        "elapsed": elapsed,
        "failures": failures,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "applied": applied,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median kept)")
    options = parser.parse_args()

    from gui.core.webhooks.deliveries import DeliveryStore

    ratios: list[float] = []
    cpu_ratios: list[float] = []
    rates: dict[str, list[float]] = {"baseline": [], "listener": []}
    cpu: dict[str, list[float]] = {"baseline": [], "listener": []}
    lost_total = 0
    failures = 0
    with tempfile.TemporaryDirectory(prefix="bench-listener-") as folder:
        for round_number in range(options.rounds):
            pair: dict[str, dict[str, Any]] = {}
            for kind in ("baseline", "listener"):
                database = str(Path(folder) / f"round{round_number}" / "jobs.sqlite3")
                result = _round(kind, options.deliveries, options.senders, database)
                extra = ""
                if kind == "listener":
                    store = DeliveryStore(Path(database))
                    stored = store.count()
                    store.close()
                    lost_total += max(0, options.deliveries - result["failures"] - stored)
                    failures += result["failures"]
                    extra = f", stored {stored}, applied {result['applied']}"
                print(
                    f"round {round_number + 1} {kind:8s}: {result['rate']:7.0f} deliveries/s "
                    f"({result['elapsed']:.2f} s), server CPU {result['cpu_us']:.0f} us/delivery, "
                    f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                    f"non-200 {result['failures']}{extra}",
                    flush=True,
                )
                pair[kind] = result
                rates[kind].append(result["rate"])
                cpu[kind].append(result["cpu_us"])
            ratios.append(pair["listener"]["rate"] / pair["baseline"]["rate"])
            cpu_ratios.append(pair["baseline"]["cpu_us"] / pair["listener"]["cpu_us"])
    median = statistics.median
    print(
        f"\n{options.deliveries} deliveries per round, {options.senders} concurrent senders, "
        f"{options.rounds} rounds (medians):"
    )
    print(
        f"  baseline (bare aiohttp route, no storing): {median(rates['baseline']):.0f} /s, "
        f"server CPU {median(cpu['baseline']):.0f} us/delivery"
    )
    print(
        f"  WebhookListener (stored in SQLite first):  {median(rates['listener']):.0f} /s, "
        f"server CPU {median(cpu['listener']):.0f} us/delivery"
    )
    print(
        f"  ratio listener/baseline, deliveries/s: {median(ratios):.2f}x "
        f"(per round: {', '.join(f'{r:.2f}' for r in ratios)}; goal >= 0.5x)"
    )
    print(f"  ratio listener/baseline, deliveries per server CPU second: {median(cpu_ratios):.2f}x")
    print(f"  lost deliveries (answered 200 but not in SQLite): {lost_total}")
    return 0 if lost_total == 0 and failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
