"""``job-console sandbox``: serve the RunPod-compatible sandbox endpoint in the foreground.

The first stdout line is exactly ``Sandbox listening on http://HOST:PORT/v2`` (scripts read the URL
from it), the second says whether an API key is required (never the key itself). One line per
request then goes to stderr (``--quiet`` turns that off). Ctrl+C or SIGTERM stops it cleanly, and
so does its reader going away (``| head -1``).
"""

from __future__ import annotations

import argparse
import logging.handlers
import os
from typing import TYPE_CHECKING

from gui.commands.arguments import port_number

if TYPE_CHECKING:
    from gui.sandbox import SandboxConfig
    from gui.sandbox.config import EndpointSpec

# The top level imports only the standard library: building the CLI parser must stay cheap.

API_KEY_VARIABLE = "JOB_CONSOLE_SANDBOX_KEY"


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share from 0 to 1 (e.g. 0.1)")
    return value


def _latency(text: str) -> tuple[float, float]:
    """``MS`` (fixed) or ``MIN-MAX`` milliseconds."""
    low_text, _, high_text = text.partition("-")
    try:
        low = float(low_text)
        high = float(high_text) if high_text else low
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write MS or MIN-MAX, e.g. 50 or 20-200"
        ) from None
    if low < 0 or high < low:
        raise argparse.ArgumentTypeError(f"{text!r}: need 0 <= MIN <= MAX")
    return (low, high)


ENDPOINT_SCENARIOS = (
    "healthy",
    "crash-loop",
    "throttled",
    "starting",
    "scaled-to-zero",
    "rolling",
    "load-balancer",
)


def _endpoint(text: str) -> tuple[str, str]:
    """``ID`` or ``ID=SCENARIO``."""
    endpoint_id, _, scenario = text.partition("=")
    scenario = scenario or "healthy"
    if not endpoint_id or "/" in endpoint_id:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write ID or ID=SCENARIO, e.g. stuck=crash-loop"
        )
    if scenario not in ENDPOINT_SCENARIOS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: the scenario must be one of {', '.join(ENDPOINT_SCENARIOS)}"
        )
    return endpoint_id, scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=8000,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="simulated workers per endpoint (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get(API_KEY_VARIABLE) or None,
        help="require this key (Authorization: Bearer KEY); without it any key or none is "
        f"accepted. The {API_KEY_VARIABLE} variable sets it too, out of sight of the process list",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.2,
        metavar="S",
        help="seconds a default echo job runs (default: %(default)s)",
    )
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="enforce RunPod's rate limits (429 with Retry-After)",
    )
    parser.add_argument(
        "--endpoint",
        type=_endpoint,
        action="append",
        default=[],
        metavar="ID[=SCENARIO]",
        help="an endpoint the management API (/v2/serverless) lists from the start, with its "
        f"workers in a scenario: {', '.join(ENDPOINT_SCENARIOS)} (default healthy); repeatable",
    )
    faults = parser.add_argument_group("fault injection (shares from 0 to 1 of all requests)")
    faults.add_argument(
        "--fail-429", type=_share, default=0.0, metavar="SHARE", help="answer 429 with Retry-After"
    )
    faults.add_argument(
        "--fail-5xx", type=_share, default=0.0, metavar="SHARE", help="answer 500, 502 or 503"
    )
    faults.add_argument(
        "--drop", type=_share, default=0.0, metavar="SHARE", help="close the connection unanswered"
    )
    faults.add_argument(
        "--latency",
        type=_latency,
        default=(0.0, 0.0),
        metavar="MS|MIN-MAX",
        help="delay every request by MS, or by a random MIN-MAX, milliseconds",
    )
    faults.add_argument(
        "--retry-after",
        type=float,
        default=1.0,
        metavar="S",
        help="Retry-After seconds of injected 429s (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log one line per request")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from gui.sandbox import FaultConfig, SandboxConfig
    from gui.sandbox.config import EndpointSpec

    if args.workers < 1:
        print("job-console sandbox: --workers must be at least 1", file=sys.stderr)
        return 2
    config = SandboxConfig(
        workers=args.workers,
        api_key=args.api_key or None,
        rate_limits=args.rate_limits,
        default_duration_s=max(0.0, args.duration),
        faults=FaultConfig(
            share_429=args.fail_429,
            share_5xx=args.fail_5xx,
            share_drop=args.drop,
            latency_ms=args.latency,
            retry_after_s=args.retry_after,
        ),
        endpoints=[
            _spec(EndpointSpec, endpoint_id, scenario) for endpoint_id, scenario in args.endpoint
        ],
    )
    # The key itself is never printed: the variable exists to keep it out of sight.
    if args.api_key == os.environ.get(API_KEY_VARIABLE):
        key_source = f"the key from {API_KEY_VARIABLE}"
    else:
        key_source = "the key given with --api-key"
    try:
        return asyncio.run(_serve(config, args.host, args.port, args.quiet, key_source))
    except KeyboardInterrupt:
        return 0


