"""A console's webhook listener: the ``WebhookListener`` with everything around it that a window
and ``job-console listen`` share: the token from the keyring, the delivery store of the data
folder, the port (moved to a free one only at the window's first start), and the rule of one
listener per port for the consoles of a data folder.

Every coroutine runs on one asyncio loop (the engine's, or ``listen``'s own); ``subscribe``,
``store``, ``received`` and ``info`` are safe from any thread. The token is read from the keyring
at each start and never written anywhere else; ``ListenerInfo`` holds it only inside its URLs,
which its ``repr`` leaves out. Importing this module is cheap (standard library only): aiohttp
comes with the first start, on the loop's thread.

* ConsoleError
  x ListenerServedElsewhere     another console of the data folder serves the port
  (the listener's own ``ListenerError``s, in ``gui.core.webhooks.listener``, also end a start)
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gui.core.errors import ListenerServedElsewhere
from gui.core.events import Subscribers
from gui.core.webhooks.address import ListenerSettings

if TYPE_CHECKING:
    import asyncio

    from gui.core.profiles.secrets import SecretStore
    from gui.core.webhooks.deliveries import Delivery, DeliveryStore
    from gui.core.webhooks.listener import OnStored, WebhookListener

__all__ = [
    "ConsoleListener",
    "ListenerInfo",
    "ListenerServedElsewhere",
    "LookUpListener",
    "RecordListener",
]

logger = logging.getLogger(__name__)

LookUpListener = Callable[[int], Awaitable[str | None]]
"""Another live console of the data folder that serves this port ("a window (pid 42)"), or None."""

RecordListener = Callable[[int | None], Awaitable[None]]
"""Tell the other consoles that this one serves this port (None: it stopped)."""


@dataclass(frozen=True, slots=True)
class ListenerInfo:
    """What a console's listener is doing now: a plain message for whoever shows it."""

    host: str
    port: int
    """The port served on (another console's, when ``served_by``)."""
    requested_port: int
    """The port asked for; ``port`` differs when it was taken at the first start."""
    public_base: str
    """The tunnel's address in front of the listener ('' when none), never a secret."""
    served_by: str | None
    """Another console of this data folder that serves the port ("a window (pid 42)"): its URL
    (same token, same store) is used instead of a port of this console's own."""
    url: str = field(repr=False)
    """The local webhook URL, token included: show it, never log it."""
    webhook_url: str = field(repr=False)
    """The URL to give RunPod: behind ``public_base`` when one is set, else ``url``."""

    @property
    def moved(self) -> bool:
        """True when the port asked for was taken and a free one serves instead."""
        return self.port != self.requested_port


