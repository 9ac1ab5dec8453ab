"""Builds the main window on a QApplication; ``run_app`` is the ``job-console`` entry point."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit

from gui import __version__
from gui.core.paths import resolve_data_dir

__all__ = ["create_window", "run_app"]


def create_window(data_dir: Path | str | None = None) -> QMainWindow:
    """The main window, on the QApplication that already exists."""
    resolve_data_dir(data_dir)
    window = QMainWindow()
    window.setWindowTitle("RunPod Job Console")
    editor = QPlainTextEdit('{\n  "input": {\n    "prompt": "Hello"\n  }\n}\n')
    editor.setObjectName("requestEditor")
    window.setCentralWidget(editor)
    window.resize(1100, 720)
    return window


def run_app(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("RunPod Job Console")
    app.setOrganizationName("runpod-job-console")
    app.setApplicationVersion(__version__)
    window = create_window(getattr(args, "data_dir", None))
    window.show()
    return app.exec()
