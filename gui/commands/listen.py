"""``job-console listen``: run the webhook listener headless.

The first stdout line is exactly the webhook URL, token included (scripts read it; give it to
RunPod as a request's ``webhook``, through a tunnel for cloud endpoints). Then one JSON object per
line per delivery, until Ctrl+C or SIGTERM, which stop it cleanly with exit 0. Notes and warnings
go to stderr. Deliveries are stored in the history of the data folder (``jobs.sqlite3``).

One listener serves a port for a data folder: when a window (or another ``listen``) of the same
folder serves it already, this refuses with a message naming that process, whose URL (the same
token) already stores every delivery in the folder, where the console owning each job merges it.

The token lives in the OS keyring (``listener-token``), so the URL stays the same from run to run;
``--new-token`` replaces it, and the old URL stops working.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from gui.commands.arguments import port_number
from gui.core.webhooks.address import DEFAULT_HOST, DEFAULT_PORT, ListenerSettings
from gui.core.wording import counted

if TYPE_CHECKING:
    from gui.core.profiles.secrets import SecretStore
    from gui.core.webhooks.deliveries import Delivery

# The top level imports only the standard library: building the CLI parser must stay cheap.

DATABASE_FILENAME = "jobs.sqlite3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to listen on (default: %(default)s, this machine only; any other address "
        "lets other machines post deliveries)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--new-token",
        action="store_true",
        help="replace the URL's secret token with a new one (the old URL stops working)",
    )


def listener_token(
    *, regenerate: bool = False, secrets: SecretStore | None = None
) -> tuple[str, str]:
    """The listener's token from the keyring, created on first use; and a warning to show ("" when
    the keyring is secure; otherwise the token lasts for this run only)."""
    from gui.core.profiles.secrets import SecretStore
    from gui.core.webhooks import listener

    store = secrets if secrets is not None else SecretStore()
    return listener.listener_token(store, regenerate=regenerate), store.warning


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from gui.core.errors import ConsoleError
    from gui.core.paths import resolve_data_dir
    from gui.core.profiles.secrets import SecretStore

    secrets = SecretStore()  # one for the run: without a secure keyring it holds the token
    try:
        _token, warning = listener_token(regenerate=args.new_token, secrets=secrets)
    except ConsoleError as exc:
        print(f"job-console listen: {exc}", file=sys.stderr)
        return 2
    if warning:
        print(
            f"job-console listen: {warning} The URL below is valid for this run only.",
            file=sys.stderr,
        )
    settings = ListenerSettings(args.host, args.port)
    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    try:
        return asyncio.run(_serve(data_dir, secrets, settings))
    except KeyboardInterrupt:
        return 0


async def _serve(data_dir: Path, secrets: SecretStore, settings: ListenerSettings) -> int:
    """Serve with the window's own starter (``ConsoleListener``), refusing a port another console
    of the folder serves instead of sharing it, and never moving to another port."""
    import asyncio
    import contextlib
    import logging
    import signal
    import sqlite3
    import sys

    from gui.core.engine.leases import HEARTBEAT_S, ConsoleLease
    from gui.core.errors import ConsoleError, ListenerServedElsewhere
    from gui.core.webhooks.console_listener import ConsoleListener

    # The listener's own warnings (e.g. bound beyond loopback) and errors go to stderr.
    logging.basicConfig(level=logging.WARNING, format="job-console listen: %(message)s")
    database = data_dir / DATABASE_FILENAME
    lease: ConsoleLease | None = None

    async def look_up(port: int) -> str | None:
        assert lease is not None
        other = await asyncio.to_thread(lease.listener_on, port)
        return None if other is None else other.describe()

    async def record(port: int | None) -> None:
        assert lease is not None
        await asyncio.to_thread(lease.serve_listener, port)

    console = ConsoleListener(data_dir, secrets, look_up=look_up, record=record)
    try:
        _ = console.store
    except (RuntimeError, sqlite3.Error) as exc:  # a newer schema, or not a database at all
        print(f"job-console listen: cannot open the history {database}: {exc}", file=sys.stderr)
        return 2
    lease = await asyncio.to_thread(ConsoleLease, database, "listen")
    await asyncio.to_thread(lease.register)
    printer = _LinePrinter()
    console.subscribe(printer.print_delivery)
    try:
        info = await console.start(settings, share=False)
    except ConsoleError as exc:
        again = " Stop it first, or give --port another port." if isinstance(
            exc, ListenerServedElsewhere) else ""  # fmt: skip
        print(f"job-console listen: {exc}{again}", file=sys.stderr)
        await console.close()
        await asyncio.to_thread(lease.release)
        printer.close()
        return 1

    async def keep_lease() -> None:
        assert lease is not None
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await asyncio.to_thread(lease.beat)

    beating = asyncio.create_task(keep_lease())
    print(info.url, flush=True)
    print(f"Storing deliveries in {database}. Ctrl+C stops.", file=sys.stderr, flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no loop signal handlers on Windows
            loop.add_signal_handler(signal_number, stopping.set)
    try:
        await stopping.wait()
    finally:
        beating.cancel()
        await console.close()
        await asyncio.to_thread(lease.release)
        printer.close()
    received = counted(printer.printed, "delivery", "deliveries")
    print(f"Stopped after {received}.", file=sys.stderr, flush=True)
    return 0


class _LinePrinter:
    """Writes one JSON line per delivery to stdout from its own thread, so a slow reader of the
    pipe never stalls the listener."""

    def __init__(self) -> None:
        import queue
        import threading

        self._lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self.printed = 0
        """Deliveries handed to this printer (on the listener's loop)."""
        self._thread = threading.Thread(target=self._write, name="listen-stdout", daemon=True)
        self._thread.start()

    def print_delivery(self, delivery: Delivery) -> None:
        import json

        self.printed += 1
        # ensure_ascii: a payload may hold lone surrogates, which stdout could not encode.
        self._lines.put(json.dumps(delivery.to_json_dict(), ensure_ascii=True))

    def _write(self) -> None:
        import sys

        while (line := self._lines.get()) is not None:
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                return  # the reader went away; the deliveries are still stored

    def close(self) -> None:
        self._lines.put(None)
        self._thread.join(timeout=10)
