"""The window's webhook listener: runs on the engine's loop, feeds deliveries to the tracker (the
same door as poll results) and to the ``webhookLog`` panel, and offers its URL to the editor."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from gui.core.profiles.secrets import SecretStore
from gui.core.webhooks.address import DEFAULT_PORT
from gui.ui.tasks import when_done

if TYPE_CHECKING:
    from gui.core.webhooks.deliveries import DeliveryStore
    from gui.core.webhooks.listener import WebhookListener

__all__ = ["HISTORY_FILE", "EmbeddedListener"]

HISTORY_FILE = "jobs.sqlite3"
_STOP_TIMEOUT_S = 10.0
logger = logging.getLogger(__name__)


class EmbeddedListener(QObject):
    """Starts a ``WebhookListener`` on the engine loop; ``url`` is set once it serves."""

    sig_started = Signal(str)
    """The listener serves at this URL (token included: show it, never log it)."""

    sig_failed = Signal(str)
    """The listener could not start; the message says why and what to do."""

    sig_problem_reported = Signal(str)
    """Something failed while the listener kept serving (a new token could not be made)."""

    def __init__(
        self,
        engine: Any,
        data_dir: Path,
        secrets: SecretStore,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        public_url: str = "",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.url: str | None = None
        self._store_path = Path(data_dir) / HISTORY_FILE
        self._store: DeliveryStore | None = None
        self._store_lock = threading.Lock()
        self._secrets = secrets
        self._port = port  # None: the listener's usual port (``DEFAULT_PORT``)
        self.host = host
        self.public_base = public_url
        """The tunnel's address in front of the listener ('' when none), never a secret."""
        self.suggested_port: int | None = None
        """A free port to offer after the asked one was taken (None otherwise)."""
        # Only the automatic first start moves to a free port; a port the user chose is kept.
        self._fallback = True
        self._closed = False
        self.listener: WebhookListener | None = None
        self._stored_before = 0  # deliveries in the store when the listener (re)started
        self._subscribers: list[Any] = []
        self._starting: Future[WebhookListener] | None = None
        self.served_by: str | None = None
        """Another console of this data folder that serves the listener on the port asked for
        ("a window (pid 42)"): this one uses its URL instead of a port of its own (None when this
        console serves). Deliveries are stored by it and merged by the console owning the job."""

    @property
    def store(self) -> DeliveryStore:
        """The deliveries' store (SQLite), opened by its first user: the listener's start, on the
        engine thread, so neither its import nor its file is on the window's way to the screen."""
        with self._store_lock:
            if self._store is None:
                from gui.core.webhooks.deliveries import DeliveryStore

                self._store = DeliveryStore(self._store_path)
            return self._store

    def start(self) -> None:
        """Start serving (off the Qt thread); ``sig_started`` or ``sig_failed`` tells the result."""
        if self._closed:
            return
        secrets, wanted_port = self._secrets, self._port
        host, fallback = self.host, self._fallback
        engine = self.engine

        async def serve() -> WebhookListener:
            # On the engine thread, not before the window shows: aiohttp.web is slow to import,
            # the store opens its SQLite file, and reading the token can be a keyring (D-Bus)
            # round trip. A ConsoleError from the keyring ends here and reaches ``sig_failed``
            # like any other start failure.
            store = self.store
            stored_before = store.count()  # earlier runs' deliveries, which the Webhooks tab lists
            import asyncio

            from gui.core.errors import ListenerPortTaken
            from gui.core.webhooks.listener import WebhookListener, listener_token

            token = listener_token(secrets)

            def make(port: int) -> WebhookListener:
                return WebhookListener(
                    store, token, host=host, port=port, on_stored=engine.merge_delivery
                )

            port = DEFAULT_PORT if wanted_port is None else wanted_port
            listener = make(port)
            try:
                await listener.start()
            except ListenerPortTaken:
                # One listener per port for the data folder: a console of this folder that
                # serves it is used (same token, same store), not moved away from.
                self.served_by = await asyncio.wrap_future(engine.listener_elsewhere(port))
                if self.served_by is not None:
                    self._stored_before = stored_before
                    return make(port)  # never started: it only names the URL
                if not fallback:
                    raise
                # The usual port is held (another console, a `job-console listen`): any free one.
                listener = make(0)
                await listener.start()
            self._stored_before = stored_before  # read on the Qt thread once this future is done
            engine.serve_listener(listener.port)
            return listener

        self._starting = self.engine.submit_coroutine(serve())
        when_done(self._starting, self._on_started, self._on_start_failed, context=self)

    def _on_start_failed(self, error: BaseException) -> None:
        if self._closed:
            return  # stopped meanwhile: nothing is left to tell
        self._starting = None
        self.engine.send_sandbox_webhooks_to(None)
        self.suggested_port = getattr(error, "suggested_port", None)
        self.sig_failed.emit(f"The webhook listener did not start: {error}")

    def _on_started(self, listener: WebhookListener) -> None:
        if self._closed:
            return  # stopped meanwhile (``stop`` waited for this start and stopped it)
        self._starting = None
        self.suggested_port = None
        self.listener = listener
        for callback in self._subscribers:
            listener.subscribe(callback)
        self._announce()

    def _announce(self) -> None:
        listener = self.listener
        if listener is None:
            return
        self.url = listener.url
        # Jobs sent with these webhooks and ended by polling get flagged when no delivery came.
        self.engine.expect_webhooks_at([url for url in (self.url, self.webhook_url()) if url])
        # The built-in sandbox reports here when a request names no webhook, however it is sent.
        self.engine.send_sandbox_webhooks_to(self.url)
        self.sig_started.emit(self.url)

    @property
    def received(self) -> int:
        """Deliveries in the store: those of earlier runs (as the Webhooks tab lists them) and
        those received since the listener started."""
        listener = self.listener
        return self._stored_before + (listener.received if listener is not None else 0)

    @property
    def port(self) -> int:
        """The port served on (or asked for, while not serving)."""
        if self.listener is not None:
            return int(self.listener.port)
        return self.requested_port

    @property
    def requested_port(self) -> int:
        """The port asked for (the saved setting); ``port`` differs when it was taken at start."""
        return DEFAULT_PORT if self._port is None else self._port

    def webhook_url(self) -> str:
        """The URL to give RunPod: behind the public URL when one is set, else the local one;
        '' while not serving. Holds the token: show it, never log it."""
        listener = self.listener
        if listener is None:
            return ""
        if self.public_base:
            try:
                return str(listener.public_url(self.public_base))
            except ValueError:
                return str(listener.url)
        return str(listener.url)

    def reconfigure(self, host: str, port: int, public_url: str) -> None:
        """Serve on ``host:port`` behind ``public_url`` from now on. A new host or port restarts
        the listener off the Qt thread; ``sig_started`` or ``sig_failed`` (with
        ``suggested_port`` when the port is taken) tells the result."""
        self.public_base = public_url
        if self.listener is not None and (host, port) == (self.host, self.port):
            self._announce()
            return
        self.host, self._port, self._fallback = host, port, False
        old, self.listener, self.url = self.listener, None, None
        self.engine.send_sandbox_webhooks_to(None)
        if old is None:
            self.start()
            return
        stopping: Future[None] = self.engine.submit_coroutine(old.stop())
        when_done(stopping, lambda _: self.start(), lambda _error: self.start(), context=self)

    def regenerate_token(self) -> None:
        """A new token in the keyring; the running listener takes it at once (the old URL then
        gets 404) and ``sig_started`` tells the new URL."""
        listener, secrets = self.listener, self._secrets

        async def renew() -> None:
            from gui.core.webhooks.listener import listener_token

            token = listener_token(secrets, regenerate=True)  # keyring: off the Qt thread
            if listener is not None:
                listener.replace_token(token)

        future: Future[None] = self.engine.submit_coroutine(renew())
        when_done(
            future,
            lambda _: self._announce(),
            lambda error: self.sig_problem_reported.emit(f"No new token was made: {error}"),
            context=self,
        )

    def subscribe(self, callback: Any) -> None:
        """``callback(delivery)`` for each stored delivery (runs on the engine thread)."""
        self._subscribers.append(callback)
        if self.listener is not None:
            self.listener.subscribe(callback)

    def stop(self) -> None:
        """Stop serving and close the store; waits (briefly) for the engine loop to finish it."""
        self._closed = True
        listener, self.listener = self.listener, None
        starting, self._starting = self._starting, None
        if listener is None and starting is not None:
            # Closed while it was starting: wait for it, so it never serves on, unseen.
            try:
                listener = starting.result(timeout=_STOP_TIMEOUT_S)
            except Exception:
                listener = None
        if self.engine is not None:
            self.engine.send_sandbox_webhooks_to(None)
            if listener is not None and self.served_by is None:
                self.engine.serve_listener(None)
        if listener is not None and self.engine is not None and self.served_by is None:
            future: Future[None] = self.engine.submit_coroutine(listener.stop())
            try:
                future.result(timeout=_STOP_TIMEOUT_S)
            except Exception as exc:  # closing anyway; the port is freed when the loop ends
                logger.warning("The webhook listener did not stop cleanly: %s", exc)
        with self._store_lock:
            store = self._store  # kept, closed: a late reader fails instead of reopening it
        if store is None:
            return
        import sqlite3  # imported already: the store uses it

        try:
            store.close()
        except sqlite3.Error as exc:
            logger.warning("The delivery store did not close cleanly: %s", exc)
