"""ProfileTargets: the window's one object for profiles (selector, targets, engine options)."""

from __future__ import annotations

from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from gui.core.errors import SecretUnavailable
from gui.core.limits import DEFAULT_BASE_URL
from gui.core.profiles.profiles import Profile, ProfileNotFound, ProfileStore
from gui.core.profiles.s3refs import S3CredentialSet
from gui.core.profiles.secrets import SecretStore, api_key_name
from gui.core.targets import SANDBOX_PROFILE, Target
from gui.ui.profiles.profile_targets import ProfileTargets


@pytest.fixture
def targets(data_dir: Path) -> ProfileTargets:
    store = ProfileStore(data_dir)
    store.add(Profile("prod", "cloud", endpoint_id="abc123"))
    store.add(Profile("worker", "local", handler="/w/handler.py", port=8123))
    store.add(Profile("running", "local", base_url="http://127.0.0.1:8124"))
    return ProfileTargets(data_dir)


def test_the_selector_lists_every_profile_and_keeps_the_choice(
    qtbot: QtBot, targets: ProfileTargets
) -> None:
    combo = QComboBox()
    qtbot.addWidget(combo)
    targets.fill_selector(combo)
    names = [combo.itemData(row) for row in range(combo.count())]
    assert names == [SANDBOX_PROFILE, "prod", "worker", "running"]
    assert combo.itemText(0) == "Sandbox (built in)"
    worker_tip = combo.itemData(2, Qt.ItemDataRole.ToolTipRole)
    assert "no health, cancel or retry" in worker_tip
    combo.setCurrentIndex(1)
    targets.store.add(Profile("new", "cloud", endpoint_id="e9"))
    targets.fill_selector(combo)
    assert combo.currentData() == "prod" and combo.count() == 5
    targets.store.remove("prod")
    with qtbot.waitSignal(combo.currentIndexChanged, timeout=1000):
        targets.fill_selector(combo)
    assert combo.currentData() == SANDBOX_PROFILE


def test_targets_per_kind(targets: ProfileTargets) -> None:
    assert targets.target_for(SANDBOX_PROFILE) is None  # the engine knows the sandbox's URL
    assert targets.target_for("prod") == Target("prod", "cloud", DEFAULT_BASE_URL, "abc123")
    assert targets.target_for("running") == Target("running", "local", "http://127.0.0.1:8124")
    assert targets.target_for("worker") is None  # not serving yet
    targets._on_worker_panel_ready("worker", "http://127.0.0.1:8123")
    assert targets.target_for("worker") == Target("worker", "local", "http://127.0.0.1:8123")
    targets._on_worker_panel_stopped("worker")
    assert targets.target_for("worker") is None
    with pytest.raises(ProfileNotFound):
        targets.target_for("nope")


def test_engine_options_read_the_keyring_at_send_time(targets: ProfileTargets) -> None:
    options = targets.engine_options()
    prod = targets.target_for("prod")
    assert prod is not None
    assert options["key_provider"](prod) is None
    targets.secrets.set(api_key_name("prod"), "k-prod")  # e.g. typed in the dialog just now
    assert options["key_provider"](prod) == "k-prod"
    targets.store.save_s3_set(S3CredentialSet("team", "AK", "b", "https://s3"), "s3-secret")
    body = {"input": {}, "s3Config": targets.store.get_s3_set("team").to_s3_config()}
    assert options["body_resolver"](body)["s3Config"]["accessSecret"] == "s3-secret"
    with pytest.raises(SecretUnavailable):
        options["body_resolver"]({"input": {}, "s3Config": {"accessSecret": "keyring:s3/gone"}})


def test_the_dialog_reports_edits(qtbot: QtBot, targets: ProfileTargets) -> None:
    dialog = targets.open_dialog()
    qtbot.addWidget(dialog)
    assert dialog.isVisible()
    dialog.add_button.click()
    dialog.form.name_edit.setText("staging")
    dialog.form.endpoint_edit.setText("e2")
    with qtbot.waitSignal(targets.sig_profiles_changed, timeout=2000):
        dialog.save_button.click()
    assert targets.target_for("staging") is not None


def test_banner_and_unreadable_profiles(data_dir: Path) -> None:
    assert ProfileTargets(data_dir).banner_text == ""
    insecure = ProfileTargets(data_dir, secrets=SecretStore(fail.Keyring()))
    assert "No secure keyring" in insecure.banner_text
    (data_dir / "profiles.json").write_text("[broken")
    assert [p.name for p in insecure.profiles()] == [SANDBOX_PROFILE]
