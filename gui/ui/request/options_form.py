"""The options form beside the JSON text: webhook, policy and s3Config, in step with the text.

The form never keeps a body of its own. A person's edit of a field goes out as
``sig_field_edited(path, value)`` (``REMOVE`` to delete the key) and the window rewrites the text;
every new validation of the text comes back through ``set_body`` and ``set_diagnostics``, so the
fields and their messages always show what the text says, with the validator's own words.

The labels stand beside their fields while the pane is wide enough for both, and above them when it
is not (a small window, a narrow pane), so nothing is cut and no horizontal scrollbar is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.core.profiles.s3refs import S3CredentialSet
from gui.core.request.body_fields import REMOVE, FieldPath, lookup
from gui.core.storage.templates import KEYRING_REFERENCE_PREFIX
from gui.core.webhooks.address import DEFAULT_PORT, is_loopback
from gui.ui import theme

if TYPE_CHECKING:
    from gui.core.request.validation import Diagnostic

__all__ = ["UNITS_MS", "RequestForm", "format_duration"]

Path = FieldPath


UNITS_MS: Final[dict[str, int]] = {"s": 1000, "min": 60_000, "h": 3_600_000}
# A field beside its label gets at least this many average characters, else labels go above.
FIELD_MIN_CHARS: Final = 30

WEBHOOK: Final = ("webhook",)
EXECUTION_TIMEOUT: Final = ("policy", "executionTimeout")
TTL: Final = ("policy", "ttl")
LOW_PRIORITY: Final = ("policy", "lowPriority")
S3_FIELDS: Final = ("accessId", "accessSecret", "bucketName", "endpointUrl", "objectPath")


def format_duration(milliseconds: int) -> tuple[str, str]:
    """(number text, unit) that show a duration readably: the largest unit giving a whole number,
    else the largest giving at most three decimals and at least 1, else seconds."""
    whole = [unit for unit in ("h", "min", "s") if milliseconds % UNITS_MS[unit] == 0]
    if whole and milliseconds:
        unit = whole[0]
        return str(milliseconds // UNITS_MS[unit]), unit
    for unit in ("h", "min", "s"):
        number = milliseconds / UNITS_MS[unit]
        shown = f"{number:.3f}".rstrip("0").rstrip(".")
        if number >= 1 and round(float(shown) * UNITS_MS[unit]) == milliseconds:
            return shown, unit
    return f"{milliseconds / 1000:g}", "s"


class _DurationField(QWidget):
    """A number and a unit (s, min, h); the body stores whole milliseconds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.number = QLineEdit(self)
        self.number.setPlaceholderText("default")
        self.number.setClearButtonEnabled(True)
        self.unit = QComboBox(self)
        self.unit.addItems(list(UNITS_MS))
        layout.addWidget(self.number, 1)
        layout.addWidget(self.unit)

    def milliseconds(self) -> int | str | None:
        """Whole milliseconds, None when empty, or an error message when not a number."""
        text = self.number.text().strip().replace(",", ".")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return "Enter a number, for example 10."
        return round(number * UNITS_MS[self.unit.currentText()])

    def show_value(self, value: Any) -> None:
        if self.number.hasFocus() or self.unit.hasFocus():
            return  # the person is typing here; their text is the truth
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            text, unit = format_duration(value)
            self.unit.setCurrentText(unit)
            self.number.setText(text)
        elif value is None:
            self.number.clear()
        else:
            self.number.setText(str(value))


