"""Fixtures for every window test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from gui.ui.window import quit_guard

_MODIFIER_KEYS = (
    (Qt.KeyboardModifier.ControlModifier, Qt.Key.Key_Control),
    (Qt.KeyboardModifier.ShiftModifier, Qt.Key.Key_Shift),
    (Qt.KeyboardModifier.AltModifier, Qt.Key.Key_Alt),
    (Qt.KeyboardModifier.MetaModifier, Qt.Key.Key_Meta),
)


@pytest.fixture(autouse=True)
def quit_without_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a window while sandbox jobs run asks first, in a modal box nobody would answer in
    a test: every test answers Quit, except the tests of the question (which put ``ask`` back)."""
    monkeypatch.setattr(quit_guard, "ask", lambda parent, count: True)


@pytest.fixture(autouse=True)
def no_modifier_left_held() -> Iterator[None]:
    """A simulated key click whose press fires a shortcut (Ctrl+F) leaves Qt believing the modifier
    is still held; every later ``selectRow`` then extends the selection instead of replacing it
    (two tests failed only after another one had run). Each test ends with none held."""
    yield
    if QApplication.instance() is None:
        return
    held = QGuiApplication.keyboardModifiers()
    if held == Qt.KeyboardModifier.NoModifier:
        return
    target = QWidget()
    for modifier, key in _MODIFIER_KEYS:
        if held & modifier:
            QTest.keyClick(target, key)
    target.deleteLater()
