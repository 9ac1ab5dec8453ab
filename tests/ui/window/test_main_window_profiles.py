"""The window's target: profiles in ``profileSelector``, resolved to targets; jobs go there."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.records import JobState
from gui.core.targets import Target
from gui.ui.window.main_window import MainWindow
from tests.support.request_helpers import TIMEOUT_MS, set_and_settle, settle

BODY = '{"input": {"prompt": "through a profile"}}'


def open_window(qtbot: QtBot, data_dir: Path, profile: str | None = None) -> MainWindow:
    window = create_window(data_dir, profile=profile, engine="thread")
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window.request)
    return window


def selector_names(window: MainWindow) -> list[str]:
    selector = window.findChild(QComboBox, "profileSelector")
    assert selector is not None
    return [selector.itemData(i) for i in range(selector.count())]


def resolved_target(qtbot: QtBot, window: MainWindow) -> Target:
    found: list[Target] = []
    window.targets.with_target(found.append)
    qtbot.waitUntil(lambda: bool(found), timeout=TIMEOUT_MS)
    return found[0]


def test_selector_lists_profiles_and_honours_the_choice(qtbot: QtBot, data_dir: Path) -> None:
    store = ProfileStore(data_dir)
    store.add(Profile("Production", "cloud", endpoint_id="abc123"))
    window = open_window(qtbot, data_dir, profile="Production")
    qtbot.waitUntil(lambda: len(selector_names(window)) == 2, timeout=TIMEOUT_MS)
    assert selector_names(window) == ["Sandbox", "Production"]
    assert window.targets.selected_name() == "Production"
    target = resolved_target(qtbot, window)
    assert (target.kind, target.endpoint_id) == ("cloud", "abc123")
    assert target.endpoint_url == "https://api.runpod.ai/v2/abc123"
    window.close()


def test_profiles_added_later_appear_after_reload(qtbot: QtBot, data_dir: Path) -> None:
    window = open_window(qtbot, data_dir)
    qtbot.waitUntil(lambda: selector_names(window) == ["Sandbox"], timeout=TIMEOUT_MS)
    ProfileStore(data_dir).add(Profile("Later", "cloud", endpoint_id="later1"))
    window.targets.reload()  # what the profiles dialog's change signal does
    assert selector_names(window) == ["Sandbox", "Later"]
    assert window.targets.selected_name() == "Sandbox"
    window.close()


def test_local_worker_profile_says_to_start_it(qtbot: QtBot, data_dir: Path) -> None:
    ProfileStore(data_dir).add(Profile("Worker", "local", handler="/tmp/handler.py"))
    window = open_window(qtbot, data_dir, profile="Worker")
    qtbot.waitUntil(lambda: window.targets.selected_name() == "Worker", timeout=TIMEOUT_MS)
    assert window.local_worker_dock.isVisibleTo(window)
    set_and_settle(qtbot, window.request, BODY)
    window.request.request_submit()
    qtbot.waitUntil(window.request.banner.isVisible, timeout=TIMEOUT_MS)
    assert "local worker of 'Worker' is not running" in window.request.banner.label.text()
    assert window.engine.jobs() == []
    window.close()


def test_a_local_worker_is_a_target_only_while_it_serves(qtbot: QtBot, data_dir: Path) -> None:
    ProfileStore(data_dir).add(Profile("Worker", "local", handler="/tmp/handler.py", port=8123))
    window = open_window(qtbot, data_dir, profile="Worker")
    qtbot.waitUntil(lambda: window.targets.selected_name() == "Worker", timeout=TIMEOUT_MS)
    window.targets.worker_ready("Worker", "http://127.0.0.1:8123")
    assert resolved_target(qtbot, window) == Target("Worker", "local", "http://127.0.0.1:8123")
    window.targets.worker_stopped("Worker")
    found: list[Target] = []
    window.targets.with_target(found.append, quiet=True)
    assert found == []
    window.close()


def test_unreadable_profiles_leave_the_sandbox_and_say_why(qtbot: QtBot, data_dir: Path) -> None:
    ProfileStore(data_dir).add(Profile("Production", "cloud", endpoint_id="abc123"))
    window = open_window(qtbot, data_dir)
    qtbot.waitUntil(lambda: len(selector_names(window)) == 2, timeout=TIMEOUT_MS)
    (data_dir / "profiles.json").write_text("[broken", encoding="utf-8")
    window.targets.reload()
    assert selector_names(window) == ["Sandbox"]
    qtbot.waitUntil(window.request.banner.isVisible, timeout=TIMEOUT_MS)
    assert "The profiles could not be read" in window.request.banner.label.text()
    window.close()


def test_submit_goes_to_the_selected_profile(qtbot: QtBot, data_dir: Path) -> None:
    window = open_window(qtbot, data_dir)
    sandbox = window.engine.sandbox_target().result(timeout=30)  # the engine knows its address
    # A cloud-shaped profile whose base URL is the running sandbox: real HTTP, another target.
    ProfileStore(data_dir).add(
        Profile("Staging", "cloud", endpoint_id="staging", base_url=sandbox.base_url)
    )
    window.targets.reload(select="Staging")
    set_and_settle(qtbot, window.request, BODY)
    window.request.request_submit()
    qtbot.waitUntil(lambda: len(window.engine.jobs()) == 1, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: window.engine.jobs()[0].state == JobState.COMPLETED, timeout=TIMEOUT_MS * 2
    )
    job = window.engine.jobs()[0]
    assert (job.profile, job.endpoint_id) == ("Staging", "staging")
    window.close()


@pytest.mark.slow
def test_a_job_not_sent_is_said_once_and_forgotten_on_another_target(
    qtbot: QtBot, data_dir: Path
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ProfileStore(data_dir).add(
        Profile("Gone", "cloud", endpoint_id="gone", base_url=f"http://127.0.0.1:{port}/v2")
    )
    window = open_window(qtbot, data_dir, profile="Gone")
    qtbot.waitUntil(lambda: window.targets.selected_name() == "Gone", timeout=TIMEOUT_MS)
    set_and_settle(qtbot, window.request, BODY)
    window.request.request_submit()
    banner = window.request.banner
    qtbot.waitUntil(banner.isVisible, timeout=TIMEOUT_MS * 3)
    assert window.engine.jobs()[0].state == JobState.NOT_SENT
    message = banner.label.text()
    assert message.lower().count("not sent") == 1, message
    assert f"127.0.0.1:{port}" in message
    selector = window.findChild(QComboBox, "profileSelector")
    selector.setCurrentIndex(selector.findData("Sandbox"))  # as a pick in the list does
    assert not banner.isVisible()
    window.close()


def test_the_sandbox_address_is_the_engines_alone(qtbot: QtBot, data_dir: Path) -> None:
    """The window's Sandbox target names no address; the engine, the one place that knows where
    the built-in sandbox runs, sends its jobs there."""
    window = open_window(qtbot, data_dir)
    target = resolved_target(qtbot, window)
    assert (target.name, target.kind, target.base_url) == ("Sandbox", "sandbox", "")
    set_and_settle(qtbot, window.request, BODY)
    window.request.request_submit()
    qtbot.waitUntil(lambda: len(window.engine.jobs()) == 1, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: window.engine.jobs()[0].state == JobState.COMPLETED, timeout=TIMEOUT_MS * 2
    )
    assert window.engine.jobs()[0].profile == "Sandbox"
    window.close()
