"""The webhook listener: receives RunPod's deliveries (RUNPOD_API.md §5) over HTTP on loopback.

RunPod POSTs a finished job's status payload to the request's ``webhook`` URL and tries again twice
unless it gets a 200. No signature proves where a delivery came from, so the URL's random token is
the only guard: ``POST /webhook/<token>``. The listener

- answers anything else with a plain status and changes nothing: wrong or missing token 404, another
  method 405, a body that isn't a JSON object 400, a body over ``max_body_bytes`` 413 (decided from
  ``Content-Length`` before reading, or while streaming; the connection is then closed), a stalled
  or too slow sender 408 or a closed connection;
- holds at most ``max_connections`` connections open (those beyond are closed at once; an idle
  one is closed after ``read_timeout_s``) and at most ``max_body_bytes_in_flight`` bytes of bodies
  being received (beyond, 503 and the connection closed: RunPod tries again later);
- writes one log line per refused request or connection, at most a few per ten seconds, the rest
  summed up in one line; a request that isn't HTTP gets its line without a traceback;
- stores a valid delivery first (SQLite, on the store's own thread; bodies arriving together share
  one transaction), then answers 200;
- then hands it to ``on_delivery`` (the engine's tracker), unless it repeats an earlier delivery,
  and tells each subscriber about the stored ``Delivery``.

It binds to 127.0.0.1 by default; any other interface is an explicit choice and logs a warning.
The token appears in ``url`` and ``path`` only: never in a log line, a row or an error message; the
copy a delivery carries back (RunPod repeats the request's ``webhook``) is redacted before it is
stored or handed on (``gui.core.webhooks.intake``).

Run it on the engine loop (``Engine.submit_coroutine(listener.start())``) with
``on_delivery=tracker_callback(engine.apply_external_update)``, and stop it before the engine.

Starting raises ``ListenerError``, or ``ListenerPortTaken`` with a free port to suggest (both in
``gui.core.errors``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import hmac
import logging
import socket
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from secrets import token_urlsafe
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from gui.core.errors import ListenerError, ListenerPortTaken
from gui.core.events import Subscribers
from gui.core.profiles.secrets import LISTENER_TOKEN_NAME, LISTENER_TOKEN_REFERENCE, SecretStore
from gui.core.redact import redact_text, register_secret
from gui.core.webhooks.address import DEFAULT_HOST, DEFAULT_PORT, is_loopback
from gui.core.webhooks.deliveries import Delivery, DeliveryStore, NewDelivery
from gui.core.webhooks.intake import Arrival, clean_headers, is_applicable, new_delivery

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "MAX_DELIVERY_BYTES",
    "DeliverySubscriber",
    "OnDelivery",
    "WebhookListener",
    "find_free_port",
    "listener_token",
    "tracker_callback",
]

logger = logging.getLogger(__name__)

MAX_DELIVERY_BYTES = 25 * 1024 * 1024
# Connections held open at once; those beyond are closed as they come. RunPod sends one delivery
# per connection: a few dozen open at once is already a burst. Under a small file-descriptor limit
# (ulimit -n) a quarter of it, so the rest of the process keeps its files and sockets.
MAX_CONNECTIONS = 256
# Connections waiting to be accepted; also how many asyncio accepts in one go, each holding a file
# descriptor until the loop runs again: with 1,024, 1,500 connections ran a process under
# ulimit -n 1024 out of descriptors (and asyncio logged a traceback per failed accept).
_BACKLOG = 128
WEBHOOK_PREFIX = "/webhook/"
# Most deliveries written in one transaction: bounds how long one commit keeps the others waiting.
_MAX_BATCH = 256


OnDelivery = Callable[[dict[str, Any]], Awaitable["str | None"]]
"""Merges a delivery's payload into its job; returns the job's local id, or None if unknown."""

OnStored = Callable[[Delivery], Awaitable["str | None"]]
"""Merges a stored delivery into its job and marks it merged (``Engine.merge_delivery``): the
way for consoles that share a data folder, where only the job's owner merges, once."""

DeliverySubscriber = Callable[[Delivery], None]
"""Told about each stored delivery (on the listener's loop), after ``on_delivery`` matched it."""


class _Tracked(Protocol):
    @property
    def local_id(self) -> str: ...


