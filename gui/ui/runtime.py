"""The window process's tuning, in one place: ``install()`` once, before the window is built.

Each part is here because a measurement asked for it (figures from bench_startup, bench_ui on the
shared 2-core development machine, and the commits that brought them); nothing else belongs here,
and the engine's own process (a later issue) should make most of it unnecessary.

1. PySide6's per-import source scan (``quiet_feature_scan``). Once ``PySide6.QtCore`` is imported,
   PySide6 (for its opt-in ``from __feature__ import``) calls ``inspect.getsource`` on every module
   any thread imports afterwards, to look for the word "PySide6". It read ~150 files at start-up
   (~25 ms, a quarter of our imports), and, run by the Qt thread's imports while the engine thread
   imported pydantic, it read half-imported modules ("partially initialized module", once in ~25
   starts). The console selects no ``__feature__``, so only the answer's use matters: feature
   switching stays off for every module. PySide6 offers no public switch for the scan (its docs
   describe only the opt-in import), so its private ``shibokensupport.feature._mod_uses_pyside`` is
   replaced, on the PySide6 versions checked (``SCAN_CHECKED``), by a look at the module's globals;
   ``tests/ui/test_runtime_pyside.py`` shows the scan still happens without it.
2. The switch interval (``SWITCH_INTERVAL_S``, 1 ms instead of CPython's 5 ms). The Qt thread
   re-takes the GIL for every Python call a view makes (each ``data()``, each slot) and, while the
   engine thread is busy, waits up to one switch interval each time: with 5 ms that wait was the
   largest part of the window's lateness under load (bench_ui), for a few percent more switches.
3. The garbage collector. Off from the start until the window's first paint
   (``start_finished``), then what start-up made (all long-lived) is frozen: ~15 ms of collector
   passes less (bench_startup 234 -> 220 ms). While jobs stream in, ``CollectorPolicy`` freezes
   what survived each bridge flush: a full pass scanned every tracked object younger than the last
   freeze, 30-90 ms each with jobs arriving, 600 ms before anything was frozen (bench_ui); an idle
   full pass collects cycles that died frozen.
4. The foreground gate (``FOREGROUND``). Held by the Qt thread from the start to the first paint and
   over its bounded bursts of work; background threads pass through it (the engine gets
   ``FOREGROUND.pass_through`` as its ``pause_point``). Start-up 458 -> 261 ms with the scan above
   (4.9x -> 2.8x a bare window); bench_ui with RunPod's limits p99 8.6 -> 5.3 ms, max 145 -> 43 ms.

The gate in detail: PySide6 releases the GIL around calls into Qt, and every call back from Qt into
Python (a sort comparison, a model's ``data``, a slot) takes it again. While a background thread
(the engine's event loop, the history writer, the built-in sandbox) is busy, each of those re-takes
waits a switch interval for it: a table update with a thousand call-backs stalled the window for
100-170 ms (bench_ui), though the window's own work was 10-17 ms of CPU. So the window holds
``FOREGROUND`` (``with FOREGROUND.held():``) over its bounded bursts of work (building and first
painting the window, applying job changes, painting the job table), and background threads call
``FOREGROUND.pass_through()`` between their steps: while the window works they wait (without the
GIL) instead of competing for it. They never wait longer than ``MAX_WAIT_S`` at one step, so a
window that holds the gate too long slows them down but never stops them; and a thread that holds
the gate is never made to wait for itself.

This module imports no PySide6 at its top: ``install`` must run before the window's modules are
imported (``gui.cli.main`` calls it first, ``gui.app.run_app`` makes sure).
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

__all__ = [
    "FOREGROUND",
    "MAX_WAIT_S",
    "SCAN_CHECKED",
    "SWITCH_INTERVAL_S",
    "CollectorPolicy",
    "ForegroundGate",
    "collector",
    "install",
    "quiet_feature_scan",
    "set_up_pyside",
    "start_finished",
    "tune_switch_interval",
    "uses_pyside",
]

SWITCH_INTERVAL_S = 0.001
# PySide6 versions (from, up to but not including) whose private scan was checked to be what
# quiet_feature_scan replaces; pyproject.toml allows >=6.6,<6.12. Outside them the scan is left.
SCAN_CHECKED = ((6, 6), (6, 12))

_installed = False


def install() -> bool:
    """The window process's tuning, once (later calls return False at once): PySide6's set-up,
    the switch interval, and the start-up phase: the collector off and ``FOREGROUND`` held by this
    thread until ``start_finished``."""
    global _installed
    if _installed:
        return False
    _installed = True
    set_up_pyside()
    tune_switch_interval()
    gc.disable()
    FOREGROUND.acquire()
    return True


def start_finished() -> None:
    """The window is up (first paint): the background threads may go on, and the collector too,
    without rescanning what start-up made to last."""
    FOREGROUND.release()
    gc.freeze()
    gc.enable()


def tune_switch_interval() -> None:
    """1 ms between GIL hand-overs (part 2 above); never lengthens a shorter one."""
    if sys.getswitchinterval() > SWITCH_INTERVAL_S:
        sys.setswitchinterval(SWITCH_INTERVAL_S)


# -- PySide6 -----------------------------------------------------------------------------------

_QT_PACKAGES = ("PySide6", "shiboken6", "Shiboken")


def set_up_pyside() -> bool:
    """Import ``PySide6.QtCore`` (which installs the import hook) and quiet its source scan."""
    import PySide6.QtCore  # noqa: F401  (installs the import hook that quiet_feature_scan tames)

    return quiet_feature_scan()


def uses_pyside(module: ModuleType) -> bool:
    """Whether ``module``'s globals hold a PySide6 module or class (what it imported)."""
    for value in list(vars(module).values()):
        if isinstance(value, ModuleType):
            name = value.__name__
        elif isinstance(value, type):
            name = value.__module__
        else:
            continue
        if isinstance(name, str) and name.startswith(_QT_PACKAGES):
            return True
    return False


