"""The one place that removes secrets from request bodies before they are stored, shown or copied.

Every writer (job history, exports, logs, curl and Python snippets) goes through ``redact_body``;
``REDACTED`` marks where a secret stood. Templates and the editor's draft refuse a secret under a
secret key instead of dropping it, and take only ``redact_registered``: the listener's token becomes
its keyring reference there too. A keyring reference such as ``"keyring:s3/<set name>"`` is not a
secret (it names where the secret is), so it stays visible: a saved template keeps working and a
person can see which credential set a job used.
"""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

__all__ = [
    "KEYRING_REFERENCE_PREFIX",
    "REDACTED",
    "SECRET_KEYS",
    "holds_redacted",
    "holds_registered",
    "is_keyring_reference",
    "redact_body",
    "redact_log_text",
    "redact_registered",
    "redact_text",
    "register_secret",
]

REDACTED = "<redacted>"

# Keys whose values are secrets wherever they stand in a body.
SECRET_KEYS = frozenset({"accessSecret", "secretAccessKey", "api_key", "apiKey", "authorization"})

KEYRING_REFERENCE_PREFIX = "keyring:"
# A reference names a secret kind and a saved name; nothing longer or odder is taken for one, so a
# real secret that happens to start with "keyring:" is still redacted.
_REFERENCE = re.compile(r"keyring:[a-z0-9-]{1,16}/[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")


# Secret values that may stand inside any string of a body, not under a secret key, each with what
# replaces it: the webhook listener's token is part of the URL a request's ``webhook`` holds, and is
# stored as a keyring reference that the engine resolves again when the request is sent.
_registered: dict[str, str] = {}
_registered_lock = threading.Lock()


def register_secret(value: str, placeholder: str = REDACTED) -> None:
    """Replace ``value`` by ``placeholder`` wherever it appears inside a string, from now on."""
    global _registered
    if len(value) < 8:
        raise ValueError("a registered secret must be at least 8 characters")
    with _registered_lock:
        _registered = {**_registered, value: placeholder}


def is_keyring_reference(value: object) -> bool:
    """True when ``value`` is a reference to a keyring secret (``keyring:<kind>/<name>``)."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


def redact_body(body: Any) -> Any:
    """A deep copy of ``body`` with every secret value replaced by ``REDACTED``.

    Keyring references are left as they are: they hold no secret.
    """
    clone = copy.deepcopy(body)
    _redact_in_place(clone, bool(_registered), keys=True)
    return clone


def redact_registered(body: Any) -> Any:
    """A deep copy of ``body`` with only the registered secrets (the listener's token) replaced by
    their placeholders inside its strings; values under ``SECRET_KEYS`` stay as they are, for the
    caller to refuse (a template or a draft never drops what a person typed)."""
    clone = copy.deepcopy(body)
    _redact_in_place(clone, bool(_registered), keys=False)
    return clone


def holds_registered(text: str) -> bool:
    """True when ``text`` holds a registered secret (the listener's token)."""
    return any(secret in text for secret in _registered)


def holds_redacted(value: Any) -> bool:
    """True when a (redacted) body has a value that ``redact_body`` replaced by ``REDACTED``."""
    if isinstance(value, dict):
        return any(holds_redacted(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_redacted(item) for item in value)
    return isinstance(value, str) and value == REDACTED


def _redact_in_place(value: Any, registered: bool, *, keys: bool) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if keys and _is_secret_value(key, item):
                value[key] = REDACTED
            elif registered and isinstance(item, str):
                value[key] = redact_text(item)
            else:
                _redact_in_place(item, registered, keys=keys)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if registered and isinstance(item, str):
                value[index] = redact_text(item)
            else:
                _redact_in_place(item, registered, keys=keys)


def _is_secret_value(key: object, item: object) -> bool:
    if not (isinstance(key, str) and key in SECRET_KEYS):
        return False
    return isinstance(item, str) and bool(item) and not is_keyring_reference(item)


def redact_text(text: str, secrets: list[str] | tuple[str, ...] | frozenset[str] = ()) -> str:
    """Replace each given secret (by ``REDACTED``) and each registered one (by its placeholder) in
    free text: log lines, messages, strings of a body."""
    replacements = [(secret, REDACTED) for secret in secrets if secret]
    replacements += _registered.items()
    # Longest first, so a secret that contains another is replaced whole.
    for secret, placeholder in sorted(replacements, key=lambda pair: len(pair[0]), reverse=True):
        text = text.replace(secret, placeholder)
    return text


# RunPod API keys: "rpa_" and some 40 capitals and digits. A worker that prints a key (its own
# environment, a request it echoes) must not put it into the history.
_RUNPOD_KEY = re.compile(r"\brpa_[A-Za-z0-9]{20,}")


def redact_log_text(text: str, secrets: list[str] | tuple[str, ...] | frozenset[str] = ()) -> str:
    """``redact_text`` for a line someone else wrote (a worker's log): also anything shaped like
    a RunPod API key, whoever's it is."""
    return _RUNPOD_KEY.sub(REDACTED, redact_text(text, secrets))
