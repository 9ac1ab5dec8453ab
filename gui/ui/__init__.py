"""Qt widgets, Qt item models, and the bridge between the engine thread and the Qt thread.

Importing this package has no side effect. The window process's tuning (PySide6's set-up, the
switch interval, the garbage collector, the foreground gate) is ``gui.ui.runtime.install()``,
called once before the window's modules are imported (``gui.cli.main``, ``gui.app.run_app``).
"""
