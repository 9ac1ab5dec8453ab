"""The engine and the sandbox must never load Qt: they run headless in the CLI and in CI."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import gui.core
import gui.sandbox


def _all_modules() -> list[str]:
    names = []
    for package in (gui.core, gui.sandbox):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            names.append(info.name)
    return names


def test_core_and_sandbox_never_import_qt() -> None:
    modules = _all_modules()
    assert "gui.core.records" in modules  # the walk found the package's modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'PyQt5', 'PyQt6', 'qasync'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Qt was loaded by gui.core/gui.sandbox: {result.stdout}"


def test_cli_help_imports_no_qt() -> None:
    script = (
        "import sys\n"
        "from gui.cli import build_parser\n"
        "build_parser()\n"
        "print(any(m.startswith('PySide6') for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
