"""The window process's tuning: installed once, before the window; the start ends at first paint."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from gui.ui import runtime
from gui.ui.runtime import StartGate


def test_background_work_waits_while_the_window_starts() -> None:
    gate = StartGate()
    gate.close()
    passed = threading.Event()

    def background() -> None:
        gate.pass_through()
        passed.set()

    worker = threading.Thread(target=background)
    worker.start()
    assert not passed.wait(0.1)  # closed: the background thread is waiting
    gate.open()
    assert passed.wait(5)  # open: it goes on
    worker.join()


def test_a_start_that_never_ends_only_slows_the_background(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "START_WAIT_S", 0.05)
    gate = StartGate()
    gate.close()
    began = time.monotonic()
    gate.pass_through()  # gives up waiting while the gate is still closed
    assert 0.04 <= time.monotonic() - began < 5
    assert not gate.is_open


INSTALL = """
import gc, sys
from gui.ui import runtime
assert "PySide6" not in sys.modules, "importing gui.ui.runtime imported Qt"
assert runtime.install() and not runtime.install(), "install is not once"
assert not gc.isenabled(), "the collector runs while the window starts"
assert not runtime.START.is_open, "background work does not wait for the window's start"
assert sys.modules["shibokensupport.feature"]._mod_uses_pyside is runtime.uses_pyside
runtime.start_finished()
assert gc.isenabled() and gc.get_freeze_count() > 0 and runtime.START.is_open
print("ok")
"""


def test_install_tunes_the_process_once_and_start_finished_ends_the_start() -> None:
    done = subprocess.run(
        [sys.executable, "-c", INSTALL], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
