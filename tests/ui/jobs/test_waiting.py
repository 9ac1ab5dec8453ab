"""Why is it waiting, in the job table: a job queued long on the built-in sandbox scaled to zero
(max workers 0) shows a warning icon in its Status cell whose tooltip says why, and the details
say it too; asked once per target per ``ASK_EVERY_S``, forgotten once no job waits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QImage
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.records import JobState
from gui.core.targets import SANDBOX_ENDPOINT_ID
from gui.sandbox import EndpointSpec
from gui.ui.bridge import EngineBridge
from gui.ui.jobs import waiting
from gui.ui.jobs.model import JobColumn
from gui.ui.jobs.panel import JobsPanel
from gui.ui.jobs.style import state_icon
from tests.support.account_helpers import account_engine

TIMEOUT_MS = 20_000
SCALED_TO_ZERO = (EndpointSpec(SANDBOX_ENDPOINT_ID, name="sandbox-idle", workers_max=0),)


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    with account_engine(data_dir, SCALED_TO_ZERO) as started:
        yield started


@pytest.fixture
def panel(qtbot: QtBot, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[JobsPanel]:
    monkeypatch.setattr(waiting, "WAIT_AFTER_S", 0.5)
    monkeypatch.setattr(waiting, "CHECK_MS", 100)
    bridge = EngineBridge(engine)
    widget = JobsPanel(bridge)
    qtbot.addWidget(widget)
    widget.set_target(engine.sandbox_target().result(timeout=30))
    widget.resize(1100, 700)
    widget.show()
    yield widget
    bridge.close()


def _status(panel: JobsPanel, role: Qt.ItemDataRole) -> object:
    return panel.model.data(panel.model.index(0, JobColumn.STATUS), role)


def _image(icon: QIcon) -> QImage:
    return icon.pixmap(16, 16).toImage()


def test_a_job_queued_on_an_endpoint_scaled_to_zero_says_why_it_waits(
    qtbot: QtBot, panel: JobsPanel, engine: Engine
) -> None:
    assert panel.waiting.requests_sent == 0  # no job waits: nothing is asked
    target = engine.sandbox_target().result(timeout=30)
    local_id = engine.submit(target, {"input": {"prompt": "hi"}}).result(timeout=30).local_id
    qtbot.waitUntil(lambda: panel.model.row_of(local_id) == 0, timeout=TIMEOUT_MS)
    assert panel.model.record_at(0).state is JobState.IN_QUEUE  # type: ignore[union-attr]

    def tooltip() -> str:
        return str(_status(panel, Qt.ItemDataRole.ToolTipRole))

    qtbot.waitUntil(lambda: "Why it waits:" in tooltip(), timeout=TIMEOUT_MS)
    assert tooltip().startswith("IN_QUEUE\nWhy it waits: sandbox-idle has max workers 0")
    icon = _status(panel, Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon)
    assert _image(icon) == _image(waiting.waiting_icon())
    assert _image(icon) != _image(state_icon(JobState.IN_QUEUE))
    (note,) = panel.waiting.notes.values()
    assert "Raise max workers" in note
    # The details of the job say it on a line of their own.
    panel.select_job(local_id)
    qtbot.waitUntil(lambda: panel.details_pane.record is not None, timeout=TIMEOUT_MS)
    line = panel.details.wait_line
    assert not line.isHidden() and line.text() == f"Why it waits: {note}"
    # Asked once: the next question waits ASK_EVERY_S (30 s), however often the rows are seen.
    qtbot.wait(500)
    assert panel.waiting.requests_sent == 1
    # Once no job waits, the diagnosis is forgotten and the icon goes.
    panel.bridge.request_cancel(local_id)
    qtbot.waitUntil(lambda: not panel.waiting.notes, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "Why it waits" not in tooltip(), timeout=TIMEOUT_MS)
    assert _image(_status(panel, Qt.ItemDataRole.DecorationRole)) == _image(  # type: ignore[arg-type]
        state_icon(JobState.CANCELLED)
    )
    assert line.isHidden()
