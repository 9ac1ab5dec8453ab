"""The window's webhook listener: runs on the engine's loop, feeds deliveries to the tracker (the
same door as poll results) and to the ``webhookLog`` panel, and offers its URL to the editor."""

from __future__ import annotations

import logging
import sqlite3
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from gui.core.deliveries import DeliveryStore
from gui.core.secrets import SecretStore
from gui.ui.validation_worker import BackgroundTasks

if TYPE_CHECKING:
    from gui.core.listener import WebhookListener

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

    def __init__(
        self,
        engine: Any,
        data_dir: Path,
        secrets: SecretStore,
        tasks: BackgroundTasks,
        *,
        port: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.tasks = tasks
        self.url: str | None = None
        self.store = DeliveryStore(Path(data_dir) / HISTORY_FILE)
        self._secrets = secrets
        self._port = port  # None: the listener's usual port (``DEFAULT_PORT``)
        self.listener: WebhookListener | None = None
        self._subscribers: list[Any] = []
        self._starting: Future[WebhookListener] | None = None

    def start(self) -> None:
        """Start serving (off the Qt thread); ``sig_started`` or ``sig_failed`` tells the result."""
        secrets, store, wanted_port = self._secrets, self.store, self._port
        apply_update = self.engine.apply_external_update

        async def serve() -> WebhookListener:
            # On the engine thread, not before the window shows: aiohttp.web is slow to import,
            # and reading the token can be a keyring (D-Bus) round trip. A ConsoleError from the
            # keyring ends here and reaches ``sig_failed`` like any other start failure.
            from gui.core.listener import (
                DEFAULT_PORT,
                ListenerPortTaken,
                WebhookListener,
                listener_token,
                tracker_callback,
            )

            token = listener_token(secrets)
            on_delivery = tracker_callback(apply_update)

            def make(port: int) -> WebhookListener:
                return WebhookListener(store, token, port=port, on_delivery=on_delivery)

            listener = make(DEFAULT_PORT if wanted_port is None else wanted_port)
            try:
                await listener.start()
            except ListenerPortTaken:
                # The usual port is held (another console, a `job-console listen`): any free one.
                listener = make(0)
                await listener.start()
            return listener

        self._starting = self.engine.submit_coroutine(serve())
        self.tasks.when_done(self._starting, self._on_tasks_started)

    def _on_tasks_started(self, listener: Any, error: Exception | None) -> None:
        if error is not None:
            self.sig_failed.emit(f"The webhook listener did not start: {error}")
            return
        self.listener = listener
        self.url = listener.url
        for callback in self._subscribers:
            listener.subscribe(callback)
        # Jobs sent with this webhook and ended by polling get flagged when no delivery came.
        self.engine.expect_webhooks_at([self.url])
        self.sig_started.emit(self.url)

    def subscribe(self, callback: Any) -> None:
        """``callback(delivery)`` for each stored delivery (runs on the engine thread)."""
        self._subscribers.append(callback)
        if self.listener is not None:
            self.listener.subscribe(callback)

    def stop(self) -> None:
        """Stop serving and close the store; waits (briefly) for the engine loop to finish it."""
        listener, self.listener = self.listener, None
        starting, self._starting = self._starting, None
        if listener is None and starting is not None:
            # Closed while it was starting: wait for it, so it never serves on, unseen.
            try:
                listener = starting.result(timeout=_STOP_TIMEOUT_S)
            except Exception:
                listener = None
        if listener is not None and self.engine is not None:
            future: Future[None] = self.engine.submit_coroutine(listener.stop())
            try:
                future.result(timeout=_STOP_TIMEOUT_S)
            except Exception as exc:  # closing anyway; the port is freed when the loop ends
                logger.warning("The webhook listener did not stop cleanly: %s", exc)
        try:
            self.store.close()
        except sqlite3.Error as exc:
            logger.warning("The delivery store did not close cleanly: %s", exc)
