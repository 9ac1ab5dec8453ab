"""Benchmark: 10,000 jobs submitted and followed to COMPLETED, our engine vs the runpod SDK.

Run by hand: ``python tests/benchmarks/bench_tracking.py [--jobs N] [--workers W] [--duration S]``.

One sandbox runs in its own process (``python -m gui sandbox``); each client runs in its own
subprocess against it, one after the other, so their memory is measured apart:
- ours: ``Engine`` (SQLite history, events, adaptive polling) submitting every job and waiting
  until each is COMPLETED;
- baseline: the official SDK's ``AsyncioEndpoint.run`` + ``AsyncioJob.output`` on one aiohttp
  session, all jobs at once (``asyncio.gather``), the usual way to do this in Python.

Prints jobs per second for each and the ratio, status requests per job, and peak memory (RSS).
Then ours again through the window's engine process (``RemoteEngine``: the same engine in a
``job-console engine`` child, its events coalesced over the wire), with its jobs per second beside
the in-process figure (the ratio); its CPU and peak RSS are those of both processes together.
The sandbox enforces no rate limits here, as the SDK respects none: the engine's limiter is off for
the main comparison. ``--with-limits`` adds a run of ours that keeps RunPod's published limits
(its /run limit alone bounds 10,000 jobs at 100 s).

``--transports [NAME ...] [--repeat R]`` runs ours instead with each HTTP transport under the
engine's client, R rounds in turn on the same sandbox: our aiohttp transport
(``gui.core.endpoint.transport``, always run: the baseline), the ``httpx-aiohttp`` package's (``pip
install httpx-aiohttp``; not a dependency) and plain httpx's own (httpcore); all three when none is
named. Prints each one's median time, jobs per second and client CPU per job (the whole client
process's), and the ratio of each to ours, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENDPOINT = "bench"
TRANSPORTS = ("ours", "httpx-aiohttp", "httpx")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def job_input(n: int, duration: float) -> dict[str, Any]:
    return {"n": n, "sandbox": {"duration": duration}}


# -- the clients (each runs in its own process) -------------------------------------------------


def use_transport(name: str) -> None:
    """Make every ``EndpointClient`` this process builds use transport ``name`` (TRANSPORTS)."""
    import httpx

    from gui.core.endpoint import client

    def limits(max_connections: int) -> httpx.Limits:
        # As ours: every connection kept alive for 15 s.
        return httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=15.0,
        )

    factory: Callable[[int], httpx.AsyncBaseTransport]
    if name == "httpx-aiohttp":
        try:
            import httpx_aiohttp
        except ImportError:
            raise SystemExit("httpx-aiohttp is not installed: pip install httpx-aiohttp") from None

        def build(max_connections: int = 100) -> httpx.AsyncBaseTransport:
            return httpx_aiohttp.AiohttpTransport(limits=limits(max_connections))

        factory = build
    elif name == "httpx":

        def build_httpx(max_connections: int = 100) -> httpx.AsyncBaseTransport:
            return httpx.AsyncHTTPTransport(limits=limits(max_connections))

        factory = build_httpx
    else:
        return
    # The client builds its default transport by this name.
    setattr(client, "AiohttpTransport", factory)  # noqa: B010


def run_ours(
    base_url: str, jobs: int, duration: float, limits: bool, transport: str = "ours"
) -> dict[str, Any]:
    use_transport(transport)
    from gui.core.engine.engine import Engine
    from gui.core.events import EngineEvent, JobChanged
    from gui.core.limits import RATE_LIMITS
    from gui.core.records import JobState
    from gui.core.targets import Target

    done = threading.Event()
    finished: set[str] = set()
    failures: list[str] = []

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, JobChanged) and event.record.terminal:
            if event.record.state != JobState.COMPLETED:
                failures.append(f"{event.record.state}: {event.record.note}")
            finished.add(event.record.local_id)
            if len(finished) == jobs:
                done.set()

    with tempfile.TemporaryDirectory() as data_dir:
        engine = Engine(Path(data_dir), rate_limits=RATE_LIMITS if limits else None)
        engine.start()
        engine.subscribe(on_event)
        target = Target(name="bench", kind="cloud", base_url=base_url, endpoint_id=ENDPOINT)
        started = time.perf_counter()
        futures = [engine.submit(target, {"input": job_input(n, duration)}) for n in range(jobs)]
        for future in futures:
            future.result()
        submitted = time.perf_counter() - started
        done.wait()
        elapsed = time.perf_counter() - started
        counts = dict(engine.service.clients[target].request_counts)
        polls = engine.service.tracker.polls
        engine.close()
    client = "ours (limits on)" if limits else "ours"
    return {
        "client": client if transport == "ours" else f"{client}, {transport}",
        "transport": transport,
        "seconds": elapsed,
        "submit_seconds": submitted,
        "requests": counts,
        "polls": polls,
        "not_completed": len(failures),
        "peak_rss_mb": peak_rss_mb(),
        "cpu_seconds": cpu_seconds(),
    }


def run_remote(base_url: str, jobs: int, duration: float) -> dict[str, Any]:
    """Ours through the engine process (no rate limits, as ``run_ours`` without them)."""
    from gui.core.engine.process.remote import RemoteEngine, engine_command
    from gui.core.events import EngineEvent, JobAdded, JobChanged
    from gui.core.records import JobState
    from gui.core.targets import Target

    done = threading.Event()
    finished: set[str] = set()
    failures: list[str] = []

    def on_event(event: EngineEvent) -> None:
        # A job that ends within one batch of its sending is first told ended (JobAdded).
        if isinstance(event, JobAdded | JobChanged) and event.record.terminal:
            if event.record.state != JobState.COMPLETED:
                failures.append(f"{event.record.state}: {event.record.note}")
            finished.add(event.record.local_id)
            if len(finished) == jobs:
                done.set()

    with tempfile.TemporaryDirectory() as data_dir:
        command = [*engine_command(Path(data_dir)), "--no-rate-limits"]
        engine = RemoteEngine(Path(data_dir), command=command)
        engine.start().result()
        engine.subscribe(on_event)
        target = Target(name="bench", kind="cloud", base_url=base_url, endpoint_id=ENDPOINT)
        started = time.perf_counter()
        futures = [engine.submit(target, {"input": job_input(n, duration)}) for n in range(jobs)]
        for future in futures:
            future.result()
        submitted = time.perf_counter() - started
        done.wait()
        elapsed = time.perf_counter() - started
        engine.close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "client": "ours, engine process",
        "seconds": elapsed,
        "submit_seconds": submitted,
        "requests": None,  # counted in the engine process, not told over the wire
        "not_completed": len(failures),
        "peak_rss_mb": peak_rss_mb() + children.ru_maxrss / 1024,
        "cpu_seconds": cpu_seconds() + children.ru_utime + children.ru_stime,
    }


def run_sdk(base_url: str, jobs: int, duration: float) -> dict[str, Any]:
    os.environ["RUNPOD_ENDPOINT_BASE_URL"] = base_url  # read when runpod is imported
    import aiohttp
    import runpod

    counts: dict[str, int] = {}

    async def on_request_start(session: Any, context: Any, params: Any) -> None:
        kind = params.url.path.split("/")[3]  # /v2/{endpoint}/{operation}/...
        counts[kind] = counts.get(kind, 0) + 1

    async def main() -> tuple[float, float, int]:
        trace = aiohttp.TraceConfig()
        trace.on_request_start.append(on_request_start)
        async with aiohttp.ClientSession(trace_configs=[trace]) as session:
            endpoint = runpod.AsyncioEndpoint(ENDPOINT, session, api_key="bench")
            submitted_at: list[float] = []

            async def one(n: int) -> Any:
                job = await endpoint.run(job_input(n, duration))
                submitted_at.append(time.perf_counter())
                await job.output(timeout=3600)  # its default (0) gives up at once
                return await job.status()

            started = time.perf_counter()
            states = await asyncio.gather(*(one(n) for n in range(jobs)))
            elapsed = time.perf_counter() - started
            return elapsed, max(submitted_at) - started, sum(s != "COMPLETED" for s in states)

    elapsed, submitted, not_completed = asyncio.run(main())
    return {
        "client": "runpod SDK",
        "seconds": elapsed,
        "submit_seconds": submitted,
        "requests": counts,
        "not_completed": not_completed,
        "peak_rss_mb": peak_rss_mb(),
        "cpu_seconds": cpu_seconds(),
    }


# -- the driver ---------------------------------------------------------------------------------


def start_sandbox(workers: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gui", "sandbox", "--port", "0", "--workers", str(workers),
         "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    prefix = "Sandbox listening on "
    if not first.startswith(prefix):
        process.kill()
        raise SystemExit(f"the sandbox did not start: {first!r}")
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep its pipe drained
    return process, first[len(prefix) :]


def run_client(
    which: str, base_url: str, args: argparse.Namespace, transport: str = "ours"
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", which, "--base-url", base_url,
               "--jobs", str(args.jobs), "--duration", str(args.duration),
               "--transport", transport]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{which} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report(result: dict[str, Any], jobs: int) -> None:
    requests = result["requests"]
    rate = jobs / result["seconds"]
    if requests is None:
        counted = "status requests/job   n/a  all requests/job   n/a  "
    else:
        counted = (
            f"status requests/job {requests.get('status', 0) / jobs:5.2f}  "
            f"all requests/job {sum(requests.values()) / jobs:5.2f}  "
        )
    print(
        f"{result['client']:>20}: {result['seconds']:7.1f} s  {rate:7.0f} jobs/s  "
        f"submitted in {result['submit_seconds']:5.1f} s  {counted}"
        f"client CPU/job {result['cpu_seconds'] / jobs * 1000:4.2f} ms  "
        f"peak RSS {result['peak_rss_mb']:6.1f} MB  not completed {result['not_completed']}"
    )


def compare_transports(base_url: str, args: argparse.Namespace, names: list[str]) -> None:
    """Ours with each transport, ``args.repeat`` rounds (each round runs every transport in turn,
    so a busy spell on the machine hits them alike); medians, and ratios to our transport."""
    names = ["ours", *(name for name in dict.fromkeys(names) if name != "ours")]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for round_ in range(args.repeat):
        for name in names:
            result = run_client("ours", base_url, args, name)
            results[name].append(result)
            print(f"round {round_ + 1}: ", end="")
            report(result, args.jobs)
    base_seconds = statistics.median(r["seconds"] for r in results["ours"])
    base_cpu = statistics.median(r["cpu_seconds"] for r in results["ours"])
    print(f"medians of {args.repeat} rounds, ratios to our transport (above 1: slower than ours):")
    for name, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        spread = max(r["seconds"] for r in runs) - min(r["seconds"] for r in runs)
        print(
            f"{name:>14}: {seconds:7.2f} s (spread {spread:5.2f} s)  "
            f"{args.jobs / seconds:7.0f} jobs/s  client CPU/job {cpu / args.jobs * 1000:5.2f} ms  "
            f"time {seconds / base_seconds:5.2f}x  CPU {cpu / base_cpu:5.2f}x  "
            f"not completed {sum(r['not_completed'] for r in runs)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=500, help="sandbox workers")
    parser.add_argument("--duration", type=float, default=0.5, help="seconds each job runs")
    parser.add_argument("--with-limits", action="store_true", help="also run ours with limits")
    parser.add_argument(
        "--transports",
        nargs="*",
        choices=TRANSPORTS,
        help="ours with each of these HTTP transports (all when none named), not the SDK",
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds of --transports")
    parser.add_argument(
        "--child", choices=("ours", "ours-limits", "remote", "sdk"), help=argparse.SUPPRESS
    )
    parser.add_argument("--transport", choices=TRANSPORTS, default="ours", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.child == "sdk":
            result = run_sdk(args.base_url, args.jobs, args.duration)
        elif args.child == "remote":
            result = run_remote(args.base_url, args.jobs, args.duration)
        else:
            result = run_ours(
                args.base_url, args.jobs, args.duration, args.child == "ours-limits", args.transport
            )
        print(json.dumps(result))
        return

    sandbox, base_url = start_sandbox(args.workers)
    try:
        print(f"{args.jobs} jobs of {args.duration} s on a sandbox with {args.workers} workers "
              f"({os.cpu_count()} CPUs), sandbox at {base_url}")  # fmt: skip
        if args.transports is not None:
            compare_transports(base_url, args, args.transports or list(TRANSPORTS))
            return
        sdk = run_client("sdk", base_url, args)
        report(sdk, args.jobs)
        ours = run_client("ours", base_url, args)
        report(ours, args.jobs)
        print(f"ratio (ours / SDK, jobs per second): {sdk['seconds'] / ours['seconds']:.2f}x")
        remote = run_client("remote", base_url, args)
        report(remote, args.jobs)
        print(
            "ratio (engine process / in-process, jobs per second): "
            f"{ours['seconds'] / remote['seconds']:.2f}x"
        )
        if args.with_limits:
            report(run_client("ours-limits", base_url, args), args.jobs)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
