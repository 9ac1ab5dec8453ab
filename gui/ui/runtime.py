"""Lets the window's thread run without waiting on the background threads for the GIL.

PySide6 releases the GIL around calls into Qt, and every call back from Qt into Python (a sort
comparison, a model's ``data``, a slot) takes it again. While a background thread (the engine's
event loop, the history writer, the built-in sandbox) is busy, each of those re-takes waits a
switch interval for it: a table update with a thousand call-backs stalled the window for 100-170 ms
(bench_ui), though the window's own work was 10-17 ms of CPU.

So the window holds ``FOREGROUND`` (``with FOREGROUND.held():``) over its bounded bursts of work
(building and first painting the window at start-up, applying job changes, painting the job
table), and background threads call
``FOREGROUND.pass_through()`` between their steps (the engine's loop and history writer get it as
their ``pause_point``; ``gui.core`` knows no window): while the window works they wait (without the
GIL) instead of competing for it. They never wait longer than ``MAX_WAIT_S`` at one step, so a
window that holds the gate too long slows them down but never stops them; and a thread that holds
the gate is never made to wait for itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["FOREGROUND", "MAX_WAIT_S", "ForegroundGate"]

MAX_WAIT_S = 0.25


class ForegroundGate:
    """Held by one foreground thread at a time (re-entrantly); passed through by the others."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._holder: int | None = None
        self._depth = 0
        self.waits = 0  # times a background thread waited here (for tests and benchmarks)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self) -> None:
        """Hold the gate (re-entrantly) until as many ``release`` calls, on this same thread."""
        self._lock.acquire()
        self._depth += 1
        self._holder = threading.get_ident()

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._holder = None
        self._lock.release()

    def pass_through(self) -> None:
        """Wait (up to ``MAX_WAIT_S``) while another thread holds the gate; at once otherwise."""
        holder = self._holder
        if holder is None or holder == threading.get_ident():
            return
        self.waits += 1
        if self._lock.acquire(timeout=MAX_WAIT_S):
            self._lock.release()


FOREGROUND = ForegroundGate()
