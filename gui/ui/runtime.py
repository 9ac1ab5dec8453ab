"""The window process's tuning, in one place: ``install()`` once, before the window is built.

Each part is here because a measurement asked for it (figures from bench_startup, bench_ui on the
shared 2-core development machine, and the commits that brought them); nothing else belongs here.

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
2. The garbage collector. Off from the start until the window's first paint
   (``start_finished``), then what start-up made (all long-lived) is frozen: ~15 ms of collector
   passes less (bench_startup 234 -> 220 ms). While jobs stream in, ``CollectorPolicy`` freezes
   what survived each bridge flush; an idle full pass collects cycles that died frozen. Still
   needed with the engine in its own process (issue 17): without it every bench_ui run had 3-4
   full passes during the load, 53-103 ms each (the goal for the worst turn is 33 ms); with it
   none.

3. The start gate (``START``). Closed from ``install`` to ``start_finished``: the window's own
   background work (``gui.ui.tasks``: the first validation imports pydantic, the history's first
   read, the saved draft) waits at it instead of taking the GIL from the window's start. With the
   engine in its own process, start to window shown 287 ms with it, 406 ms without (bench_startup,
   medians of 7).

Gone with the engine's own process (issue 17; bench_ui through it with each part on and off, two
runs of each with and without RunPod's rate limits showed no difference beyond the machine's
noise): the foreground gate that the engine's threads and the background work waited at while the
window painted or applied job changes, and the 1 ms switch interval. Both only shortened the Qt
thread's waits for a GIL the engine's threads held; the window's process has no such busy thread
left (its stalls under load are now mostly the OS giving its thread no core).

This module imports no PySide6 at its top: ``install`` must run before the window's modules are
imported (``gui.cli.main`` calls it first, ``gui.app.run_app`` makes sure).
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from types import ModuleType

__all__ = [
    "SCAN_CHECKED",
    "START",
    "START_WAIT_S",
    "CollectorPolicy",
    "StartGate",
    "collector",
    "install",
    "quiet_feature_scan",
    "set_up_pyside",
    "start_finished",
    "uses_pyside",
]

# PySide6 versions (from, up to but not including) whose private scan was checked to be what
# quiet_feature_scan replaces; pyproject.toml allows >=6.6,<6.12. Outside them the scan is left.
SCAN_CHECKED = ((6, 6), (6, 12))

_installed = False


def install() -> bool:
    """The window process's tuning, once (later calls return False at once): PySide6's set-up,
    and the start-up phase: the collector off and ``START`` closed until ``start_finished``."""
    global _installed
    if _installed:
        return False
    _installed = True
    set_up_pyside()
    gc.disable()
    START.close()
    return True


def start_finished() -> None:
    """The window is up (first paint): the background work may go on, and the collector too,
    without rescanning what start-up made to last."""
    START.open()
    gc.freeze()
    gc.enable()


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
    53-103 ms each in the window's process with the engine in its own (bench_ui; 30-90 ms with it
    in-process, 600 ms before anything was frozen). So whatever survived to a flush
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


# -- the start gate ------------------------------------------------------------------------------

START_WAIT_S = 0.25


class StartGate:
    """Open, except from ``install`` to ``start_finished``; background threads ``pass_through``
    it, waiting while it is closed, but never longer than ``START_WAIT_S`` at one pass (a window
    that never paints slows them down, never stops them)."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def pass_through(self) -> None:
        self._open.wait(START_WAIT_S)


START = StartGate()
