"""The jobs panel on a running engine with the built-in sandbox selected (window tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.targets import Target
from gui.ui.bridge import EngineBridge
from gui.ui.jobs.panel import JobsPanel


@pytest.fixture
def panel(qtbot: QtBot, engine: Engine, sandbox: Target) -> Iterator[JobsPanel]:
    """A shown ``JobsPanel`` (1100x700) on ``engine`` through its own bridge, closed after."""
    bridge = EngineBridge(engine)
    widget = JobsPanel(bridge)
    qtbot.addWidget(widget)
    widget.set_target(sandbox)
    widget.resize(1100, 700)
    widget.show()
    yield widget
    bridge.close()
