"""Where things stand in a JSON text: a parse at C speed, and positions found only when asked.

The validator needs line:column for a handful of JSON paths in texts of up to tens of megabytes. A
parser that records the position of every value would be pure Python and far too slow, so instead:

* :func:`parse_document` parses with the C ``json`` scanner, walking only the top-level object in
  Python, so the spans of the top-level members (``input``, ``policy``, ...) come for free. A hook
  notes every object that repeats a key (the C parser silently keeps the last value).
* :class:`JsonIndex` finds the position of any other path on demand: it reads keys with
  ``json.decoder.scanstring`` and steps over values it does not enter with the C scanner, so a
  lookup costs at most one more C-speed pass over the text before the path, and nothing after it.

A leading byte-order mark (U+FEFF) is skipped; every offset counts characters (code points) of the
text as given, BOM included.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "JsonIndex",
    "JsonPath",
    "Member",
    "ParsedDocument",
    "count_char",
    "locate",
    "parse_document",
    "root_offset",
]

JsonPath = tuple[str | int, ...]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
ScanOnce = Callable[[str, int], tuple[Any, int]]


class _Malformed(ValueError):
    """The text is not JSON where the index expected it to be."""


def _skip_whitespace(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def root_offset(text: str) -> int:
    """Offset of the first character of the JSON value: after a BOM and leading whitespace."""
    return _skip_whitespace(text, 1 if text.startswith("\ufeff") else 0)


def count_char(text: str, char: str, start: int = 0, end: int | None = None) -> int:
    """``text.count(char, start, end)``, much faster when ``char`` is rare.

    ``str.count`` looks at every character; ``str.find`` jumps with memchr. A 10 MB base64 string
    holds few newlines or quotes, and counting them one ``find`` at a time is ten times quicker;
    when they turn out to be many, the rest is left to ``str.count``.
    """
    stop = len(text) if end is None else min(end, len(text))
    found = 0
    pos = text.find(char, start, stop)
    while pos >= 0:
        found += 1
        if found == _FIND_BUDGET:
            return found + text.count(char, pos + 1, stop)
        pos = text.find(char, pos + 1, stop)
    return found


_FIND_BUDGET = 256


@dataclass(frozen=True, slots=True)
class Member:
    """One ``"key": value`` of an object, as offsets into the text (ends exclusive)."""

    key: str
    key_start: int  # the opening double quote
    key_end: int  # just after the closing double quote
    value_start: int
    value_end: int


@dataclass(slots=True)
class _ContainerScan:
    """How far the members (or elements) of one object (or array) have been read."""

    is_object: bool
    members: list[Member] = field(default_factory=list)
    elements: list[tuple[int, int]] = field(default_factory=list)
    value_starts: list[int] = field(default_factory=list)  # of members or elements, ascending
    next_pos: int = 0  # where the next item, its comma or the closing bracket begins
    done: bool = False


class JsonIndex:
    """Finds JSON paths in a text the ``json`` module accepts, reading only as far as needed.

    ``unique_keys=True`` promises that no object repeats a key, so the first match is the one that
    counts and the rest of the object need not be read. Otherwise the last occurrence of a key is
    the one a path names, as in Python's and RunPod's parsers (the last value wins).
    """

    def __init__(self, text: str, *, unique_keys: bool = False) -> None:
        self.text = text
        self.root = root_offset(text)
        self.unique_keys = unique_keys
        self._scans: dict[int, _ContainerScan] = {}
        self._scan_once: ScanOnce = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]

    def seed_members(self, object_start: int, members: list[Member]) -> None:
        """Record the complete member list of the object opening at ``object_start``."""
        starts = [m.value_start for m in members]
        scan = _ContainerScan(is_object=True, members=list(members), value_starts=starts, done=True)
        self._scans[object_start] = scan

    def value_start(self, path: JsonPath) -> int | None:
        """Offset where the value at ``path`` begins, or None if the path is not in the text."""
        try:
            return self._value_start(path)
        except (ValueError, IndexError, RecursionError):
            return None

    def locate(self, path: JsonPath, *, key: bool = False) -> tuple[int, int] | None:
        """``(offset, length)`` of the value at ``path`` (or of its key, with ``key=True``).

        A container's span is its opening bracket (length 1); a scalar's is its whole token. For
        ``key=True`` the path must end in an object key; an array index gives the element's value.
        None when the path is not in the text.
        """
        try:
            if key and path and isinstance(path[-1], str):
                member = self._member(path)
                if member is None:
                    return None
                return member.key_start, member.key_end - member.key_start
            start = self._value_start(path)
            if start is None:
                return None
            return start, self._token_length(start)
        except (ValueError, IndexError, RecursionError):
            return None

    def locate_nearest(self, path: JsonPath, *, key: bool = False) -> tuple[JsonPath, int, int]:
        """Like :meth:`locate`, falling back to the closest ancestor of ``path`` found in the text.

        Returns ``(found_path, offset, length)``; an ancestor is given by its key when it has one.
        The last resort is the first character of the text.
        """
        for depth in range(len(path), -1, -1):
            prefix = path[:depth]
            span = self.locate(prefix, key=key or depth < len(path))
            if span is not None:
                return prefix, span[0], span[1]
        return (), 0, 1

    def members(self, path: JsonPath) -> list[Member]:
        """Every member of the object at ``path``, in text order, repeated keys included."""
        try:
            start = self._value_start(path)
            if start is None or self.text[start] != "{":
                return []
            scan = self._scan(start)
            while not scan.done:
                self._read_next(scan)
            return list(scan.members)
        except (ValueError, IndexError, RecursionError):
            return []

    def path_at(self, offset: int) -> JsonPath | None:
        """The path of the value that begins at ``offset``; None when no value begins there (the
        offset is inside a string, a key or a number, or between tokens).

        With repeated keys the path may name another occurrence than the one at ``offset``.
        """
        try:
            return self._path_at(offset)
        except (ValueError, IndexError, RecursionError):
            return None

    # -- internals -------------------------------------------------------------------------------

    def _value_start(self, path: JsonPath) -> int | None:
        pos = self.root
        for step in path:
            opener = self.text[pos]
            if opener == "{" and isinstance(step, str):
                member = self._find_member(pos, step)
                if member is None:
                    return None
                pos = member.value_start
            elif opener == "[" and isinstance(step, int) and step >= 0:
                scan = self._scan(pos)
                self._read_elements(scan, count=step + 1)
                if len(scan.elements) <= step:
                    return None
                pos = scan.elements[step][0]
            else:
                return None
        return pos

    def _path_at(self, offset: int) -> JsonPath | None:
        path: list[str | int] = []
        pos = self.root
        while pos != offset:
            if self.text[pos] not in "{[" or offset < pos:
                return None
            scan = self._scan(pos)
            if not scan.is_object:
                self._read_elements(scan, past=offset)
            while not scan.done and (not scan.value_starts or self._item_end(scan, -1) <= offset):
                self._read_next(scan)
            at = bisect_right(scan.value_starts, offset) - 1
            if at < 0 or self._item_end(scan, at) <= offset:
                return None  # in a key, between items, or past the end
            path.append(scan.members[at].key if scan.is_object else at)
            pos = scan.value_starts[at]
        return tuple(path)

    @staticmethod
    def _item_end(scan: _ContainerScan, at: int) -> int:
        return scan.members[at].value_end if scan.is_object else scan.elements[at][1]

    def _member(self, path: JsonPath) -> Member | None:
        parent = self._value_start(path[:-1])
        last = path[-1]
        if parent is None or self.text[parent] != "{" or not isinstance(last, str):
            return None
        return self._find_member(parent, last)

    def _find_member(self, object_start: int, key: str) -> Member | None:
        scan = self._scan(object_start)
        found = next((m for m in reversed(scan.members) if m.key == key), None)
        if found is not None and (self.unique_keys or scan.done):
            return found
        while not scan.done:
            member = self._read_next(scan)
            if member is not None and member.key == key:
                found = member
                if self.unique_keys:
                    break
        return found

    def _scan(self, start: int) -> _ContainerScan:
        scan = self._scans.get(start)
        if scan is None:
            opener = self.text[start]
            if opener not in "{[":
                raise _Malformed(f"no container at {start}")
            scan = _ContainerScan(is_object=opener == "{", next_pos=start + 1)
            self._scans[start] = scan
        return scan

    def _read_next(self, scan: _ContainerScan) -> Member | None:
        """Read one more item of ``scan``; returns the member read, if it was an object's."""
        text = self.text
        pos = _skip_whitespace(text, scan.next_pos)
        if text[pos] == ("}" if scan.is_object else "]"):
            scan.done = True
            return None
        if scan.members or scan.elements:
            if text[pos] != ",":
                raise _Malformed(f"expected ',' at {pos}")
            pos = _skip_whitespace(text, pos + 1)
        if not scan.is_object:
            end = self._skip_value(pos)
            scan.elements.append((pos, end))
            scan.value_starts.append(pos)
            scan.next_pos = end
            return None
        if text[pos] != '"':
            raise _Malformed(f"expected a key at {pos}")
        key, key_end = _scanstring(text, pos + 1, True)
        colon = _skip_whitespace(text, key_end)
        if text[colon] != ":":
            raise _Malformed(f"expected ':' at {colon}")
        value_start = _skip_whitespace(text, colon + 1)
        member = Member(key, pos, key_end, value_start, self._skip_value(value_start))
        scan.members.append(member)
        scan.value_starts.append(value_start)
        scan.next_pos = member.value_end
        return member

    def _read_elements(self, scan: _ContainerScan, *, count: int = 0, past: int = -1) -> None:
        """Read array elements until ``count`` are known or one ends after offset ``past``.

        The same work as :meth:`_read_next`, inlined: arrays of a hundred thousand records are
        where the per-element overhead shows.
        """
        text, skip_blank, scan_once = self.text, _WHITESPACE.match, self._scan_once
        elements, starts = scan.elements, scan.value_starts
        pos = scan.next_pos
        while not scan.done and (len(elements) < count or (past >= 0 and pos <= past)):
            pos = skip_blank(text, pos).end()  # type: ignore[union-attr]
            if text[pos] == "]":
                scan.done = True
                break
            if elements:
                if text[pos] != ",":
                    raise _Malformed(f"expected ',' at {pos}")
                pos = skip_blank(text, pos + 1).end()  # type: ignore[union-attr]
            try:
                end = scan_once(text, pos)[1]
            except StopIteration:
                raise _Malformed(f"expected a value at {pos}") from None
            elements.append((pos, end))
            starts.append(pos)
            pos = scan.next_pos = end

    def _skip_value(self, pos: int) -> int:
        if self.text[pos] == '"':
            return _scanstring(self.text, pos + 1, True)[1]
        try:
            return self._scan_once(self.text, pos)[1]
        except StopIteration:
            raise _Malformed(f"expected a value at {pos}") from None

    def _token_length(self, start: int) -> int:
        if self.text[start] in "{[":
            return 1
        return max(1, self._skip_value(start) - start)


