"""The engine's loop thread: made on its own thread, calls made before it exists wait for it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gui.core.engine import loop_thread
from gui.core.engine.loop_thread import LoopThread


async def _where() -> str:
    return threading.current_thread().name


def test_calls_made_before_the_loop_exists_run_on_it_once_it_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    go = threading.Event()  # the thread waits here before making its loop
    reached = threading.Event()

    def slow_loop() -> asyncio.AbstractEventLoop:
        reached.set()
        go.wait(10)
        return asyncio.new_event_loop()

    monkeypatch.setattr(loop_thread, "new_loop", slow_loop)
    runner = LoopThread("test-loop")
    try:
        runner.start()
        early = runner.call(_where())
        assert reached.wait(10), "the loop's thread is making its loop"
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
    go = threading.Event()

    def broken() -> asyncio.AbstractEventLoop:
        go.wait(10)
        raise OSError("no selector")

    monkeypatch.setattr(loop_thread, "new_loop", broken)
    runner = LoopThread("test-loop")
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
