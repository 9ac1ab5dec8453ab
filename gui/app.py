"""Builds the main window on a QApplication; ``run_app`` is the ``job-console`` entry point."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import QDir
from PySide6.QtWidgets import QApplication

from gui import __version__
from gui.core.engine import Engine
from gui.core.paths import resolve_data_dir
from gui.core.profiles import ProfileStore, make_key_provider
from gui.core.resources import resource_path
from gui.core.s3refs import make_body_resolver
from gui.core.secrets import SecretStore
from gui.ui.main_window import MainWindow

__all__ = ["create_window", "run_app"]


def _start_engine(data_dir: Path, profiles: ProfileStore, secrets: SecretStore) -> Engine:
    """The job engine: API keys and S3 secrets come from the keyring as each request leaves."""
    engine = Engine(
        data_dir,
        key_provider=make_key_provider(profiles, secrets),
        body_resolver=make_body_resolver(secrets),
    )
    # Not waiting: the window shows while the engine imports its HTTP stack and loads the history.
    engine.start(wait=False)
    return engine


def _import_request_rules() -> None:
    """Import RunPod's request rules (pydantic) on the Qt thread, before any other thread runs.

    Not on the validation thread: PySide6's import hook reads every newly imported module's
    source, which runs pydantic's module ``__getattr__`` and so imports more of pydantic from
    inside the hook; while another thread (the engine's) imports at the same time, that nested
    import can fail with "partially initialized module" (seen once in a benchmark run of ~25
    starts). Costs about 100 ms before the window shows; httpx, aiohttp and keyring stay off the
    Qt thread.
    """
    import gui.core.request_rules  # noqa: F401


def create_window(data_dir: Path | str | None = None, *, profile: str | None = None) -> MainWindow:
    """The main window, on the QApplication that already exists; closing it stops its engine.

    ``profile`` names the profile selected at first (``job-console --profile NAME``).
    """
    QDir.addSearchPath("icons", str(resource_path("icons")))
    _import_request_rules()
    folder = resolve_data_dir(data_dir)
    secrets = SecretStore()
    profiles = ProfileStore(folder, secrets)
    engine = _start_engine(folder, profiles, secrets)
    try:
        return MainWindow(folder, engine, profiles=profiles, secrets=secrets, profile=profile)
    except BaseException:
        engine.close()
        raise


def run_app(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("RunPod Job Console")
    app.setOrganizationName("runpod-job-console")
    app.setApplicationVersion(__version__)
    window = create_window(getattr(args, "data_dir", None), profile=getattr(args, "profile", None))
    window.show()
    if getattr(args, "smoke", False):
        from gui.smoke import install_smoke

        install_smoke(window, app)
    elif os.environ.get("JOB_CONSOLE_STARTUP_PROBE"):
        from gui.smoke import install_startup_probe

        install_startup_probe(app, window)
    return app.exec()