def quiet_feature_scan() -> bool:
    """Let PySide6 tell a module that uses it from its globals instead of reading its source
    (part 1 above). Returns whether the scan was found and replaced: False before PySide6 is
    imported, on versions outside ``SCAN_CHECKED``, or without the private function."""
    pyside = sys.modules.get("PySide6")
    feature = sys.modules.get("shibokensupport.feature")
    if pyside is None or feature is None:
        return False
    version = tuple(getattr(pyside, "__version_info__", (0, 0))[:2])
    if not SCAN_CHECKED[0] <= version < SCAN_CHECKED[1]:
        return False
    if not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    setattr(feature, "_mod_uses_pyside", uses_pyside)  # noqa: B010  (a private name, see above)
    return True


# -- the garbage collector while jobs stream in -------------------------------------------------


class CollectorPolicy:
    """Keeps the cyclic garbage collector from stopping the window while jobs stream in.

    A full (generation 2) collection stops every thread, the Qt thread too, for as long as it takes
    to scan every tracked object younger than the last ``gc.freeze``: with jobs arriving that was
    30-90 ms each (bench_ui), 600 ms before anything was frozen. So whatever survived to a flush
    (job records, their requests and outputs: they live as long as the window) is frozen at once
    (``gc.freeze`` splices lists: O(1)), and the collector's passes see only what is younger than
    one flush: no full pass happens during a burst at all.

    The cost: a reference cycle that was frozen alive and later became garbage is not collected by
    the automatic passes. ``maintain`` (called now and then) collects those while the window is
    idle: once no flush has happened for ``IDLE_S`` and ``EVERY_S`` has passed since the last such
    pass, everything is unfrozen, collected and frozen again (bench_ui prints what it costs).
    """

    IDLE_S = 30.0
    EVERY_S = 600.0

    def __init__(self) -> None:
        self._last_flush = self._last_full_pass = time.monotonic()

    def after_flush(self) -> None:
        self._last_flush = time.monotonic()
        gc.freeze()

    def after_load(self) -> None:
        gc.freeze()  # the history just loaded lives as long as the window

    def maintain(self) -> bool:
        """Run the idle full collection if it is due; True if it ran."""
        now = time.monotonic()
        if now - self._last_flush < self.IDLE_S or now - self._last_full_pass < self.EVERY_S:
            return False
        self.full_pass()
        return True

    def full_pass(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._last_full_pass = time.monotonic()


_collector_policy: CollectorPolicy | None = None


def collector() -> CollectorPolicy:
    """The process's one ``CollectorPolicy`` (every bridge shares it)."""
    global _collector_policy
    if _collector_policy is None:
        _collector_policy = CollectorPolicy()
    return _collector_policy


# -- the foreground gate -------------------------------------------------------------------------

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
