"""The window's side of the engine's webhook listener: what the engine last said of it
(``ListenerInfo``), the window's requests to start, change or renew it, and the deliveries it
stored. The listener itself and its token live in the engine (``Engine.start_listener``, in the
engine's process or thread); the window hears of each stored delivery from the bridge
(``sig_deliveries_stored``) and reads it from the history file with a ``DeliveryReader`` of its
own, off the Qt thread. Nothing here waits on the network, the disk or the keyring."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, Signal

from gui.core.webhooks.address import ListenerSettings
from gui.ui.tasks import Lane, run_in_background

if TYPE_CHECKING:
    from gui.core.profiles.secrets import SecretStore
    from gui.core.webhooks.console_listener import ListenerInfo
    from gui.core.webhooks.deliveries import Delivery, DeliveryStore
    from gui.ui.bridge import EngineBridge

__all__ = ["DeliveryReader", "ListenerState"]

T = TypeVar("T")


class DeliveryReader:
    """The webhook deliveries of the history file at ``path``, for the window to read (the
    engine's listener writes them): a ``DeliveryStore`` of its own, opened by its first read (so
    off the Qt thread: sqlite3 is not on the window's way to the screen), safe from any thread.
    After ``close`` every read raises ``RuntimeError``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._store: DeliveryStore | None = None
        self._closed = False

    def _opened(self) -> DeliveryStore:
        with self._lock:
            if self._closed:
                raise RuntimeError("The webhook deliveries are not read any more (closing).")
            if self._store is None:
                from gui.core.webhooks.deliveries import DeliveryStore

                self._store = DeliveryStore(self.path)
            return self._store

    def list(self, limit: int = 100, offset: int = 0, *, with_payload: bool = True) -> Any:
        """As ``DeliveryStore.list``: newest first."""
        return self._opened().list(limit, offset, with_payload=with_payload)

    def get_raw(self, delivery_id: int) -> str | None:
        return self._opened().get_raw(delivery_id)

    def count(self) -> int:
        return self._opened().count()

    def read(self, ids: Sequence[int]) -> builtins.list[Delivery]:
        """The deliveries with these ids still in the history, without payloads, oldest first."""
        if not ids:
            return []
        wanted = set(ids)
        first, last = min(wanted), max(wanted)
        found = self._opened().list_after(first - 1, limit=last - first + 1)
        return [delivery for delivery in found if delivery.id in wanted]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            store, self._store = self._store, None
        if store is not None:
            store.close()


class ListenerState(QObject):
    """The engine's webhook listener as the window shows it; ``info`` is set while it serves."""

    sig_started = Signal(str)
    """The listener serves at this URL (token included: show it, never log it)."""

    sig_failed = Signal(str)
    """The listener could not start; the message says why and what to do."""

    sig_problem_reported = Signal(str)
    """Something failed while the listener kept serving (a new token could not be made)."""

    sig_deliveries_stored = Signal(list)
    """The listener stored these deliveries (``list[Delivery]``, without payloads, as the
    history holds them now: merged into their jobs); ``received`` counts them already."""

    sig_received_changed = Signal(int)
    """The number of deliveries in the history changed (or was first read)."""

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
        self._received = 0
        self.store = DeliveryReader(bridge.history_path)
        """The deliveries in the history, for the Webhooks tab (read it off the Qt thread)."""
        bridge.sig_deliveries_stored.connect(self._on_bridge_deliveries_stored)

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
        """Deliveries in the history: earlier runs' and those received since the start (as last
        read; ``sig_received_changed`` tells when it changes)."""
        return self._received

    def webhook_url(self) -> str:
        """The URL to give RunPod: behind the public URL when one is set, else the local one;
        '' while not serving. Holds the token: show it, never log it."""
        return self.info.webhook_url if self.info is not None else ""

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
        self._read_deliveries([])  # the count of earlier runs' deliveries, as the tab lists them

    def _on_engine_token_renewed(self, info: ListenerInfo | None) -> None:
        if info is not None:
            self._on_engine_serving(info)

    def _on_engine_failed(self, error: BaseException) -> None:
        from gui.core.errors import ListenerPortTaken  # loaded already by the engine

        self.info = None
        self.suggested_port = error.suggested_port if isinstance(error, ListenerPortTaken) else None
        self.sig_failed.emit(f"The webhook listener did not start: {error}")

    def _on_bridge_deliveries_stored(self, ids: list[int]) -> None:
        self._read_deliveries(ids)

    def _read_deliveries(self, ids: list[int]) -> None:
        """Read these deliveries and the count from the history, off the Qt thread; one read at
        a time, in the order asked (the last count is the newest)."""
        store = self.store

        def read() -> tuple[list[Delivery], int]:
            return store.read(ids), store.count()

        run_in_background(read, self._on_deliveries_read, self._on_read_failed,
                          context=self, lane=Lane.SERIAL)  # fmt: skip

    def _on_deliveries_read(self, read: tuple[list[Delivery], int]) -> None:
        deliveries, count = read
        if count != self._received:
            self._received = count
            self.sig_received_changed.emit(count)
        if deliveries:
            self.sig_deliveries_stored.emit(deliveries)

    def _on_read_failed(self, error: BaseException) -> None:
        from gui.ui.bridge import describe_error

        self.sig_problem_reported.emit(describe_error(error, "read the webhook deliveries"))

    def close(self) -> None:
        """Stop reading the history (before the window lets the engine go)."""
        try:
            self._bridge.sig_deliveries_stored.disconnect(self._on_bridge_deliveries_stored)
        except RuntimeError:  # the bridge went first
            pass
        self.store.close()
