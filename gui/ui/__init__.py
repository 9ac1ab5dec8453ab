"""Qt widgets, Qt item models, and the bridge between the engine thread and the Qt thread."""

from gui.ui.pyside_guard import keep_none_alive

# Before any widget is made: PySide6 6.12 drops a reference to None per void call on Python 3.11.
keep_none_alive()
