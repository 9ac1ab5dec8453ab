"""Finds the files in ``resources/`` whether the app runs installed or from a checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["resource_path"]


def resource_path(*parts: str) -> Path:
    """The path of a file under ``resources/`` (installed as the package ``gui.resources``)."""
    return _resources_root().joinpath(*parts)


@cache
def _resources_root() -> Path:
    """Found once: resolving it walks the whole path (a file-system call per folder), and the
    window asks for some 60 icons and templates on its start."""
    checkout = Path(__file__).resolve().parents[2] / "resources"
    if checkout.is_dir():
        return checkout
    # Installed or bundled, the folder sits inside the package as ``gui/resources``. Look there
    # first: without an ``__init__.py`` it is a namespace package, whose importlib path
    # (a MultiplexedPath) does not turn into a usable filesystem path with ``str()``.
    packaged = Path(__file__).resolve().parents[1] / "resources"
    if packaged.is_dir():
        return packaged
    import importlib.resources

    return Path(str(importlib.resources.files("gui.resources")))