class ConsoleListener:
    """The webhook listener of one console over the deliveries of ``data_dir``'s history; its
    token lives in ``secrets`` (the keyring) only.

    ``on_stored`` merges each stored delivery (the engine's ``merge_delivery``; None for
    ``listen``, which only prints them). ``look_up`` and ``record`` reach the other consoles of the
    data folder (their leases); without them this console is alone.
    """

    def __init__(
        self,
        data_dir: Path,
        secrets: SecretStore,
        *,
        on_stored: OnStored | None = None,
        look_up: LookUpListener | None = None,
        record: RecordListener | None = None,
    ) -> None:
        self._data_dir = Path(data_dir)
        self._on_stored = on_stored
        self._look_up = look_up
        self._record = record
        self._store: DeliveryStore | None = None
        self._store_lock = threading.Lock()
        self._listener: WebhookListener | None = None
        self._secrets = secrets
        self._settings = ListenerSettings()
        self._stored_before = 0
        self._subscribers: Subscribers[Delivery] = Subscribers("a delivery")
        self._lock: asyncio.Lock | None = None
        self.info: ListenerInfo | None = None
        """The serving listener, as last started or changed (None while not serving)."""

    # -- what any thread may read ----------------------------------------------------------

    @property
    def store(self) -> DeliveryStore:
        """The deliveries' store (SQLite), opened by its first user: the listener's start, on the
        loop, so neither its import nor its file is on the window's way to the screen. Raises
        ``RuntimeError`` or ``sqlite3.Error`` when the file is not a history this can read."""
        with self._store_lock:
            if self._store is None:
                from gui.core.storage.store import DB_FILENAME
                from gui.core.webhooks.deliveries import DeliveryStore

                self._store = DeliveryStore(self._data_dir / DB_FILENAME)
            return self._store

    @property
    def received(self) -> int:
        """Deliveries in the store: those of earlier runs (as the Webhooks tab lists them) and
        those received since the listener started."""
        listener = self._listener
        return self._stored_before + (listener.received if listener is not None else 0)

    def subscribe(self, callback: Callable[[Delivery], None]) -> Callable[[], None]:
        """``callback(delivery)`` for each stored delivery, across restarts (it runs on the loop
        and must be quick). Returns unsubscribe."""
        return self._subscribers.add(callback)

    def _tell_subscribers(self, delivery: Delivery) -> None:
        self._subscribers.tell(delivery)

    # -- on the loop -----------------------------------------------------------------------

    async def start(
        self, settings: ListenerSettings, *, fallback: bool = False, share: bool = True
    ) -> ListenerInfo:
        """Serve on ``settings.host:settings.port`` (stopping what served before), with the token
        the keyring keeps (made on first use).

        A port another console of the data folder serves is, with ``share`` (a window), used
        through that console's URL only when binding finds it taken; without (``listen``), it is
        refused before binding (``ListenerServedElsewhere``). A port taken otherwise moves to a
        free one with ``fallback`` (the window's automatic first start), else raises
        ``ListenerPortTaken`` with a ``suggested_port``. The keyring and the store are read here:
        their errors (``ConsoleError``, ``sqlite3.Error``) end this call.
        """
        async with self._turn():
            return await self._start(settings, fallback=fallback, share=share)

    async def _start(
        self, settings: ListenerSettings, *, fallback: bool, share: bool
    ) -> ListenerInfo:
        await self._stop()
        from gui.core.errors import ListenerPortTaken
        from gui.core.webhooks.listener import WebhookListener, listener_token

        # The store opens its SQLite file and reading the token can be a keyring (D-Bus) round
        # trip: here, on the loop, not on the window's thread.
        store = self.store
        stored_before = store.count()  # earlier runs' deliveries, which the Webhooks tab lists
        token = listener_token(self._secrets)
        host, port = settings.host, settings.port
        if not share and port and self._look_up is not None:
            other = await self._look_up(port)
            if other is not None:
                raise ListenerServedElsewhere(port, other)

        def make(bound: int) -> WebhookListener:
            made = WebhookListener(store, token, host=host, port=bound, on_stored=self._on_stored)
            made.subscribe(self._tell_subscribers)
            return made

        listener, served_by = make(port), None
        try:
            await listener.start()
        except ListenerPortTaken:
            served_by = await self._look_up(port) if share and self._look_up else None
            if served_by is None:
                if not fallback:
                    raise
                listener = make(0)  # the usual port is held (not by this folder): any free one
                await listener.start()
        self._listener, self._stored_before, self._settings = listener, stored_before, settings
        if served_by is None and self._record is not None:
            await self._record(listener.port)
        return self._announce(served_by)

    async def reconfigure(self, settings: ListenerSettings) -> ListenerInfo:
        """Serve as ``settings`` say: a new public URL alone keeps the listener; a new host or
        port restarts it there (no move to a free port: the person chose it)."""
        async with self._turn():
            info = self.info
            if info is not None and (settings.host, settings.port) == (info.host, info.port):
                self._settings = settings
                return self._announce(info.served_by)
            return await self._start(settings, fallback=False, share=True)

    async def serve_if_left(self) -> ListenerInfo | None:
        """When this console uses another's listener and that console no longer serves the
        port (it closed, or was killed), serve the port here: the first console to bind it
        serves, the others keep using it. The new state, or None when nothing changed."""
        async with self._turn():
            info, look_up = self.info, self._look_up
            if info is None or info.served_by is None or look_up is None:
                return None
            if await look_up(self._settings.port) is not None:
                return None
            using = self._listener
            try:
                return await self._start(self._settings, fallback=False, share=True)
            except BaseException:  # the port taken meanwhile: as before, tried again next time
                self._listener, self.info = using, info
                raise

    async def renew_token(self) -> ListenerInfo | None:
        """A new token in the keyring; the serving listener takes it at once (the old URL then
        gets 404). The new state, or None when nothing serves."""
        from gui.core.webhooks.listener import listener_token

        async with self._turn():
            token = listener_token(self._secrets, regenerate=True)
            listener = self._listener
            if listener is None or self.info is None:
                return None
            listener.replace_token(token)
            return self._announce(self.info.served_by)

    async def stop(self) -> None:
        """Stop serving (the store stays open for the next start; ``close`` closes it). A start
        still on its way ends first, so nothing serves on unseen."""
        async with self._turn():
            await self._stop()

    async def _stop(self) -> None:
        listener, info = self._listener, self.info
        self._listener, self.info = None, None
        if listener is None or info is None or info.served_by is not None:
            return  # another console's listener is not this one's to stop
        try:
            if self._record is not None:
                await self._record(None)
            await listener.stop()
        except Exception as exc:  # stopping anyway; the port is freed when the loop ends
            logger.warning("The webhook listener did not stop cleanly: %s", exc)

    async def close(self) -> None:
        """Stop serving and close the store; a late reader then fails instead of reopening it."""
        await self.stop()
        with self._store_lock:
            store = self._store
        if store is None:
            return
        try:
            store.close()
        except sqlite3.Error as exc:
            logger.warning("The delivery store did not close cleanly: %s", exc)

    def _turn(self) -> asyncio.Lock:
        """One start, change or stop at a time (made on the loop, at its first use)."""
        if self._lock is None:
            import asyncio

            self._lock = asyncio.Lock()
        return self._lock

    def _announce(self, served_by: str | None) -> ListenerInfo:
        listener, settings = self._listener, self._settings
        assert listener is not None
        webhook_url = listener.url
        if settings.public_url:
            try:
                webhook_url = listener.public_url(settings.public_url)
            except ValueError:
                pass  # checked by whoever saved it; the local URL still works on this machine
        self.info = ListenerInfo(
            host=settings.host,
            port=listener.port,
            requested_port=settings.port,
            public_base=settings.public_url,
            served_by=served_by,
            url=listener.url,
            webhook_url=webhook_url,
        )
        return self.info
