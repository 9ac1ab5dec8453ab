"""Pick… in the Profiles dialog lists the account's endpoints from the sandbox's management API
over loopback; load balancers are shown but can't be picked; a missing key is said in words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.profiles.secrets import SecretStore, api_key_name
from gui.ui.account.endpoint_picker import NOT_FOR_JOBS, EndpointPicker
from gui.ui.bridge import EngineBridge
from gui.ui.profiles.dialog import ProfilesDialog
from tests.support.account_helpers import account_engine, cloud_target_at

TIMEOUT_MS = 20_000


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    with account_engine(data_dir, api_key="the-account-key") as started:
        yield started


@pytest.fixture
def bridge(qtbot: QtBot, engine: Engine) -> Iterator[EngineBridge]:
    made = EngineBridge(engine)
    yield made
    made.close()


def _dialog(qtbot: QtBot, data_dir: Path, bridge: EngineBridge) -> ProfilesDialog:
    secrets = SecretStore()
    dialog = ProfilesDialog(ProfileStore(data_dir, secrets), secrets, bridge=bridge)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _open_picker(qtbot: QtBot, dialog: ProfilesDialog) -> EndpointPicker:
    dialog.form.pick_endpoint_button.click()
    picker = dialog.endpoint_picker
    assert picker is not None and picker.findChild(type(picker.list), "endpointList")
    qtbot.waitUntil(lambda: "Asking" not in picker.status.text(), timeout=TIMEOUT_MS)
    return picker


def _rows(picker: EndpointPicker) -> dict[str, tuple[list[str], bool]]:
    """id -> (cells, pickable)."""
    rows = {}
    for index in range(picker.list.topLevelItemCount()):
        item = picker.list.topLevelItem(index)
        cells = [item.text(column) for column in range(item.columnCount())]
        rows[cells[1]] = (cells, bool(item.flags() & Qt.ItemFlag.ItemIsEnabled))
    return rows


def test_pick_lists_the_endpoints_and_fills_the_id(
    qtbot: QtBot, data_dir: Path, engine: Engine, bridge: EngineBridge
) -> None:
    _target, url = cloud_target_at(engine, "")
    dialog = _dialog(qtbot, data_dir, bridge)
    dialog.add_button.click()
    dialog.form.name_edit.setText("mine")
    dialog.form.management_url_edit.setText(url)
    dialog.form.key_edit.setText("the-account-key")  # typed, not saved: the picker uses it
    picker = _open_picker(qtbot, dialog)
    rows = _rows(picker)
    assert set(rows) == {"sandbox", "crashy", "idle7d", "rollout", "lb"}
    assert rows["crashy"] == (["crash-looper", "crashy", "queue", "ADA_24", "0-2"], True)
    assert rows["idle7d"][0][4] == "0-0"
    lb_cells, lb_pickable = rows["lb"]
    assert lb_cells[2] == NOT_FOR_JOBS and not lb_pickable
    assert picker.status.text().startswith("5 endpoints, 4 for jobs")

    picker.list.setCurrentItem(picker.list.topLevelItem(list(rows).index("lb")))
    assert picker.picked() == "" and not picker.pick_button.isEnabled()
    crashy = picker.list.topLevelItem(list(rows).index("crashy"))
    picker.list.setCurrentItem(crashy)
    assert picker.pick_button.isEnabled()
    picker.pick_button.click()
    assert dialog.form.endpoint_edit.text() == "crashy"
    assert dialog.form.profile().management_url == url


def test_the_stored_key_and_endpoint_of_a_saved_profile_are_used(
    qtbot: QtBot, data_dir: Path, engine: Engine, bridge: EngineBridge
) -> None:
    _target, url = cloud_target_at(engine, "")
    secrets = SecretStore()
    ProfileStore(data_dir, secrets).add(
        Profile("saved", "cloud", endpoint_id="rollout", management_url=url)
    )
    secrets.set(api_key_name("saved"), "the-account-key")
    dialog = _dialog(qtbot, data_dir, bridge)
    item = dialog.profile_list.findItems("saved", Qt.MatchFlag.MatchExactly)[0]
    dialog.profile_list.setCurrentItem(item)
    assert dialog.form.management_url_edit.text() == url
    picker = _open_picker(qtbot, dialog)
    assert picker.picked() == "rollout"  # the profile's endpoint is selected


def test_without_a_key_the_picker_says_what_it_needs(
    qtbot: QtBot, data_dir: Path, engine: Engine, bridge: EngineBridge
) -> None:
    _target, url = cloud_target_at(engine, "")
    dialog = _dialog(qtbot, data_dir, bridge)
    dialog.add_button.click()
    dialog.form.name_edit.setText("keyless")
    dialog.form.management_url_edit.setText(url)
    picker = _open_picker(qtbot, dialog)
    assert picker.list.topLevelItemCount() == 0
    assert "keyless has no API key: add one in Profiles" in picker.status.text()


def test_a_refused_key_is_said_in_words(
    qtbot: QtBot, data_dir: Path, engine: Engine, bridge: EngineBridge
) -> None:
    _target, url = cloud_target_at(engine, "")
    dialog = _dialog(qtbot, data_dir, bridge)
    dialog.add_button.click()
    dialog.form.management_url_edit.setText(url)
    dialog.form.key_edit.setText("a-wrong-key")
    picker = _open_picker(qtbot, dialog)
    assert "refused the API key" in picker.status.text()
    assert "a-wrong-key" not in picker.status.text()


def test_saving_through_the_dialog_keeps_the_management_url(
    qtbot: QtBot, data_dir: Path, bridge: EngineBridge
) -> None:
    secrets = SecretStore()
    store = ProfileStore(data_dir, secrets)
    store.add(Profile("prod", "cloud", endpoint_id="e1", management_url="https://m.example/v2"))
    dialog = _dialog(qtbot, data_dir, bridge)
    dialog.profile_list.setCurrentItem(
        dialog.profile_list.findItems("prod", Qt.MatchFlag.MatchExactly)[0]
    )
    dialog.form.endpoint_edit.setText("e2")
    dialog.save_button.click()
    saved = ProfileStore(data_dir, secrets).get("prod")
    assert (saved.endpoint_id, saved.management_url) == ("e2", "https://m.example/v2")
