"""Secrets live in the OS keyring under one service, and nowhere else.

Names stored under ``SERVICE``:

- ``api-key:<profile>``: the API key of one profile;
- ``api-key:account``: a key shared by every profile without its own;
- ``s3:<credential set>``: the ``accessSecret`` of an S3 credential set;
- ``listener-token``: the webhook listener's URL token.

When the keyring has no secure backend (keyring's fail or null backend, or a plaintext file one),
``SecretStore.secure`` is False and secrets are kept in this process's memory for the session: the
store never falls back to a file on its own. The CLI warns and the window shows a banner.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from gui.core.errors import SecretUnavailable
from gui.core.redact import register_secret
from gui.core.targets import Target, TargetKind

if TYPE_CHECKING:
    import keyring.backend

__all__ = [
    "ACCOUNT_KEY_NAME",
    "API_KEY_ENV",
    "KEY_SOURCE_ENV",
    "KEY_SOURCE_KEYRING",
    "KEY_SOURCE_NONE",
    "KEY_SOURCE_SESSION",
    "LISTENER_TOKEN_NAME",
    "LISTENER_TOKEN_REFERENCE",
    "SERVICE",
    "KeyProvider",
    "SecretStore",
    "api_key_for",
    "api_key_name",
    "is_secure_backend",
    "restore_listener_token",
    "reveal_listener_token",
    "reveal_listener_token_in_body",
    "s3_secret_name",
]

SERVICE = "runpod-job-console"
ACCOUNT_KEY_NAME = "api-key:account"
LISTENER_TOKEN_NAME = "listener-token"
LISTENER_TOKEN_REFERENCE = "keyring:listener-token"
"""What the job history holds where the listener's token stood in a webhook URL (URL-safe, so a
resubmitted request still validates); ``restore_listener_token`` puts the token back."""
API_KEY_ENV = "RUNPOD_API_KEY"

# Where an API key came from, as ``api_key_for`` reports it (shown in the UI and by the CLI).
KEY_SOURCE_KEYRING = "keyring"
KEY_SOURCE_SESSION = "this session only (no secure keyring)"
KEY_SOURCE_ENV = "RUNPOD_API_KEY environment variable"
KEY_SOURCE_NONE = "none"

KeyProvider = Callable[[Target], str | None]
"""What the engine calls when a request leaves: the API key for a target, or None."""

# Backends that keep nothing safe: keyring's placeholders and file-based stores (keyrings.alt).
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def api_key_name(profile: str) -> str:
    """The keyring name of one profile's own API key."""
    return f"api-key:{profile}"


def s3_secret_name(credential_set: str) -> str:
    """The keyring name of an S3 credential set's ``accessSecret``."""
    return f"s3:{credential_set}"


def is_secure_backend(backend: keyring.backend.KeyringBackend) -> bool:
    """True when ``backend`` keeps secrets in an OS keyring rather than nowhere or a plain file."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        return any(is_secure_backend(inner) for inner in backend.backends)
    module = type(backend).__module__
    if module.startswith(_INSECURE_MODULES):
        return False
    name = type(backend).__name__.lower()
    return "plaintext" not in name and "insecure" not in name


def _describe(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    label = getattr(cls, "name", "") or f"{cls.__module__}.{cls.__name__}"
    return str(label)


class SecretStore:
    """Reads and writes the console's secrets; memory-only when no secure keyring exists.

    ``backend`` defaults to the keyring the ``keyring`` package chose (tests install an in-memory
    one). Errors from the keyring become ``SecretUnavailable`` with a message a person can act on;
    no message ever holds a secret.
    """

    def __init__(
        self,
        backend: keyring.backend.KeyringBackend | None = None,
        *,
        cache_seconds: float = 30.0,
    ) -> None:
        # The default backend is found on first use: importing ``keyring`` and choosing a backend
        # takes tens of milliseconds that the window's start should not pay.
        self._chosen_backend = backend
        self._choosing = threading.Lock()
        # Used only when ``secure`` is False: dies with the process, never written anywhere.
        self._session: dict[str, str] = {}
        # A keyring read can cost a D-Bus round trip and the engine asks for a key per request:
        # remember answers briefly. Writes through this store update it at once; changes made by
        # another process are seen after ``cache_seconds``.
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[str | None, float]] = {}

    @property
    def _backend(self) -> keyring.backend.KeyringBackend:
        with self._choosing:
            if self._chosen_backend is None:
                import keyring

                self._chosen_backend = keyring.get_keyring()
            return self._chosen_backend

    @property
    def secure(self) -> bool:
        """False when secrets can only be kept in memory for this session (no secure keyring)."""
        return is_secure_backend(self._backend)

    @property
    def backend_name(self) -> str:
        """The keyring backend's name, for messages."""
        return _describe(self._backend)

    @property
    def warning(self) -> str:
        """What to tell a person when ``secure`` is False (empty when it is True)."""
        if self.secure:
            return ""
        return (
            f"No secure keyring is available (backend: {self.backend_name}). Keys are kept in "
            "memory for this session only and are gone when it ends; nothing is written to a file. "
            "Unlock or install a keyring (Secret Service, macOS Keychain, Windows Credential "
            f"Locker), or set {API_KEY_ENV}."
        )

    def get(self, name: str) -> str | None:
        """The secret stored under ``name``, or None."""
        if not self.secure:
            return self._session.get(name)
        cached = self._cache.get(name)
        if cached is not None and time.monotonic() - cached[1] < self._cache_seconds:
            return cached[0]
        from keyring.errors import KeyringError

        try:
            value = self._backend.get_password(SERVICE, name) or None
        except KeyringError as exc:
            raise SecretUnavailable(
                f"The keyring ({self.backend_name}) could not be read for '{name}': "
                f"{type(exc).__name__}. Unlock the keyring and try again."
            ) from None
        self._cache[name] = (value, time.monotonic())
        return value

    def set(self, name: str, value: str) -> None:
        """Store ``value`` under ``name``, replacing what was there."""
        if not value:
            raise ValueError(f"refusing to store an empty secret for '{name}'")
        if not self.secure:
            self._session[name] = value
            return
        self._cache.pop(name, None)
        from keyring.errors import KeyringError

        try:
            self._backend.set_password(SERVICE, name, value)
        except KeyringError as exc:
            raise SecretUnavailable(
                f"The keyring ({self.backend_name}) refused to store '{name}': "
                f"{type(exc).__name__}. Unlock the keyring and try again."
            ) from None
        self._cache[name] = (value, time.monotonic())

    def delete(self, name: str) -> None:
        """Forget the secret under ``name``; nothing happens when there is none."""
        if not self.secure:
            self._session.pop(name, None)
            return
        self._cache.pop(name, None)
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self._backend.delete_password(SERVICE, name)
        except PasswordDeleteError:
            pass  # nothing stored: already the state the caller wants
        except KeyringError as exc:
            raise SecretUnavailable(
                f"The keyring ({self.backend_name}) could not delete '{name}': "
                f"{type(exc).__name__}. Unlock the keyring and try again."
            ) from None

    def rename(self, old: str, new: str) -> None:
        """Move a secret to a new name (a profile or credential set was renamed)."""
        value = self.get(old)
        if value is None or old == new:
            return
        self.set(new, value)
        self.delete(old)


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> TargetKind: ...


