"""An asyncio event loop on a thread of its own, made on that thread.

The engine's loop: ``start`` returns at once and the thread imports asyncio and makes the loop
itself, so the caller's thread never imports asyncio. Coroutines handed to ``call`` before the
loop exists wait in a queue and are passed to it once it does; if it can't be made, each of them
(and each later call) gets that error.

    runner = LoopThread("engine-loop")
    runner.start()
    future = runner.call(some_coroutine())   # a concurrent.futures.Future, from any thread
    ...
    runner.stop()
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

__all__ = ["LoopThread", "copy_outcome"]

log = logging.getLogger(__name__)
T = TypeVar("T")

_Early = tuple[Coroutine[Any, Any, Any], concurrent.futures.Future[Any]]


def new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop, made (and asyncio imported) on the thread that calls it."""
    import asyncio

    return asyncio.new_event_loop()


class LoopThread:
    """Runs one event loop on one daemon thread; thread-safe. ``start`` once, ``stop`` once."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._early: list[_Early] = []  # calls made before the loop existed
        self._error: Exception | None = None  # why the loop could not be made
        self._ready = threading.Event()  # set once the loop exists, or could not be made

    @property
    def running(self) -> bool:
        """True from ``start`` to ``stop`` (the loop may still be in the making)."""
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("The loop's thread is already started.")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, once made (waits for it)."""
        if self._thread is None:
            raise RuntimeError("The loop's thread is not started.")
        self._ready.wait()
        if self._loop is None:
            raise RuntimeError("The event loop could not be made.") from self._error
        return self._loop

    def call(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop; its result (or error) comes in the returned future."""
        with self._lock:
            loop = self._loop
            if loop is None and self._thread is not None:
                # Not made yet (or never): the coroutine waits for it, or gets why not.
                outer: concurrent.futures.Future[T] = concurrent.futures.Future()
                if self._error is not None:
                    _fail(coro, outer, self._error)
                else:
                    self._early.append((coro, outer))
                return outer
        if loop is None or loop.is_closed():
            coro.close()
            raise RuntimeError("The loop is not running: call start() first.")
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, loop)

    def stop(self) -> None:
        """Stop the loop (what runs on it must be finished first), join the thread, close."""
        thread = self._thread
        if thread is None:
            return
        self._ready.wait()
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        if loop is not None:
            loop.close()
        with self._lock:
            self._loop = self._thread = self._error = None
            self._ready.clear()

    def _run(self) -> None:
        try:
            import asyncio  # here, on the loop's own thread

            loop = new_loop()
        except Exception as exc:  # nothing can run: say so to all who asked, and who will ask
            log.exception("the event loop of %s could not be made", self._name)
            with self._lock:
                self._error = exc
                early, self._early = self._early, []
            for coro, outer in early:
                _fail(coro, outer, exc)
            self._ready.set()
            return
        with self._lock:
            self._loop = loop
            early, self._early = self._early, []
        for coro, outer in early:
            if outer.cancelled():  # given up on before the loop existed
                coro.close()
            else:
                _chain(asyncio.run_coroutine_threadsafe(coro, loop), outer)
        self._ready.set()
        loop.run_forever()


def _chain(inner: concurrent.futures.Future[T], outer: concurrent.futures.Future[T]) -> None:
    """``outer`` (handed out before the loop existed) follows ``inner``; cancelling it cancels
    ``inner``."""

    def copy(done: concurrent.futures.Future[T]) -> None:
        if not outer.done():
            copy_outcome(done, outer)

    def cancel(done: concurrent.futures.Future[T]) -> None:
        if done.cancelled():
            inner.cancel()

    outer.add_done_callback(cancel)
    inner.add_done_callback(copy)


def copy_outcome(done: concurrent.futures.Future[T], into: concurrent.futures.Future[T]) -> None:
    """Give ``into`` what ``done`` ended with: its result, its error, or its cancellation."""
    if done.cancelled():
        into.cancel()
    elif (error := done.exception()) is not None:
        into.set_exception(error)
    else:
        into.set_result(done.result())


def _fail(
    coro: Coroutine[Any, Any, Any], outer: concurrent.futures.Future[Any], error: Exception
) -> None:
    """``coro`` will never run: close it and give its caller ``error``."""
    coro.close()
    if outer.set_running_or_notify_cancel():
        outer.set_exception(error)
