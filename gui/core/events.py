"""What the engine tells its subscribers (the window's bridge, the command line).

Each record in an event is a snapshot: a copy that nobody mutates afterwards, safe to keep and to
read from any thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from gui.core.records import JobRecord

__all__ = [
    "DeliveriesStored",
    "EngineEvent",
    "JobAdded",
    "JobChanged",
    "JobsRemoved",
    "Subscribers",
]

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobAdded:
    """A new job entered the history (it is SUBMITTING, about to be sent)."""

    record: JobRecord


@dataclass(frozen=True, slots=True)
class JobChanged:
    """Something about a job changed: its state, times, progress, output, stream or note."""

    record: JobRecord


@dataclass(frozen=True, slots=True)
class JobsRemoved:
    """Jobs were removed from the history."""

    local_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeliveriesStored:
    """The engine's webhook listener stored these deliveries (and merged each into its job when
    it could): ids of rows in the history's ``deliveries`` table, where whoever shows them reads
    them (a delivery may hold a whole job output: it never travels in an event)."""

    ids: tuple[int, ...]


EngineEvent = JobAdded | JobChanged | JobsRemoved | DeliveriesStored


class Subscribers(Generic[T]):
    """Callbacks told of each ``T`` (an engine event, a stored delivery); safe from any thread.

    ``tell`` calls them on the caller's thread, in the order they subscribed; one that raises is
    logged and the others are still told.
    """

    def __init__(self, what: str) -> None:
        self._what = what  # for the log: "an engine subscriber failed"
        self._callbacks: list[Callable[[T], None]] = []
        self._lock = threading.Lock()

    def add(self, callback: Callable[[T], None]) -> Callable[[], None]:
        """Subscribe ``callback``; returns the function that unsubscribes it."""
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def __len__(self) -> int:
        with self._lock:
            return len(self._callbacks)

    def tell(self, value: T) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(value)
            except Exception:  # one broken subscriber must not stop the others
                log.exception("%s subscriber failed", self._what)