def api_key_for(
    target_or_profile: _Named, store: SecretStore, *, account_key_first: bool = False
) -> tuple[str | None, str]:
    """The API key for a target or profile, and where it came from (one of ``KEY_SOURCE_*``).

    Looks in order at the profile's own key, the shared account key (first when
    ``account_key_first``), then ``RUNPOD_API_KEY``. A local worker takes no key; the built-in
    sandbox uses only a key stored for it, never the account key or the environment's.
    """
    if target_or_profile.kind == "local":
        return None, KEY_SOURCE_NONE
    stored_source = KEY_SOURCE_KEYRING if store.secure else KEY_SOURCE_SESSION
    own = api_key_name(target_or_profile.name)
    if target_or_profile.kind == "sandbox":
        names = [own]
    else:
        names = [ACCOUNT_KEY_NAME, own] if account_key_first else [own, ACCOUNT_KEY_NAME]
    for name in names:
        value = store.get(name)
        if value:
            return value, stored_source
    if target_or_profile.kind == "cloud":
        from_env = os.environ.get(API_KEY_ENV, "").strip()
        if from_env:
            return from_env, KEY_SOURCE_ENV
    return None, KEY_SOURCE_NONE


def restore_listener_token(body: dict[str, Any], store: SecretStore) -> dict[str, Any]:
    """``body`` with the listener's token back in a ``webhook`` that holds its keyring reference
    (a request resubmitted from the history); other bodies are returned as they are. Call it just
    before sending, and never store what it returns."""
    webhook = body.get("webhook")
    if not isinstance(webhook, str) or LISTENER_TOKEN_REFERENCE not in webhook:
        return body
    token = store.get(LISTENER_TOKEN_NAME)
    if not token:
        raise SecretUnavailable(
            "The request's webhook refers to the console's listener, but no listener token is "
            "stored. Use the Options tab's 'Use the console's listener' to fill the webhook again."
        )
    return {**body, "webhook": webhook.replace(LISTENER_TOKEN_REFERENCE, token)}


def reveal_listener_token(text: str, store: SecretStore | None) -> str:
    """``text`` (a draft's, a template's) with the listener's token where its keyring reference
    stands, for the editor to show the real webhook URL; as it is when it holds no reference, when
    ``store`` is None, or when the keyring has no token (or can't be read): the reference then
    stays, and sending it says what is missing. The token is registered with ``gui.core.redact``,
    so every writer (the draft, a template, the history) puts the reference back.

    Reads the keyring only when the reference is there."""
    if LISTENER_TOKEN_REFERENCE not in text:
        return text
    token = _known_listener_token(store)
    return text if token is None else text.replace(LISTENER_TOKEN_REFERENCE, token)


def reveal_listener_token_in_body(
    body: dict[str, Any], store: SecretStore | None
) -> dict[str, Any]:
    """``reveal_listener_token`` in each string of a request body (a template's); ``body`` itself
    is not changed."""
    if not _mentions_reference(body):
        return body
    token = _known_listener_token(store)
    if token is None:
        return body
    revealed: dict[str, Any] = _with_token(body, token)
    return revealed


def _known_listener_token(store: SecretStore | None) -> str | None:
    if store is None:
        return None
    try:
        token = store.get(LISTENER_TOKEN_NAME)
    except SecretUnavailable:
        return None
    if not token:
        return None
    try:
        register_secret(token, LISTENER_TOKEN_REFERENCE)
    except ValueError:  # too short to be the listener's: the listener would refuse it too
        return None
    return token


def _mentions_reference(value: Any) -> bool:
    if isinstance(value, str):
        return LISTENER_TOKEN_REFERENCE in value
    if isinstance(value, dict):
        return any(_mentions_reference(item) for item in value.values())
    if isinstance(value, list):
        return any(_mentions_reference(item) for item in value)
    return False


def _with_token(value: Any, token: str) -> Any:
    if isinstance(value, str):
        return value.replace(LISTENER_TOKEN_REFERENCE, token)
    if isinstance(value, dict):
        return {key: _with_token(item, token) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_token(item, token) for item in value]
    return value
