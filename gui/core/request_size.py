"""The size of a body as sent (``len(serialize_body(body))``), without paying for a full encode.

RunPod's payload limit counts the compact serialization, so the validator must know its exact length
for every keystroke's validation. ``json.dumps`` gets it right but escapes every string character by
character, which for a 10 MB base64 string costs three times parsing it. Two facts make it cheaper:

* A string that holds no ``"``, ``\\`` or control character is written as itself between quotes.
  Whether a long string holds any is one C-speed ``bytes.translate`` away.
* When the text has no backslash at all, no parsed string holds any of them (a raw quote would end
  the string, raw control characters are refused by the parser), so nothing needs checking, and each
  string's quotes are already in the text to be counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from gui.core.jsonscan import count_char

try:
    from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - CPython has it
    _c_make_encoder = None

__all__ = ["compact_json", "compact_size"]

_encode_string: Callable[[str], str] = json.encoder.encode_basestring
_SPECIAL_BYTES = bytes(range(32)) + b'"\\'  # in UTF-8 these bytes only ever stand for themselves
_LONG_STRING = 4096  # chars; below this, escaping in C is cheaper than checking first
_FEW_STRINGS_RATIO = 4096  # "few strings": on average one per this many characters of text

Encoder = Callable[[Any, int], list[str]]


def compact_json(body: Any, *, allow_nan: bool) -> str:
    """The serialization sent on the wire, as text: compact, non-ASCII kept as is."""
    return json.dumps(
        body, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan, check_circular=False
    )


def compact_size(
    body: Any,
    text: str,
    *,
    plain_strings: bool,
    allow_nan: bool = False,
    errors: str = "strict",
) -> int:
    """Bytes of ``compact_json(body)`` in UTF-8 (``errors`` as for ``str.encode``).

    ``text`` is the JSON text ``body`` was parsed from; ``plain_strings`` says that every string of
    ``body`` stands in ``text`` unescaped and exactly once per occurrence (no backslash in the text,
    no repeated key). Raises ValueError for NaN/Infinity unless ``allow_nan``, and
    UnicodeEncodeError for a lone surrogate unless ``errors`` allows it.
    """
    if _c_make_encoder is None:
        return len(compact_json(body, allow_nan=allow_nan).encode("utf-8", errors))
    quotes = count_char(text, '"')
    if quotes // 2 * _FEW_STRINGS_RATIO < len(text):
        return _size_with_measured_strings(body, plain_strings, allow_nan, errors)
    if plain_strings:
        # Strings pass through unquoted and uncopied; their quotes are counted in the text.
        encode: Encoder = _c_make_encoder(
            None, _not_json, str, None, ":", ",", False, False, allow_nan
        )
        chunks = encode(body, 0)
        if text.isascii():
            return sum(map(len, chunks)) + quotes
        return len("".join(chunks).encode("utf-8", errors)) + quotes
    return len(compact_json(body, allow_nan=allow_nan).encode("utf-8", errors))


def _size_with_measured_strings(body: Any, plain: bool, allow_nan: bool, errors: str) -> int:
    """Few, long strings: measure each in Python and leave them out of the encoded text."""
    measured = 0

    def measure(string: str) -> str:
        nonlocal measured
        if plain:
            measured += 2 + (
                len(string) if string.isascii() else len(string.encode("utf-8", errors))
            )
        else:
            measured += _string_size(string, errors)
        return ""

    encode: Encoder = _c_make_encoder(
        None, _not_json, measure, None, ":", ",", False, False, allow_nan
    )
    structure = "".join(encode(body, 0))
    return measured + len(structure.encode("utf-8", errors))


def _string_size(string: str, errors: str) -> int:
    """Bytes of ``string`` as a JSON string token, quotes included."""
    if len(string) >= _LONG_STRING:
        raw = string.encode("utf-8", errors)
        if len(raw.translate(None, _SPECIAL_BYTES)) == len(raw):
            return len(raw) + 2
    return len(_encode_string(string).encode("utf-8", errors))


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON type")
