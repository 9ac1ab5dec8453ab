"""Fixtures for every window test."""

from __future__ import annotations

import pytest

from gui.ui.window import quit_guard


@pytest.fixture(autouse=True)
def quit_without_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a window while sandbox jobs run asks first, in a modal box nobody would answer in
    a test: every test answers Quit, except the tests of the question (which put ``ask`` back)."""
    monkeypatch.setattr(quit_guard, "ask", lambda parent, count: True)
