"""Benchmark: requests per second the sandbox sustains for ``run`` + ``status``, against a bare
aiohttp "hello" route measured in the same run, and the cost of 10,000 jobs in flight.

Run by hand: ``python tests/benchmarks/bench_sandbox.py [--seconds S] [--concurrency C] [--rounds R]
[--jobs N]``.

Each server runs in its own process (``python -m gui sandbox --quiet`` and a ten-line aiohttp app)
and the same load generator (one aiohttp client session with C connections in this process) drives
them in alternating rounds, so load from elsewhere on the machine hits both alike (medians shown):
- baseline: ``GET /hello`` answering ``hello``: the most an aiohttp server does per request here;
- sandbox: ``POST /run`` then ``GET /status/{id}`` of that job, over and over (2 requests per loop).
The ratio sandbox/baseline says how much of aiohttp's own request rate the sandbox keeps. One
Python client can be slower than either server, so each server's CPU time per request is printed
too: that figure (and its ratio) does not depend on the client.

Then 10,000 jobs are queued at once with ``/run`` on a sandbox with 1000 workers and 0.5 s jobs, and
followed with ``/health`` until all are COMPLETED: jobs per second, the sandbox's peak memory, and
its CPU time per job.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import textwrap
import time
from typing import Any

import aiohttp

WORKERS = 1000  # jobs in flight at once in the 10,000-job scenario
JOB_S = 0.5

HELLO_APP = textwrap.dedent(
    """
    from aiohttp import web

    async def hello(request):
        return web.Response(text="hello")

    async def main():
        app = web.Application()
        app.router.add_get("/hello", hello)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"Hello listening on http://127.0.0.1:{runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    import asyncio
    asyncio.run(main())
    """
)


def start_server(command: list[str], prefix: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if not first.startswith(prefix):
        process.kill()
        raise SystemExit(f"the server did not start: {first!r}")
    return process, first.removeprefix(prefix)


def stop_server(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def drive(
    loop_body: Any, seconds: float, concurrency: int, requests_per_loop: int
) -> tuple[float, int, int]:
    """Run ``loop_body(session)`` from ``concurrency`` tasks for ``seconds``.

    Returns requests per second, failed loops, and requests made (warm-up included).
    """
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(20):  # warm the connections up
            await loop_body(session)
        done = 0
        errors = 0
        deadline = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                try:
                    await loop_body(session)
                    done += 1
                except (aiohttp.ClientError, AssertionError):
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return done * requests_per_loop / elapsed, errors, (done + 20) * requests_per_loop


def hello_body(base_url: str) -> Any:
    async def body(session: aiohttp.ClientSession) -> None:
        async with session.get(f"{base_url}/hello") as answer:
            assert answer.status == 200
            await answer.read()

    return body


def run_status_body(base_url: str) -> Any:
    async def body(session: aiohttp.ClientSession) -> None:
        async with session.post(f"{base_url}/bench/run", json={"input": {"x": 1}}) as answer:
            assert answer.status == 200
            job_id = (await answer.json())["id"]
        async with session.get(f"{base_url}/bench/status/{job_id}") as answer:
            assert answer.status == 200
            await answer.read()

    return body


async def ten_thousand_jobs(base_url: str, jobs: int) -> float:
    """Queue ``jobs`` jobs at once, wait on /health until all completed; seconds taken."""
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        gate = asyncio.Semaphore(64)

        async def submit(n: int) -> None:
            async with gate, session.post(f"{base_url}/many/run", json={"input": {"n": n}}) as r:
                assert r.status == 200

        await asyncio.gather(*(submit(n) for n in range(jobs)))
        while True:
            async with session.get(f"{base_url}/many/health") as answer:
                health = await answer.json()
            if health["jobs"]["completed"] >= jobs:
                return time.perf_counter() - started
            await asyncio.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in flight")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs in the in-flight scenario")
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} CPUs, {args.concurrency} connections, "
        f"{args.rounds} rounds of {args.seconds} s per server"
    )

    sandbox_command = [sys.executable, "-m", "gui", "sandbox", "--port", "0", "--quiet"]
    hello, hello_url = start_server([sys.executable, "-c", HELLO_APP], "Hello listening on ")
    sandbox, sandbox_url = start_server(
        [*sandbox_command, "--workers", "4", "--duration", "0"], "Sandbox listening on "
    )
    hello_rates: list[float] = []
    sandbox_rates: list[float] = []
    cpu = {"hello": 0.0, "sandbox": 0.0}
    requests = {"hello": 0, "sandbox": 0}
    errors = 0

    def measure(name: str, process: subprocess.Popen[str], body: Any, per_loop: int) -> float:
        nonlocal errors
        before = cpu_seconds(process.pid)
        rate, failed, made = asyncio.run(drive(body, args.seconds, args.concurrency, per_loop))
        cpu[name] += cpu_seconds(process.pid) - before
        requests[name] += made
        errors += failed
        return rate

    try:
        # Alternate the two, so a burst of load from elsewhere on the machine hits both alike.
        for _ in range(args.rounds):
            hello_rates.append(measure("hello", hello, hello_body(hello_url), 1))
            sandbox_rates.append(measure("sandbox", sandbox, run_status_body(sandbox_url), 2))
    finally:
        stop_server(hello)
        stop_server(sandbox)
    hello_rate, sandbox_rate = statistics.median(hello_rates), statistics.median(sandbox_rates)
    hello_cpu = cpu["hello"] * 1e6 / requests["hello"]
    sandbox_cpu = cpu["sandbox"] * 1e6 / requests["sandbox"]
    print(f"baseline  aiohttp GET /hello:      {hello_rate:8.0f} requests/s (median)")
    print(f"sandbox   POST /run, GET /status: {sandbox_rate:8.0f} requests/s (median)")
    ratios = ", ".join(f"{s / h:.2f}" for s, h in zip(sandbox_rates, hello_rates, strict=True))
    print(f"ratio     sandbox / baseline:      {sandbox_rate / hello_rate:8.2f} (rounds: {ratios})")
    # Server CPU per request does not depend on how fast this one client can go.
    print(f"server CPU per request: hello {hello_cpu:.0f} µs, sandbox {sandbox_cpu:.0f} µs")
    hello_max, sandbox_max = 1e6 / hello_cpu, 1e6 / sandbox_cpu
    print(f"          one core's worth: hello {hello_max:.0f}/s, sandbox {sandbox_max:.0f}/s")
    print(f"          CPU ratio hello / sandbox: {hello_cpu / sandbox_cpu:.2f}")
    print(f"errors    {errors}")

    sandbox, sandbox_url = start_server(
        [*sandbox_command, "--workers", str(WORKERS), "--duration", str(JOB_S)],
        "Sandbox listening on ",
    )
    try:
        cpu_before = cpu_seconds(sandbox.pid)
        seconds = asyncio.run(ten_thousand_jobs(sandbox_url, args.jobs))
        cpu_used = cpu_seconds(sandbox.pid) - cpu_before
        rss = peak_rss_mb(sandbox.pid)
    finally:
        stop_server(sandbox)
    floor = args.jobs * JOB_S / WORKERS
    print(
        f"in flight {args.jobs} jobs ({WORKERS} workers, {JOB_S} s each, {floor:.0f} s at least):"
    )
    print(f"          all COMPLETED in {seconds:.1f} s, {args.jobs / seconds:.0f} jobs/s")
    print(
        f"          sandbox CPU {cpu_used * 1e6 / args.jobs:.0f} µs per job, peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main()
