"""The one place that removes secrets from request bodies before they are stored, shown or copied.

Every writer (job history, templates, exports, logs, curl and Python snippets) goes through
``redact_body``; ``REDACTED`` marks where a secret stood. A keyring reference such as
``"keyring:s3/<set name>"`` is not a secret (it names where the secret is), so it stays visible:
a saved template keeps working and a person can see which credential set a job used.
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
    "is_keyring_reference",
    "redact_body",
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


# Secret values that may stand inside any string of a body, not under a secret key: the webhook
# listener's token is part of the URL a request's ``webhook`` holds. Registered by their owners.
_registered: frozenset[str] = frozenset()
_registered_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Redact ``value`` wherever it appears inside a string, from now on, in this process."""
    global _registered
    if len(value) < 8:
        raise ValueError("a registered secret must be at least 8 characters")
    with _registered_lock:
        _registered = _registered | {value}


def is_keyring_reference(value: object) -> bool:
    """True when ``value`` is a reference to a keyring secret (``keyring:<kind>/<name>``)."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


def redact_body(body: Any) -> Any:
    """A deep copy of ``body`` with every secret value replaced by ``REDACTED``.

    Keyring references are left as they are: they hold no secret.
    """
    clone = copy.deepcopy(body)
    _redact_in_place(clone, tuple(_registered))
    return clone


def holds_redacted(value: Any) -> bool:
    """True when a (redacted) body has a value that ``redact_body`` replaced by ``REDACTED``."""
    if isinstance(value, dict):
        return any(holds_redacted(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_redacted(item) for item in value)
    return isinstance(value, str) and value == REDACTED


def _redact_in_place(value: Any, registered: tuple[str, ...]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_secret_value(key, item):
                value[key] = REDACTED
            elif registered and isinstance(item, str):
                value[key] = redact_text(item, registered)
            else:
                _redact_in_place(item, registered)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if registered and isinstance(item, str):
                value[index] = redact_text(item, registered)
            else:
                _redact_in_place(item, registered)


def _is_secret_value(key: object, item: object) -> bool:
    if not (isinstance(key, str) and key in SECRET_KEYS):
        return False
    return isinstance(item, str) and bool(item) and not is_keyring_reference(item)


def redact_text(text: str, secrets: list[str] | tuple[str, ...] | frozenset[str] = ()) -> str:
    """Replace each given secret, and each registered one, in free text (log lines, messages)."""
    secrets = (*secrets, *_registered)
    # Longest first, so a secret that contains another is replaced whole.
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text
