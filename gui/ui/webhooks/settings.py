"""Webhooks > Listener settings: the engine's listener's port, bind host and public URL (saved in
QSettings; none of them is a secret), regenerating its token, and copying its webhook URL.

Applying asks the engine to restart the listener (``ListenerState.reconfigure``); the dialog
shows the outcome, and when the port is taken it says so and offers a free one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.core.webhooks.address import (
    DEFAULT_HOST,
    ListenerSettings,
    check_public_url,
    is_loopback,
)
from gui.ui import theme

if TYPE_CHECKING:
    from gui.ui.webhooks.listener_state import ListenerState

__all__ = ["ListenerSettingsDialog"]


class ListenerSettingsDialog(QDialog):
    """Edits ``ListenerSettings``; ``listener`` is the window's ``ListenerState``."""

    def __init__(
        self, listener: ListenerState, settings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("listenerSettings")
        self.setWindowTitle("Listener settings")
        self.listener = listener
        self.settings = settings
        current = ListenerSettings.load(settings)
        self.port = QSpinBox(self)
        self.port.setObjectName("listenerPort")
        self.port.setRange(1, 65535)
        # The port served on, as the status bar says (a saved port taken at start moved): a
        # public URL set here must not send the listener back to the taken one.
        self.port.setValue(listener.port if listener.info is not None else current.port)
        self.host = QComboBox(self)
        self.host.setObjectName("listenerHost")
        self.host.setEditable(True)
        self.host.addItems([DEFAULT_HOST, "::1", "0.0.0.0"])
        self.host.setCurrentText(current.host)
        self.host.currentTextChanged.connect(self._on_host_text_changed)
        self.host_warning = self._message("")
        self.public_url = QLineEdit(current.public_url, self)
        self.public_url.setObjectName("listenerPublicUrl")
        self.public_url.setPlaceholderText("https://abc.trycloudflare.com (optional)")
        self.public_url.setClearButtonEnabled(True)
        self.url = QLineEdit(self)
        self.url.setObjectName("listenerUrl")
        self.url.setReadOnly(True)
        self.url.setEchoMode(QLineEdit.EchoMode.Password)  # it holds the token
        self.status = self._message("")
        self.use_free_port = QPushButton(self)
        self.use_free_port.setObjectName("useFreePortButton")
        self.use_free_port.hide()
        self.use_free_port.clicked.connect(self._on_use_free_port_clicked)
        self.regenerate = QPushButton("Regenerate token", self)
        self.regenerate.setObjectName("regenerateTokenButton")
        self.regenerate.setToolTip("A new secret path: the old webhook URL then answers 404.")
        self.regenerate.clicked.connect(self.regenerate_token)
        self.copy = QPushButton("Copy webhook URL", self)
        self.copy.setObjectName("copyWebhookUrlButton")
        self.copy.clicked.connect(self.copy_webhook_url)
        self._layout()
        self._on_host_text_changed(self.host.currentText())
        listener.sig_started.connect(self._on_listener_started)
        listener.sig_failed.connect(self._on_listener_failed)
        self._show_url()

    def _message(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.hide()
        return label

    def _layout(self) -> None:
        form = QFormLayout()
        port_row = QHBoxLayout()
        port_row.addWidget(self.port)
        port_row.addWidget(self.use_free_port)
        port_row.addStretch(1)
        form.addRow("Port", port_row)
        form.addRow("Bind to", self.host)
        form.addRow("", self.host_warning)
        public = QVBoxLayout()
        public.setSpacing(2)
        public.addWidget(self.public_url)
        self.tunnel_hint = QLabel(self)
        self.tunnel_hint.setWordWrap(True)
        self.tunnel_hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        public.addWidget(self.tunnel_hint)
        self.port.valueChanged.connect(self._on_port_value_changed)
        self._on_port_value_changed(self.port.value())
        form.addRow("Public URL", public)
        url_row = QHBoxLayout()
        url_row.addWidget(self.url, 1)
        url_row.addWidget(self.copy)
        url_row.addWidget(self.regenerate)
        form.addRow("Webhook URL", url_row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close, self
        )
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setObjectName("applyListenerSettings")
        self.apply_button.clicked.connect(self.apply)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(620, self.sizeHint().height())

    # -- what the user does ----------------------------------------------------------------

    def values(self) -> ListenerSettings:
        return ListenerSettings(
            self.host.currentText().strip() or DEFAULT_HOST,
            self.port.value(),
            self.public_url.text().strip().rstrip("/"),
        )

    def apply(self) -> bool:
        """Save the settings and restart the listener with them (the outcome shows when known).

        False (nothing saved) when the public URL is not an http(s) address, or when a host
        other machines can reach was not confirmed."""
        chosen = self.values()
        if chosen.public_url:
            try:
                check_public_url(chosen.public_url)
            except ValueError as exc:
                self._show_status(str(exc), "error")
                return False
        if (
            not is_loopback(chosen.host)
            and chosen.host != self.listener.host
            and not self.confirm_exposed(chosen.host)
        ):
            self._show_status(
                f"Not applied: the listener stays on {self.listener.host}:{self.listener.port}.",
                "muted",
            )
            return False
        chosen.save(self.settings)
        self.use_free_port.hide()
        self._show_status(f"Restarting the listener on {chosen.host}:{chosen.port}…", "muted")
        self.listener.reconfigure(chosen.host, chosen.port, chosen.public_url)
        return True

    def confirm_exposed(self, host: str) -> bool:
        """Ask before listening where other machines can reach (tests replace this)."""
        answer = QMessageBox.warning(
            self,
            "Listen beyond this machine?",
            f"Bound to {host}, the listener can be reached from other machines on the network. "
            "Anyone who learns the webhook URL can post deliveries.\n\nListen on "
            f"{host} anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def regenerate_token(self) -> None:
        """A new token (in the keyring); the listener serves the new URL, the old one gets 404."""
        self._show_status("Making a new token…", "muted")
        self.listener.regenerate_token()

    def copy_webhook_url(self) -> str:
        """Copy the URL RunPod should call (the public one when set); returns it ('' if none)."""
        url = str(self.listener.webhook_url())
        if url:
            QGuiApplication.clipboard().setText(url)
            self._show_status("The webhook URL is on the clipboard.", "success")
        else:
            self._show_status("The listener is not running: there is no URL to copy.", "error")
        return url

    # -- what the listener says ------------------------------------------------------------

    def _show_url(self) -> None:
        url = self.listener.webhook_url()
        self.url.setText(url)
        self.copy.setEnabled(bool(url))

    def _on_listener_started(self, _url: str) -> None:
        self._show_url()
        where = f"{self.listener.host}:{self.listener.port}"
        self._show_status(f"Listening on {where}.", "success")

    def _on_listener_failed(self, message: str) -> None:
        self._show_url()
        self._show_status(message, "error")
        suggested = self.listener.suggested_port
        if suggested:
            self.use_free_port.setText(f"Use port {suggested}")
            self.use_free_port.setProperty("port", suggested)
            self.use_free_port.show()

    def _on_use_free_port_clicked(self) -> None:
        self.port.setValue(int(self.use_free_port.property("port")))
        self.apply()

    def _on_port_value_changed(self, port: int) -> None:
        self.tunnel_hint.setText(
            "For RunPod's cloud: a tunnel that forwards to this port, e.g. "
            f"<code>ngrok http {port}</code> or <code>cloudflared tunnel --url "
            f"http://127.0.0.1:{port}</code>; paste the https address it prints."
        )

    def _on_host_text_changed(self, host: str) -> None:
        exposed = bool(host.strip()) and not is_loopback(host)
        self.host_warning.setVisible(exposed)
        if exposed:
            self.host_warning.setText(
                f"Warning: bound to {host}, the listener can be reached from other machines. "
                "Anyone who learns the webhook URL can post deliveries. Keep 127.0.0.1 unless "
                "you need it and know who can reach this machine."
            )
            self.host_warning.setStyleSheet(f"color: {theme.css('warning')};")

    def _show_status(self, text: str, role: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {theme.css(role)};")
        self.status.show()
