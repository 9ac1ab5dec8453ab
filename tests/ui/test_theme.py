"""Light and dark schemes: a dark window really is dark, and every colour we draw text in reads
well (WCAG contrast >= 4.5:1) on the background it is drawn on, in both schemes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui.ui import theme

TEXT_ROLES = [
    "error",
    "warning",
    "success",
    "muted",
    "hint",
    "json_key",
    "json_string",
    "json_number",
    "json_literal",
    "json_invalid",
    "json_punct",
    *(f"state_{name}" for name in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED")),
    *(f"state_{name}" for name in ("CANCELLED", "TIMED_OUT", "EXPIRED", "PURGED", "NOT_SENT")),
    "state_SUBMITTING",
]


@pytest.fixture
def manager(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[theme.ThemeManager]:
    monkeypatch.delenv(theme.ENV_VAR, raising=False)
    themes = theme.app_theme()
    try:
        yield themes
    finally:
        themes.set_preference("light")  # the QApplication outlives the test


def _role(palette: QPalette, role: QPalette.ColorRole) -> QColor:
    return palette.color(QPalette.ColorGroup.Active, role)


def test_dark_preference_gives_a_dark_window_with_readable_text(
    manager: theme.ThemeManager, qapp: QApplication
) -> None:
    seen: list[str] = []
    manager.sig_scheme_changed.connect(seen.append)
    assert manager.set_preference("dark") == "dark"
    palette = qapp.palette()
    role = QPalette.ColorRole
    window = _role(palette, role.Window)
    assert window.lightnessF() < 0.25
    assert theme.current_scheme() == "dark" and seen == ["dark"]
    for background, text in (
        (role.Window, role.WindowText),
        (role.Base, role.Text),
        (role.Button, role.ButtonText),
        (role.Highlight, role.HighlightedText),
        (role.ToolTipBase, role.ToolTipText),
    ):
        ratio = theme.contrast_ratio(_role(palette, background), _role(palette, text))
        assert ratio >= 4.5, (background, text, ratio)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_colour_reads_on_its_background(
    manager: theme.ThemeManager, qapp: QApplication, scheme: str
) -> None:
    manager.set_preference(scheme)
    base = _role(qapp.palette(), QPalette.ColorRole.Base)
    if scheme == "light":
        base = QColor("#ffffff")  # the light platform palette may differ; white is the usual
    for role in TEXT_ROLES:
        ratio = theme.contrast_ratio(theme.color(role), base)
        assert ratio >= 4.5, (scheme, role, ratio)
    code_ratio = theme.contrast_ratio(theme.color("muted"), theme.color("code_bg"))
    banner_ratio = theme.contrast_ratio(theme.color("banner_text"), theme.color("banner_bg"))
    notice_ratio = theme.contrast_ratio(theme.color("notice_text"), theme.color("notice_bg"))
    assert min(code_ratio, banner_ratio, notice_ratio) >= 4.5


def test_the_environment_variable_forces_a_scheme(
    manager: theme.ThemeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(theme.ENV_VAR, "dark")
    assert manager.set_preference("light") == "dark"
    monkeypatch.setenv(theme.ENV_VAR, "light")
    assert manager.apply() == "light"


def test_bound_styles_follow_the_scheme(qtbot: QtBot, manager: theme.ThemeManager) -> None:
    from PySide6.QtWidgets import QLabel

    label = QLabel("careful")
    qtbot.addWidget(label)
    theme.bind_style(label, lambda: f"color: {theme.css('warning')};")
    manager.set_preference("light")
    light = label.styleSheet()
    manager.set_preference("dark")
    assert label.styleSheet() != light and theme.css("warning") in label.styleSheet()


def test_contrast_ratio_matches_the_known_extremes() -> None:
    assert theme.contrast_ratio(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert theme.contrast_ratio(QColor("#777777"), QColor("#777777")) == pytest.approx(1.0)


def test_state_colours_and_syntax_follow_the_scheme(
    qtbot: QtBot, manager: theme.ThemeManager
) -> None:
    from PySide6.QtGui import QTextDocument

    from gui.core.records import JobState
    from gui.ui.jobs.style import state_color
    from gui.ui.request.text.highlighter import JsonHighlighter

    document = QTextDocument('{"key": 1}')
    highlighter = JsonHighlighter(document)
    manager.set_preference("light")
    light_failed = state_color(JobState.FAILED)
    manager.set_preference("dark")
    highlighter.refresh_colors()
    assert state_color(JobState.FAILED) != light_failed
    assert state_color(JobState.FAILED) == theme.color("state_FAILED")
    key_color = highlighter.formats["key"].foreground().color()
    assert key_color == theme.color("json_key") and key_color.lightnessF() > 0.6


def _ink_lightness(icon: QIcon) -> float:
    image = icon.pixmap(32, 32).toImage()
    inked = [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() > 200
    ]
    assert inked, "the icon drew nothing"
    return max(color.lightnessF() for color in inked)


def test_action_icons_are_redrawn_light_on_dark(qtbot: QtBot, manager: theme.ThemeManager) -> None:
    from PySide6.QtWidgets import QToolButton, QWidget

    from gui.ui.jobs.style import action_icon, retheme_icons

    manager.set_preference("light")
    holder = QWidget()
    qtbot.addWidget(holder)
    button = QToolButton(holder)
    button.setIcon(action_icon("copy"))
    assert _ink_lightness(button.icon()) < 0.5
    manager.set_preference("dark")
    assert retheme_icons(holder) == 1
    assert _ink_lightness(button.icon()) > 0.7
    manager.set_preference("light")
    assert retheme_icons(holder) == 1
    assert _ink_lightness(button.icon()) < 0.5


def test_system_preference_follows_the_system_scheme_change(
    manager: theme.ThemeManager, qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import Qt

    # Offscreen has no platform theme to switch: stand in for it, and send Qt's own signal.
    manager.set_preference("system")
    monkeypatch.setattr(theme, "_system_scheme", lambda: "dark")
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.current_scheme() == "dark"
    manager.set_preference("light")  # a chosen scheme ignores the system's
    qapp.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.current_scheme() == "light"
    # Leave the application as it was: the original light look of a light system.
    monkeypatch.setattr(theme, "_system_scheme", lambda: "light")
    manager.set_preference("dark")
    manager.set_preference("light")
    assert qapp.palette().window().color().lightnessF() > 0.5


def test_back_to_light_restores_the_style_and_palette_the_app_started_with(
    manager: theme.ThemeManager, qapp: QApplication
) -> None:
    manager.set_preference("light")
    style, window = qapp.style().name(), _role(qapp.palette(), QPalette.ColorRole.Window)
    manager.set_preference("dark")
    assert qapp.style().name() == "fusion"
    assert _role(qapp.palette(), QPalette.ColorRole.Window) != window
    manager.set_preference("light")
    assert qapp.style().name() == style
    assert _role(qapp.palette(), QPalette.ColorRole.Window) == window
