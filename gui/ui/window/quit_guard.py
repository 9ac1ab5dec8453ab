"""The question before the window quits while jobs run on the built-in sandbox.

The built-in sandbox runs inside the console, so its jobs cannot outlive it: when the engine closes
it marks them CANCELLED with a note saying the console quit (``core.engine.merge``). The window asks
first, so nobody loses a running job by closing a window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6 import QtWidgets

if TYPE_CHECKING:
    from gui.core.records import JobRecord

__all__ = ["ask", "may_quit", "quit_without_asking"]

# A window with this property set closes without the question (a script, not a person, closes it).
_NO_QUESTION = "quitWithoutAsking"


class _Engine(Protocol):
    def open_sandbox_jobs(self) -> list[JobRecord]: ...


def may_quit(parent: QtWidgets.QWidget, engine: _Engine | None) -> bool:
    """``True`` when the window may close: no job runs on the built-in sandbox, or the person
    chose to quit anyway (those jobs then end with the console)."""
    if parent.property(_NO_QUESTION) is True:
        return True
    count = 0 if engine is None else len(engine.open_sandbox_jobs())
    return count == 0 or ask(parent, count)


def quit_without_asking(window: QtWidgets.QWidget) -> None:
    """From now on ``window`` closes without asking (for the smoke check and screenshot script,
    which close it themselves; a question there would wait for nobody)."""
    window.setProperty(_NO_QUESTION, True)


def ask(parent: QtWidgets.QWidget, count: int) -> bool:
    """Ask whether to quit with ``count`` sandbox jobs running (tests replace this)."""
    box = QtWidgets.QMessageBox  # a dialog's class, set up by PySide6 when first used
    jobs = "1 job is" if count == 1 else f"{count} jobs are"
    answer = box.question(
        parent,
        "Quit while sandbox jobs run?",
        f"{jobs} still running or waiting on the built-in sandbox. The sandbox runs inside the "
        "console, so they end when it quits and are marked as ended by the quit.\n\n"
        "Quit anyway?",
        box.StandardButton.Yes | box.StandardButton.Cancel,
        box.StandardButton.Cancel,
    )
    return answer == box.StandardButton.Yes
