"""Moving a pasted S3 ``accessSecret`` out of a request and into the keyring.

A template or a request file never holds a secret. When a person saves one whose ``s3Config`` holds
a real ``accessSecret``, the window offers this: the secret goes into the keyring as an S3
credential set, and the body keeps a ``keyring:s3/<name>`` reference, resolved only when a request
leaves.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6 import QtWidgets
from PySide6.QtWidgets import QWidget

from gui.core.errors import ConsoleError, ProfileError
from gui.core.profiles.profiles import ProfileStore
from gui.core.profiles.s3refs import S3CredentialSet, s3_reference, valid_set_name
from gui.core.storage.templates import find_secrets
from gui.ui.request.panel import RequestPanel

__all__ = ["SecretMover", "movable_s3_secret", "move_s3_secret"]


def movable_s3_secret(body: dict[str, Any]) -> bool:
    """True when the body's only secrets are ``s3Config.accessSecret``, which can be moved."""
    secrets = find_secrets(body)
    return bool(secrets) and secrets == [("s3Config", "accessSecret")]


def _set_name(config: dict[str, Any], taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9 ._-]+", "-", str(config.get("bucketName") or "request"))
    base = base.strip(" .-_")[:56] or "request"
    if not base[0].isalnum():
        base = "s3 " + base
    name, number = base, 2
    while name in taken:
        name = f"{base} {number}"
        number += 1
    return name


def move_s3_secret(body: dict[str, Any], profiles: ProfileStore) -> tuple[dict[str, Any], str]:
    """Store the body's S3 secret as a new credential set; returns (body with a reference, name).

    Raises ``ProfileError`` (or ``SecretUnavailable``) with a message to show when it can't.
    """
    config = body.get("s3Config")
    if not isinstance(config, dict) or not movable_s3_secret(body):
        raise ProfileError("Only an s3Config accessSecret can be moved into the keyring.")
    name = _set_name(config, {credential.name for credential in profiles.s3_sets()})
    if not valid_set_name(name):
        raise ProfileError(f"Could not make a credential set name from {name!r}.")
    credential_set = S3CredentialSet(
        name=name,
        access_id=str(config.get("accessId", "")),
        bucket_name=str(config.get("bucketName", "")),
        endpoint_url=str(config.get("endpointUrl", "")),
        object_path=str(config.get("objectPath", "")),
    )
    profiles.save_s3_set(credential_set, str(config["accessSecret"]))
    moved = dict(body)
    moved["s3Config"] = {**config, "accessSecret": s3_reference(name)}
    return moved, name


class SecretMover:
    """The window's side of the offer: ask, move, put the reference in the editor, or refuse."""

    def __init__(self, request: RequestPanel, profiles: ProfileStore | None, parent: QWidget):
        self.request = request
        self.profiles = profiles
        self.parent = parent

    def confirm(self, purpose: str) -> bool:
        """Ask whether the S3 secret may move into the keyring (tests replace this)."""
        box = QtWidgets.QMessageBox  # a dialog's class, set up by PySide6 when first used
        answer = box.question(
            self.parent,
            "Move the S3 secret into the keyring?",
            f"The request holds an S3 accessSecret, and it can't be {purpose} with it: files never "
            "keep secrets.\n\nMove the secret into the keyring as an S3 credential set? The "
            "request then carries a reference to it, resolved only when a job is sent.",
            box.StandardButton.Yes | box.StandardButton.Cancel,
        )
        return answer == box.StandardButton.Yes

    def without_secrets(self, body: dict[str, Any], purpose: str) -> dict[str, Any] | None:
        """``body`` with its S3 secret moved into the keyring (the editor then shows the
        reference, as one undoable edit), or None when declined or impossible; says why."""
        refusal = (
            f"The request was not {purpose}: it holds a secret at "
            + ", ".join(".".join(map(str, path)) for path in find_secrets(body))
            + ". Files never keep secrets: clear the value, or use a keyring reference "
            "('keyring:s3/NAME', see Profiles > S3 credentials), then try again."
        )
        if self.profiles is None or not movable_s3_secret(body) or not self.confirm(purpose):
            self.request.show_problem(refusal)
            return None
        try:
            moved, name = move_s3_secret(body, self.profiles)
        except (ConsoleError, ValueError) as exc:
            self.request.show_problem(f"The secret could not move into the keyring: {exc}")
            return None
        self.request.load_body(moved)
        self.request.sig_status_message_requested.emit(
            f"The S3 secret is in the keyring now, as credential set {name!r}.", 8000
        )
        return moved
