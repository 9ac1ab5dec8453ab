"""The Profiles dialog's spend guards: three fields saved with the profile (the built-in
sandbox's too), shown again when the profile is picked, a bad time refused in words."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from gui.core.account.guards import SpendGuards
from gui.core.profiles.profiles import ProfileStore
from gui.core.profiles.secrets import SecretStore
from gui.core.targets import SANDBOX_PROFILE
from gui.ui.profiles.dialog import ProfilesDialog
from tests.support.memory_keyring import MemoryKeyring


def test_guards_are_saved_with_the_profile_and_shown_again(
    qtbot: QtBot, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    secrets = SecretStore()
    dialog = ProfilesDialog(ProfileStore(data_dir, secrets), secrets)
    qtbot.addWidget(dialog)
    box = dialog.guards
    assert box.retries_spin.objectName() == "guardMaxRetries"
    assert box.retries_spin.text() == "off" and box.start_edit.text() == ""

    box.retries_spin.setValue(3)
    box.start_edit.setText("10m")
    dialog.save_button.click()
    assert dialog.store.guards(SANDBOX_PROFILE) == SpendGuards(max_retries=3, start_within_s=600)

    dialog.add_button.click()
    dialog.form.name_edit.setText("prod")
    dialog.form.endpoint_edit.setText("e1")
    assert box.retries_spin.text() == "off"  # a new profile starts with none
    box.finish_edit.setText("soon")
    dialog.save_button.click()
    assert "Spend guards: 'soon' is not a duration" in dialog.test_result.text()
    assert "prod" not in dialog.store.names()  # nothing saved
    box.finish_edit.setText("1h30m")
    dialog.save_button.click()
    assert dialog.store.guards("prod") == SpendGuards(finish_within_s=5400)

    dialog.profile_list.setCurrentRow(0)
    assert (box.retries_spin.value(), box.start_edit.text()) == (3, "10m")
    dialog.profile_list.setCurrentRow(1)
    assert box.finish_edit.text() == "1h30m" and box.retries_spin.text() == "off"
