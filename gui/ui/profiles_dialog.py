"""The Profiles dialog: add, edit, remove and duplicate profiles; keys go to the keyring.

The key field is masked and never shows a stored key (it is never read into the widget): typing
replaces the key, leaving it empty keeps it. "Test connection" runs on a worker thread and answers
in a plain sentence. When the keyring is not secure a banner says keys last for this session only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.core.connection_check import ConnectionResult, check_connection
from gui.core.errors import ConsoleError
from gui.core.profiles import Profile, ProfileStore, make_key_provider
from gui.core.secrets import (
    KEY_SOURCE_ENV,
    KEY_SOURCE_NONE,
    SecretStore,
    api_key_for,
    api_key_name,
)
from gui.core.targets import SANDBOX_PROFILE
from gui.ui.s3_credentials_panel import S3CredentialsPanel

__all__ = ["ProfilesDialog"]

_KINDS = [("RunPod cloud endpoint", "cloud"), ("Local worker", "local")]
_W = TypeVar("_W", bound=QWidget)


def _named(widget: _W, object_name: str) -> _W:
    """``widget`` with its stable objectName (tests and automation find it by that name)."""
    widget.setObjectName(object_name)
    return widget


class _Relay(QObject):
    """Lives on the Qt thread; a worker thread emits it, Qt delivers the call here (queued)."""

    sig_connection_checked = Signal(object, object)
    """A connection test ended: (generation, ConnectionResult)."""


class ProfilesDialog(QDialog):
    """Edits the profiles in ``store``; secrets go through ``secrets``.

    ``sandbox_url`` is the running built-in sandbox's base URL (for testing it), when known.
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
        sandbox_url: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("profilesDialog")
        self.setWindowTitle("Profiles")
        self.store = store
        self.secrets = secrets
        self.sandbox_url = sandbox_url
        self._editing: str | None = None  # name of the saved profile in the form; None = new
        self._test_generation = 0
        self._relay = _Relay(self)
        self._relay.sig_connection_checked.connect(self._on_relay_connection_checked)
        self._build()
        self._reload(select=SANDBOX_PROFILE)

    # -- layout --------------------------------------------------------------------------------

    def _build(self) -> None:
        self.banner = QLabel(self.secrets.warning)
        self.banner.setObjectName("insecureKeyringBanner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fff3cd; color: #664d03; padding: 6px;")
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
        right.addLayout(self._build_form())
        self.test_result = _named(QLabel(), "testResultLabel")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_button = _named(QPushButton("Test connection"), "testConnectionButton")
        self.save_button = _named(QPushButton("Save"), "saveProfileButton")
        self.test_button.clicked.connect(self._on_test_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self.test_button)
        actions.addStretch(1)
        actions.addWidget(self.save_button)
        right.addLayout(actions)
        right.addWidget(self.test_result)
        right.addStretch(1)

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

    def _build_form(self) -> QFormLayout:
        self.name_edit = _named(QLineEdit(), "profileNameEdit")
        self.kind_combo = _named(QComboBox(), "profileKindCombo")
        for label, kind in _KINDS:
            self.kind_combo.addItem(label, kind)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_combo_changed)
        self.endpoint_edit = _named(QLineEdit(), "endpointIdEdit")
        self.base_url_edit = _named(QLineEdit(), "baseUrlEdit")
        self.base_url_edit.setPlaceholderText("https://api.runpod.ai/v2")
        self.key_edit = _named(QLineEdit(), "apiKeyEdit")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_source = _named(QLabel(), "keySourceLabel")
        self.key_source.setWordWrap(True)
        self.account_check = _named(QCheckBox("Use the shared account key"), "accountKeyCheck")
        self.handler_edit = _named(QLineEdit(), "handlerEdit")
        self.handler_edit.setPlaceholderText("handler.py started with --rp_serve_api")
        browse = _named(QPushButton("Browse…"), "handlerBrowseButton")
        browse.clicked.connect(self._on_browse_clicked)
        handler_row = QHBoxLayout()
        handler_row.addWidget(self.handler_edit, 1)
        handler_row.addWidget(browse)
        self.python_edit = _named(QLineEdit(), "pythonEdit")
        self.python_edit.setPlaceholderText("the console's own Python")
        self.port_spin = _named(QSpinBox(), "portSpin")
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(8000)
        self.worker_url_edit = _named(QLineEdit(), "workerUrlEdit")
        self.worker_url_edit.setPlaceholderText("or the URL of a worker already running")

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Kind", self.kind_combo)
        self._cloud_rows: list[QWidget] = [self.endpoint_edit, self.base_url_edit, self.key_edit]
        form.addRow("Endpoint id", self.endpoint_edit)
        form.addRow("Base URL", self.base_url_edit)
        form.addRow("API key", self.key_edit)
        form.addRow("", self.account_check)
        form.addRow("", self.key_source)
        self._cloud_rows += [self.account_check, self.key_source]
        handler_box = QWidget()
        handler_box.setLayout(handler_row)
        form.addRow("Handler", handler_box)
        form.addRow("Python", self.python_edit)
        form.addRow("Port", self.port_spin)
        form.addRow("Worker URL", self.worker_url_edit)
        self._local_rows: list[QWidget] = [
            handler_box,
            self.python_edit,
            self.port_spin,
            self.worker_url_edit,
        ]
        self._form = form
        return form

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
        self.name_edit.setText(profile.name)
        kind_index = self.kind_combo.findData(profile.kind)
        self.kind_combo.setCurrentIndex(max(kind_index, 0))
        self.endpoint_edit.setText(profile.endpoint_id if profile.kind == "cloud" else "")
        self.base_url_edit.setText(profile.base_url if profile.kind == "cloud" else "")
        self.account_check.setChecked(profile.use_account_key)
        self.handler_edit.setText(profile.handler)
        self.python_edit.setText(profile.python)
        self.port_spin.setValue(profile.serve_port)
        self.worker_url_edit.setText(profile.base_url if profile.kind == "local" else "")
        self.key_edit.clear()
        self.test_result.clear()
        self._set_editable(not profile.is_builtin)
        self._show_key_source(profile)
        self._on_kind_combo_changed()

    def _show_key_source(self, profile: Profile) -> None:
        key, source = api_key_for(profile, self.secrets, account_key_first=profile.use_account_key)
        if profile.kind != "cloud":
            text = ""
        elif source == KEY_SOURCE_NONE:
            text = "No key stored: type one, or set the account key or RUNPOD_API_KEY."
        elif source == KEY_SOURCE_ENV:
            text = "The RUNPOD_API_KEY environment variable is in use for this profile."
        else:
            text = f"A key is stored ({source}). Type a new one to replace it."
        self.key_source.setText(text)
        self.key_edit.setPlaceholderText("" if key is None else "•••••••• (kept)")

    def _set_editable(self, editable: bool) -> None:
        controls: list[QWidget] = [self.name_edit, self.kind_combo, self.save_button]
        controls += [self.remove_button, self.duplicate_button]
        for widget in controls + self._cloud_rows + self._local_rows:
            widget.setEnabled(editable)

    def _on_kind_combo_changed(self) -> None:
        is_sandbox = self._editing == SANDBOX_PROFILE
        local = self.kind_combo.currentData() == "local"
        for widget in self._cloud_rows:
            self._form.setRowVisible(widget, not local and not is_sandbox)
        for widget in self._local_rows:
            self._form.setRowVisible(widget, local and not is_sandbox)
        self.kind_combo.setVisible(not is_sandbox)
        self._form.setRowVisible(self.kind_combo, not is_sandbox)

    def _form_profile(self) -> Profile:
        kind = self.kind_combo.currentData()
        name = self.name_edit.text().strip()
        if kind == "local":
            return Profile(
                name,
                "local",
                base_url=self.worker_url_edit.text().strip(),
                handler=self.handler_edit.text().strip(),
                python=self.python_edit.text().strip(),
                port=self.port_spin.value(),
            )
        return Profile(
            name,
            "cloud",
            endpoint_id=self.endpoint_edit.text().strip(),
            base_url=self.base_url_edit.text().strip(),
            use_account_key=self.account_check.isChecked(),
        )

    def _show_error(self, message: str) -> None:
        self.test_result.setText(message)
        self.test_result.setStyleSheet("color: #b02a37;")

    def _show_note(self, message: str, ok: bool = True) -> None:
        self.test_result.setText(message)
        self.test_result.setStyleSheet("color: #146c43;" if ok else "color: #b02a37;")

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
        self._set_editable(True)
        self.duplicate_button.setEnabled(False)
        self.remove_button.setEnabled(False)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def _on_save_clicked(self) -> None:
        profile = self._form_profile()
        key = self.key_edit.text().strip()
        try:
            if self._editing is None:
                self.store.add(profile)
            else:
                self.store.replace(self._editing, profile)
            if key and profile.kind == "cloud":
                self.secrets.set(api_key_name(profile.name), key)
        except ConsoleError as exc:
            self._show_error(str(exc))
            return
        self.key_edit.clear()
        self._reload(select=profile.name)
        self._show_note(f"Saved '{profile.name}'.")
        self.sig_profiles_changed.emit()

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

    def _on_browse_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Worker handler", "", "Python files (*.py);;All files (*)"
        )
        if path:
            self.handler_edit.setText(path)

    def _on_test_clicked(self) -> None:
        """Test what the form shows (saved or not), off the Qt thread."""
        if self._editing == SANDBOX_PROFILE:
            profile = self.store.get(SANDBOX_PROFILE)
            if not self.sandbox_url:
                self._show_note("The built-in sandbox is not running yet.", ok=False)
                return
        else:
            profile = self._form_profile()
        target = profile.to_target(self.sandbox_url if profile.is_builtin else None)
        typed = self.key_edit.text().strip()
        lookup = make_key_provider(self.store, self.secrets)
        self._test_generation += 1
        generation = self._test_generation
        self.test_button.setEnabled(False)
        self._show_note(f"Testing {target.endpoint_url} …")

        def work() -> ConnectionResult:
            return check_connection(target, typed or lookup(target))

        self._start_thread(work, generation)

    def _start_thread(self, work: Callable[[], ConnectionResult], generation: int) -> None:
        def run() -> None:
            try:
                result = work()
            except Exception as exc:  # shown to the person; never a traceback
                result = ConnectionResult(False, f"The test failed: {type(exc).__name__}.")
            try:
                self._relay.sig_connection_checked.emit(generation, result)
            except RuntimeError:
                pass  # the dialog was closed meanwhile: nobody is left to tell

        threading.Thread(target=run, name="profile-connection-test", daemon=True).start()

    def _on_relay_connection_checked(self, generation: int, result: ConnectionResult) -> None:
        if generation != self._test_generation:
            return  # an older test, overtaken by a newer one
        self.test_button.setEnabled(True)
        self._show_note(result.message, ok=result.ok)
