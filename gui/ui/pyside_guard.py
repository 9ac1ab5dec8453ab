"""A guard against a reference-count bug of PySide6 6.12 on Python 3.11.

On Python 3.11 (where ``None`` is still reference counted), each call of a PySide6 6.12 method that
returns ``void`` in C++ (``setObjectName``, ``QSyntaxHighlighter.setFormat``,
``setPlaceholderText``, ...) gives back ``None`` without taking the reference it then hands over, so
``None``'s count drops by one per call. After a few thousand calls the interpreter aborts with
"Fatal Python error: none_dealloc: deallocating None". Python 3.12 made ``None`` immortal
(PEP 683), which hides the bug there. ``keep_none_alive`` gives ``None`` the same treatment on 3.11:
a count so large no session can use it up. It is imported by ``gui.ui`` before any widget exists.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["keep_none_alive"]

# 2**40 lost references: at a million PySide calls a second, twelve days of nonstop work.
_RESERVE = 1 << 40


def keep_none_alive() -> None:
    """Make ``None``'s reference count too large to reach zero (a no-op on Python 3.12+)."""
    if sys.version_info >= (3, 12):
        return
    count = ctypes.c_ssize_t.from_address(id(None))
    if count.value < _RESERVE:
        count.value += _RESERVE
