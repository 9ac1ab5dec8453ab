"""The engine's loop thread: made on its own thread, calls made before it exists wait for it."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from gui.core import foreground
from gui.core.engine.loop_thread import LoopThread
from gui.core.foreground import FOREGROUND


async def _where() -> str:
    return threading.current_thread().name


def test_calls_made_before_the_loop_exists_run_on_it_once_it_does() -> None:
    runner = LoopThread("test-loop")
    FOREGROUND.acquire()  # as while the window starts: the thread waits before making its loop
    try:
        runner.start()
        early = runner.call(_where())
        time.sleep(0.05)
        assert not early.done()
    finally:
        FOREGROUND.release()
    try:
        assert early.result(timeout=10) == "test-loop"
        assert runner.call(_where()).result(timeout=10) == "test-loop"
        assert runner.loop().is_running()
    finally:
        runner.stop()
    assert not runner.running
    with pytest.raises(RuntimeError):
        runner.call(_where())


def test_a_loop_that_cannot_be_made_fails_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> asyncio.AbstractEventLoop:
        raise OSError("no selector")

    monkeypatch.setattr(foreground, "new_gated_loop", broken)
    runner = LoopThread("test-loop")
    FOREGROUND.acquire()
    try:
        runner.start()
        before = runner.call(_where())
    finally:
        FOREGROUND.release()
    with pytest.raises(OSError, match="no selector"):
        before.result(timeout=10)
    with pytest.raises(OSError, match="no selector"):
        runner.call(_where()).result(timeout=10)  # asked after the failure
    with pytest.raises(RuntimeError):
        runner.loop()
    runner.stop()  # returns: there is no loop to stop
    assert not runner.running
