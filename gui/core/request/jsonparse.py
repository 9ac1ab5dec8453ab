"""Parsing a request text at C speed while keeping what positions need.

The top-level object is walked in Python, one member at a time, so the span of each top-level
member is known without a second pass; every value inside is parsed by the C scanner. An optional
hook notes each object that repeats a key, since the C parser silently keeps the last value.
"""

from __future__ import annotations

import json
import json.scanner
import re
from dataclasses import dataclass
from typing import Any

from gui.core.request.jsonscan import (
    JsonIndex,
    Member,
    ScanOnce,
    root_offset,
    scan_string,
    skip_whitespace,
)

__all__ = ["ParsedDocument", "parse_document"]


@dataclass(slots=True)
class ParsedDocument:
    """The result of :func:`parse_document`."""

    value: Any
    index: JsonIndex
    objects_with_repeated_keys: list[dict[str, Any]]  # by identity, in the order they closed
    repeated_keys_noted: bool = True  # False: only the top-level object was checked for repeats


def parse_document(text: str, *, note_repeated_keys: bool = True) -> ParsedDocument:
    """Parse ``text`` as ``json.loads`` would (NaN and Infinity accepted), noting positions.

    ``note_repeated_keys=False`` parses a quarter faster by leaving every object below the top
    level to the C parser alone: ``objects_with_repeated_keys`` then only tells about the top-level
    object, and ``repeated_keys_noted`` is False.

    Raises ``json.JSONDecodeError`` with ``pos`` counted in ``text`` (BOM included),
    ``RecursionError`` when the nesting is too deep for the C parser, and ``ValueError`` for an
    integer with more digits than Python converts.
    """
    repeated: list[dict[str, Any]] = []

    def pairs_to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            repeated.append(result)
        return result

    decoder = json.JSONDecoder(object_pairs_hook=pairs_to_dict if note_repeated_keys else None)
    scan_once: ScanOnce = json.scanner.make_scanner(decoder)  # type: ignore[arg-type]
    start = root_offset(text)
    members: list[tuple[Member, Any]] | None = None
    if text.startswith("{", start):
        members = _read_top_level(text, start, scan_once)
    if members is None:
        repeated.clear()  # the partial read may have noted objects that the full parse rebuilds
        value = _parse_whole(text, start, scan_once)
    else:
        value = pairs_to_dict([(m.key, v) for m, v in members])
    index = JsonIndex(
        text,
        unique_keys=note_repeated_keys and not repeated,
        value=value,
        repeated_ids={id(obj) for obj in repeated} if note_repeated_keys else None,
    )
    if members is not None:
        index.seed_members(start, [m for m, _ in members])
    return ParsedDocument(value, index, repeated, note_repeated_keys)


def _read_top_level(text: str, start: int, scan_once: ScanOnce) -> list[tuple[Member, Any]] | None:
    """Members of the top-level object with their parsed values; None if anything is unexpected.

    Only the happy path lives here: on any surprise the caller reparses the whole text with the C
    parser, whose error (message and position) is then the one reported.
    """
    members: list[tuple[Member, Any]] = []
    pos = skip_whitespace(text, start + 1)
    if text.startswith("}", pos):
        return members if skip_whitespace(text, pos + 1) == len(text) else None
    # One regular expression per separator (not one per blank): a body may hold 100,000 members.
    colon, separator = _COLON.match, _SEPARATOR.match
    try:
        while True:
            if not text.startswith('"', pos):
                return None
            key, key_end = scan_string(text, pos + 1, True)
            found = colon(text, key_end)
            if found is None:
                return None
            value_start = found.end()
            value, value_end = scan_once(text, value_start)
            members.append((Member(key, pos, key_end, value_start, value_end), value))
            found = separator(text, value_end)
            if found is None:
                return None
            if found.group(1) is None:  # the closing brace, then nothing but blanks
                return members
            pos = found.end()
    except (StopIteration, ValueError):
        return None


_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_SEPARATOR = re.compile(r"[ \t\n\r]*(?:(,)[ \t\n\r]*|\}[ \t\n\r]*\Z)")


def _parse_whole(text: str, start: int, scan_once: ScanOnce) -> Any:
    try:
        value, end = scan_once(text, start)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    end = skip_whitespace(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value
