"""The window's colours in one place: a palette per scheme (light, dark), the scheme in use, and
following the system's scheme (Qt 6.5+ ``styleHints().colorScheme()``).

Widgets ask ``color(role)`` / ``css(role)`` when they paint or set a message, so they follow a
scheme change; a widget with a fixed style sheet registers it with ``bind_style`` and gets it
re-applied. ``JOB_CONSOLE_COLOR_SCHEME=dark|light`` forces a scheme (offscreen and plain X11 have
no platform theme to ask).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

__all__ = [
    "ENV_VAR",
    "PREFERENCES",
    "Scheme",
    "ThemeManager",
    "app_theme",
    "bind_style",
    "color",
    "contrast_ratio",
    "css",
    "current_scheme",
    "dark_palette",
]

Scheme = Literal["light", "dark"]
ENV_VAR = "JOB_CONSOLE_COLOR_SCHEME"
PREFERENCES = ("system", "light", "dark")

# Every colour a widget of ours draws itself. Dark values are lighter hues of the same meaning,
# each with at least 4.5:1 contrast on its background (see tests/ui/test_theme.py).
_COLORS: dict[Scheme, dict[str, str]] = {
    "light": {
        "error": "#d32f2f",
        "mark_error": "#d32f2f",
        "mark_warning": "#e69500",
        "warning": "#8a5300",
        "success": "#146c43",
        "muted": "#57606a",
        "code_bg": "#f6f8fa",
        "banner_bg": "#fdecea",
        "banner_border": "#f5c2c0",
        "banner_text": "#8a1c14",
        "notice_bg": "#fff3cd",
        "notice_text": "#664d03",
        "hint": "#57606a",
        "icon": "#4a5160",
        "json_key": "#1f5f9e",
        "json_string": "#1d6b40",
        "json_number": "#9a4d00",
        "json_literal": "#7b3a99",
        "json_invalid": "#b02a1e",
        "json_punct": "#5f6b76",
        "state_SUBMITTING": "#6e7781",
        "state_IN_QUEUE": "#8a5f00",
        "state_IN_PROGRESS": "#1a5fd0",
        "state_COMPLETED": "#1a7f37",
        "state_FAILED": "#cf222e",
        "state_CANCELLED": "#6e7781",
        "state_TIMED_OUT": "#bc4c00",
        "state_EXPIRED": "#6e7781",
        "state_PURGED": "#6e7781",
        "state_NOT_SENT": "#a40e26",
    },
    "dark": {
        "error": "#ff7b72",
        "mark_error": "#ff7b72",
        "mark_warning": "#e3b341",
        "warning": "#e3b341",
        "success": "#56d364",
        "muted": "#9ea7b3",
        "code_bg": "#161b22",
        "banner_bg": "#3d1414",
        "banner_border": "#8b2c2c",
        "banner_text": "#ffc9c4",
        "notice_bg": "#3b2e05",
        "notice_text": "#f5d77a",
        "hint": "#9ea7b3",
        "icon": "#c9d1d9",
        "json_key": "#79c0ff",
        "json_string": "#7ee787",
        "json_number": "#ffa657",
        "json_literal": "#d2a8ff",
        "json_invalid": "#ff7b72",
        "json_punct": "#9ea7b3",
        "state_SUBMITTING": "#9ea7b3",
        "state_IN_QUEUE": "#e3b341",
        "state_IN_PROGRESS": "#58a6ff",
        "state_COMPLETED": "#56d364",
        "state_FAILED": "#ff7b72",
        "state_CANCELLED": "#9ea7b3",
        "state_TIMED_OUT": "#f0883e",
        "state_EXPIRED": "#8b949e",
        "state_PURGED": "#8b949e",
        "state_NOT_SENT": "#ffa198",
    },
}

_current: Scheme = "light"
# The application's own look before any change: the light scheme when the system is light.
_original: tuple[str, QPalette] | None = None
_bound: list[tuple[QWidget, Callable[[], str]]] = []


def current_scheme() -> Scheme:
    """The scheme the window is drawn in now."""
    return _current


def color(role: str) -> QColor:
    """The colour for ``role`` (e.g. ``"error"``, ``"json_key"``, ``"state_FAILED"``) now."""
    return QColor(_COLORS[_current][role])


def css(role: str) -> str:
    """``color(role)`` as ``#rrggbb`` for style sheets and rich text."""
    return _COLORS[_current][role]


def bind_style(widget: QWidget, style: Callable[[], str]) -> None:
    """Set ``widget``'s style sheet from ``style()`` now and again after each scheme change."""
    widget.setStyleSheet(style())
    _bound.append((widget, style))
    widget.destroyed.connect(lambda *_: _forget(widget))


