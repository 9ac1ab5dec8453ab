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
import math
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from typing import Any

from gui.core.request.jsonparse import ParsedDocument
from gui.core.request.jsonscan import JsonPath, count_char

__all__ = ["BodySize", "compact_json", "compact_size", "find_unsendable_values"]

# _c_make_encoder is None where json has no C accelerator (json.encoder sets it so).
_encode_string: Callable[[str], str] = json.encoder.encode_basestring
_SPECIAL_BYTES = bytes(range(32)) + b'"\\'  # in UTF-8 these bytes only ever stand for themselves
_LONG_STRING = 4096  # chars; below this, escaping in C is cheaper than checking first
_FEW_STRINGS_RATIO = 4096  # "few strings": on average one per this many characters of text

Encoder = Callable[[Any, int], list[str]]
# Written between each key and its value instead of ":" (same length, so the size is unchanged):
# counting it counts the keys of the body. No string can hold it when the text has no backslash.
_KEY_MARK = "\0"


@dataclass(frozen=True, slots=True)
class BodySize:
    """The size of a body as sent, and whether the text may hold keys the body lost.

    ``keys_match_text`` (only known for plain strings, else None): every ``:`` of the text is
    either inside a string of the body or after a key of the body. False means some key stands in
    the text but not in the body: an object repeats it, and the last value won.
    """

    size: int
    keys_match_text: bool | None = None
    # The strings' quotes were counted in the text: if keys repeat, the quotes of the members
    # that lost must be taken off (see gui.core.request.validation).
    counted_text_quotes: bool = False


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
) -> BodySize:
    """Bytes of ``compact_json(body)`` in UTF-8 (``errors`` as for ``str.encode``).

    ``text`` is the JSON text ``body`` was parsed from; ``plain_strings`` says that every string of
    ``body`` stands in ``text`` unescaped and exactly once per occurrence (no backslash in the text,
    no repeated key). Raises ValueError for NaN/Infinity unless ``allow_nan``, and
    UnicodeEncodeError for a lone surrogate unless ``errors`` allows it.
    """
    if _c_make_encoder is None:
        return BodySize(len(compact_json(body, allow_nan=allow_nan).encode("utf-8", errors)))
    quotes = count_char(text, '"')
    if quotes // 2 * _FEW_STRINGS_RATIO < len(text):
        return _size_with_measured_strings(body, text, plain_strings, allow_nan, errors)
    if plain_strings:
        # Strings pass through unquoted and uncopied; their quotes are counted in the text.
        encode: Encoder = _c_make_encoder(
            None, _not_json, str, None, _KEY_MARK, ",", False, False, allow_nan
        )
        written = "".join(encode(body, 0))  # the C encoder hands back a single chunk
        size = len(written) if text.isascii() else len(written.encode("utf-8", errors))
        keys, colons = count_char(written, _KEY_MARK), count_char(written, ":")
        return BodySize(size + quotes, count_char(text, ":") == keys + colons, True)
    return BodySize(len(compact_json(body, allow_nan=allow_nan).encode("utf-8", errors)))


def _size_with_measured_strings(
    body: Any, text: str, plain: bool, allow_nan: bool, errors: str
) -> BodySize:
    """Few, long strings: measure each in Python and leave them out of the encoded text."""
    measured = colons = 0

    def measure(string: str) -> str:
        nonlocal measured, colons
        if plain:
            ascii_only = string.isascii()
            measured += 2 + (len(string) if ascii_only else len(string.encode("utf-8", errors)))
            colons += count_char(string, ":")
        else:
            measured += _string_size(string, errors)
        return ""

    encode: Encoder = _c_make_encoder(
        None, _not_json, measure, None, _KEY_MARK, ",", False, False, allow_nan
    )
    structure = "".join(encode(body, 0))
    size = measured + len(structure.encode("utf-8", errors))
    if not plain:
        return BodySize(size)
    return BodySize(size, count_char(text, ":") == structure.count(_KEY_MARK) + colons)


def _string_size(string: str, errors: str) -> int:
    """Bytes of ``string`` as a JSON string token, quotes included."""
    if len(string) >= _LONG_STRING:
        raw = string.encode("utf-8", errors)
        if len(raw.translate(None, _SPECIAL_BYTES)) == len(raw):
            return len(raw) + 2
    return len(_encode_string(string).encode("utf-8", errors))


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON type")


# -- values JSON can't carry ---------------------------------------------------------------------


def find_unsendable_values(document: ParsedDocument) -> list[tuple[JsonPath, bool]]:
    """Where the body holds what JSON can't carry: NaN or Infinity (written as such, or a number
    too large), and strings or keys with a lone surrogate. ``(path, is_key)`` for each.

    ``NaN`` and ``Infinity`` are searched for in the text first (C speed); if, with those set
    aside, the body then encodes, that was all. Otherwise the whole body is walked.
    """
    body = document.value
    found = _nan_and_infinity_in_text(document)
    if found and _encodes_without(body, found):
        return [(path, False) for path in found]
    return _bad_values_in_tree(body)


def _nan_and_infinity_in_text(document: ParsedDocument) -> list[JsonPath]:
    """Paths of the NaN/Infinity tokens of the text that made it into the body (a repeated key may
    have dropped one; one inside a string is not a token)."""
    text, index = document.index.text, document.index
    found: dict[JsonPath, None] = {}  # in text order, each path once (a set would lose order)
    for needle in ("NaN", "Infinity"):
        pos = text.find(needle)
        while pos >= 0:
            start = pos - 1 if needle == "Infinity" and text[pos - 1 : pos] == "-" else pos
            path = index.path_at(start)
            if path is not None and path not in found:
                value = _value_at(body=document.value, path=path)
                if type(value) is float and not math.isfinite(value):
                    found[path] = None
            pos = text.find(needle, pos + len(needle))
    return list(found)


def _encodes_without(body: Any, paths: list[JsonPath]) -> bool:
    """Whether ``body`` is valid JSON in UTF-8 once the values at ``paths`` are set aside."""
    parents = [(_value_at(body, path[:-1]), path[-1]) for path in paths]
    saved = [parent[step] for parent, step in parents]
    try:
        for parent, step in parents:
            parent[step] = None
        compact_json(body, allow_nan=False).encode("utf-8")
    except (ValueError, RecursionError):
        return False
    finally:
        for (parent, step), value in zip(parents, saved, strict=True):
            parent[step] = value
    return True


def _value_at(body: Any, path: JsonPath) -> Any:
    value = body
    for step in path:
        value = value[step]
    return value


def _bad_values_in_tree(body: Any) -> list[tuple[JsonPath, bool]]:
    """Paths of values JSON can't carry, found by walking the body: non-finite floats (NaN, or a
    number too large) and strings or keys holding a lone surrogate (``(path, is_key)``)."""
    bad: list[tuple[JsonPath, bool]] = []
    stack: list[tuple[JsonPath, Any]] = [((), body)]
    while stack:
        path, node = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            kind = type(value)
            if kind is dict or kind is list:
                stack.append(((*path, key), value))
            elif (kind is float and not math.isfinite(value)) or (
                kind is str and _has_lone_surrogate(value)
            ):
                bad.append(((*path, key), False))
            if type(key) is str and _has_lone_surrogate(key):
                bad.append(((*path, key), True))
    return bad


def _has_lone_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
