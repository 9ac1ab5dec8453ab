"""The engine's loop thread: made on its own thread, calls made before it exists wait for it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from gui.core.engine import loop_thread
from gui.core.engine.loop_thread import LoopThread


async def _where() -> str:
    return threading.current_thread().name


def test_calls_made_before_the_loop_exists_run_on_it_once_it_does() -> None:
    go = threading.Event()  # as while the window starts: the thread waits before making its loop
    reached = threading.Event()

    def pause() -> None:
        reached.set()
        go.wait(10)

    runner = LoopThread("test-loop", pause_point=pause)
    try:
        runner.start()
        early = runner.call(_where())
        assert reached.wait(10), "the loop's thread reached its pause point"
        assert not early.done()
    finally:
        go.set()
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
    def broken(pause: Callable[[], None]) -> asyncio.AbstractEventLoop:
        raise OSError("no selector")

    monkeypatch.setattr(loop_thread, "new_pausing_loop", broken)
    go = threading.Event()
    runner = LoopThread("test-loop", pause_point=lambda: go.wait(10) and None)
    try:
        runner.start()
        before = runner.call(_where())
    finally:
        go.set()
    with pytest.raises(OSError, match="no selector"):
        before.result(timeout=10)
    with pytest.raises(OSError, match="no selector"):
        runner.call(_where()).result(timeout=10)  # asked after the failure
    with pytest.raises(RuntimeError):
        runner.loop()
    runner.stop()  # returns: there is no loop to stop
    assert not runner.running
