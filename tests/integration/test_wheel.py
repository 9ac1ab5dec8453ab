"""The installed package is complete: `pip install .` (the README's first command) gets every module
and every resource, and the installed app finds its icons and example templates.

The top-level resources/ folder is mapped into the package as gui.resources; a wheel once shipped
without it and `job-console` failed at start. This builds the real wheel and looks inside.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # A clean copy: setuptools reuses a checkout's build/ folder, which can hide a broken config.
    source = tmp_path_factory.mktemp("source") / "project"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests"
        ),
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_holds_every_module_and_every_resource(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "gui").rglob("*.py")}
    resources = {
        "gui/resources/" + p.relative_to(ROOT / "resources").as_posix()
        for p in (ROOT / "resources").rglob("*")
        if p.is_file()
    }
    assert "gui/resources/templates/echo.json" in resources
    assert modules - names == set()
    assert resources - names == set()


def test_the_installed_package_finds_its_resources(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), wheel],
        check=True,
        capture_output=True,
        timeout=300,
    )
    script = (
        "import gui\n"
        "from gui.core.resources import resource_path\n"
        "from gui.core.storage.templates import TemplateStore\n"
        "import pathlib, sys, tempfile\n"
        "print(gui.__file__)\n"
        "print(resource_path('icons', 'io.github.runpod_job_console.svg').is_file())\n"
        "store = TemplateStore(pathlib.Path(tempfile.mkdtemp()))\n"
        "store.install_examples()\n"
        "print(sorted(store.names()))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout, whose resources/ would be found first
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    where, icon, names = result.stdout.splitlines()
    assert where.startswith(str(target)), f"imported gui from {where}, not from the wheel"
    assert icon == "True"
    assert names == str(["Echo", "Failing job", "Image", "Long job", "Streaming"])
