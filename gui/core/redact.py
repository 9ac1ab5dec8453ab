"""The one place that removes secrets from request bodies before they are stored, shown or copied.

Every writer (job history, templates, exports, logs, curl and Python snippets) goes through
``redact_body``; ``REDACTED`` marks where a secret stood.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["REDACTED", "SECRET_KEYS", "redact_body", "redact_text"]

REDACTED = "<redacted>"

# Keys whose values are secrets wherever they stand in a body.
SECRET_KEYS = frozenset({"accessSecret", "secretAccessKey", "api_key", "apiKey", "authorization"})


def redact_body(body: Any) -> Any:
    """A deep copy of ``body`` with every secret value replaced by ``REDACTED``."""
    clone = copy.deepcopy(body)
    _redact_in_place(clone)
    return clone


def _redact_in_place(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key in SECRET_KEYS and isinstance(item, str) and item:
                value[key] = REDACTED
            else:
                _redact_in_place(item)
    elif isinstance(value, list):
        for item in value:
            _redact_in_place(item)


def redact_text(text: str, secrets: list[str] | tuple[str, ...]) -> str:
    """Replace each known secret string in free text (log lines, error messages)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
