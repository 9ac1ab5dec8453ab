"""``job-console engine`` (hidden): a window's engine in a process of its own.

The window starts it (``gui.core.engine.process.remote.RemoteEngine``) and talks to it over its
stdin and stdout, in the messages ``gui.core.engine.process.wire`` describes; this verb sets the
process up (the wire on the real stdout, signals) and ``gui.core.engine.process.server`` serves.
It runs an ``Engine``
of kind ``"window"`` (it takes over the unfinished jobs no live console follows, and keeps in
memory only the unfinished ones) with the built-in sandbox, and serves until its stdin ends (the
window went away, or closed it), a ``close`` command comes, or SIGTERM; then it closes the engine
(the history written, the lease released) and exits 0. A ``ping`` is answered at once by the
reading thread, whatever the engine does: the window's way to tell a hung process. Ctrl+C in the
window's terminal is the window's to handle: this process ignores SIGINT.

Not in ``--help``: a person has no use for it. Top level: standard library only.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from gui.core.engine.engine import SandboxLike


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Also after the verb (the window passes it there); SUPPRESS keeps a top-level one.
    parser.add_argument(
        "--data-dir", metavar="DIR", default=argparse.SUPPRESS, help="the data folder to serve"
    )
    parser.add_argument(
        "--no-rate-limits",
        action="store_true",
        help="leave RunPod's rate limits out of the client (benchmarks against a sandbox that "
        "has none)",
    )


def _builtin_sandbox() -> SandboxLike:
    """The window's built-in sandbox, made when first used (aiohttp imported then)."""
    from gui.sandbox import builtin_sandbox

    return builtin_sandbox()


def run(args: argparse.Namespace) -> int:
    from gui.core.engine.engine import Engine
    from gui.core.engine.process.server import EngineServer
    from gui.core.limits import RATE_LIMITS
    from gui.core.paths import resolve_data_dir
    from gui.core.profiles.profiles import ProfileStore, make_key_provider
    from gui.core.profiles.s3refs import make_body_resolver
    from gui.core.profiles.secrets import SecretStore

    wire_out = _take_stdout()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    secrets = SecretStore()
    engine = Engine(
        data_dir,
        rate_limits=None if args.no_rate_limits else RATE_LIMITS,
        key_provider=make_key_provider(ProfileStore(data_dir, secrets), secrets),
        body_resolver=make_body_resolver(secrets),
        sandbox=_builtin_sandbox,
        kind="window",
    )
    return EngineServer(engine, wire_out, secrets).serve(sys.stdin.buffer)


def _take_stdout() -> IO[bytes]:
    """The real stdout, for the wire alone; file descriptor 1 then points at stderr, so a stray
    print (ours or a library's) lands in the log, never in the middle of a message."""
    sys.stdout.flush()
    wire = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return wire


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)  # serve's finally closes the engine
