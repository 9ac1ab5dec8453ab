"""The editor of one profile inside the Profiles dialog: its fields, shown per kind.

The key field is masked and never holds a stored key: typing replaces the key, leaving it empty
keeps it. Where the key comes from is told in words (``show_key_source``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from gui.core.profiles.profiles import DEFAULT_LOCAL_PORT, Profile, find_worker_python
from gui.core.profiles.secrets import KEY_SOURCE_ENV, KEY_SOURCE_NONE

__all__ = ["ProfileForm", "named"]

_KINDS = [("RunPod cloud endpoint", "cloud"), ("Local worker", "local")]
_W = TypeVar("_W", bound=QWidget)


def named(widget: _W, object_name: str) -> _W:
    """``widget`` with its stable objectName (tests and automation find it by that name)."""
    widget.setObjectName(object_name)
    return widget


class ProfileForm(QWidget):
    """Fields of one profile; ``profile()`` reads them back. Holds no state beyond the widgets."""

    sig_pick_endpoint_requested = Signal()
    """Pick… was clicked: list the account's endpoints to fill the endpoint id from."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name_edit = named(QLineEdit(), "profileNameEdit")
        self.kind_combo = named(QComboBox(), "profileKindCombo")
        for label, kind in _KINDS:
            self.kind_combo.addItem(label, kind)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_combo_changed)
        self.endpoint_edit = named(QLineEdit(), "endpointIdEdit")
        self.base_url_edit = named(QLineEdit(), "baseUrlEdit")
        self.base_url_edit.setPlaceholderText("https://api.runpod.ai/v2")
        self.pick_endpoint_button = named(QPushButton("Pick…"), "pickEndpointButton")
        self.pick_endpoint_button.setToolTip(
            "List the account's endpoints (needs the API key) and pick one"
        )
        self.pick_endpoint_button.clicked.connect(self.sig_pick_endpoint_requested)
        self.management_url_edit = named(QLineEdit(), "managementUrlEdit")
        self.management_url_edit.setPlaceholderText("https://api.runpod.io/v2")
        self.management_url_edit.setToolTip(
            "RunPod's management API (REST v2): endpoints and workers are read there"
        )
        self.key_edit = named(QLineEdit(), "apiKeyEdit")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_source = named(QLabel(), "keySourceLabel")
        self.key_source.setWordWrap(True)
        self.account_check = named(QCheckBox("Use the shared account key"), "accountKeyCheck")
        self.handler_edit = named(QLineEdit(), "handlerEdit")
        self.handler_edit.setPlaceholderText("handler.py started with --rp_serve_api")
        self.handler_edit.editingFinished.connect(self._on_handler_edit_finished)
        self.python_edit = named(QLineEdit(), "pythonEdit")
        self.python_edit.setToolTip(
            "The Python that runs the handler: the worker's own virtual environment, which has "
            "runpod and the worker's packages. Empty: a .venv or venv beside the handler (or in a "
            "folder above it), else the console's own Python."
        )
        self._show_found_python()
        self.port_spin = named(QSpinBox(), "portSpin")
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(DEFAULT_LOCAL_PORT)
        self.worker_url_edit = named(QLineEdit(), "workerUrlEdit")
        self.worker_url_edit.setPlaceholderText("or the URL of a worker already running")
        self._builtin = False
        self._lay_out()

    def _lay_out(self) -> None:
        browse = named(QPushButton("Browse…"), "handlerBrowseButton")
        browse.clicked.connect(self._on_browse_clicked)
        handler_box = _row(self.handler_edit, browse)
        browse_python = named(QPushButton("Browse…"), "pythonBrowseButton")
        browse_python.clicked.connect(self._on_browse_python_clicked)
        python_box = _row(self.python_edit, browse_python)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name_edit)
        form.addRow("Kind", self.kind_combo)
        endpoint_box = _row(self.endpoint_edit, self.pick_endpoint_button)
        form.addRow("Endpoint id", endpoint_box)
        form.addRow("Base URL", self.base_url_edit)
        form.addRow("Management URL", self.management_url_edit)
        form.addRow("API key", self.key_edit)
        form.addRow("", self.account_check)
        form.addRow("", self.key_source)
        form.addRow("Handler", handler_box)
        form.addRow("Python", python_box)
        form.addRow("Port", self.port_spin)
        form.addRow("Worker URL", self.worker_url_edit)
        self._cloud_rows: list[QWidget] = [endpoint_box, self.base_url_edit, self.key_edit]
        self._cloud_rows.append(self.management_url_edit)
        self._cloud_rows += [self.account_check, self.key_source]
        self._local_rows: list[QWidget] = [handler_box, python_box, self.port_spin]
        self._local_rows.append(self.worker_url_edit)
        self._form = form

    def show_profile(self, profile: Profile) -> None:
        """Fill the fields from ``profile``; the built-in sandbox is shown read-only."""
        self._builtin = profile.is_builtin
        cloud, local = profile.kind == "cloud", profile.kind == "local"
        self.name_edit.setText(profile.name)
        self.kind_combo.setCurrentIndex(max(self.kind_combo.findData(profile.kind), 0))
        self.endpoint_edit.setText(profile.endpoint_id if cloud else "")
        self.base_url_edit.setText(profile.base_url if cloud else "")
        self.management_url_edit.setText(profile.management_url if cloud else "")
        self.account_check.setChecked(profile.use_account_key)
        self.handler_edit.setText(profile.handler)
        self.python_edit.setText(profile.python)
        self._show_found_python()
        self.port_spin.setValue(profile.serve_port)
        self.worker_url_edit.setText(profile.base_url if local else "")
        self.key_edit.clear()
        self.key_edit.setPlaceholderText("")
        self.key_source.setText("Looking the key up…" if cloud else "")
        for widget in [self.name_edit, self.kind_combo, *self._cloud_rows, *self._local_rows]:
            widget.setEnabled(not self._builtin)
        self._on_kind_combo_changed()

    def profile(self) -> Profile:
        """The profile the fields describe (not yet checked: ``ProfileStore`` does that)."""
        name = self.name_edit.text().strip()
        if self.kind_combo.currentData() == "local":
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
            management_url=self.management_url_edit.text().strip(),
        )

    def typed_key(self) -> str:
        return self.key_edit.text().strip()

    def show_key_source(self, found: bool, source: str) -> None:
        """Say where the key of the shown profile comes from (``api_key_for``'s answer)."""
        if source == KEY_SOURCE_NONE:
            text = "No key stored: type one, or set the account key or RUNPOD_API_KEY."
        elif source == KEY_SOURCE_ENV:
            text = "The RUNPOD_API_KEY environment variable is in use for this profile."
        else:
            text = f"A key is stored ({source}). Type a new one to replace it."
        self.key_source.setText(text)
        self.key_edit.setPlaceholderText("•••••••• (kept)" if found else "")

    def _on_kind_combo_changed(self) -> None:
        local = self.kind_combo.currentData() == "local"
        for widget in self._cloud_rows:
            self._form.setRowVisible(widget, not local and not self._builtin)
        self.endpoint_edit.setVisible(not local and not self._builtin)  # in a row with Pick…
        for widget in self._local_rows:
            self._form.setRowVisible(widget, local and not self._builtin)
        self._form.setRowVisible(self.kind_combo, not self._builtin)

    def _show_found_python(self) -> None:
        """The placeholder says which Python an empty field means for the handler shown."""
        handler = self.handler_edit.text().strip()
        found = find_worker_python(handler) if handler else None
        if found is not None:
            self.python_edit.setPlaceholderText(f"{found} (found beside the handler)")
        else:
            self.python_edit.setPlaceholderText(
                "the worker's virtual environment's python (none found: the console's own)"
            )

    def _on_handler_edit_finished(self) -> None:
        self._show_found_python()

    def _on_browse_clicked(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Worker handler", "", "Python files (*.py);;All files (*)"
        )
        if path:
            self.handler_edit.setText(path)
            found = find_worker_python(path)
            if found is not None and not self.python_edit.text().strip():
                self.python_edit.setText(str(found))  # named in the profile, for all to see
            self._show_found_python()

    def _on_browse_python_clicked(self) -> None:
        handler = self.handler_edit.text().strip()
        found = find_worker_python(handler) if handler else None
        start = found.parent if found else Path(handler).expanduser().parent if handler else None
        path, _filter = QFileDialog.getOpenFileName(
            self,
            "The worker's Python (its virtual environment's bin/python)",
            str(start or ""),
            # A virtual environment's python is a link: resolved, it would not see its packages.
            options=QFileDialog.Option.DontResolveSymlinks,
        )
        if path:
            self.python_edit.setText(path)


def _row(field: QWidget, button: QPushButton) -> QWidget:
    """``field`` with ``button`` at its right, as one form row."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(field, 1)
    row.addWidget(button)
    return box
