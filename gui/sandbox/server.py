"""Run the sandbox inside a running loop (:class:`SandboxServer`) or on its own thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from types import TracebackType

from aiohttp import web

from gui.core.targets import SANDBOX_ENDPOINT_ID
from gui.sandbox.app import SandboxRoutes
from gui.sandbox.config import EndpointSpec, SandboxConfig

__all__ = ["SandboxServer", "SandboxThread", "builtin_sandbox"]

ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'


class SandboxServer:
    """A RunPod-compatible endpoint served over HTTP by aiohttp, inside the caller's event loop.

    ``request_log``: a logger that gets one line per request (``None``: no request log, fastest).
    """

    def __init__(
        self, config: SandboxConfig | None = None, request_log: logging.Logger | None = None
    ) -> None:
        self.config = config or SandboxConfig()
        self._request_log = request_log
        self._routes: SandboxRoutes | None = None
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._host = "127.0.0.1"
        self._port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0: a free port, see :attr:`port`); returns once listening."""
        if self._runner is not None:
            raise RuntimeError("This sandbox server is already started.")
        self._routes = SandboxRoutes(self.config)
        runner_options: dict[str, object] = {"handle_signals": False, "shutdown_timeout": 0.5}
        if self._request_log is None:
            runner_options["access_log"] = None
        else:
            runner_options.update(access_log=self._request_log, access_log_format=ACCESS_LOG_FORMAT)
        runner = web.AppRunner(self._routes.application(), **runner_options)  # type: ignore[arg-type]
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._host = host
        self._port = _bound_port(runner, port)
        self._routes.start_configured()
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v2``: append ``/{endpoint_id}/run`` and so on."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}/v2"

    @property
    def routes(self) -> SandboxRoutes:
        """The live state (endpoints, jobs); for tests and the app's status display."""
        if self._routes is None:
            raise RuntimeError("The sandbox server is not started.")
        return self._routes

    async def stop(self) -> None:
        """Cancel workers and webhook deliveries and close every socket. Safe to call twice."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._routes is not None:
            await self._routes.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _sweep_forever(self) -> None:
        shortest = min(self.config.retention_run_s, self.config.retention_runsync_s)
        interval = min(1.0, max(0.05, shortest / 2))
        while True:
            await asyncio.sleep(interval)
            for endpoint in self.routes.endpoints.values():
                endpoint.sweep()


def _bound_port(runner: web.AppRunner, requested: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return requested


class SandboxThread:
    """A :class:`SandboxServer` on its own event loop thread, for tests and the command line.

    ``with SandboxThread(config) as sandbox: ... sandbox.base_url ...``; ``start()`` returns once
    the server listens (or raises what stopped it), ``stop()`` once it is closed and its thread
    ended.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        request_log: logging.Logger | None = None,
    ) -> None:
        self.server = SandboxServer(config, request_log=request_log)
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stopping: asyncio.Event | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("This sandbox thread is already started.")
        self._thread = threading.Thread(target=self._main, name="sandbox", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            self._thread.join()
            self._thread = None
            raise self._failure

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stopping is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join()
        self._thread = None

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The server's loop, for ``asyncio.run_coroutine_threadsafe`` from tests."""
        if self._loop is None:
            raise RuntimeError("The sandbox thread is not started.")
        return self._loop

    def __enter__(self) -> SandboxThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _main(self) -> None:
        # Tests and the command line only: the window's built-in sandbox runs on the engine's loop.
        with asyncio.Runner() as runner:
            runner.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            await self.server.start(self._host, self._port)
        except BaseException as exc:
            self._failure = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self.server.stop()


def builtin_sandbox() -> SandboxServer:
    """The console's built-in sandbox, as a window's engine runs it: the sandbox target's endpoint
    is declared, so the Workers tab shows its workers before the first job is sent."""
    builtin = EndpointSpec(SANDBOX_ENDPOINT_ID, name="built-in-sandbox")
    return SandboxServer(SandboxConfig(endpoints=[builtin]))
