"""What a webhook body is: parsed strictly, classified, and cleaned of the listener's token.

The listener reads bytes and headers off the wire; this module turns them into a ``NewDelivery``
for the ``DeliveryStore`` or refuses them with ``ValueError`` (the listener answers 400). It never
does I/O, so it runs on the store's thread, away from the event loop.

A real delivery holds the listener's token: RunPod sends back the request's ``webhook``, which is
the listener's own URL. The token is a secret, so it is replaced by ``REDACTED`` everywhere (payload
strings and keys, the stored raw text, header values) before anything is stored or handed on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gui.core.redact import REDACTED
from gui.core.webhooks.deliveries import TOKEN_PLACEHOLDER_PATH, NewDelivery

__all__ = [
    "Arrival",
    "clean_headers",
    "is_applicable",
    "new_delivery",
    "parse_delivery_body",
    "text_field",
]

# Longest job id or status kept as such; anything longer is not a RunPod value.
_MAX_FIELD_CHARS = 512
# Header values never stored as sent (a sender testing its receiver may add credentials).
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


@dataclass(frozen=True, slots=True)
class Arrival:
    """A body read in full, with where it came from; headers already cleaned."""

    body: bytes
    remote: str
    headers: dict[str, str]
    received_at: float


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_delivery_body(body: bytes, text: str | None = None) -> dict[str, Any]:
    """The body as a JSON object; raises ``ValueError`` for anything else (not JSON, NaN, ...).

    ``text``: the body already decoded from UTF-8, when the caller has it. A number too large for
    a float (``1e999``) is valid JSON and parses as infinity: no per-number hook slows down big
    arrays of floats.
    """
    try:
        # json.loads also reads UTF-16 and UTF-32 bodies (and builds a decoder per call).
        value = _DECODER.decode(text) if text is not None else json.loads(body, cls=_Strict)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
    if not isinstance(value, dict):
        raise ValueError("a delivery is a JSON object")
    return value


class _Strict(json.JSONDecoder):
    def __init__(self, **options: Any) -> None:
        super().__init__(**{**options, "parse_constant": _reject_constant})


def text_field(value: Any) -> str | None:
    """A usable job id or status: a short, non-empty string that SQLite can store as text."""
    if not isinstance(value, str) or not value or len(value) > _MAX_FIELD_CHARS:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a "\ud800" escape
        return None
    return value


def is_applicable(payload: Any) -> bool:
    """True when the tracker may apply ``payload``: a JSON object with a usable string ``id``, or
    the local worker's ``{"output": ...}`` shape (an ``output`` and no ``id`` at all)."""
    if not isinstance(payload, dict):
        return False
    if "id" in payload:
        return text_field(payload["id"]) is not None
    return "output" in payload


def clean_headers(items: Iterable[tuple[str, str]], token: str) -> dict[str, str]:
    """Headers as stored: repeated names joined, credentials and the token redacted."""
    headers: dict[str, str] = {}
    for name, value in items:
        shown = REDACTED if name.lower() in _SECRET_HEADERS else value.replace(token, REDACTED)
        headers[name] = f"{headers[name]}, {shown}" if name in headers else shown
    return headers


def new_delivery(arrival: Arrival, token: str) -> NewDelivery:
    """The delivery to store for ``arrival``; raises ``ValueError`` when it is not a JSON object."""
    text = _utf8_text(arrival.body)
    payload = parse_delivery_body(arrival.body, text)
    payload, raw = _without_token(payload, text, token)
    return NewDelivery(
        payload=payload,
        size=len(arrival.body),
        remote=arrival.remote,
        headers=arrival.headers,
        job_id=text_field(payload.get("id")),
        status=text_field(payload.get("status")),
        received_at=arrival.received_at,
        path=TOKEN_PLACEHOLDER_PATH,
        raw=raw,
    )


def _without_token(
    payload: dict[str, Any], raw: str | None, token: str
) -> tuple[dict[str, Any], str | None]:
    """The payload and its raw text with the token replaced (raw None: store re-serialised)."""
    if raw is not None and token not in raw and "\\" not in raw:
        return payload, raw  # no escapes: every string is a literal piece of the text
    cleaned = _replace_deep(payload, token)
    if cleaned == payload:
        return payload, raw
    # Without escapes, the text's occurrences are exactly the strings' ones.
    kept = raw.replace(token, REDACTED) if raw is not None and "\\" not in raw else None
    return cleaned, kept


def _replace_deep(value: Any, token: str) -> Any:
    if isinstance(value, str):
        return value.replace(token, REDACTED) if token in value else value
    if isinstance(value, dict):
        return {_replace_deep(k, token): _replace_deep(v, token) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_deep(item, token) for item in value]
    return value


def _utf8_text(body: bytes) -> str | None:
    """The body as text to store as sent, or None (UTF-16/32 JSON is stored re-serialised)."""
    try:
        return body.decode("utf-8-sig")  # json.loads accepts a BOM; the stored text drops it
    except UnicodeDecodeError:
        return None
