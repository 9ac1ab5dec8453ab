"""How jobs look: a colour and an icon per state, and readable times and durations."""

from __future__ import annotations

import time
from functools import cache

from PySide6 import QtCore, QtGui
from PySide6.QtCore import QObject, QSize
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractButton

from gui.core.records import JobState
from gui.core.resources import resource_path
from gui.ui import theme

__all__ = [
    "APP_ICON_FILE",
    "action_icon",
    "app_icon",
    "format_duration_ms",
    "format_time",
    "retheme_icons",
    "state_color",
    "state_icon",
]


APP_ICON_FILE = "io.github.runpod_job_console.svg"


def app_icon() -> QIcon:
    """The application's icon (``resources/icons/io.github.runpod_job_console.svg``)."""
    return QIcon(str(resource_path("icons", APP_ICON_FILE)))


def state_color(state: JobState) -> QColor:
    """The state's colour in the scheme in use (``gui.ui.theme``)."""
    return theme.color(f"state_{state.value}")


@cache
def state_icon(state: JobState) -> QIcon:
    """The state's icon, from ``resources/icons/status-<state>.svg``."""
    name = state.value.lower().replace("_", "-")
    return QIcon(str(resource_path("icons", f"status-{name}.svg")))


# The line colour the action icons are drawn with; a dark scheme redraws them in a light one.
_ICON_INK = b"#4a5160"
_ICON_PIXELS = 64
# cacheKey of each icon handed out -> its name, so a scheme change can find and replace them.
_handed_out: dict[int, str] = {}


def action_icon(name: str) -> QIcon:
    """An action's icon, from ``resources/icons/job-<name>.svg``, inked for the scheme in use."""
    icon = _action_icon(name, theme.current_scheme())
    _handed_out[icon.cacheKey()] = name
    return icon


@cache
def _action_icon(name: str, scheme: str) -> QIcon:
    path = resource_path("icons", f"job-{name}.svg")
    if scheme == "light":
        return QIcon(str(path))
    # Through the modules: PySide6 sets these classes up only when a dark scheme needs them.
    data = QtCore.QByteArray(path.read_bytes().replace(_ICON_INK, theme.css("icon").encode()))
    buffer = QtCore.QBuffer(data)
    reader = QtGui.QImageReader(buffer, QtCore.QByteArray(b"svg"))
    reader.setScaledSize(QSize(_ICON_PIXELS, _ICON_PIXELS))
    return QIcon(QPixmap.fromImage(reader.read()))


def retheme_icons(root: QObject) -> int:
    """Give every action and button under ``root`` that shows an ``action_icon`` the icon for
    the scheme now in use (after a scheme change); returns how many changed."""
    changed = 0
    holders: list[QAction | QAbstractButton] = [
        *root.findChildren(QAction),
        *root.findChildren(QAbstractButton),
    ]
    for holder in holders:
        name = _handed_out.get(holder.icon().cacheKey())
        if name is not None:
            fresh = action_icon(name)
            if fresh.cacheKey() != holder.icon().cacheKey():
                holder.setIcon(fresh)
                changed += 1
    return changed


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
