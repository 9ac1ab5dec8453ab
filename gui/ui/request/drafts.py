"""The editor's text kept between runs (``<data_dir>/draft.json``), so closing loses nothing.

A draft is never written when the text holds a secret: secrets live in the keyring only. The
listener's token (in a ``webhook`` URL the Options form filled) is kept as its keyring reference,
as in the job history, and put back when the draft is read while the keyring holds it.
A big draft (a body holding a base64 image) is shown after the window: see ``LATE_DRAFT_BYTES``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gui.core.files import write_text_atomic
from gui.core.profiles.secrets import SecretStore, reveal_listener_token
from gui.core.redact import SECRET_KEYS, redact_registered, redact_text
from gui.core.storage.templates import find_secrets

__all__ = [
    "DRAFT_FILE",
    "LATE_DRAFT_BYTES",
    "Draft",
    "draft_size",
    "mentions_secret",
    "read_draft",
    "write_draft",
]

DRAFT_FILE = "draft.json"

LATE_DRAFT_BYTES = 256 * 1024
"""A draft file bigger than this is read off the Qt thread and shown once the window is up (an
11 MB one held the start 5 s: read, parsed and laid out before the window showed); a smaller one
is shown with the window's first frame, as it costs a few milliseconds."""


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    modified: bool
    template: str | None


def read_draft(data_dir: Path, secrets: SecretStore | None = None) -> Draft | None:
    """The last session's draft, or None when there is none (or it can't be read); the listener's
    token from ``secrets`` stands where the draft holds its reference."""
    try:
        state = json.loads((data_dir / DRAFT_FILE).read_text("utf-8"))
        text = state["text"]
        template = state.get("template")
        if not isinstance(text, str):
            return None
        return Draft(
            reveal_listener_token(text, secrets),
            bool(state.get("modified")),
            template if isinstance(template, str) else None,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def draft_size(data_dir: Path) -> int:
    """The size in bytes of the saved draft file (0 when there is none)."""
    try:
        return (data_dir / DRAFT_FILE).stat().st_size
    except OSError:
        return 0


def mentions_secret(text: str) -> bool:
    """A careful check of text that can't be parsed: does any secret key name appear in it?"""
    return any(f'"{key}"' in text for key in SECRET_KEYS)


def write_draft(
    data_dir: Path, text: str, body: dict[str, Any] | None, modified: bool, template: str | None
) -> bool:
    """Keep ``text`` for the next start; refuses (and removes the old draft) when it holds a
    secret. ``body`` is the parsed text when known (a precise check), else the text is searched
    for any secret key name (a careful one). The listener's token is kept as its reference.
    Returns whether a draft was written."""
    path = data_dir / DRAFT_FILE
    text = redact_text(text)
    body = None if body is None else redact_registered(body)
    holds_secret = bool(find_secrets(body)) if body is not None else mentions_secret(text)
    if holds_secret:
        path.unlink(missing_ok=True)
        return False
    state = {"text": text, "modified": modified, "template": template}
    write_text_atomic(path, json.dumps(state, ensure_ascii=False))
    return True
