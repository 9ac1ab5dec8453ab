"""Qt widgets, Qt item models, and the bridge between the engine thread and the Qt thread."""

from gui.ui.pyside_guard import keep_none_alive

# Before any widget is made: PySide6 6.12 drops a reference to None per void call on Python 3.11.
keep_none_alive()

# Before any widget emits a signal: PySide6 6.12's emit would abort CPython 3.11 after ~5,000 emits.
from gui.ui import pyside_fixes as _pyside_fixes  # noqa: E402, F401
