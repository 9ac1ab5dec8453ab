"""Saved views from the job table's Views menu: kept in the real history file of the data folder,
picked again by a new panel on that folder with the same search, toggles and sort; deleted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.records import JobState
from gui.core.storage.history import HistoryReader, SavedView, SortKey, parse_search
from gui.core.storage.store import DB_FILENAME
from gui.ui.bridge import EngineBridge
from gui.ui.jobs.panel import JobsPanel
from gui.ui.jobs.saved_views import EMPTY_TEXT
from tests.support import engine_fixtures
from tests.support.request_helpers import TIMEOUT_MS

engine = engine_fixtures.engine

PanelMaker = Callable[[], JobsPanel]


@pytest.fixture
def open_panel(qtbot: QtBot, engine: Engine, data_dir: Path) -> Iterator[PanelMaker]:
    """Makes panels on the data folder: each with its own bridge, as a new window's would be."""
    bridges: list[EngineBridge] = []

    def make() -> JobsPanel:
        bridge = EngineBridge(engine)
        bridges.append(bridge)
        panel = JobsPanel(bridge, data_dir=data_dir)
        qtbot.addWidget(panel)
        panel.resize(1100, 700)
        panel.show()
        qtbot.waitUntil(lambda: panel.saved_views._loaded, timeout=TIMEOUT_MS)
        return panel

    yield make
    for bridge in bridges:
        bridge.close()


def _answer(panel: JobsPanel, name: str | None, *, confirm: bool = True) -> list[str]:
    """Answer the menu's dialogs: this name, yes or no; returns the questions asked."""
    asked: list[str] = []
    views = panel.saved_views
    views.ask_name = lambda: name  # type: ignore[method-assign]

    def confirm_answer(_title: str, text: str) -> bool:
        asked.append(text)
        return confirm

    views.confirm = confirm_answer  # type: ignore[method-assign]
    return asked


def _names(panel: JobsPanel) -> list[str]:
    return [view.name for view in panel.saved_views.views()]


def test_a_saved_view_comes_back_in_a_new_panel_with_its_search_toggles_and_sort(
    qtbot: QtBot, open_panel: PanelMaker, data_dir: Path
) -> None:
    panel = open_panel()
    assert panel.saved_views.menu.actions()[0].text() == EMPTY_TEXT
    panel.filters.text.set_search("cat worker:abc")
    panel.filters.buttons[JobState.FAILED].click()
    panel.filters.buttons[JobState.TIMED_OUT].click()
    panel.apply_sort(SortKey.WORKER, False)
    _answer(panel, "  Broken cats ")
    panel.saved_views.save_action.trigger()
    qtbot.waitUntil(lambda: _names(panel) == ["Broken cats"], timeout=TIMEOUT_MS)
    with HistoryReader(data_dir / DB_FILENAME) as reader:  # in the file itself
        assert reader.views() == [
            SavedView(
                "Broken cats", "status:failed,timed_out cat worker:abc", SortKey.WORKER, False
            )
        ]

    again = open_panel()
    assert _names(again) == ["Broken cats"]
    assert again.current_sort() == (SortKey.SUBMITTED, True)
    again.filters.buttons[JobState.COMPLETED].click()  # toggles of its own, shown until picked
    again.saved_views.view_actions()["Broken cats"].trigger()
    assert again.filters.text.text() == "status:failed,timed_out cat worker:abc"
    assert again.filters.chosen_states() is None
    shown = parse_search("cat worker:abc").with_states({JobState.FAILED, JobState.TIMED_OUT})
    assert again.filters.text.query() == shown
    assert again.current_sort() == (SortKey.WORKER, False)


def test_saving_under_a_name_in_use_asks_first_and_replaces_only_when_told(
    qtbot: QtBot, open_panel: PanelMaker
) -> None:
    panel = open_panel()
    views = panel.saved_views
    panel.filters.text.set_search("cat")
    _answer(panel, "Mine")
    views.save_action.trigger()
    qtbot.waitUntil(lambda: _names(panel) == ["Mine"], timeout=TIMEOUT_MS)
    panel.filters.text.set_search("dog")
    asked = _answer(panel, "Mine", confirm=False)
    views.save_action.trigger()
    assert asked == ["A view named “Mine” exists. Replace it with this one?"]
    assert views.views()[0].search == "cat"
    _answer(panel, "Mine", confirm=True)
    views.save_action.trigger()
    qtbot.waitUntil(lambda: views.views()[0].search == "dog", timeout=TIMEOUT_MS)
    assert _names(panel) == ["Mine"]


def test_a_view_is_deleted_after_asking_and_the_menu_says_when_none_is_left(
    qtbot: QtBot, open_panel: PanelMaker
) -> None:
    panel = open_panel()
    views = panel.saved_views
    for name in ("b view", "A view"):
        _answer(panel, name)
        views.save_action.trigger()
    qtbot.waitUntil(lambda: _names(panel) == ["A view", "b view"], timeout=TIMEOUT_MS)
    assert list(views.delete_actions()) == ["A view", "b view"]
    asked = _answer(panel, None)
    views.delete_actions()["b view"].trigger()
    assert asked == ["Delete the view “b view”?"]
    qtbot.waitUntil(lambda: _names(panel) == ["A view"], timeout=TIMEOUT_MS)
    assert list(views.view_actions()) == ["A view"]
    views.delete_actions()["A view"].trigger()
    qtbot.waitUntil(lambda: _names(panel) == [], timeout=TIMEOUT_MS)
    empty = views.menu.actions()[0]
    assert empty.text() == EMPTY_TEXT and not empty.isEnabled()
    assert views.delete_actions() == {} and open_panel().saved_views.views() == []


def test_a_view_that_cant_be_saved_says_why_and_asks_no_name(
    qtbot: QtBot, open_panel: PanelMaker
) -> None:
    panel = open_panel()
    views = panel.saved_views
    messages: list[str] = []
    views.sig_status_message_requested.connect(lambda text, _ms: messages.append(text))
    asked_name: list[bool] = []
    views.ask_name = lambda: asked_name.append(True) or "x"  # type: ignore[method-assign]
    panel.filters.text.set_search("status:done")  # can't be read
    views.save_action.trigger()
    panel.filters.text.set_search("status:failed")
    panel.filters.buttons[JobState.COMPLETED].click()  # no state left to show
    views.save_action.trigger()
    assert asked_name == []
    assert (
        'This view can\'t be saved: the search has a problem: fix it first. Unknown status "done"'
        in messages[0]
    )
    assert "leave no state to show" in messages[1]


def test_the_search_and_toggles_reach_the_table_together(
    qtbot: QtBot, open_panel: PanelMaker
) -> None:
    panel = open_panel()
    applied: list[object] = []
    panel.apply_query = applied.append  # type: ignore[method-assign]
    panel.filters.text.set_search("cat status:failed,completed")
    panel.filters.buttons[JobState.FAILED].click()
    assert applied == [
        parse_search("cat status:failed,completed"),
        parse_search("cat status:failed"),
    ]
