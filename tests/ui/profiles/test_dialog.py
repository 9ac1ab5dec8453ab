"""The Profiles dialog: add, edit, duplicate, remove; masked keys; Test connection off-thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.profiles.secrets import SERVICE, SecretStore
from gui.core.targets import SANDBOX_PROFILE
from gui.ui.bridge import EngineBridge
from gui.ui.profiles.dialog import ProfilesDialog
from tests.support import engine_fixtures
from tests.support.fake_endpoint import GOOD_KEY, fake_endpoint_url
from tests.support.memory_keyring import MemoryKeyring

engine = engine_fixtures.engine


@pytest.fixture
def endpoint_url() -> Iterator[str]:
    with fake_endpoint_url() as url:
        yield url


def _dialog(
    qtbot: QtBot,
    data_dir: Path,
    secrets: SecretStore | None = None,
    bridge: EngineBridge | None = None,
) -> ProfilesDialog:
    secrets = secrets or SecretStore()
    dialog = ProfilesDialog(ProfileStore(data_dir, secrets), secrets, bridge=bridge)
    qtbot.addWidget(dialog)
    return dialog


@pytest.fixture
def bridge(qtbot: QtBot, engine: Engine) -> Iterator[EngineBridge]:
    made = EngineBridge(engine)
    yield made
    made.close()


def _select(dialog: ProfilesDialog, name: str) -> None:
    for row in range(dialog.profile_list.count()):
        item = dialog.profile_list.item(row)
        if item.text().split("  ")[0] == name:
            dialog.profile_list.setCurrentItem(item)
            return
    raise AssertionError(f"{name} not listed")


def _fill_cloud(dialog: ProfilesDialog, name: str, endpoint: str, base_url: str, key: str) -> None:
    dialog.add_button.click()
    dialog.form.name_edit.setText(name)
    dialog.form.kind_combo.setCurrentIndex(dialog.form.kind_combo.findData("cloud"))
    dialog.form.endpoint_edit.setText(endpoint)
    dialog.form.base_url_edit.setText(base_url)
    dialog.form.key_edit.setText(key)


def test_opens_on_the_built_in_sandbox(qtbot: QtBot, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    assert dialog.objectName() == "profilesDialog"
    assert dialog.profile_list.item(0).text().startswith(SANDBOX_PROFILE)
    assert dialog.form.name_edit.text() == SANDBOX_PROFILE
    assert not dialog.remove_button.isEnabled() and not dialog.form.isEnabled()
    assert dialog.save_button.isEnabled()  # it saves the sandbox's variables only
    assert dialog.banner.isHidden()
    assert dialog.form.key_edit.echoMode() == QLineEdit.EchoMode.Password


def test_add_saves_the_profile_and_puts_the_key_in_the_keyring(
    qtbot: QtBot, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, data_dir)
    _fill_cloud(dialog, "prod", "abc123", "", "typed-secret-key")
    with qtbot.waitSignal(dialog.sig_profiles_changed, timeout=2000):
        dialog.save_button.click()
    assert ProfileStore(data_dir).get("prod") == Profile("prod", "cloud", endpoint_id="abc123")
    assert memory_keyring.entries == {(SERVICE, "api-key:prod"): "typed-secret-key"}
    assert "typed-secret-key" not in (data_dir / "profiles.json").read_text()
    assert dialog.form.key_edit.text() == ""  # the stored key is never shown again
    qtbot.waitUntil(lambda: "A key is stored" in dialog.form.key_source.text(), timeout=5_000)
    assert dialog.form.key_edit.placeholderText() == "•••••••• (kept)"


def test_an_invalid_profile_says_what_to_fix(qtbot: QtBot, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    _fill_cloud(dialog, "prod", "", "", "")
    dialog.save_button.click()
    assert "endpoint id" in dialog.test_result.text()
    assert ProfileStore(data_dir).names() == [SANDBOX_PROFILE]


def test_rename_duplicate_and_remove(
    qtbot: QtBot,
    data_dir: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialog = _dialog(qtbot, data_dir)
    _fill_cloud(dialog, "prod", "abc123", "", "k1")
    dialog.save_button.click()
    _select(dialog, "prod")
    dialog.form.name_edit.setText("production")
    dialog.save_button.click()
    assert memory_keyring.entries == {(SERVICE, "api-key:production"): "k1"}
    dialog.duplicate_button.click()
    assert dialog.form.name_edit.text() == "production copy"
    assert memory_keyring.entries[(SERVICE, "api-key:production copy")] == "k1"
    monkeypatch.setattr(
        QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes
    )
    _select(dialog, "production")
    dialog.remove_button.click()
    assert ProfileStore(data_dir).names() == [SANDBOX_PROFILE, "production copy"]
    assert (SERVICE, "api-key:production") not in memory_keyring.entries


def test_local_worker_profile(qtbot: QtBot, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    dialog.add_button.click()
    dialog.form.name_edit.setText("worker")
    dialog.form.kind_combo.setCurrentIndex(dialog.form.kind_combo.findData("local"))
    assert dialog.form.endpoint_edit.isHidden() and not dialog.form.handler_edit.isHidden()
    dialog.form.handler_edit.setText("/w/handler.py")
    dialog.form.port_spin.setValue(8123)
    dialog.save_button.click()
    saved = ProfileStore(data_dir).get("worker")
    assert (saved.kind, saved.handler, saved.port) == ("local", "/w/handler.py", 8123)


def test_no_secure_keyring_shows_a_banner(qtbot: QtBot, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir, SecretStore(fail.Keyring()))
    assert not dialog.banner.isHidden()
    assert "session only" in dialog.banner.text()


def test_environment_key_in_use_is_said(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", "env-key")
    ProfileStore(data_dir).add(Profile("prod", "cloud", endpoint_id="abc123"))
    dialog = _dialog(qtbot, data_dir)
    _select(dialog, "prod")
    qtbot.waitUntil(
        lambda: "RUNPOD_API_KEY environment variable is in use" in dialog.form.key_source.text(),
        timeout=5_000,
    )


def test_test_connection_goes_through_the_engine_and_answers_plainly(
    qtbot: QtBot, data_dir: Path, endpoint_url: str, bridge: EngineBridge
) -> None:
    dialog = _dialog(qtbot, data_dir, bridge=bridge)
    _fill_cloud(dialog, "prod", "e1", endpoint_url, "wrong-key")
    dialog.test_button.click()  # the typed key is tested before it is saved
    assert not dialog.test_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=10_000)
    assert "API key was refused (401)" in dialog.test_result.text()
    dialog.form.key_edit.setText(GOOD_KEY)
    dialog.save_button.click()
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "Connected" in dialog.test_result.text(), timeout=10_000)
    dialog.form.endpoint_edit.setText("e2")
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "Unknown endpoint" in dialog.test_result.text(), timeout=10_000)
    assert GOOD_KEY not in dialog.test_result.text()


def test_the_built_in_sandbox_is_tested_where_the_engine_runs_it(
    qtbot: QtBot, data_dir: Path, bridge: EngineBridge
) -> None:
    dialog = _dialog(qtbot, data_dir, bridge=bridge)
    _select(dialog, SANDBOX_PROFILE)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=30_000)
    assert dialog.test_result.text().startswith("Connected: workers ")


def test_without_the_engine_test_connection_says_it_needs_it(qtbot: QtBot, data_dir: Path) -> None:
    dialog = _dialog(qtbot, data_dir)
    _select(dialog, SANDBOX_PROFILE)
    dialog.test_button.click()
    assert "needs the job engine" in dialog.test_result.text()
    assert dialog.test_button.isEnabled()


def test_s3_credential_sets_keep_their_secret_in_the_keyring(
    qtbot: QtBot,
    data_dir: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dialog = _dialog(qtbot, data_dir)
    panel = dialog.s3_panel
    dialog.tabs.setCurrentWidget(panel)
    panel.name_edit.setText("team")
    panel.access_id_edit.setText("AKIA1")
    panel.bucket_edit.setText("bucket")
    panel.endpoint_url_edit.setText("https://s3.test")
    panel.save_button.click()
    assert "needs it" in panel.message.text()  # a new set without its secret is refused
    assert panel.secret_edit.echoMode() == QLineEdit.EchoMode.Password
    panel.secret_edit.setText("typed-s3-secret")
    with qtbot.waitSignal(dialog.sig_s3_sets_changed, timeout=2000):
        panel.save_button.click()
    assert memory_keyring.entries[(SERVICE, "s3:team")] == "typed-s3-secret"
    assert "typed-s3-secret" not in (data_dir / "profiles.json").read_text()
    assert panel.secret_edit.text() == ""
    assert panel.reference.text() == '"accessSecret": "keyring:s3/team"'
    panel.name_edit.setText("team-renamed")  # the secret follows a rename
    panel.save_button.click()
    assert memory_keyring.entries == {(SERVICE, "s3:team-renamed"): "typed-s3-secret"}
    assert [s.name for s in ProfileStore(data_dir).s3_sets()] == ["team-renamed"]
    monkeypatch.setattr(
        QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Yes
    )
    panel.remove_button.click()
    assert memory_keyring.entries == {}
    assert ProfileStore(data_dir).s3_sets() == []


def test_the_account_key_is_set_and_forgotten_from_the_dialog(
    qtbot: QtBot,
    data_dir: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ProfileStore(data_dir).add(Profile("shared", "cloud", endpoint_id="e1"))
    dialog = _dialog(qtbot, data_dir)
    _select(dialog, "shared")
    qtbot.waitUntil(lambda: "No key stored" in dialog.form.key_source.text(), timeout=5_000)
    answers = iter([("account-secret", True), ("", True)])
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: next(answers))
    dialog.account_key_button.click()
    assert memory_keyring.entries == {(SERVICE, "api-key:account"): "account-secret"}
    qtbot.waitUntil(lambda: "A key is stored" in dialog.form.key_source.text(), timeout=5_000)
    assert "account-secret" not in dialog.test_result.text()
    dialog.account_key_button.click()
    assert memory_keyring.entries == {}


def test_variables_are_edited_in_a_table_saved_with_the_profile_and_never_a_secret(
    qtbot: QtBot, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot, data_dir)
    table = dialog.variables
    assert table.table.objectName() == "profileVariables"
    table.add_button.click()
    table.table.item(0, 0).setText("style")
    table.table.item(0, 1).setText("watercolour")
    dialog.save_button.click()
    assert dialog.store.variables(SANDBOX_PROFILE) == {"style": "watercolour"}

    _fill_cloud(dialog, "prod", "e1", "", "")
    table.add_button.click()
    table.table.item(0, 0).setText("steps")
    table.table.item(0, 1).setText("30")
    table.add_button.click()
    table.table.item(1, 0).setText("apiKey")
    table.table.item(1, 1).setText("x")
    dialog.save_button.click()
    assert "looks like a secret" in dialog.test_result.text()
    assert "prod" not in dialog.store.names()  # nothing saved
    # Through the selection model: selectRow follows the keyboard modifiers Qt believes held,
    # which an earlier test's key events can leave behind (it then extended the selection).
    flags = QItemSelectionModel.SelectionFlag
    table.table.selectionModel().select(
        table.table.model().index(1, 0), flags.ClearAndSelect | flags.Rows
    )
    table.remove_button.click()
    dialog.save_button.click()
    assert dialog.store.variables("prod") == {"steps": "30"}
    dialog.profile_list.setCurrentRow(0)
    assert table.variables() == {"style": "watercolour"}