def _forget(widget: QWidget) -> None:
    _bound[:] = [(w, s) for w, s in _bound if w is not widget]


def _restyle() -> None:
    for widget, style in list(_bound):
        try:
            widget.setStyleSheet(style())
        except RuntimeError:  # its C++ side is gone
            _forget(widget)


def _luminance(value: QColor) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(value.redF())
        + 0.7152 * channel(value.greenF())
        + 0.0722 * channel(value.blueF())
    )


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG contrast ratio of two colours (1..21; 4.5 is enough for normal text)."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def dark_palette() -> QPalette:
    """A complete dark palette for the Fusion style."""
    palette = QPalette()
    role = QPalette.ColorRole
    group = QPalette.ColorGroup
    base = {
        role.Window: "#202327",
        role.WindowText: "#e6e8eb",
        role.Base: "#16181b",
        role.AlternateBase: "#24282d",
        role.ToolTipBase: "#2b3036",
        role.ToolTipText: "#e6e8eb",
        role.PlaceholderText: "#8b949e",
        role.Text: "#e6e8eb",
        role.Button: "#2b3036",
        role.ButtonText: "#e6e8eb",
        role.BrightText: "#ffffff",
        role.Light: "#3a4048",
        role.Midlight: "#30353c",
        role.Mid: "#24282d",
        role.Dark: "#121417",
        role.Shadow: "#000000",
        role.Highlight: "#2f6fd0",
        role.HighlightedText: "#ffffff",
        role.Link: "#79c0ff",
        role.LinkVisited: "#d2a8ff",
    }
    for key, value in base.items():
        palette.setColor(key, QColor(value))
    for key, value in {
        role.WindowText: "#7d848c",
        role.Text: "#7d848c",
        role.ButtonText: "#7d848c",
        role.Highlight: "#3a4048",
    }.items():
        palette.setColor(group.Disabled, key, QColor(value))
    return palette


def _forced_scheme() -> Scheme | None:
    value = os.environ.get(ENV_VAR, "").strip().lower()
    return value if value in ("light", "dark") else None  # type: ignore[return-value]


def _system_scheme() -> Scheme:
    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


class ThemeManager(QObject):
    """Applies a preference (``system``, ``light``, ``dark``) to the application and follows the
    system's scheme while the preference is ``system``. The environment variable wins over both."""

    sig_scheme_changed = Signal(str)
    """The window is now drawn in this scheme ("light" or "dark")."""

    def __init__(self, app: QApplication, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._preference = "system"
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_scheme_changed)

    @property
    def preference(self) -> str:
        return self._preference

    def set_preference(self, preference: str) -> Scheme:
        """Use ``preference`` from now on; returns the scheme now in use."""
        self._preference = preference if preference in PREFERENCES else "system"
        return self.apply()

    def wanted_scheme(self) -> Scheme:
        forced = _forced_scheme()
        if forced is not None:
            return forced
        if self._preference in ("light", "dark"):
            return self._preference  # type: ignore[return-value]
        return _system_scheme()

    def apply(self) -> Scheme:
        """Draw the application in the wanted scheme (nothing happens when it already is)."""
        global _current, _original
        scheme = self.wanted_scheme()
        if scheme == _current:
            return scheme  # re-styling every widget costs start-up time for nothing
        if _original is None:
            # What to go back to, taken before the first change (not before: a first look at
            # the QStyle makes PySide6 build its 16 enums, ~3 ms of a light window's start).
            _original = (self._app.style().name(), self._app.palette())
        _current = scheme  # before the palette: widgets repainting on its change read it
        if scheme == "dark":
            self._app.setStyle("Fusion")  # platform styles may ignore a dark palette
            self._app.setPalette(dark_palette())
        elif _original is not None and _system_scheme() == "light":
            self._app.setStyle(_original[0])
            self._app.setPalette(_original[1])
        else:  # light chosen on a dark system: Fusion's own light palette
            self._app.setStyle("Fusion")
            self._app.setPalette(self._app.style().standardPalette())
        _restyle()
        self.sig_scheme_changed.emit(scheme)
        return scheme

    def _on_system_scheme_changed(self, _scheme: object) -> None:
        if self._preference == "system":
            self.apply()


_app_theme: ThemeManager | None = None


def app_theme() -> ThemeManager:
    """The application's one ``ThemeManager`` (made on first use; a QApplication must exist).
    One only: two would each follow the system's scheme with their own preference."""
    global _app_theme
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("app_theme() needs a QApplication")
    if _app_theme is None:
        _app_theme = ThemeManager(app)
    return _app_theme
