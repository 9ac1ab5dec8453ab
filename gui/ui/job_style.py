"""How jobs look: a colour and an icon per state, and readable times and durations."""

from __future__ import annotations

import time
from functools import cache

from PySide6.QtGui import QColor, QIcon

from gui.core.records import JobState
from gui.core.resources import resource_path
from gui.ui import theme

__all__ = ["action_icon", "format_duration_ms", "format_time", "state_color", "state_icon"]


def state_color(state: JobState) -> QColor:
    """The state's colour in the scheme in use (``gui.ui.theme``)."""
    return theme.color(f"state_{state.value}")


@cache
def state_icon(state: JobState) -> QIcon:
    """The state's icon, from ``resources/icons/status-<state>.svg``."""
    name = state.value.lower().replace("_", "-")
    return QIcon(str(resource_path("icons", f"status-{name}.svg")))


@cache
def action_icon(name: str) -> QIcon:
    """An action's icon, from ``resources/icons/job-<name>.svg``."""
    return QIcon(str(resource_path("icons", f"job-{name}.svg")))


def format_time(timestamp: float | None) -> str:
    """``14:03:27`` for today, ``2024-05-01 14:03`` for other days."""
    if timestamp is None:
        return ""
    moment = time.localtime(timestamp)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d"):
        return time.strftime("%H:%M:%S", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


def format_duration_ms(value: float | None) -> str:
    """``840 ms``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``; empty when unknown."""
    if value is None:
        return ""
    if value < 1000:
        return f"{value:.0f} ms"
    seconds = value / 1000.0
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