def locate(text: str, path: JsonPath, *, key: bool = False) -> tuple[int, int] | None:
    """``(offset, length)`` of the value (or key) at ``path`` in ``text``; None if not there.

    For repeated lookups in the same text, keep a :class:`JsonIndex`: it remembers what it has read.
    """
    return JsonIndex(text).locate(path, key=key)


@dataclass(slots=True)
class ParsedDocument:
    """The result of :func:`parse_document`."""

    value: Any
    index: JsonIndex
    objects_with_repeated_keys: list[dict[str, Any]]  # by identity, in the order they closed


def parse_document(text: str) -> ParsedDocument:
    """Parse ``text`` as ``json.loads`` would (NaN and Infinity accepted), noting positions.

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

    decoder = json.JSONDecoder(object_pairs_hook=pairs_to_dict)
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
    index = JsonIndex(text, unique_keys=not repeated)
    if members is not None:
        index.seed_members(start, [m for m, _ in members])
    return ParsedDocument(value, index, repeated)


def _read_top_level(text: str, start: int, scan_once: ScanOnce) -> list[tuple[Member, Any]] | None:
    """Members of the top-level object with their parsed values; None if anything is unexpected.

    Only the happy path lives here: on any surprise the caller reparses the whole text with the C
    parser, whose error (message and position) is then the one reported.
    """
    members: list[tuple[Member, Any]] = []
    pos = _skip_whitespace(text, start + 1)
    if text.startswith("}", pos):
        return members if _skip_whitespace(text, pos + 1) == len(text) else None
    try:
        while True:
            if not text.startswith('"', pos):
                return None
            key, key_end = _scanstring(text, pos + 1, True)
            colon = _skip_whitespace(text, key_end)
            if not text.startswith(":", colon):
                return None
            value_start = _skip_whitespace(text, colon + 1)
            value, value_end = scan_once(text, value_start)
            members.append((Member(key, pos, key_end, value_start, value_end), value))
            pos = _skip_whitespace(text, value_end)
            if text.startswith(",", pos):
                pos = _skip_whitespace(text, pos + 1)
            elif text.startswith("}", pos):
                return members if _skip_whitespace(text, pos + 1) == len(text) else None
            else:
                return None
    except (StopIteration, ValueError):
        return None


def _parse_whole(text: str, start: int, scan_once: ScanOnce) -> Any:
    try:
        value, end = scan_once(text, start)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    end = _skip_whitespace(text, end)
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value
