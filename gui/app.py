"""Builds the main window on a QApplication; ``run_app`` is the ``job-console`` entry point."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QDir
from PySide6.QtWidgets import QApplication

from gui import __version__
from gui.core.engine import Engine
from gui.core.paths import resolve_data_dir
from gui.core.resources import resource_path
from gui.ui.main_window import MainWindow

__all__ = ["create_window", "run_app"]


def _start_engine(data_dir: Path) -> Engine:
    engine = Engine(data_dir)
    engine.start()
    return engine


def create_window(data_dir: Path | str | None = None) -> MainWindow:
    """The main window, on the QApplication that already exists; closing it stops its engine."""
    QDir.addSearchPath("icons", str(resource_path("icons")))
    folder = resolve_data_dir(data_dir)
    engine = _start_engine(folder)
    try:
        return MainWindow(folder, engine)
    except BaseException:
        engine.close()
        raise


def run_app(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("RunPod Job Console")
    app.setOrganizationName("runpod-job-console")
    app.setApplicationVersion(__version__)
    window = create_window(getattr(args, "data_dir", None))
    window.show()
    return app.exec()