class RequestForm(QScrollArea):
    """The fields of the request's options. See the module docstring for how it stays in step."""

    sig_field_edited = Signal(tuple, object)
    """A person changed a field: set the body's key at this path (tuple) to the value, or REMOVE."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("requestForm")
        self.setWidgetResizable(True)
        self._forms: list[QFormLayout] = []
        self._syncing = False
        # Field texts that are not numbers: shown at the field, never written into the body.
        self._local_errors: dict[Path, str] = {}
        inner = self._inner = QWidget(self)
        layout = QVBoxLayout(inner)
        self.notice = QLabel(inner)
        self.notice.setWordWrap(True)
        theme.bind_style(self.notice, lambda: f"color: {theme.css('warning')};")
        self.notice.hide()
        layout.addWidget(self.notice)
        self._messages: dict[Path, QLabel] = {}

        self.webhook = QLineEdit(inner)
        self.webhook.setPlaceholderText("https://example.com/runpod-webhook")
        self.webhook.setClearButtonEnabled(True)
        self.webhook.textEdited.connect(self._on_webhook_edited)
        self.use_listener = QPushButton("Use the console's listener", inner)
        self.use_listener.setObjectName("useListenerButton")
        self.use_listener.clicked.connect(self._on_use_listener_clicked)
        self.tunnel_note = QLabel(inner)
        self.tunnel_note.setObjectName("tunnelNote")
        self.tunnel_note.setWordWrap(True)
        self.tunnel_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        theme.bind_style(self.tunnel_note, lambda: f"color: {theme.css('warning')};")
        self.tunnel_note.hide()
        self._cloud_target = False
        self.set_listener_url("")
        webhook_rows: list[tuple[str, QWidget, Path]] = [
            ("URL", self.webhook, WEBHOOK),
            ("", self.use_listener, ("webhook", "@listener")),
            ("", self.tunnel_note, ("webhook", "@tunnel")),
        ]
        webhook_box = self._group("Webhook", webhook_rows, inner)
        layout.addWidget(webhook_box)

        self.execution_timeout = _DurationField(inner)
        self.ttl = _DurationField(inner)
        self.low_priority = QCheckBox("Never scale up workers for this job", inner)
        for path, field in ((EXECUTION_TIMEOUT, self.execution_timeout), (TTL, self.ttl)):
            field.number.textEdited.connect(
                lambda _t, p=path, f=field: self._on_duration_edited(p, f)
            )
            field.unit.activated.connect(lambda _i, p=path, f=field: self._on_duration_edited(p, f))
        self.low_priority.clicked.connect(self._on_low_priority_clicked)
        policy_rows = [
            ("Execution timeout", self.execution_timeout, EXECUTION_TIMEOUT),
            ("Time to live (ttl)", self.ttl, TTL),
            ("Low priority", self.low_priority, LOW_PRIORITY),
        ]
        layout.addWidget(self._group("Policy", policy_rows, inner, whole=("policy",)))

        self.s3: dict[str, QLineEdit] = {}
        self.s3_sets = QComboBox(inner)
        self.s3_sets.setObjectName("s3CredentialChooser")
        # Its longest entry must not set the pane's width: the combo takes the field's width.
        self.s3_sets.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.s3_sets.setMinimumContentsLength(12)
        self.s3_sets.activated.connect(self._on_s3_sets_activated)
        self.set_s3_sets([])
        s3_rows: list[tuple[str, QWidget, Path]] = [
            ("Saved credentials", self.s3_sets, ("s3Config", "@saved"))
        ]
        for key in S3_FIELDS:
            edit = QLineEdit(inner)
            edit.setClearButtonEnabled(True)
            if key == "accessSecret":
                edit.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
                edit.setPlaceholderText("keyring:s3/NAME (a pasted secret moves there on save)")
            elif key == "objectPath":
                edit.setPlaceholderText("optional")
            edit.textEdited.connect(lambda text, k=key: self._on_s3_edited(k, text))
            self.s3[key] = edit
            s3_rows.append((key, edit, ("s3Config", key)))
        layout.addWidget(self._group("S3 upload (s3Config)", s3_rows, inner, whole=("s3Config",)))
        layout.addStretch(1)
        self.setWidget(inner)

    def _group(
        self,
        title: str,
        rows: Sequence[tuple[str, QWidget, Path]],
        parent: QWidget,
        whole: Path | None = None,
    ) -> QGroupBox:
        box = QGroupBox(title, parent)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        if whole is not None:
            form.addRow(self._message_label(whole, box))
        for label, widget, path in rows:
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(self._message_label(path, box))
            if label:
                form.addRow(label, column)
            else:  # under the field above; no empty label to take a line when labels wrap
                form.setLayout(form.rowCount(), QFormLayout.ItemRole.FieldRole, column)
        self._forms.append(form)
        return box

    # -- layout ----------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._arrange_labels()
        super().resizeEvent(event)

    def _arrange_labels(self) -> None:
        # The room a vertical scrollbar would take is always kept back, so showing or hiding
        # that bar (as the rows wrap or not) never flips the choice back.
        room = self.width() - 2 * self.frameWidth() - self.verticalScrollBar().sizeHint().width()
        policy = QFormLayout.RowWrapPolicy
        wanted = policy.DontWrapRows if room >= self._width_beside() else policy.WrapAllRows
        for form in self._forms:
            if form.rowWrapPolicy() != wanted:
                form.setRowWrapPolicy(wanted)

    def _width_beside(self) -> int:
        """The width the form needs to show every label beside a field of a usable width."""
        outer = self._inner.layout()
        assert outer is not None
        margins = outer.contentsMargins()
        needed = 0
        for form in self._forms:
            box = form.parentWidget()
            assert box is not None
            labels = fields = 0
            for row in range(form.rowCount()):
                label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
                field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
                if label is not None:
                    labels = max(labels, label.sizeHint().width())
                if field is not None:
                    fields = max(fields, field.minimumSize().width())
            fields = max(fields, box.fontMetrics().averageCharWidth() * FIELD_MIN_CHARS)
            frame = box.contentsMargins().left() + box.contentsMargins().right()
            inside = form.contentsMargins().left() + form.contentsMargins().right()
            spacing = max(form.horizontalSpacing(), 0)
            needed = max(needed, frame + inside + labels + spacing + fields)
        return needed + margins.left() + margins.right()

    def _message_label(self, path: Path, parent: QWidget) -> QLabel:
        label = QLabel(parent)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.hide()
        self._messages[path] = label
        return label

    # -- text -> form ----------------------------------------------------------------------

    def set_body(self, body: dict[str, Any] | None) -> None:
        """Show what the text's body says. None (the text is not a JSON object): fields locked."""
        self._syncing = True
        try:
            usable = body is not None
            for group in self._inner.findChildren(QGroupBox):
                group.setEnabled(usable)
            self.notice.setVisible(not usable)
            self.notice.setText(
                "" if usable else "Fix the JSON syntax errors in the Request tab to edit these."
            )
            if body is None:
                return
            webhook = lookup(body, WEBHOOK)
            if not self.webhook.hasFocus():
                self.webhook.setText("" if webhook is None else str(webhook))
            self.execution_timeout.show_value(lookup(body, EXECUTION_TIMEOUT))
            self.ttl.show_value(lookup(body, TTL))
            self.low_priority.setChecked(lookup(body, LOW_PRIORITY) is True)
            for key, edit in self.s3.items():
                value = lookup(body, ("s3Config", key))
                if not edit.hasFocus():
                    edit.setText("" if value is None else str(value))
            secret = self.s3["accessSecret"]
            if not secret.hasFocus():
                # A keyring reference is no secret: show it; mask anything else.
                is_reference = secret.text().startswith(KEYRING_REFERENCE_PREFIX)
                secret.setEchoMode(
                    QLineEdit.EchoMode.Normal
                    if is_reference
                    else QLineEdit.EchoMode.PasswordEchoOnEdit
                )
        finally:
            self._syncing = False

    def set_listener_url(self, url: str) -> None:
        """The embedded listener's URL ('' while it does not run): the button fills it in."""
        self._listener_url = url
        self.use_listener.setEnabled(bool(url))
        self.use_listener.setToolTip(
            "Deliveries to this URL appear in the Webhooks tab. RunPod's cloud can reach it only "
            "through a tunnel; the built-in sandbox reaches it directly."
            if url
            else "The console's webhook listener is not running."
        )
        self._update_tunnel_note()

    def set_cloud_target(self, cloud: bool) -> None:
        """Whether requests go to RunPod's cloud, which can't reach a listener on localhost."""
        self._cloud_target = cloud
        self._update_tunnel_note()

    def _update_tunnel_note(self) -> None:
        parts = urlsplit(self._listener_url)
        local = bool(parts.hostname) and is_loopback(parts.hostname or "")
        self.tunnel_note.setVisible(self._cloud_target and local)
        if self._cloud_target and local:
            port = parts.port or DEFAULT_PORT
            self.tunnel_note.setText(
                f"RunPod's cloud can't reach {parts.hostname}. Start a tunnel to port {port} "
                f"(ngrok http {port}, or cloudflared tunnel --url http://127.0.0.1:{port}) and "
                "paste its https address in Webhooks > Listener settings > Public URL."
            )

    def _on_use_listener_clicked(self) -> None:
        if self._listener_url:
            self.webhook.setText(self._listener_url)
            self._emit(WEBHOOK, self._listener_url)

    def set_s3_sets(self, credential_sets: Sequence[S3CredentialSet]) -> None:
        """The saved S3 credential sets to offer (their secrets stay in the keyring)."""
        self.s3_sets.clear()
        if credential_sets:
            self.s3_sets.addItem("Fill in a saved set…", None)
            self.s3_sets.setToolTip("Fill in the fields below from a saved credential set.")
        else:
            self.s3_sets.addItem("None saved (Request > Profiles)", None)
            self.s3_sets.setToolTip("Save credential sets in Request > Profiles > S3 credentials.")
        for credential_set in credential_sets:
            label = f"{credential_set.name} ({credential_set.bucket_name})"
            self.s3_sets.addItem(label, credential_set.to_s3_config())
        self.s3_sets.setEnabled(bool(credential_sets))

    def _on_s3_sets_activated(self, index: int) -> None:
        config = self.s3_sets.itemData(index)
        self.s3_sets.setCurrentIndex(0)
        if isinstance(config, dict):
            self._emit(("s3Config",), dict(config))

    def set_diagnostics(self, diagnostics: Sequence[Diagnostic]) -> None:
        """Show each diagnostic under the field it is about (same words as the diagnostics list)."""
        found: dict[Path, list[Diagnostic]] = {}
        for diagnostic in diagnostics:
            path = tuple(str(part) for part in diagnostic.path)
            target = path[:2] if path[:1] in (("policy",), ("s3Config",)) else path[:1]
            if target in self._messages:
                found.setdefault(target, []).append(diagnostic)
        for path, label in self._messages.items():
            if path in self._local_errors:
                continue
            self._show_messages(label, found.get(path, []))

    @staticmethod
    def _show_messages(label: QLabel, diagnostics: Sequence[Diagnostic]) -> None:
        if not diagnostics:
            label.clear()
            label.hide()
            return
        error = any(d.severity == "error" for d in diagnostics)
        label.setStyleSheet(f"color: {theme.css('error' if error else 'warning')};")
        label.setText("\n".join(d.message for d in diagnostics))
        label.show()

    def field_message(self, path: Path) -> str:
        """The message shown under a field now ('' when none)."""
        label = self._messages.get(path)
        return label.text() if label is not None and not label.isHidden() else ""

    # -- form -> text ----------------------------------------------------------------------

    def _emit(self, path: Path, value: Any) -> None:
        if not self._syncing:
            self.sig_field_edited.emit(path, value)

    def _on_webhook_edited(self, text: str) -> None:
        self._emit(WEBHOOK, text.strip() or REMOVE)

    def _on_duration_edited(self, path: Path, field: _DurationField) -> None:
        value = field.milliseconds()
        label = self._messages[path]
        if isinstance(value, str):
            self._local_errors = {**self._local_errors, path: value}
            label.setStyleSheet(f"color: {theme.css('error')};")
            label.setText(value)
            label.show()
            return
        self._local_errors = {k: v for k, v in self._local_errors.items() if k != path}
        label.hide()
        self._emit(path, REMOVE if value is None else value)

    def _on_low_priority_clicked(self, checked: bool) -> None:
        self._emit(LOW_PRIORITY, True if checked else REMOVE)

    def _on_s3_edited(self, key: str, text: str) -> None:
        self._emit(("s3Config", key), text if text else REMOVE)