def _spec(make: type[EndpointSpec], endpoint_id: str, scenario: str) -> EndpointSpec:
    if scenario == "scaled-to-zero":  # what RunPod does to an endpoint idle for 7 days
        return make(endpoint_id, workers_max=0)
    if scenario == "rolling":  # release 2 rolling out: half the workers still on release 1
        return make(endpoint_id, version=2, image="runpod/sandbox-worker:1.1.0", outdated_workers=1)
    if scenario == "crash-loop":
        return make(endpoint_id, scenario="crash_loop")
    if scenario in ("throttled", "starting"):
        return make(endpoint_id, scenario="throttled" if scenario == "throttled" else "starting")
    if scenario == "load-balancer":  # listed, but it serves plain HTTP, not jobs
        return make(endpoint_id, type="LOAD_BALANCER")
    return make(endpoint_id)


async def _serve(config: SandboxConfig, host: str, port: int, quiet: bool, key_source: str) -> int:
    import asyncio
    import contextlib
    import signal
    import sys

    from gui.sandbox import SandboxServer

    request_log, listener = (None, None) if quiet else _stderr_request_log()
    server = SandboxServer(config, request_log=request_log)
    try:
        await server.start(host, port)
    except OSError as exc:
        print(
            f"job-console sandbox: cannot listen on {host}:{port} ({exc.strerror or exc}). "
            "Pick another port with --port, or --port 0 for any free one.",
            file=sys.stderr,
        )
        if listener is not None:
            listener.stop()
        return 1
    # Before the URL is announced, so whoever reads it can stop us at once.
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no loop signal handlers on Windows
            loop.add_signal_handler(signal_number, stopping.set)
    try:  # a reader gone from stdout (| head -1) stops the sandbox as cleanly as a signal
        print(f"Sandbox listening on {server.base_url}", flush=True)
        if config.api_key is None:
            print(
                "API key: none required (any is accepted; the runpod SDK needs one, e.g. "
                "'sandbox')",
                flush=True,
            )
        else:
            print(
                f"API key: required, {key_source} (send it as 'Authorization: Bearer KEY')",
                flush=True,
            )
        if config.api_key is None and host not in ("127.0.0.1", "localhost", "::1"):
            print(
                f"Warning: listening on {host} without --api-key: anyone who can reach this port "
                "can use the sandbox.",
                file=sys.stderr,
                flush=True,
            )
        await stopping.wait()
    finally:
        await server.stop()
        if listener is not None:
            listener.stop()
        print("Sandbox stopped.", flush=True)
    return 0


def _stderr_request_log() -> tuple[logging.Logger, logging.handlers.QueueListener]:
    """A logger whose lines a background thread writes to stderr, so a slow reader never blocks."""
    import queue
    import sys

    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    listener = logging.handlers.QueueListener(lines, stream)
    listener.start()
    logger = logging.getLogger("gui.sandbox.requests")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(logging.handlers.QueueHandler(lines))
    return logger, listener
