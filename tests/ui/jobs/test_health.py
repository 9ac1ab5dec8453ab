"""The health strip says why `/health` failed: in a few words on the strip, fully in its tooltip."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.targets import Target
from gui.sandbox import SandboxConfig, SandboxServer
from gui.ui.bridge import EngineBridge
from gui.ui.jobs.health import HealthStrip


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    # A sandbox that wants an API key the console does not send: /health answers 401.
    started = Engine(
        data_dir, rate_limits=None, sandbox=partial(SandboxServer, SandboxConfig(api_key="k" * 20))
    )
    started.start()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def strip(qtbot: QtBot, engine: Engine) -> Iterator[HealthStrip]:
    bridge = EngineBridge(engine)
    widget = HealthStrip(bridge)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    bridge.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _failed(strip: HealthStrip) -> bool:
    return "health unavailable" in strip.label.text()


def test_a_refused_key_shows_its_http_status(
    qtbot: QtBot, strip: HealthStrip, engine: Engine
) -> None:
    strip.set_target(engine.sandbox_target().result(timeout=30))
    qtbot.waitUntil(lambda: _failed(strip), timeout=15_000)
    assert strip.label.text() == "<b>Sandbox</b>: health unavailable (HTTP 401: API key refused)"
    assert "refused by the sandbox (401)" in strip.label.toolTip()


@pytest.mark.slow
def test_no_connection_says_so_with_what_the_connection_said(
    qtbot: QtBot, strip: HealthStrip
) -> None:
    port = _closed_port()
    strip.set_target(Target("Gone", "cloud", f"http://127.0.0.1:{port}/v2", "ep"))
    qtbot.waitUntil(lambda: _failed(strip), timeout=30_000)
    text = strip.label.text()
    assert text.startswith("<b>Gone</b>: health unavailable (no connection: ")
    assert len(text) < 130  # a few words; the tooltip has the whole message
    tooltip = strip.label.toolTip()
    assert tooltip.startswith("Could not read the endpoint's health: Could not reach ")
    assert f"127.0.0.1:{port}" in tooltip
