"""The window's side of the engine's webhook listener: what the engine last said of it
(``ListenerInfo``), and the window's requests to start, change or renew it. The listener itself,
its store and its token live in the engine (``Engine.start_listener``); nothing here waits on the
network or the keyring."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Signal

from gui.core.webhooks.address import ListenerSettings

if TYPE_CHECKING:
    from gui.core.profiles.secrets import SecretStore
    from gui.core.webhooks.console_listener import ConsoleListener, ListenerInfo
    from gui.core.webhooks.deliveries import Delivery, DeliveryStore
    from gui.ui.bridge import EngineBridge

__all__ = ["ListenerState"]

T = TypeVar("T")


class ListenerState(QObject):
    """The engine's webhook listener as the window shows it; ``info`` is set while it serves."""

    sig_started = Signal(str)
    """The listener serves at this URL (token included: show it, never log it)."""

    sig_failed = Signal(str)
    """The listener could not start; the message says why and what to do."""

    sig_problem_reported = Signal(str)
    """Something failed while the listener kept serving (a new token could not be made)."""

    def __init__(
        self,
        bridge: EngineBridge,
        secrets: SecretStore,
        settings: ListenerSettings,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._secrets = secrets
        self._settings = settings
        self.info: ListenerInfo | None = None
        """What the engine said of the serving listener (None while it is not serving)."""
        self.suggested_port: int | None = None
        """A free port to offer after the asked one was taken (None otherwise)."""

    # -- what the window shows -------------------------------------------------------------

    @property
    def url(self) -> str | None:
        """The local webhook URL, token included; None while not serving."""
        return self.info.url if self.info is not None else None

    @property
    def host(self) -> str:
        return self.info.host if self.info is not None else self._settings.host

    @property
    def port(self) -> int:
        """The port served on (or asked for, while not serving)."""
        return self.info.port if self.info is not None else self._settings.port

    @property
    def requested_port(self) -> int:
        """The port asked for (the saved setting); ``port`` differs when it was taken at start."""
        return self._settings.port

    @property
    def public_base(self) -> str:
        """The tunnel's address in front of the listener ('' when none), never a secret."""
        return self._settings.public_url

    @property
    def received(self) -> int:
        """Deliveries in the store: earlier runs' and those received since the start."""
        listener = self._listener()
        return listener.received if listener is not None else 0

    @property
    def store(self) -> DeliveryStore:
        """The deliveries' store, for the Webhooks tab to read (off the Qt thread)."""
        listener = self._listener()
        assert listener is not None, "the listener is asked for at once by start()"
        return listener.store

    def webhook_url(self) -> str:
        """The URL to give RunPod: behind the public URL when one is set, else the local one;
        '' while not serving. Holds the token: show it, never log it."""
        return self.info.webhook_url if self.info is not None else ""

    def subscribe(self, callback: Callable[[Delivery], None]) -> Callable[[], None]:
        """``callback(delivery)`` for each stored delivery (runs on the engine thread)."""
        listener = self._listener()
        assert listener is not None, "the listener is asked for at once by start()"
        return listener.subscribe(callback)

    # -- what the window asks for ----------------------------------------------------------

    def start(self) -> None:
        """Ask the engine to serve (moving to a free port if the saved one is taken);
        ``sig_started`` or ``sig_failed`` tells the result."""
        self._hear(
            self._bridge.start_listener(self._settings, self._secrets), self._on_engine_serving
        )

    def reconfigure(self, host: str, port: int, public_url: str) -> None:
        """Serve on ``host:port`` behind ``public_url`` from now on; a new host or port restarts
        the listener (no move to a free port: the person chose it)."""
        if (host, port) != (self.host, self.port):
            self.info = None  # restarting: "starting…" until the engine answers
        self._settings = ListenerSettings(host, port, public_url)
        self._hear(self._bridge.reconfigure_listener(self._settings), self._on_engine_serving)

    def regenerate_token(self) -> None:
        """A new token in the keyring; ``sig_started`` tells the new URL."""
        self._hear(
            self._bridge.renew_listener_token(),
            self._on_engine_token_renewed,
            lambda error: self.sig_problem_reported.emit(f"No new token was made: {error}"),
        )

    # -- what the engine answers -----------------------------------------------------------

    def _hear(
        self,
        future: Future[T],
        on_result: Callable[[T], None],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """The one place this hears back from the engine, on the Qt thread."""
        self._bridge.deliver(future, on_result, on_error or self._on_engine_failed)

    def _on_engine_serving(self, info: ListenerInfo) -> None:
        self.suggested_port = None
        self.info = info
        self.sig_started.emit(info.url)

    def _on_engine_token_renewed(self, info: ListenerInfo | None) -> None:
        if info is not None:
            self._on_engine_serving(info)

    def _on_engine_failed(self, error: BaseException) -> None:
        from gui.core.errors import ListenerPortTaken  # loaded already by the engine

        self.info = None
        self.suggested_port = error.suggested_port if isinstance(error, ListenerPortTaken) else None
        self.sig_failed.emit(f"The webhook listener did not start: {error}")

    def _listener(self) -> ConsoleListener | None:
        # The one shared object left between the window and the engine: the delivery store is
        # read here, and deliveries are heard by callback. When the engine leaves the process
        # (the engine-process issue) both become messages and reads of the store file.
        return self._bridge.engine.listener
