"""The request's Options tab: a page that builds its ``RequestForm`` when first shown.

The form (webhook, policy, s3Config fields) is hidden behind the JSON text when the window opens,
so neither it nor its module is built then. Until it is, the page keeps what the form would show
(the last body and diagnostics, the listener's URL, the target's kind, the saved S3 sets) and
hands it over when it builds the form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

if TYPE_CHECKING:
    from gui.core.profiles.s3refs import S3CredentialSet
    from gui.core.request.validation import Diagnostic
    from gui.ui.request.options_form import RequestForm

__all__ = ["OptionsTab"]


class OptionsTab(QWidget):
    """Holds the window's one ``RequestForm``, made on first need (``form``)."""

    sig_field_edited = Signal(tuple, object)
    """The form's ``sig_field_edited``: set the body's key at this path to the value, or REMOVE."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._form: RequestForm | None = None
        self._body: dict[str, Any] | None = None
        self._diagnostics: Sequence[Diagnostic] = ()
        self._listener_url = ""
        self._cloud_target = False
        self._s3_sets: list[S3CredentialSet] = []

    @property
    def form(self) -> RequestForm:
        """The form: built when the page is first shown, or now when asked for first."""
        if self._form is None:
            from gui.ui.request.options_form import RequestForm

            form = RequestForm(self)
            form.set_listener_url(self._listener_url)
            form.set_cloud_target(self._cloud_target)
            form.set_s3_sets(self._s3_sets)
            form.set_body(self._body)
            form.set_diagnostics(self._diagnostics)
            form.sig_field_edited.connect(self.sig_field_edited)
            self._layout.addWidget(form)
            form.show()  # at once: a layout shows a late child only on the next turn
            self._form = form
        return self._form

    def showEvent(self, event: Any) -> None:
        _ = self.form
        super().showEvent(event)

    def show_body(self, body: dict[str, Any] | None, diagnostics: Sequence[Diagnostic]) -> None:
        """What the text's body says now (None: not a JSON object) and its diagnostics."""
        self._body, self._diagnostics = body, diagnostics
        if self._form is not None:
            self._form.set_body(body)
            self._form.set_diagnostics(diagnostics)

    def set_listener_url(self, url: str) -> None:
        """The embedded listener's URL ('' while it does not run), for the form's button."""
        self._listener_url = url
        if self._form is not None:
            self._form.set_listener_url(url)

    def set_cloud_target(self, cloud: bool) -> None:
        """Whether requests go to RunPod's cloud (the form then explains tunnels)."""
        self._cloud_target = cloud
        if self._form is not None:
            self._form.set_cloud_target(cloud)

    def set_s3_sets(self, credential_sets: Sequence[S3CredentialSet]) -> None:
        """The saved S3 credential sets the form offers (their secrets stay in the keyring)."""
        self._s3_sets = list(credential_sets)
        if self._form is not None:
            self._form.set_s3_sets(self._s3_sets)
