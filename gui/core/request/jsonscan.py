"""Where things stand in a JSON text: a parse at C speed, and positions found only when asked.

The validator needs line:column for a handful of JSON paths in texts of up to tens of megabytes. A
parser that records the position of every value would be pure Python and far too slow, so instead:

* ``gui.core.request.jsonparse.parse_document`` parses with the C ``json`` scanner, walking only the
  top-level object in Python, so the spans of the top-level members (``input``, ``policy``, ...)
  come for free, and seeds a :class:`JsonIndex` with them.
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
    "ScanOnce",
    "count_char",
    "locate",
    "root_offset",
    "scan_string",
    "skip_whitespace",
]

JsonPath = tuple[str | int, ...]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# (text, index after the opening quote, strict) -> (the string, index after the closing quote)
scan_string: Callable[[str, int, bool], tuple[str, int]]
scan_string = json.decoder.scanstring  # type: ignore[attr-defined]
ScanOnce = Callable[[str, int], tuple[Any, int]]


class _Malformed(ValueError):
    """The text is not JSON where the index expected it to be."""


def skip_whitespace(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def root_offset(text: str) -> int:
    """Offset of the first character of the JSON value: after a BOM and leading whitespace."""
    return skip_whitespace(text, 1 if text.startswith("\ufeff") else 0)


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
    last_of_key: dict[str, Member] = field(default_factory=dict)  # a repeated key: its last
    elements: list[tuple[int, int]] = field(default_factory=list)
    value_starts: list[int] = field(default_factory=list)  # of members or elements, ascending
    next_pos: int = 0  # where the next item, its comma or the closing bracket begins
    done: bool = False


@dataclass(frozen=True, slots=True)
class _Head:
    """The next item of a container, read up to where its value starts (arrays: no key)."""

    key: str | None
    key_start: int
    key_end: int
    value_start: int


_UNSET: Any = object()  # "the parsed value here is not known"


class JsonIndex:
    """Finds JSON paths in a text the ``json`` module accepts, reading only as far as needed.

    A path names the last occurrence of a repeated key, as in Python's and RunPod's parsers (the
    last value wins), so an object is read to its end unless its keys are known to be unique:
    ``unique_keys=True`` promises that for every object; ``value`` (the parsed document) with
    ``repeated_ids`` (the ``id`` of each object that repeats a key) tells it object by object.
    Knowing ``value`` also lets the index step into the last item of a container without reading
    to its end first.
    """

    def __init__(
        self,
        text: str,
        *,
        unique_keys: bool = False,
        value: Any = _UNSET,
        repeated_ids: set[int] | None = None,
    ) -> None:
        self.text = text
        self.root = root_offset(text)
        self.unique_keys = unique_keys
        self._value = value
        self._repeated_ids = repeated_ids
        self._scans: dict[int, _ContainerScan] = {}
        self._scan_once: ScanOnce = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]

    def seed_members(self, object_start: int, members: list[Member]) -> None:
        """Record the complete member list of the object opening at ``object_start``."""
        starts = [m.value_start for m in members]
        scan = _ContainerScan(is_object=True, members=list(members), value_starts=starts, done=True)
        scan.last_of_key = {m.key: m for m in members}
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
                head = self._member_head(path)
                if head is None:
                    return None
                return head.key_start, head.key_end - head.key_start
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
            while (head := self._peek(scan)) is not None:
                self._accept(scan, head)
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
        pos, node = self.root, self._value
        for step in path:
            opener = self.text[pos]
            if opener == "{" and isinstance(step, str):
                head = self._find_member(pos, step, node)
            elif opener == "[" and isinstance(step, int) and step >= 0:
                head = self._find_element(pos, step)
            else:
                return None
            if head is None:
                return None
            pos, node = head.value_start, _child(node, step)
        return pos

    def _member_head(self, path: JsonPath) -> Member | _Head | None:
        parent = self._value_start(path[:-1])
        last = path[-1]
        if parent is None or self.text[parent] != "{" or not isinstance(last, str):
            return None
        node = self._value
        for step in path[:-1]:
            node = _child(node, step)
        return self._find_member(parent, last, node)

    def _find_member(self, object_start: int, key: str, node: Any) -> Member | _Head | None:
        scan = self._scan(object_start)
        unique = self._unique(node)
        found: Member | _Head | None = scan.last_of_key.get(key)
        if found is not None and (unique or scan.done):
            return found
        while (head := self._peek(scan)) is not None:
            if unique and head.key == key:
                return head  # its value need not be read
            self._accept(scan, head)
            if head.key == key:
                found = head
        return found

    def _find_element(self, array_start: int, index: int) -> _Head | None:
        scan = self._scan(array_start)
        if index < len(scan.elements):
            start = scan.elements[index][0]
            return _Head(None, start, start, start)
        self._read_elements(scan, count=index)  # the ones before it; never the element itself
        return self._peek(scan) if len(scan.elements) == index else None

    def _path_at(self, offset: int) -> JsonPath | None:
        path: list[str | int] = []
        pos, node = self.root, self._value
        while pos != offset:
            if offset < pos or self.text[pos] not in "{[":
                return None
            found = self._item_holding(self._scan(pos), offset, node)
            if found is None:
                return None
            step, pos = found
            path.append(step)
            node = _child(node, step)
        return tuple(path)

    def _item_holding(
        self, scan: _ContainerScan, offset: int, node: Any
    ) -> tuple[str | int, int] | None:
        """The step and value start of the item of ``scan`` whose value spans ``offset``."""
        if not scan.is_object:
            last = len(node) - 1 if type(node) is list else -1
            self._read_elements(scan, past=offset, before=last)
        at = bisect_right(scan.value_starts, offset) - 1
        if at >= 0 and self._item_end(scan, at) > offset:
            return self._step(scan, at), scan.value_starts[at]
        if at < len(scan.value_starts) - 1:
            return None  # between two items already read
        while (head := self._peek(scan)) is not None and head.value_start <= offset:
            step: str | int = head.key if head.key is not None else len(scan.elements)
            if self._is_last(scan, node) or self._accept(scan, head) > offset:
                return step, head.value_start
        return None

    def _unique(self, node: Any) -> bool:
        if self.unique_keys:
            return True
        return (
            self._repeated_ids is not None
            and type(node) is dict
            and id(node) not in (self._repeated_ids)
        )

    def _is_last(self, scan: _ContainerScan, node: Any) -> bool:
        """Whether the next item of ``scan`` is its last (then its end need not be found)."""
        if scan.is_object:
            return self._unique(node) and len(scan.members) + 1 == len(node)
        return type(node) is list and len(scan.elements) + 1 == len(node)

    @staticmethod
    def _step(scan: _ContainerScan, at: int) -> str | int:
        return scan.members[at].key if scan.is_object else at

    @staticmethod
    def _item_end(scan: _ContainerScan, at: int) -> int:
        return scan.members[at].value_end if scan.is_object else scan.elements[at][1]

    def _scan(self, start: int) -> _ContainerScan:
        scan = self._scans.get(start)
        if scan is None:
            opener = self.text[start]
            if opener not in "{[":
                raise _Malformed(f"no container at {start}")
            scan = _ContainerScan(is_object=opener == "{", next_pos=start + 1)
            self._scans[start] = scan
        return scan

    def _peek(self, scan: _ContainerScan) -> _Head | None:
        """The next item of ``scan`` up to its value's start; None (and ``done``) at the end."""
        if scan.done:
            return None
        text = self.text
        pos = skip_whitespace(text, scan.next_pos)
        if text[pos] == ("}" if scan.is_object else "]"):
            scan.done = True
            return None
        if scan.value_starts:
            if text[pos] != ",":
                raise _Malformed(f"expected ',' at {pos}")
            pos = skip_whitespace(text, pos + 1)
        if not scan.is_object:
            return _Head(None, pos, pos, pos)
        if text[pos] != '"':
            raise _Malformed(f"expected a key at {pos}")
        key, key_end = scan_string(text, pos + 1, True)
        colon = skip_whitespace(text, key_end)
        if text[colon] != ":":
            raise _Malformed(f"expected ':' at {colon}")
        return _Head(key, pos, key_end, skip_whitespace(text, colon + 1))

    def _accept(self, scan: _ContainerScan, head: _Head) -> int:
        """Read the value of ``head`` (the item :meth:`_peek` gave) and record it; its end."""
        end = self._skip_value(head.value_start)
        if head.key is not None:
            member = Member(head.key, head.key_start, head.key_end, head.value_start, end)
            scan.members.append(member)
            scan.last_of_key[head.key] = member
        else:
            scan.elements.append((head.value_start, end))
        scan.value_starts.append(head.value_start)
        scan.next_pos = end
        return end

    def _read_elements(
        self, scan: _ContainerScan, *, count: int = 0, past: int = -1, before: int = -1
    ) -> None:
        """Read array elements until ``count`` are known or one ends after offset ``past``, and
        never the one at index ``before``.

        :meth:`_peek` and :meth:`_accept` inlined: arrays of a hundred thousand records are where
        the per-element overhead shows.
        """
        text, skip_blank, scan_once = self.text, _WHITESPACE.match, self._scan_once
        elements, starts = scan.elements, scan.value_starts
        pos = scan.next_pos
        while (
            not scan.done
            and len(elements) != before
            and (len(elements) < count or (past >= 0 and pos <= past))
        ):
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
            return scan_string(self.text, pos + 1, True)[1]
        try:
            return self._scan_once(self.text, pos)[1]
        except StopIteration:
            raise _Malformed(f"expected a value at {pos}") from None

    def _token_length(self, start: int) -> int:
        if self.text[start] in "{[":
            return 1
        return max(1, self._skip_value(start) - start)


def _child(node: Any, step: str | int) -> Any:
    """The value at ``step`` in ``node``, or the unknown marker."""
    if type(node) is dict and isinstance(step, str):
        return node.get(step, _UNSET)
    if type(node) is list and isinstance(step, int) and 0 <= step < len(node):
        return node[step]
    return _UNSET


def locate(text: str, path: JsonPath, *, key: bool = False) -> tuple[int, int] | None:
    """``(offset, length)`` of the value (or key) at ``path`` in ``text``; None if not there.

    For repeated lookups in the same text, keep a :class:`JsonIndex`: it remembers what it has read.
    """
    return JsonIndex(text).locate(path, key=key)
