"""The Profiles dialog: add, edit, remove and duplicate profiles; keys go to the keyring.

The key field is masked and never shows a stored key (it is never read into the widget): typing
replaces the key, leaving it empty keeps it. "Test connection" is asked of the engine (its loop and
HTTP client; it knows where the built-in sandbox runs) and answers in a plain sentence. When the
keyring is not secure a banner says keys last for this session only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.core.endpoint.connection_check import ConnectionResult
from gui.core.errors import ConsoleError
from gui.core.profiles.profiles import Profile, ProfileStore, make_key_provider
from gui.core.profiles.secrets import ACCOUNT_KEY_NAME, SecretStore, api_key_for, api_key_name
from gui.core.targets import SANDBOX_PROFILE
from gui.ui import theme
from gui.ui.profiles.form import ProfileForm
from gui.ui.profiles.form import named as _named
from gui.ui.profiles.guards import GuardsBox
from gui.ui.profiles.s3_credentials import S3CredentialsPanel
from gui.ui.profiles.variables import VariablesTable
from gui.ui.tasks import Latest, run_in_background, when_done

if TYPE_CHECKING:
    from gui.ui.account.endpoint_picker import EndpointPicker
    from gui.ui.bridge import EngineBridge

__all__ = ["ProfilesDialog"]


class ProfilesDialog(QDialog):
    """Edits the profiles in ``store``; secrets go through ``secrets``.

    ``bridge`` reaches the engine, which tests connections (None: Test connection says it
    needs the engine).
    """

    sig_profiles_changed = Signal()
    """Profiles were added, edited, removed or duplicated: selectors should reload."""

    sig_s3_sets_changed = Signal()
    """S3 credential sets were saved or removed: request forms should reload their choices."""

    def __init__(
        self,
        store: ProfileStore,
        secrets: SecretStore,
        parent: QWidget | None = None,
        *,
        bridge: EngineBridge | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("profilesDialog")
        self.setWindowTitle("Profiles")
        self.store = store
        self.secrets = secrets
        self._bridge = bridge
        self._editing: str | None = None  # name of the saved profile in the form; None = new
        self._test_task = Latest()  # an older test, overtaken by a newer one, is not heard
        self._key_task = Latest()  # nor the key source of a profile shown before
        self.endpoint_picker: EndpointPicker | None = None  # the last one opened (Pick…)
        self._build()
        self._reload(select=SANDBOX_PROFILE)

    # -- layout --------------------------------------------------------------------------------

    def _build(self) -> None:
        self.banner = QLabel(self.secrets.warning)
        self.banner.setObjectName("insecureKeyringBanner")
        self.banner.setWordWrap(True)
        theme.bind_style(
            self.banner,
            lambda: (
                f"background: {theme.css('notice_bg')}; color: {theme.css('notice_text')}; "
                "padding: 6px;"
            ),
        )
        self.banner.setVisible(not self.secrets.secure)

        self.profile_list = _named(QListWidget(), "profileList")
        self.profile_list.currentItemChanged.connect(self._on_profile_list_current_changed)
        self.add_button = _named(QPushButton("Add"), "addProfileButton")
        self.duplicate_button = _named(QPushButton("Duplicate"), "duplicateProfileButton")
        self.remove_button = _named(QPushButton("Remove"), "removeProfileButton")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.duplicate_button.clicked.connect(self._on_duplicate_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        list_buttons = QHBoxLayout()
        for button in (self.add_button, self.duplicate_button, self.remove_button):
            list_buttons.addWidget(button)
        left = QVBoxLayout()
        left.addWidget(self.profile_list)
        left.addLayout(list_buttons)

        right = QVBoxLayout()
        self.form = ProfileForm()
        self.form.sig_pick_endpoint_requested.connect(self._on_form_pick_endpoint_requested)
        right.addWidget(self.form)
        self.variables = VariablesTable()
        right.addWidget(self.variables)
        self.guards = GuardsBox()
        right.addWidget(self.guards)
        self.test_result = _named(QLabel(), "testResultLabel")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_button = _named(QPushButton("Test connection"), "testConnectionButton")
        self.save_button = _named(QPushButton("Save"), "saveProfileButton")
        self.test_button.clicked.connect(self._on_test_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        actions = QHBoxLayout()
        self.account_key_button = _named(QPushButton("Account key…"), "accountKeyButton")
        self.account_key_button.setToolTip("The key shared by every cloud profile without its own")
        self.account_key_button.clicked.connect(self._on_account_key_clicked)
        actions.addWidget(self.test_button)
        actions.addWidget(self.account_key_button)
        actions.addStretch(1)
        actions.addWidget(self.save_button)
        right.addLayout(actions)
        right.addWidget(self.test_result)

        profiles_page = QWidget()
        body = QHBoxLayout(profiles_page)
        body.addLayout(left, 1)
        body.addLayout(right, 2)
        self.s3_panel = S3CredentialsPanel(self.store, self.secrets)
        self.s3_panel.sig_sets_changed.connect(self.sig_s3_sets_changed)
        self.tabs = _named(QTabWidget(), "profilesTabs")
        self.tabs.addTab(profiles_page, "Profiles")
        self.tabs.addTab(self.s3_panel, "S3 credentials")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addWidget(self.banner)
        outer.addWidget(self.tabs)
        outer.addWidget(close)
        self.resize(760, 460)

    # -- loading and showing -------------------------------------------------------------------

    def _reload(self, select: str | None) -> None:
        self.profile_list.blockSignals(True)
        self.profile_list.clear()
        try:
            profiles = self.store.profiles()
        except ConsoleError as exc:
            self._show_error(str(exc))
            profiles = []
        for profile in profiles:
            label = f"{profile.name}  (built-in)" if profile.is_builtin else profile.name
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, profile.name)
            self.profile_list.addItem(item)
        self.profile_list.blockSignals(False)
        for row in range(self.profile_list.count()):
            item = self.profile_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == select:
                self.profile_list.setCurrentItem(item)
                return

    def _selected_name(self) -> str | None:
        item = self.profile_list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _show_profile(self, profile: Profile) -> None:
        self._editing = profile.name
        self.form.show_profile(profile)
        self.test_result.clear()
        for button in (self.remove_button, self.duplicate_button):
            button.setEnabled(not profile.is_builtin)
        self.save_button.setEnabled(True)  # the built-in sandbox's variables can be saved
        self.form.setEnabled(not profile.is_builtin)
        try:
            self.variables.show_variables(self.store.variables(profile.name))
            self.guards.show_guards(self.store.guards(profile.name))
        except ConsoleError as exc:
            self._show_error(str(exc))
        self._show_key_source(profile)

    def _show_key_source(self, profile: Profile) -> None:
        """Say where the profile's key comes from; the keyring is asked off the Qt thread (a
        D-Bus round trip, or an unlock prompt, must not freeze the dialog)."""
        self._key_task.drop()
        if profile.kind != "cloud":
            return

        def work() -> tuple[bool, str]:
            key, source = api_key_for(
                profile, self.secrets, account_key_first=profile.use_account_key
            )
            return key is not None, source

        def done(result: tuple[bool, str]) -> None:
            self.form.show_key_source(*result)

        def failed(error: BaseException) -> None:
            self.form.key_source.setText(str(error))

        run_in_background(work, done, failed, context=self, latest=self._key_task)

    def _show_error(self, message: str) -> None:
        self.test_result.setText(message)
        self.test_result.setStyleSheet(f"color: {theme.css('error')};")

    def _show_note(self, message: str, ok: bool = True) -> None:
        self.test_result.setText(message)
        self.test_result.setStyleSheet(f"color: {theme.css('success' if ok else 'error')};")

    # -- slots ---------------------------------------------------------------------------------

    def _on_profile_list_current_changed(self) -> None:
        name = self._selected_name()
        if name is None:
            return
        try:
            self._show_profile(self.store.get(name))
        except ConsoleError as exc:
            self._show_error(str(exc))

    def _on_add_clicked(self) -> None:
        self.profile_list.blockSignals(True)
        self.profile_list.clearSelection()
        self.profile_list.setCurrentRow(-1)
        self.profile_list.blockSignals(False)
        self._show_profile(Profile("New profile", "cloud"))
        self._editing = None
        self.duplicate_button.setEnabled(False)
        self.remove_button.setEnabled(False)
        self.form.name_edit.setFocus()
        self.form.name_edit.selectAll()

    def _on_save_clicked(self) -> None:
        if self._editing == SANDBOX_PROFILE:
            try:
                guards = self.guards.guards()
                self.store.set_variables(SANDBOX_PROFILE, self.variables.variables())
                self.store.set_guards(SANDBOX_PROFILE, guards)
            except ConsoleError as exc:
                self._show_error(str(exc))
                return
            self._show_note(f"Saved the variables and spend guards of '{SANDBOX_PROFILE}'.")
            return
        profile = self.form.profile()
        key = self.form.typed_key()
        try:
            from gui.core.profiles.profiles import check_variable

            variables = self.variables.variables()
            for name, value in variables.items():  # refused before anything is saved
                check_variable(name, value)
            guards = self.guards.guards()
            if self._editing is None:
                self.store.add(profile)
            else:
                self.store.replace(self._editing, profile)
            if key and profile.kind == "cloud":
                self.secrets.set(api_key_name(profile.name), key)
            self.store.set_variables(profile.name, variables)
            self.store.set_guards(profile.name, guards)
        except ConsoleError as exc:
            self._show_error(str(exc))
            return
        self._reload(select=profile.name)
        self._show_note(f"Saved '{profile.name}'.")
        self.sig_profiles_changed.emit()

    def _on_account_key_clicked(self) -> None:
        key, accepted = QInputDialog.getText(
            self,
            "Account key",
            "The API key shared by every cloud profile without its own.\n"
            "Leave empty to forget the stored one.",
            QLineEdit.EchoMode.Password,
        )
        if not accepted:
            return
        try:
            if key.strip():
                self.secrets.set(ACCOUNT_KEY_NAME, key.strip())
                self._show_note("Saved the account key.")
            else:
                self.secrets.delete(ACCOUNT_KEY_NAME)
                self._show_note("Forgot the account key.")
        except ConsoleError as exc:
            self._show_error(str(exc))
            return
        if self._editing is not None:
            self._show_key_source(self.form.profile())

    def _on_duplicate_clicked(self) -> None:
        name = self._selected_name()
        if name is None:
            return
        try:
            copy = self.store.duplicate(name)
        except ConsoleError as exc:
            self._show_error(str(exc))
            return
        self._reload(select=copy.name)
        self.sig_profiles_changed.emit()

    def _on_remove_clicked(self) -> None:
        name = self._selected_name()
        if name is None or name == SANDBOX_PROFILE:
            return
        answer = QMessageBox.question(
            self, "Remove profile", f"Remove the profile '{name}' and its stored key?"
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.remove(name)
        except ConsoleError as exc:
            self._show_error(str(exc))
            return
        self._reload(select=SANDBOX_PROFILE)
        self.sig_profiles_changed.emit()

    def _on_test_clicked(self) -> None:
        """Test what the form shows (saved or not): the engine asks, the window never waits."""
        if self._bridge is None:
            self._show_note("Testing needs the job engine, which is not running.", ok=False)
            return
        if self._editing == SANDBOX_PROFILE:
            profile = self.store.get(SANDBOX_PROFILE)
        else:
            profile = self.form.profile()
        target = profile.to_target()  # the engine knows where the built-in sandbox runs
        typed = self.form.typed_key()
        lookup = make_key_provider(self.store, self.secrets)
        self.test_button.setEnabled(False)
        shown = target.endpoint_url if target.base_url else "the built-in sandbox"
        self._show_note(f"Testing {shown} …")

        def done(result: ConnectionResult) -> None:
            self.test_button.setEnabled(True)
            self._show_note(result.message, ok=result.ok)

        def failed(error: BaseException) -> None:  # shown to the person; never a traceback
            done(ConnectionResult(False, f"The test failed: {error}"))

        future = self._bridge.check_connection(target, lambda: typed or lookup(target))
        when_done(future, done, failed, context=self, latest=self._test_task)

    def _on_form_pick_endpoint_requested(self) -> None:
        """The account's endpoints, listed by the engine with the key the form shows (typed, or
        stored); picking one fills the endpoint id."""
        if self._bridge is None:
            self._show_note("Listing endpoints needs the job engine, which is not running.", False)
            return
        from gui.ui.account.endpoint_picker import EndpointPicker  # on first use

        profile = self.form.profile()
        target = profile.to_target()
        typed = self.form.typed_key()
        lookup = make_key_provider(self.store, self.secrets)
        picker = EndpointPicker(
            self._bridge,
            target,
            management_url=profile.management_url,
            api_key=lambda: typed or lookup(target),
            current=profile.endpoint_id,
            parent=self,
        )
        picker.sig_endpoint_picked.connect(self.form.endpoint_edit.setText)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.endpoint_picker = picker
        picker.open()