def tracker_callback(
    apply: Callable[[dict[str, Any], str], Awaitable[_Tracked | None]], source: str = "webhook"
) -> OnDelivery:
    """``on_delivery`` from the engine's ``apply_external_update(payload, source)``, which returns
    the updated job record (or None for an unknown id)."""

    async def on_delivery(payload: dict[str, Any]) -> str | None:
        record = await apply(payload, source)
        return None if record is None else record.local_id

    return on_delivery


def listener_token(secrets: SecretStore | None = None, *, regenerate: bool = False) -> str:
    """The listener's URL token from the keyring (``listener-token``), made on first use.

    ``regenerate`` replaces it (the old URL then gets 404). Without a secure keyring the store keeps
    it for this process only (``secrets.secure`` is False: tell the user the URL will change).
    Raises ``SecretUnavailable`` when the keyring refuses.
    """
    store = secrets if secrets is not None else SecretStore()
    token = None if regenerate else store.get(LISTENER_TOKEN_NAME)
    if token is None:
        token = token_urlsafe(32)  # 256 bits
        store.set(LISTENER_TOKEN_NAME, token)
    return token


class _Rejected(Exception):
    """A request that gets a plain error status and changes nothing."""

    def __init__(self, status: int, reason: str, *, close: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.close = close


def find_free_port(host: str = DEFAULT_HOST, preferred: int = DEFAULT_PORT, span: int = 20) -> int:
    """A port free on ``host`` now: the first of ``preferred+1 .. preferred+span``, else any."""
    candidates = [p for p in range(preferred + 1, preferred + span + 1) if p <= 65535]
    for port in [*candidates, 0]:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # The same option asyncio sets on a server, so the probe sees what start() will see.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise ListenerError(f"No free port found on {host}.")


def _entry_of(arrival: Arrival, token: str) -> NewDelivery | _Rejected:
    try:
        return new_delivery(arrival, token)
    except ValueError as exc:
        return _Rejected(400, f"The body is not a JSON object ({exc}).")


def _outcome(stored: Delivery | ValueError) -> tuple[Delivery, bool] | _Rejected:
    if isinstance(stored, ValueError):  # pathological JSON that parsed but can't be written back
        return _Rejected(400, f"The body is not storable JSON ({stored}).")
    return stored, is_applicable(stored.payload)


def _connection_limit() -> int:
    """``MAX_CONNECTIONS``, or a quarter of the process's file-descriptor limit when smaller."""
    if sys.platform == "win32":  # no such limit here
        return MAX_CONNECTIONS
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(8, min(MAX_CONNECTIONS, soft // 4))


class _RefusalLog:
    """One log line per refused request or connection, at most ``burst`` in ``interval_s``; those
    beyond are counted and summed up in one line when the interval ends. A flood of bad requests
    (or of connections over the limit) then costs a few lines, not one each: 1,500 connections
    under ``ulimit -n 1024`` wrote 508,245 lines in 13 s."""

    def __init__(self, burst: int = 5, interval_s: float = 10.0) -> None:
        self.burst = burst
        self.interval_s = interval_s
        self._window_start = -interval_s
        self._written = 0
        self._held: Counter[str] = Counter()
        self._summary: asyncio.TimerHandle | None = None

    def refused(self, kind: str, line: str, exc_info: BaseException | None = None) -> None:
        """Log ``line`` (no secret in it), or count it under ``kind`` for the summary."""
        now = time.monotonic()
        if now - self._window_start >= self.interval_s:
            self.flush()
            self._window_start, self._written = now, 0
        if self._written < self.burst:
            self._written += 1
            logger.warning("Webhook listener: %s", line, exc_info=exc_info)
            return
        self._held[kind] += 1
        if self._summary is None:
            delay = self._window_start + self.interval_s - now
            self._summary = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        """Write the summary of the refusals held back, if any."""
        if self._summary is not None:
            self._summary.cancel()
            self._summary = None
        if not self._held:
            return
        total = sum(self._held.values())
        kinds = ", ".join(f"{count:,} {kind}" for kind, count in self._held.most_common())
        self._held.clear()
        logger.warning(
            "Webhook listener: refused %s more in the last %.0f s (%s).",
            f"{total:,}",
            self.interval_s,
            kinds,
        )


class _AcceptFailures:
    """The loop's exception handler while the listener serves: asyncio reports a failed
    ``accept`` on the listener's socket (no file descriptor left: ``EMFILE``) through it, with a
    traceback, every time it retries; here that is one line in the refusal log, within its
    bound. Every other report goes on to the handler that was there before (or the default)."""

    def __init__(self, server: asyncio.Server, refusals: _RefusalLog) -> None:
        self._sockets = {sock.fileno() for sock in server.sockets}
        self._refusals = refusals
        self._loop = asyncio.get_running_loop()
        self._previous = self._loop.get_exception_handler()

    @classmethod
    def install(cls, server: asyncio.Server, refusals: _RefusalLog) -> _AcceptFailures:
        handler = cls(server, refusals)
        handler._loop.set_exception_handler(handler)
        return handler

    def uninstall(self) -> None:
        if self._loop.get_exception_handler() is self:
            self._loop.set_exception_handler(self._previous)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        sock = context.get("socket")
        error = context.get("exception")
        ours = sock is not None and getattr(sock, "fileno", lambda: -1)() in self._sockets
        if ours and isinstance(error, OSError) and error.errno in _NO_ROOM:
            self._refusals.refused(
                "connections the system had no room for",
                f"could not accept a connection ({error.strerror}): the process has no file "
                "descriptor left; raise its limit (ulimit -n).",
            )
        elif self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)


_NO_ROOM = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class _ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger aiohttp gives each connection. A request it can't parse as HTTP is the sender's
    doing: one line in the refusal log, without a traceback (each wrote one)."""

    def __init__(self, refusals: _RefusalLog) -> None:
        super().__init__(logging.getLogger("aiohttp.server"), {})
        self._refusals = refusals

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        where = str(msg) % args if args else str(msg)  # "Error handling request from 1.2.3.4"
        if isinstance(exc_info, HttpProcessingError):
            self._malformed(where, exc_info)
        else:  # a fault of ours: its traceback, within the same bound
            error = exc_info if isinstance(exc_info, BaseException) else None
            self._refusals.refused("failed requests", redact_text(f"{where}: failed."), error)

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        # aiohttp writes a first request that isn't HTTP at all (TLS, a scanner) here, with its
        # traceback and its bytes, which may hold the token: one refusal line like the others.
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError):
            self._malformed(str(msg) % args if args else str(msg), error)
        else:
            super().debug(msg, *args, **kwargs)

    def _malformed(self, where: str, error: HttpProcessingError) -> None:
        reason = (str(error.message).strip().splitlines() or [""])[0].rstrip(":")[:120]
        line = f"{where}: not HTTP it can read ({error.code} {reason})."
        self._refusals.refused("malformed requests", redact_text(line))


class _CountedConnection(asyncio.Protocol):
    """aiohttp's handler of one connection, seen through: the listener learns when it ends."""

    def __init__(self, handler: asyncio.Protocol, on_closed: Callable[[], None]) -> None:
        self._handler = handler
        self._on_closed = on_closed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._handler.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            self._handler.connection_lost(exc)
        finally:
            self._on_closed()

    def data_received(self, data: bytes) -> None:
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        return self._handler.eof_received()

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()


class _ClosedAtOnce(asyncio.Protocol):
    """A connection over the limit: closed as soon as it is made, before a byte is read."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


def _plain(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", headers=headers or None)


class WebhookListener:
    """An aiohttp server for RunPod webhook deliveries, run inside an existing asyncio loop.

    ``store`` is owned by the caller (it is not closed by ``stop``). ``on_delivery`` runs on this
    loop after the 200 answer, once per new applicable delivery (never for a repeat); it must not
    mutate the payload. ``read_timeout_s`` bounds waiting for headers and each piece of the body,
    and how long a connection may stay idle; ``body_deadline_s`` (default six times that) bounds
    reading a whole body. ``max_connections`` (default ``MAX_CONNECTIONS``, or a quarter of the
    file-descriptor limit when that is smaller) bounds the connections held open, and
    ``max_body_bytes_in_flight`` (default twice ``max_body_bytes``) the bodies received at once.
    """

    def __init__(
        self,
        store: DeliveryStore,
        token: str,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        on_delivery: OnDelivery | None = None,
        on_stored: OnStored | None = None,
        max_body_bytes: int = MAX_DELIVERY_BYTES,
        read_timeout_s: float = 10.0,
        body_deadline_s: float | None = None,
        max_connections: int | None = None,
        max_body_bytes_in_flight: int | None = None,
    ) -> None:
        if len(token) < 16:
            raise ValueError("the listener token must be at least 16 characters (128 bits)")
        # It stands inside the webhook URLs jobs carry: stored as its reference, filled on sending.
        register_secret(token, LISTENER_TOKEN_REFERENCE)
        self._store = store
        self._token = token
        # "localhost" may resolve to both 127.0.0.1 and ::1, which with port 0 would get two
        # different ports: bind the one address the URL names.
        self.host = "127.0.0.1" if host.lower() == "localhost" else host
        self._requested_port = port
        self._port = port
        self.on_delivery = on_delivery
        self.on_stored = on_stored  # takes the place of on_delivery when given
        self.max_body_bytes = max_body_bytes
        self.read_timeout_s = read_timeout_s
        self.body_deadline_s = 6 * read_timeout_s if body_deadline_s is None else body_deadline_s
        self.max_connections = _connection_limit() if max_connections is None else max_connections
        self.max_body_bytes_in_flight = (
            2 * max_body_bytes if max_body_bytes_in_flight is None else max_body_bytes_in_flight
        )
        self.connections = 0
        """Connections open now (at most ``max_connections``)."""
        self.body_bytes_in_flight = 0
        """Bytes of the bodies being received now (at most ``max_body_bytes_in_flight``)."""
        self._refusals = _RefusalLog()
        self._server: asyncio.Server | None = None
        self._loop_handler: _AcceptFailures | None = None
        self.received = 0
        """Deliveries accepted (stored) since start, repeats included."""
        self._subscribers: Subscribers[Delivery] = Subscribers("a delivery")
        self._tasks: set[asyncio.Task[None]] = set()
        self._queued: list[tuple[Arrival, asyncio.Future[tuple[Delivery, bool]]]] = []
        self._writing = False
        self._runner: web.AppRunner | None = None
        self._executor: ThreadPoolExecutor | None = None

    # -- what callers read -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port once started (also when 0 was asked for), else the requested one."""
        return self._port

    @property
    def path(self) -> str:
        """``/webhook/<token>``, with the real token: a secret, like ``url``."""
        return WEBHOOK_PREFIX + self._token

    @property
    def url(self) -> str:
        """The local webhook URL, token included (a secret: show it, never log it)."""
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"  # a wildcard bind is reachable on loopback too
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}{self.path}"

    def public_url(self, base_url: str) -> str:
        """The webhook URL behind a tunnel: ``https://abc.trycloudflare.com`` (any path prefix kept)
        + ``/webhook/<token>``. Raises ``ValueError`` for what is not an http(s) URL."""
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"The public URL must start with https:// (or http://), e.g. "
                f"https://abc.trycloudflare.com; got {base_url!r}."
            )
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{self.path}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def exposed(self) -> bool:
        """True when bound to an address other machines may reach."""
        return not is_loopback(self.host)

    def replace_token(self, token: str) -> None:
        """Use a new token from now on (after the user regenerated it); the old URL gets 404."""
        if len(token) < 16:
            raise ValueError("the listener token must be at least 16 characters (128 bits)")
        # It stands inside the webhook URLs jobs carry: stored as its reference, filled on sending.
        register_secret(token, LISTENER_TOKEN_REFERENCE)
        self._token = token

    def subscribe(self, callback: DeliverySubscriber) -> Callable[[], None]:
        """Call ``callback`` with each stored delivery; returns a function that unsubscribes."""
        return self._subscribers.add(callback)

    @property
    def subscriber_count(self) -> int:
        """How many callbacks are told of deliveries (a closed view must have let go of its own)."""
        return len(self._subscribers)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve. Raises ``ListenerPortTaken`` (with a free port to suggest) or
        ``ListenerError``; the listener is then not running."""
        if self._runner is not None:
            raise RuntimeError("the listener is already running")
        if self.exposed:
            logger.warning(
                "The webhook listener is bound to %s, not to loopback: anyone who can reach this "
                "machine on port %s and learns the URL can post deliveries.",
                self.host,
                self._requested_port,
            )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,  # an access log would write the token (it is in the path)
            logger=_ServerLog(self._refusals),
            keepalive_timeout=self.read_timeout_s,  # also closes a connection stalled in headers
            lingering_time=0,  # never read the rest of a refused body
            shutdown_timeout=self.read_timeout_s,
        )
        await runner.setup()
        # The server is made here, not by aiohttp's TCPSite, to count the connections it holds.
        try:
            server = await asyncio.get_running_loop().create_server(
                self._new_connection,
                self.host,
                self._requested_port,
                backlog=min(_BACKLOG, self.max_connections),
            )
        except OSError as exc:
            await runner.cleanup()
            raise self._start_error(exc) from None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook-store")
        self._runner = runner
        self._server = server
        self._loop_handler = _AcceptFailures.install(server, self._refusals)
        self._port = int(server.sockets[0].getsockname()[1])
        self.received = 0

    def _new_connection(self) -> asyncio.Protocol:
        runner = self._runner
        if runner is None or runner.server is None:
            return _ClosedAtOnce()
        if self.connections >= self.max_connections:
            self._refusals.refused(
                "connections over the limit",
                f"refused a connection: {self.connections} are open, the most it holds.",
            )
            return _ClosedAtOnce()
        self.connections += 1
        return _CountedConnection(runner.server(), self._connection_closed)

    def _connection_closed(self) -> None:
        self.connections -= 1

    def _start_error(self, exc: OSError) -> ListenerError:
        in_use = {errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)}
        if exc.errno in in_use:
            suggestion = find_free_port(self.host, self._requested_port)
            return ListenerPortTaken(self.host, self._requested_port, suggestion)
        return ListenerError(
            f"The webhook listener could not listen on {self.host}:{self._requested_port} "
            f"({exc.strerror or exc}). Choose another host or port."
        )

    async def stop(self) -> None:
        """Stop accepting, finish the requests and hand-offs under way, release the port."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._server is not None:
            self._server.close()  # no new connection; those open are closed by the runner
            self._server = None
        await runner.cleanup()
        if self._loop_handler is not None:
            self._loop_handler.uninstall()
            self._loop_handler = None
        self._refusals.flush()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.read_timeout_s)
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def __aenter__(self) -> WebhookListener:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- one request -------------------------------------------------------------------------

    def _token_matches(self, raw_path: str) -> bool:
        path = raw_path.split("?", 1)[0]
        if not path.startswith(WEBHOOK_PREFIX):
            return False
        given = path[len(WEBHOOK_PREFIX) :].encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self._token.encode("utf-8"))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not self._token_matches(request.raw_path):
            return self._refuse(request, _Rejected(404, "Not found."))
        if request.method != "POST":
            return self._refuse(request, _Rejected(405, "Deliveries are POSTed."), Allow="POST")
        held = [0]  # bytes of this body counted in body_bytes_in_flight, given back at the end
        try:
            body = await self._read_body(request, held)
            delivery, _applicable = await self._store_delivery(
                Arrival(
                    body=body,
                    remote=request.remote or "",
                    headers=clean_headers(request.headers.items(), self._token),
                    received_at=time.time(),
                )
            )
        except _Rejected as rejected:
            return self._refuse(request, rejected)
        except sqlite3.Error:
            logger.exception("A webhook delivery could not be stored")
            # Not a 200: RunPod tries again, and nothing half-stored remains.
            return _plain(503, "The delivery could not be stored; try again.")
        finally:
            self.body_bytes_in_flight -= held[0]
        self.received += 1
        return web.json_response({"delivery": delivery.id, "repeat_of": delivery.repeat_of})

    def _refuse(self, request: web.Request, rejected: _Rejected, **headers: str) -> web.Response:
        """The plain answer to a refused request, and its line in the (bounded) log."""
        self._refusals.refused(
            f"requests answered {rejected.status}",
            f"refused a request from {request.remote or 'an unknown address'}: "
            f"{rejected.status} {rejected.reason}",
        )
        response = _plain(rejected.status, rejected.reason, **headers)
        if rejected.close:
            response.force_close()
        return response

    def _hold(self, held: list[int], size: int) -> None:
        """Count ``size`` more bytes of a body being received, or refuse it when the bodies being
        received at once would pass ``max_body_bytes_in_flight`` (eight 24 MB bodies at once took
        1.27 GB): 503, and RunPod tries again later."""
        if self.body_bytes_in_flight + size > self.max_body_bytes_in_flight:
            raise _Rejected(
                503, "Too many large deliveries at once; try again shortly.", close=True
            )
        self.body_bytes_in_flight += size
        held[0] += size

    async def _read_body(self, request: web.Request, held: list[int]) -> bytes:
        limit = self.max_body_bytes
        declared = request.content_length
        if declared is not None and declared > limit:
            raise _Rejected(413, f"The body is over {limit} bytes.", close=True)
        if declared is not None:
            self._hold(held, declared)  # before a byte of it is read
        if declared is not None and request.content.is_eof():
            body = request.content.read_nowait(-1)  # all of it arrived with the headers: no wait
            if len(body) != declared:
                raise _Rejected(400, "The body ended early.", close=True)
            return body
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_deadline_s
        chunks: list[bytes] = []
        total = 0
        while True:
            remaining = deadline - loop.time()
            try:
                async with asyncio.timeout(max(0.0, min(self.read_timeout_s, remaining))):
                    chunk = await request.content.readany()
            except TimeoutError:
                raise _Rejected(408, "The body came too slowly.", close=True) from None
            except Exception:  # the sender went away or broke the framing mid-body
                raise _Rejected(400, "The body ended early.", close=True) from None
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise _Rejected(413, f"The body is over {limit} bytes.", close=True)
            if declared is None:  # streamed without a length: counted as it comes
                self._hold(held, len(chunk))
            chunks.append(chunk)
        if declared is not None and total != declared:
            raise _Rejected(400, "The body ended early.", close=True)
        return b"".join(chunks)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # kept until done, and awaited by stop()
        task.add_done_callback(self._tasks.discard)

    async def _store_delivery(self, arrival: Arrival) -> tuple[Delivery, bool]:
        """Queue one body for the store's thread and wait until it is committed (or refused).

        Bodies that arrive while a transaction is being written go together into the next one (a
        group commit): under load one thread hop and one commit serve many deliveries.
        """
        done: asyncio.Future[tuple[Delivery, bool]] = asyncio.get_running_loop().create_future()
        self._queued.append((arrival, done))
        if not self._writing:
            self._writing = True
            self._spawn(self._write_queued())
        return await done

    async def _write_queued(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queued:
                batch = self._queued[:_MAX_BATCH]
                del self._queued[:_MAX_BATCH]
                results: list[tuple[Delivery, bool] | Exception]
                try:
                    results = await loop.run_in_executor(
                        self._executor, self._ingest, [arrival for arrival, _ in batch]
                    )
                except Exception as exc:  # the database refused the whole transaction
                    results = [exc] * len(batch)
                stored: list[tuple[Delivery, bool]] = []
                for (_, done), result in zip(batch, results, strict=True):
                    if isinstance(result, Exception):
                        done.set_exception(result)
                    else:
                        done.set_result(result)
                        stored.append(result)
                if stored:
                    # Created after the answers were released, so it runs after they are sent.
                    self._spawn(self._hand_off(stored))
        finally:
            self._writing = False

    def _ingest(self, arrivals: list[Arrival]) -> list[tuple[Delivery, bool] | Exception]:
        """On the store's thread: parse each body, then store the valid ones in one transaction."""
        parsed = [_entry_of(arrival, self._token) for arrival in arrivals]
        stored = iter(self._store.add_many([p for p in parsed if isinstance(p, NewDelivery)]))
        return [item if isinstance(item, _Rejected) else _outcome(next(stored)) for item in parsed]

    async def _hand_off(self, stored: list[tuple[Delivery, bool]]) -> None:
        """After the 200s: merge each into its job (first delivery only), then tell subscribers."""
        for delivery, applicable in stored:
            merges = self.on_delivery is not None or self.on_stored is not None
            if applicable and delivery.repeat_of is None and merges:
                delivery = await self._apply(delivery)
            self._subscribers.tell(delivery)

    async def _apply(self, delivery: Delivery) -> Delivery:
        if self.on_stored is not None:
            try:
                local_id = await self.on_stored(delivery)
            except Exception:
                logger.exception("Delivery %s could not be applied to its job", delivery.id)
                return delivery
            return dataclasses.replace(delivery, matched_local_id=local_id or None)
        assert self.on_delivery is not None
        try:
            local_id = await self.on_delivery(delivery.payload)
            if local_id is None:
                return delivery
            await asyncio.get_running_loop().run_in_executor(
                self._executor, self._store.set_matched, delivery.id, local_id
            )
        except Exception:
            logger.exception("Delivery %s could not be applied to its job", delivery.id)
            return delivery
        return dataclasses.replace(delivery, matched_local_id=local_id)
