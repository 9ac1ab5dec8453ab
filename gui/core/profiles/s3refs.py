"""S3 credential sets, and the references that stand for their secret inside request bodies.

A credential set is a name -> ``accessId``, ``bucketName``, ``endpointUrl`` (+ ``objectPath``),
kept in ``profiles.json``; its ``accessSecret`` is in the keyring under ``s3:<name>``. A body (the
editor, a template, a request file, the job history) carries
``"accessSecret": "keyring:s3/<name>"`` instead of the secret: a non-empty string, so the validator
accepts it, and ``redact_body`` leaves it visible.
``resolve_secret_references`` swaps the real secret in at the last moment before sending.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gui.core.errors import SecretUnavailable
from gui.core.profiles.secrets import SecretStore, restore_listener_token, s3_secret_name
from gui.core.redact import SECRET_KEYS, is_keyring_reference

__all__ = [
    "S3_REFERENCE_PREFIX",
    "S3CredentialSet",
    "make_body_resolver",
    "resolve_secret_references",
    "s3_reference",
    "valid_set_name",
]

S3_REFERENCE_PREFIX = "keyring:s3/"
_SET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")


def valid_set_name(name: str) -> bool:
    """Names that fit in a reference: letters, digits, space, ``._-``; at most 64 characters."""
    return _SET_NAME.fullmatch(name) is not None


def s3_reference(set_name: str) -> str:
    """The string a body carries in place of the set's ``accessSecret``."""
    if not valid_set_name(set_name):
        raise ValueError(
            f"'{set_name}' cannot name a credential set: use letters, digits, spaces, '.', '_' or "
            "'-' (at most 64 characters, starting with a letter or digit)"
        )
    return S3_REFERENCE_PREFIX + set_name


@dataclass(frozen=True, slots=True)
class S3CredentialSet:
    """The public half of an S3 credential set; the secret is in the keyring."""

    name: str
    access_id: str
    bucket_name: str
    endpoint_url: str
    object_path: str = ""

    def to_s3_config(self) -> dict[str, str]:
        """An ``s3Config`` for a request body, with a reference in place of the secret."""
        config = {
            "accessId": self.access_id,
            "accessSecret": s3_reference(self.name),
            "bucketName": self.bucket_name,
            "endpointUrl": self.endpoint_url,
        }
        if self.object_path:
            config["objectPath"] = self.object_path
        return config

    def to_json(self) -> dict[str, str]:
        data = {
            "accessId": self.access_id,
            "bucketName": self.bucket_name,
            "endpointUrl": self.endpoint_url,
        }
        if self.object_path:
            data["objectPath"] = self.object_path
        return data

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> S3CredentialSet:
        return cls(
            name=name,
            access_id=str(data.get("accessId", "")),
            bucket_name=str(data.get("bucketName", "")),
            endpoint_url=str(data.get("endpointUrl", "")),
            object_path=str(data.get("objectPath", "")),
        )


def _reference_name(value: object) -> str | None:
    if is_keyring_reference(value) and str(value).startswith(S3_REFERENCE_PREFIX):
        return str(value)[len(S3_REFERENCE_PREFIX) :]
    return None


def resolve_secret_references(body: dict[str, Any], store: SecretStore) -> dict[str, Any]:
    """A copy of ``body`` with each ``keyring:s3/<name>`` reference replaced by its secret.

    Call it just before the request is sent, and never store what it returns. Raises
    ``SecretUnavailable`` (naming the set, never a secret) when the keyring has no secret for one.
    """
    resolved = copy.deepcopy(body)

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                name = _reference_name(item) if key in SECRET_KEYS else None
                if name is None:
                    visit(item)
                    continue
                secret = store.get(s3_secret_name(name))
                if not secret:
                    raise SecretUnavailable(_missing_message(name, store))
                value[key] = secret
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(resolved)
    return resolved


def make_body_resolver(store: SecretStore) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The engine's ``body_resolver``: S3 references and the listener's token reference, filled
    from ``store`` as the request leaves."""

    def resolve(body: dict[str, Any]) -> dict[str, Any]:
        return restore_listener_token(resolve_secret_references(body, store), store)

    return resolve


def _missing_message(name: str, store: SecretStore) -> str:
    where = "the keyring" if store.secure else "this session (no secure keyring is available)"
    return (
        f"The request refers to the S3 credential set '{name}', but {where} holds no secret for "
        "it. Open Profiles > S3 credentials (or run 'job-console profile s3 add') to set it."
    )
