"""The window's layout at its first-start size (1540x880) and on a small screen (1024x700): the
Options form fits its pane, the jobs side gets its share, the status toggles stay on one or two
rows, and every toolbar action stays reachable. Measured on the real window, offscreen."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFormLayout, QLabel, QMenu, QScrollArea, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from gui.core.records import JobState
from gui.ui.jobs.filters import ALWAYS_SHOWN
from gui.ui.jobs.panel import JobsPanel
from gui.ui.window.main_window import MainWindow
from tests.support.request_helpers import TIMEOUT_MS, open_window, set_and_settle

FIRST_START = (1540, 880)
SMALL = (1024, 700)
# A body whose policy the validator refuses, so messages show under the policy's fields.
BAD_POLICY = {"input": {}, "policy": {"ttl": 5, "executionTimeout": 1}}
BUSY = {
    JobState.IN_QUEUE: 12,
    JobState.IN_PROGRESS: 3,
    JobState.COMPLETED: 1250,
    JobState.FAILED: 31,
    JobState.CANCELLED: 4,
    JobState.TIMED_OUT: 0,
    JobState.EXPIRED: 17,
    JobState.NOT_SENT: 2,
}


@pytest.fixture
def window(qtbot: QtBot, data_dir: Path) -> Iterator[MainWindow]:
    win = open_window(qtbot, data_dir)
    yield win
    win.close()


def resize(qtbot: QtBot, window: MainWindow, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=TIMEOUT_MS)


def panel_of(window: MainWindow) -> JobsPanel:
    assert window.jobs_panel is not None
    return window.jobs_panel


def within(widget: QWidget, area: QWidget) -> bool:
    """Whether ``widget`` lies inside ``area`` horizontally (nothing of it cut at either side)."""
    left = widget.mapTo(area, QPoint(0, 0)).x()
    return left >= 0 and left + widget.width() <= area.width()


def form_rows(form: QScrollArea) -> list[tuple[QLabel, QWidget]]:
    """(label, field widget) of every labelled row of the Options form."""
    rows = []
    for layout in form.findChildren(QFormLayout):
        for row in range(layout.rowCount()):
            label = layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = layout.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is None or field is None or not isinstance(label.widget(), QLabel):
                continue
            inner = field.layout()
            widget = inner.itemAt(0).widget() if inner is not None else field.widget()
            rows.append((label.widget(), widget))
    return rows


@pytest.mark.parametrize(
    ("size", "request_width"),
    [(FIRST_START, None), (SMALL, None), (SMALL, 340)],
    ids=["1540x880", "1024x700", "1024x700-request-340"],
)
def test_the_options_form_fits_its_pane(
    qtbot: QtBot, window: MainWindow, size: tuple[int, int], request_width: int | None
) -> None:
    resize(qtbot, window, size)
    if request_width is not None:  # the person narrowed the request side
        templates, request_now, jobs = window.splitter.sizes()
        window.splitter.setSizes([templates, request_width, request_now + jobs - request_width])
    request = window.request
    request.tabs.setCurrentWidget(request.options)
    form = request.form
    set_and_settle(qtbot, request, json.dumps(BAD_POLICY))
    qtbot.waitUntil(lambda: form.field_message(("policy", "ttl")) != "", timeout=TIMEOUT_MS)
    inner = form.widget()
    viewport = form.viewport()
    rows = form_rows(form)
    assert len(rows) >= 9  # URL, 3 policy rows, saved credentials, 5 s3Config keys

    def fits() -> None:  # checked once the layout has settled (the messages relaid the form)
        assert not form.horizontalScrollBar().isVisible()
        assert inner.minimumSizeHint().width() <= viewport.width()
        for label, field in rows:
            assert label.width() >= label.sizeHint().width(), label.text()
            assert within(label, viewport), label.text()
            assert within(field, viewport), label.text()
        for duration in (form.execution_timeout, form.ttl):
            assert within(duration.unit, viewport)  # the unit picker is not cut off
        messages = [label for label in inner.findChildren(QLabel) if label.wordWrap()]
        shown = [label for label in messages if label.isVisible() and label.text()]
        assert len(shown) >= 2  # the ttl's and the execution timeout's
        for message in shown:  # wrapped, whole
            assert within(message, viewport), message.text()
            assert message.height() >= message.heightForWidth(message.width()), message.text()
        if request_width is not None:  # the labels stand above their fields
            for label, field in rows:
                assert label.mapTo(inner, QPoint()).y() < field.mapTo(inner, QPoint()).y()

    qtbot.waitUntil(fits, timeout=TIMEOUT_MS)


def test_a_long_count_line_wraps_and_leaves_the_request_side_its_width(
    qtbot: QtBot, window: MainWindow
) -> None:
    counts = panel_of(window).counts_label
    counts.setText(
        "12,345 jobs · IN_QUEUE 12 · IN_PROGRESS 34 · COMPLETED 12,000 · FAILED 299 · "
        "estimated $123.4567 for 12,299 jobs (46 jobs without an estimate)"
    )
    resize(qtbot, window, SMALL)
    _templates, request, _jobs = window.splitter.sizes()
    assert request >= window.request.sizeHint().width(), window.splitter.sizes()
    assert counts.height() >= counts.heightForWidth(counts.width())  # wrapped, whole


def test_a_small_window_gives_the_jobs_side_its_share(qtbot: QtBot, window: MainWindow) -> None:
    for size in (FIRST_START, SMALL):
        resize(qtbot, window, size)
        templates, request, jobs = window.splitter.sizes()
        total = templates + request + jobs
        assert jobs >= 0.45 * total, (size, window.splitter.sizes())
        # The request side keeps what its target bar needs: nothing there is cut.
        assert request >= window.request.sizeHint().width()
    table = panel_of(window).table
    header = table.horizontalHeader()
    shown = [header.logicalIndex(i) for i in range(header.count())]
    fits = [
        c
        for c in shown
        if header.sectionViewportPosition(c) + header.sectionSize(c) <= table.viewport().width()
    ]
    assert len(fits) >= 4  # id, target, status and when it was submitted, at least


def test_the_request_side_widens_for_a_longer_operation_name(
    qtbot: QtBot, window: MainWindow
) -> None:
    resize(qtbot, window, SMALL)
    bar_width = window.request.sizeHint().width()
    window.request.set_operation("runsync")  # "Run sync  (/runsync)": a wider selector
    qtbot.waitUntil(lambda: window.request.sizeHint().width() > bar_width, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: window.splitter.sizes()[1] >= window.request.sizeHint().width(),
        timeout=TIMEOUT_MS,
    )
    selector = window.request.profile_selector
    assert selector.width() >= selector.sizeHint().width()  # the profile's name is whole


def test_status_toggles_take_one_row_wide_and_at_most_two_small(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = panel_of(window)
    started: list[bool] = []
    panel.bridge.when_started(lambda: started.append(True), lambda _message: None)
    qtbot.waitUntil(lambda: bool(started), timeout=TIMEOUT_MS)  # its counts are in
    filters = panel.filters
    row = max(button.sizeHint().height() for button in filters.buttons.values())
    spacing = filters.layout().spacing()
    resize(qtbot, window, FIRST_START)
    qtbot.waitUntil(lambda: filters.height() <= row, timeout=TIMEOUT_MS)
    shown = [button for button in filters.buttons.values() if button.isVisible()]
    assert all(button.text()[0].isalpha() for button in shown)  # named: "Queued 0"

    # A busy history: big counts, and the rarer states shown too.
    filters.set_counts(BUSY)
    resize(qtbot, window, SMALL)
    qtbot.waitUntil(lambda: filters.height() <= 2 * row + spacing, timeout=TIMEOUT_MS)
    assert filters.all_button.text() == f"All {sum(BUSY.values())}"
    for state, count in BUSY.items():
        button = filters.buttons[state]
        assert button.isVisible() == (count > 0 or state in ALWAYS_SHOWN)
        # The name may leave the button's face, never its accessible name.
        assert button.accessibleName().endswith(f" {count}")
        assert button.accessibleName()[0].isalpha()
        assert str(count) in button.text()
        if button.isVisible():
            assert within(button, filters)
    assert within(filters.text, filters)


def reachable(actions: list[QAction]) -> set[QAction]:
    """These actions and every action in their menus, at any depth."""
    found = set(actions)
    for action in actions:
        menu = action.menu()
        if isinstance(menu, QMenu):
            found |= reachable(menu.actions())
    return found


def test_every_toolbar_action_is_reachable_when_the_toolbar_is_narrow(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = panel_of(window)
    toolbar = panel.toolbar
    resize(qtbot, window, SMALL)
    extension = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is not None
    qtbot.waitUntil(extension.isVisible, timeout=TIMEOUT_MS)  # the bar overflows
    menu = extension.menu()
    assert menu is not None
    on_the_bar = [
        action
        for action in toolbar.actions()
        if (button := toolbar.widgetForAction(action)) is not None and button.isVisible()
    ]
    hidden = [action for action in toolbar.actions() if action not in on_the_bar]
    assert any(not action.isSeparator() for action in hidden)
    found = reachable(on_the_bar) | reachable(menu.actions())
    wanted = set(panel.job_actions.by_key.values()) | {panel.notify_action}
    missing = sorted(action.text() for action in wanted - found)
    assert missing == []


def test_once_dragged_the_splitter_is_the_persons_and_comes_back_as_left(
    qtbot: QtBot, data_dir: Path
) -> None:
    first = open_window(qtbot, data_dir)
    resize(qtbot, first, FIRST_START)
    default_request = first.splitter.sizes()[1]
    first.splitter.moveSplitter(900, 2)  # the person drags the jobs side narrower
    dragged = first.splitter.sizes()[1]
    assert dragged > default_request + 200
    resize(qtbot, first, (1500, 860))
    # Qt's own resizing (by stretch factors) from where it was left, not back to the default.
    assert first.splitter.sizes()[1] > dragged - 40
    left = first.splitter.sizes()
    first.close()

    second = open_window(qtbot, data_dir)
    # (The offscreen screen is smaller than the saved geometry: back at that size, as left.)
    resize(qtbot, second, (1500, 860))
    assert second.splitter.sizes() == left
    second.close()
