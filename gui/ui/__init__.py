"""Qt widgets, Qt item models, and the bridge between the engine thread and the Qt thread.

Importing this package imports PySide6 and replaces the source scan PySide6 runs after every
import in the process (``quiet_feature_scan``); every module of the package imports it first.
"""

from __future__ import annotations

import sys
from types import ModuleType

import PySide6.QtCore  # noqa: F401  (installs the import hook that quiet_feature_scan tames)

__all__ = ["quiet_feature_scan", "uses_pyside"]

_QT_PACKAGES = ("PySide6", "shiboken6", "Shiboken")


def uses_pyside(module: ModuleType) -> bool:
    """Whether ``module``'s globals hold a PySide6 module or class (what it imported)."""
    for value in list(vars(module).values()):
        if isinstance(value, ModuleType):
            name = value.__name__
        elif isinstance(value, type):
            name = value.__module__
        else:
            continue
        if isinstance(name, str) and name.startswith(_QT_PACKAGES):
            return True
    return False


def quiet_feature_scan() -> bool:
    """Let PySide6 tell a module that uses it from its globals instead of reading its source.

    Once ``PySide6.QtCore`` is imported, PySide6 (for its opt-in ``from __feature__ import``)
    calls ``inspect.getsource`` on every module any thread imports afterwards, to look for the
    word "PySide6": it read about 150 files at start-up (a quarter of the time our imports took),
    and, run by the Qt thread's imports while the engine thread was importing pydantic, it touched
    half-imported modules ("partially initialized module", seen once in ~25 starts). The console
    selects no ``__feature__``, so only the answer's use (feature switching stays off for every
    module) matters; this check gives the same answer for our modules without reading any file.
    Returns whether the scan was found and replaced (PySide6 versions without it: False).
    """
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = uses_pyside
    return True


quiet_feature_scan()
