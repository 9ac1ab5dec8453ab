"""The foreground gate: background threads wait while the window's thread works, never longer."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import pytest

from gui.core.engine.loop_thread import PausingSelector
from gui.ui import runtime
from gui.ui.runtime import ForegroundGate


def test_background_work_waits_while_the_gate_is_held() -> None:
    gate = ForegroundGate()
    passed = threading.Event()

    def background() -> None:
        gate.pass_through()
        passed.set()

    with gate.held():
        worker = threading.Thread(target=background)
        worker.start()
        assert not passed.wait(0.1)  # held: the background thread is waiting
    assert passed.wait(5)  # released: it goes on
    worker.join()
    assert gate.waits == 1


def test_no_wait_when_free_or_for_the_holder_itself() -> None:
    gate = ForegroundGate()
    gate.pass_through()
    with gate.held(), gate.held():  # re-entrant on the holding thread
        gate.pass_through()
    assert gate.waits == 0


def test_a_gate_held_too_long_only_slows_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "MAX_WAIT_S", 0.05)
    gate = ForegroundGate()
    took: list[float] = []

    def background() -> None:
        began = time.monotonic()
        gate.pass_through()
        took.append(time.monotonic() - began)

    with gate.held():
        worker = threading.Thread(target=background)
        worker.start()
        worker.join(timeout=5)  # it gave up waiting while the gate is still held
        assert not worker.is_alive()
    assert 0.04 <= took[0] < 5


def test_an_event_loop_paused_by_the_gate_waits_while_the_window_works() -> None:
    loop = asyncio.SelectorEventLoop(PausingSelector(runtime.FOREGROUND.pass_through))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        ran = threading.Event()
        with runtime.FOREGROUND.held():
            loop.call_soon_threadsafe(ran.set)
            assert not ran.wait(0.1)
        assert ran.wait(5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def test_acquire_and_release_hold_the_gate_like_held() -> None:
    gate = ForegroundGate()
    passed = threading.Event()

    def background() -> None:
        gate.pass_through()
        passed.set()

    gate.acquire()
    gate.acquire()  # re-entrant: held until as many releases
    worker = threading.Thread(target=background)
    worker.start()
    gate.release()
    assert not passed.wait(0.1)
    gate.release()
    assert passed.wait(5)
    worker.join()


INSTALL = """
import gc, sys, threading
from gui.ui import runtime
assert "PySide6" not in sys.modules, "importing gui.ui.runtime imported Qt"
assert runtime.install() and not runtime.install(), "install is not once"
assert sys.getswitchinterval() == runtime.SWITCH_INTERVAL_S
assert not gc.isenabled(), "the collector runs while the window starts"
assert runtime.FOREGROUND._holder == threading.get_ident(), "the gate is not held"
assert sys.modules["shibokensupport.feature"]._mod_uses_pyside is runtime.uses_pyside
runtime.start_finished()
assert gc.isenabled() and gc.get_freeze_count() > 0 and runtime.FOREGROUND._holder is None
print("ok")
"""


def test_install_tunes_the_process_once_and_start_finished_ends_the_start() -> None:
    done = subprocess.run(
        [sys.executable, "-c", INSTALL], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
