"""Builds the main window on a QApplication; ``run_app`` is the ``job-console`` entry point."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from gui import __version__
from gui.core.engine.engine import Engine, SandboxLike
from gui.core.errors import ConsoleError
from gui.core.paths import resolve_data_dir
from gui.core.profiles.profiles import ProfileStore, make_key_provider
from gui.core.profiles.s3refs import make_body_resolver
from gui.core.profiles.secrets import SecretStore
from gui.ui import runtime
from gui.ui.bridge import EngineLike
from gui.ui.window.main_window import MainWindow

__all__ = ["create_window", "run_app"]


def _builtin_sandbox() -> SandboxLike:
    """The built-in sandbox, made on the engine's thread when first used: aiohttp and the sandbox
    are imported there, not on the window's thread."""
    from gui.sandbox import builtin_sandbox

    return builtin_sandbox()


def _start_engine(data_dir: Path, profiles: ProfileStore, secrets: SecretStore) -> Engine:
    """The job engine: API keys and S3 secrets come from the keyring as each request leaves."""
    engine = Engine(
        data_dir,
        key_provider=make_key_provider(profiles, secrets),
        body_resolver=make_body_resolver(secrets),
        sandbox=_builtin_sandbox,
    )
    # Not waiting: the window shows while the engine imports its HTTP stack and loads the history.
    engine.start(wait=False)
    return engine


def _start_engine_process(data_dir: Path) -> EngineLike:
    """The job engine in a process of its own (``job-console engine``): the window's Qt thread
    never waits for its GIL. Started, not waited for: the window shows while it starts; a start
    that fails is told by its ``started`` (the window says so and offers a restart)."""
    from gui.core.engine.process.remote import RemoteEngine

    engine = RemoteEngine(data_dir)
    try:
        engine.start()
    except ConsoleError:
        pass  # engine.started holds the words
    return engine


ENGINES = ("process", "thread")
"""Where the window's engine runs: ``"process"`` (the default: a child process) or ``"thread"``
(in the window's process, as the command line runs it: for tests that need the window's keyring,
and a fallback when a child process can't be started here)."""


def create_window(
    data_dir: Path | str | None = None, *, profile: str | None = None, engine: str = "process"
) -> MainWindow:
    """The main window, on the QApplication that already exists; closing it stops its engine.

    ``profile`` names the profile selected at first (``job-console --profile NAME``); ``engine``
    where the engine runs (``ENGINES``).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine is one of {', '.join(ENGINES)}, not {engine!r}")
    folder = resolve_data_dir(data_dir)
    secrets = SecretStore()
    profiles = ProfileStore(folder, secrets)

    def start() -> EngineLike:
        if engine == "thread":
            return _start_engine(folder, profiles, secrets)
        return _start_engine_process(folder)

    first = start()
    try:
        return MainWindow(
            folder, first, profiles=profiles, secrets=secrets, profile=profile, restart=start
        )
    except BaseException:
        first.close()
        raise


class _FirstPaint(QObject):
    """Calls ``then()`` once: right after ``window`` first painted, when the application quits,
    or after ``limit_ms``, whichever comes first.

    It watches the window alone, not the application: an application-wide filter would have
    every event of every widget (some 1,400 while the window shows) cross into Python.
    """

    def __init__(
        self, app: QApplication, window: QWidget, then: Callable[[], None], limit_ms: int = 2000
    ) -> None:
        super().__init__(app)
        self._window = window
        self._then: Callable[[], None] | None = then
        window.installEventFilter(self)
        app.aboutToQuit.connect(self._finish)
        QTimer.singleShot(limit_ms, self._finish)  # minimised, or a platform that never paints

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._window.removeEventFilter(self)
            # A window is painted in one pass, parents before children: a zero timer fires once
            # the whole of it is on the screen.
            QTimer.singleShot(0, self._finish)
        return False

    def _finish(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            if shiboken6.isValid(self._window):
                self._window.removeEventFilter(self)
            then()


def run_app(args: argparse.Namespace) -> int:
    """The window on a QApplication, until it quits. ``runtime.install()`` comes first (here if
    ``gui.cli.main`` did not already call it, before it imported this module's window modules)."""
    runtime.install()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("RunPod Job Console")
    app.setOrganizationName("runpod-job-console")
    app.setApplicationVersion(__version__)
    # Until the window has painted (runtime.install), the collector is off and the window's
    # background work (the first validation imports pydantic) waits at the start gate instead of
    # taking the GIL from the window's start; runtime.start_finished lets both go.
    try:
        window = create_window(
            getattr(args, "data_dir", None),
            profile=getattr(args, "profile", None),
            engine=getattr(args, "engine", None) or "process",
        )
        # Made before show: a platform may paint within it.
        _FirstPaint(app, window, runtime.start_finished)
        window.show()
    except BaseException:
        runtime.start_finished()
        raise
    if getattr(args, "smoke", False):
        from gui.smoke import install_smoke

        install_smoke(window, app)
    elif os.environ.get("JOB_CONSOLE_STARTUP_PROBE"):
        from gui.smoke import install_startup_probe

        install_startup_probe(app, window)
    return app.exec()
