"""The "S3 credentials" tab of the Profiles dialog: named S3 credential sets.

``accessId``, ``bucketName``, ``endpointUrl`` and ``objectPath`` are saved in ``profiles.json``;
the ``accessSecret`` goes to the keyring and is never read back into the (masked) field. A request
uses a set through ``"accessSecret": "keyring:s3/<name>"``, shown here ready to copy.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.core.errors import ConsoleError
from gui.core.profiles.profiles import ProfileStore
from gui.core.profiles.s3refs import S3CredentialSet, s3_reference
from gui.core.profiles.secrets import SecretStore, s3_secret_name
from gui.ui import theme

__all__ = ["S3CredentialsPanel"]


def _line_edit(object_name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(object_name)
    edit.setPlaceholderText(placeholder)
    return edit


def _button(text: str, object_name: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(object_name)
    return button


class S3CredentialsPanel(QWidget):
    """Adds, edits and removes the S3 credential sets of ``store``."""

    sig_sets_changed = Signal()
    """A credential set was saved or removed: request forms should reload their choices."""

    def __init__(
        self, store: ProfileStore, secrets: SecretStore, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("s3CredentialsPanel")
        self.store = store
        self.secrets = secrets
        self._editing: str | None = None  # the saved set shown in the form; None = a new one
        self.set_list = QListWidget()
        self.set_list.setObjectName("s3SetList")
        self.set_list.currentItemChanged.connect(self._on_set_list_current_changed)
        self.add_button = _button("Add", "addS3SetButton")
        self.remove_button = _button("Remove", "removeS3SetButton")
        self.save_button = _button("Save", "saveS3SetButton")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.remove_button.clicked.connect(self._on_remove_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.name_edit = _line_edit("s3SetNameEdit", "e.g. team-bucket")
        self.access_id_edit = _line_edit("s3AccessIdEdit")
        self.secret_edit = _line_edit("s3SecretEdit")
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.bucket_edit = _line_edit("s3BucketEdit")
        self.endpoint_url_edit = _line_edit("s3EndpointUrlEdit", "https://s3.amazonaws.com")
        self.object_path_edit = _line_edit("s3ObjectPathEdit", "optional")
        self.reference = QLabel()
        self.reference.setObjectName("s3ReferenceLabel")
        self.reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel()
        self.message.setObjectName("s3MessageLabel")
        self.message.setWordWrap(True)
        self._lay_out()
        self._reload(select=None)

    def _lay_out(self) -> None:
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.remove_button)
        left = QVBoxLayout()
        left.addWidget(self.set_list)
        left.addLayout(list_buttons)
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("accessId", self.access_id_edit)
        form.addRow("accessSecret", self.secret_edit)
        form.addRow("bucketName", self.bucket_edit)
        form.addRow("endpointUrl", self.endpoint_url_edit)
        form.addRow("objectPath", self.object_path_edit)
        form.addRow("In a request", self.reference)
        right = QVBoxLayout()
        right.addLayout(form)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_button)
        right.addLayout(save_row)
        right.addWidget(self.message)
        right.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 2)

    def _reload(self, select: str | None) -> None:
        self.set_list.blockSignals(True)
        self.set_list.clear()
        try:
            names = [credential_set.name for credential_set in self.store.s3_sets()]
        except ConsoleError as exc:
            self._say(str(exc), ok=False)
            names = []
        for name in names:
            self.set_list.addItem(QListWidgetItem(name))
        self.set_list.blockSignals(False)
        matches = self.set_list.findItems(select or "", Qt.MatchFlag.MatchExactly)
        if select and matches:
            self.set_list.setCurrentItem(matches[0])
        elif names:
            self.set_list.setCurrentRow(0)
        else:
            self._on_add_clicked()

    def _show(self, credential_set: S3CredentialSet | None) -> None:
        self._editing = credential_set.name if credential_set else None
        self.name_edit.setText(credential_set.name if credential_set else "")
        self.access_id_edit.setText(credential_set.access_id if credential_set else "")
        self.bucket_edit.setText(credential_set.bucket_name if credential_set else "")
        self.endpoint_url_edit.setText(credential_set.endpoint_url if credential_set else "")
        self.object_path_edit.setText(credential_set.object_path if credential_set else "")
        self.secret_edit.clear()
        stored = credential_set is not None and bool(
            self.secrets.get(s3_secret_name(credential_set.name))
        )
        self.secret_edit.setPlaceholderText("•••••••• (kept)" if stored else "not stored yet")
        self.reference.setText(
            f'"accessSecret": "{s3_reference(credential_set.name)}"' if credential_set else ""
        )
        self.remove_button.setEnabled(credential_set is not None)

    def _say(self, text: str, *, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {theme.css('success' if ok else 'error')};")

    def _on_set_list_current_changed(self) -> None:
        item = self.set_list.currentItem()
        if item is None:
            return
        try:
            self._show(self.store.get_s3_set(item.text()))
        except ConsoleError as exc:
            self._say(str(exc), ok=False)

    def _on_add_clicked(self) -> None:
        self.set_list.blockSignals(True)
        self.set_list.setCurrentRow(-1)
        self.set_list.blockSignals(False)
        self._show(None)
        self.name_edit.setFocus()

    def _on_save_clicked(self) -> None:
        credential_set = S3CredentialSet(
            self.name_edit.text().strip(),
            self.access_id_edit.text().strip(),
            self.bucket_edit.text().strip(),
            self.endpoint_url_edit.text().strip(),
            self.object_path_edit.text().strip(),
        )
        secret = self.secret_edit.text()
        renamed = self._editing is not None and self._editing != credential_set.name
        new_name = self._editing is None or renamed
        try:
            taken = {existing.name for existing in self.store.s3_sets()}
            if new_name and credential_set.name in taken:
                raise ConsoleError(f"A credential set named '{credential_set.name}' exists.")
            if new_name and not secret:
                secret = self._old_secret() if renamed else ""
                if not secret:
                    raise ConsoleError("Type the accessSecret: a new credential set needs it.")
            self.store.save_s3_set(credential_set, secret or None)
            if renamed and self._editing is not None:
                self.store.remove_s3_set(self._editing)
        except (ConsoleError, ValueError) as exc:
            self._say(str(exc), ok=False)
            return
        self._reload(select=credential_set.name)
        where = "in the keyring" if self.secrets.secure else "kept for this session only"
        self._say(f"Saved '{credential_set.name}'; its secret is {where}.", ok=True)
        self.sig_sets_changed.emit()

    def _old_secret(self) -> str:
        """On a rename without a new secret: the old set's secret, read to move it."""
        assert self._editing is not None
        return self.secrets.get(s3_secret_name(self._editing)) or ""

    def _on_remove_clicked(self) -> None:
        if self._editing is None:
            return
        name = self._editing
        answer = QMessageBox.question(
            self, "Remove credential set", f"Remove the S3 credential set '{name}' and its secret?"
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.remove_s3_set(name)
        except ConsoleError as exc:
            self._say(str(exc), ok=False)
            return
        self._reload(select=None)
        self._say(f"Removed '{name}' and its secret.", ok=True)
        self.sig_sets_changed.emit()
