"""The job request body: validation with positions, and the one serialization sent on the wire.

``validate_text(text, operation)`` checks an editor's text (or a file's) against JSON and RunPod's
rules and returns :class:`Diagnostic`s that carry a line:column for every problem, rule violations
included. It never changes the text: values stay as typed. ``serialize_body`` is the only way a body
is turned into bytes for RunPod, so the size checked here is the size sent.

Speed: the text is parsed once by the C ``json`` module; positions are looked up afterwards, only
for paths that have a diagnostic (see ``jsonscan``). Validating a 10 or 20 MB body costs
1.3 to 2.5 times a plain ``json.loads`` of it (``tests/benchmarks/bench_validate.py``).
"""

from __future__ import annotations

import json
import re
import sys
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeAlias

from gui.core.errors import RequestInvalid
from gui.core.limits import MAX_BODY_BYTES, Operation
from gui.core.request.jsonparse import ParsedDocument, parse_document
from gui.core.request.jsonscan import JsonIndex, JsonPath, Member, count_char, root_offset
from gui.core.request.placeholders import (
    Context,
    Expansion,
    expand_body,
    text_may_hold_placeholders,
)
from gui.core.request.reading import read_request_file
from gui.core.request.size import compact_json, compact_size, find_unsendable_values
from gui.core.request.syntax import REPORTED_DEPTH, deepest_nesting, describe_syntax_error

if TYPE_CHECKING:
    from gui.core.request.rules import Severity

__all__ = [
    "Diagnostic",
    "ValidationResult",
    "read_request_file",
    "serialize_body",
    "validate_text",
]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a request text, with where it stands.

    ``offset`` is 0-based and ``line``/``column`` 1-based, all counted in characters (code points)
    of the text (Qt counts UTF-16 units: convert for text beyond the Basic Multilingual Plane).
    ``offset < len(text)`` and ``offset + length <= len(text)`` always hold for a non-empty text;
    for an empty text the diagnostic is at offset 0 with length 1.
    """

    severity: Severity
    message: str
    path: JsonPath  # JSON path of the value (or key) at fault, () for the whole body
    line: int
    column: int
    offset: int
    length: int
    code: str = ""  # set for rules a caller may tell apart, e.g. "unreachable-webhook"


@dataclass(slots=True)
class ValidationResult:
    diagnostics: list[Diagnostic]  # sorted by offset, errors before warnings at the same offset
    body: dict[str, Any] | None  # the parsed body when the text is a JSON object, values as typed
    size_bytes: int | None  # len(serialize_body(body)) when parsed: of the body as sent,
    # placeholders expanded (a file counted from its size)
    limit_bytes: int  # MAX_BODY_BYTES of the operation checked against
    placeholders: Expansion | None = None  # when the body holds placeholders: their expansion

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error (warnings allowed): the body may be sent."""
        return not any(d.severity == "error" for d in self.diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def serialize_body(body: Any) -> bytes:
    """The bytes sent to RunPod: compact JSON (no spaces), UTF-8, non-ASCII kept as is.

    Raises :class:`RequestInvalid` when the body can't be JSON: NaN or Infinity, a string holding a
    lone surrogate, or nesting too deep to encode.
    """
    try:
        return compact_json(body, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RequestInvalid(
            "The body holds a string with a lone surrogate (\\uD800 to \\uDFFF without its pair), "
            "which is not valid Unicode and can't be sent. Validate it to see where."
        ) from None
    except ValueError:
        raise RequestInvalid(
            "The body holds NaN or Infinity, which JSON does not allow and RunPod refuses. "
            "Validate it to see where."
        ) from None
    except RecursionError:
        raise RequestInvalid("The body is nested too deeply to be sent as JSON.") from None


def validate_text(
    text: str, operation: Operation = "run", placeholders: Context | None = None
) -> ValidationResult:
    """Check ``text`` as a request body for ``operation`` ("run" or "runsync").

    Placeholders (``gui.core.request.placeholders``) are expanded with ``placeholders`` (the values
    and the folder files are relative to) before RunPod's rules and the size are checked, and each
    of their problems is a diagnostic at the placeholder. Without a context, values are unknown:
    a placeholder without one is a warning, not an error. Files are never read here, only sized.

    Never raises for any text; every problem becomes a :class:`Diagnostic`. A leading BOM is
    ignored. Thread-safe: the Qt editor calls this off its thread.
    """
    limit = MAX_BODY_BYTES[operation]
    placed = _Placed(text)
    if root_offset(text) == len(text):
        placed.add("error", _EMPTY_MESSAGE, (), 0, 1)
        return ValidationResult(placed.diagnostics(), None, None, limit)
    no_backslash = "\\" not in text
    try:
        # Without a backslash, repeated keys can be detected later for less (see _measure).
        document = parse_document(text, note_repeated_keys=not no_backslash)
    except json.JSONDecodeError as exc:
        message, offset, length = describe_syntax_error(exc, text)
        placed.add("error", message, (), offset, length)
        return ValidationResult(placed.diagnostics(), None, None, limit)
    except RecursionError:
        depth, offset = deepest_nesting(text)
        placed.add("error", _nesting_message(depth), (), offset, 1)
        return ValidationResult(placed.diagnostics(), None, None, limit)
    except ValueError:  # an integer with more digits than Python converts
        placed.add("error", *_long_number(text))
        return ValidationResult(placed.diagnostics(), None, None, limit)
    if not isinstance(document.value, dict):
        index = document.index
        offset, length = index.locate(()) or (index.root, 1)
        placed.add("error", _not_an_object_message(document.value), (), offset, length)
        return ValidationResult(placed.diagnostics(), None, None, limit)
    if document.objects_with_repeated_keys and not document.repeated_keys_noted:
        document = parse_document(text)  # a repeat at the top: look for the others too
    measured = _measure(text, document)
    if measured.repeats_unknown:  # the text holds keys the body lost: find the repeated ones
        document = parse_document(text)
    repeats = _repeated_keys(document)
    size = measured.size
    if size is not None and measured.counted_text_quotes and repeats:
        size -= _quotes_lost(text, repeats)
    if measured.unsendable:
        measured.errors.extend(_bad_value_errors(text, document))
    body, index = document.value, document.index
    checked, expansion = body, None
    if text_may_hold_placeholders(text):
        expansion = _expand_for_checking(body, placeholders)
        checked = expansion.body
        if size is not None:
            size += _size_change(expansion)
        _add_placeholder_problems(placed, index, expansion)
    # RunPod's rules (pydantic) are imported on first validation, by the thread that validates:
    # importing pydantic costs about 100 ms that the window's start should not pay.
    from gui.core.request.rules import check_body

    unexpanded = {p.path for p in expansion.problems} if expansion is not None else set()
    for finding in check_body(checked):
        if finding.path in unexpanded:
            continue  # the placeholder's own diagnostic says what is wrong there
        _, offset, length = index.locate_nearest(finding.path, key=finding.on_key)
        placed.add(finding.severity, finding.message, finding.path, offset, length, finding.code)
    for error in measured.errors:
        placed.add(*error)
    _add_repeated_keys(placed, repeats)
    if size is not None and size > limit:
        placed.add("error", _too_big_message(size, operation), (), index.root, 1)
    return ValidationResult(placed.diagnostics(), body, size, limit, expansion)


# -- placeholders ------------------------------------------------------------------------------


def _expand_for_checking(body: Any, context: Context | None) -> Expansion:
    if context is None:
        context = Context(strict=False, read_files=False)
    elif context.read_files:
        context = Context(context.scopes, context.base_dir, context.strict, read_files=False)
    return expand_body(body, context)


def _size_change(expansion: Expansion) -> int:
    """Bytes the expansion adds to the body as sent (files counted from their size)."""
    change = expansion.extra_bytes
    for _, old, new in expansion.edits:
        try:
            change += len(compact_json(new, allow_nan=True).encode("utf-8", "surrogatepass"))
            change -= len(compact_json(old, allow_nan=True).encode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError):
            continue
    return change


def _add_placeholder_problems(placed: _Placed, index: JsonIndex, expansion: Expansion) -> None:
    """A diagnostic at each placeholder with a problem: found in its string's token, or at the
    string when escapes in the text make it hard to find."""
    for problem in expansion.problems:
        _, offset, length = index.locate_nearest(problem.path)
        if problem.placeholder:
            found = placed.text.find(problem.placeholder, offset, offset + length)
            if found >= 0:
                offset, length = found, len(problem.placeholder)
        placed.add(problem.severity, problem.message, problem.path, offset, length)


# -- positions ---------------------------------------------------------------------------------


class _Placed:
    """Diagnostics being collected, with a line map shared by all of them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._items: list[tuple[Severity, str, JsonPath, int, int, str]] = []
        self._mark_offsets = [0]
        self._mark_lines = [1]

    def add(
        self,
        severity: Severity,
        message: str,
        path: JsonPath,
        offset: int,
        length: int,
        code: str = "",
    ) -> None:
        self._items.append((severity, message, path, offset, length, code))

    def line_of(self, offset: int) -> int:
        """1-based line of ``offset``; cheap when asked in any order (remembers what it counted)."""
        at = bisect_right(self._mark_offsets, offset) - 1
        line = self._mark_lines[at] + count_char(self.text, "\n", self._mark_offsets[at], offset)
        self._mark_offsets.insert(at + 1, offset)
        self._mark_lines.insert(at + 1, line)
        return line

    def diagnostics(self) -> list[Diagnostic]:
        text, size = self.text, len(self.text)
        placed = []
        for severity, message, path, offset, length, code in self._items:
            offset = min(max(offset, 0), max(size - 1, 0))
            length = max(1, min(length, size - offset)) if size else 1
            placed.append((offset, severity != "error", message, severity, path, length, code))
        placed.sort(key=_DIAGNOSTIC_ORDER)
        result = []
        line, line_start, looked_from = 1, 0, 0
        # In text order, so each count of lines and each search for a line's start go on from
        # where the previous one stopped: looking back from every offset costs the square of the
        # length of a one-line text with many problems.
        for offset, _, message, severity, path, length, code in placed:
            newline = text.rfind("\n", looked_from, offset)
            if newline >= 0:
                line += 1
                if text.find("\n", looked_from, newline) >= 0:  # more than one line further
                    line += count_char(text, "\n", looked_from, newline)
                line_start = newline + 1
            looked_from = offset
            column = offset - line_start + 1
            result.append(Diagnostic(severity, message, path, line, column, offset, length, code))
        return result


_DIAGNOSTIC_ORDER = itemgetter(0, 1, 2)  # offset, errors before warnings, message


@dataclass(frozen=True, slots=True)
class _RepeatedKey:
    path: JsonPath  # the object's path plus the key
    occurrences: list[Member]  # in text order; the last one is the one kept


def _repeated_keys(document: ParsedDocument) -> list[_RepeatedKey]:
    """Every key given more than once in an object of the body, with where each time."""
    if not document.objects_with_repeated_keys:
        return []
    wanted = {id(obj) for obj in document.objects_with_repeated_keys}
    repeats = []
    for path in _paths_of_objects(document.value, wanted):
        occurrences: dict[str, list[Member]] = {}
        for member in document.index.members(path):
            occurrences.setdefault(member.key, []).append(member)
        repeats += [
            _RepeatedKey((*path, key), members)
            for key, members in occurrences.items()
            if len(members) > 1
        ]
    return repeats


def _quotes_lost(text: str, repeats: list[_RepeatedKey]) -> int:
    """Quotes of the strings in members that a later repeat replaced: in the text, not sent."""
    return sum(
        count_char(text, '"', member.key_start, member.value_end)
        for repeat in repeats
        for member in repeat.occurrences[:-1]
    )


def _add_repeated_keys(placed: _Placed, repeats: list[_RepeatedKey]) -> None:
    """A warning at each repeated key: the last value wins, in RunPod's parser as in Python's."""
    from gui.core.request.rules import quote_key

    for repeat in repeats:
        key = quote_key(str(repeat.path[-1]))
        first = placed.line_of(repeat.occurrences[0].key_start)
        last = placed.line_of(repeat.occurrences[-1].key_start)
        for member in repeat.occurrences[1:]:
            if member is repeat.occurrences[-1]:
                message = (
                    f"The key {key} is given again (first on line {first}): this last value is "
                    f"the one used; RunPod, like Python, keeps the last."
                )
            else:
                message = (
                    f"The key {key} is given again (first on line {first}): this value is "
                    f"ignored; the last one, on line {last}, is used."
                )
            length = member.key_end - member.key_start
            placed.add("warning", message, repeat.path, member.key_start, length)


def _paths_of_objects(root: Any, wanted_ids: set[int]) -> list[JsonPath]:
    """Paths of the containers under ``root`` whose ``id`` is wanted.

    Depth first with a stack of iterators and one list of steps, so nothing outlives its
    visit: a walk that keeps an object per container alive sets off the garbage collector over
    and over on a body of a million objects. Iterative, so any depth the parser accepted is fine.
    """
    found: list[JsonPath] = [()] if id(root) in wanted_ids else []
    steps: list[str | int] = []
    stack: list[Iterator[tuple[Any, Any]]] = [_items(root)]
    while stack and len(found) < len(wanted_ids):
        for step, value in stack[-1]:
            if type(value) is dict or type(value) is list:
                steps.append(step)
                if id(value) in wanted_ids:
                    found.append(tuple(steps))
                stack.append(_items(value))
                break
        else:
            stack.pop()
            if steps:
                steps.pop()
    return found


def _items(node: Any) -> Iterator[tuple[Any, Any]]:
    return iter(node.items()) if type(node) is dict else enumerate(node)


_Error: TypeAlias = "tuple[Severity, str, JsonPath, int, int]"


@dataclass(slots=True)
class _Measured:
    size: int | None  # None when the body can't be encoded at all (nesting)
    errors: list[_Error] = field(default_factory=list)
    unsendable: bool = False  # NaN, Infinity or a lone surrogate: find where
    repeats_unknown: bool = False  # parsed without noting repeats, and they can't be ruled out
    counted_text_quotes: bool = False  # see BodySize


def _measure(text: str, document: ParsedDocument) -> _Measured:
    """``len(serialize_body(body))``, and whether the body holds what JSON can't carry.

    For a document parsed without noting repeated keys, the count also tells whether any key
    repeats; when none can, the index is told so (its lookups then stop at first matches).
    """
    body = document.value
    plain = "\\" not in text and not document.objects_with_repeated_keys
    unsendable = False
    try:
        try:
            counted = compact_size(body, text, plain_strings=plain)
        except ValueError:  # NaN, Infinity or a lone surrogate: measure with them
            unsendable = True
            counted = compact_size(
                body, text, plain_strings=plain, allow_nan=True, errors="surrogatepass"
            )
    except RecursionError:
        depth, offset = deepest_nesting(text)
        return _Measured(None, [("error", _nesting_message(depth), (), offset, 1)])
    repeats_unknown = not document.repeated_keys_noted and counted.keys_match_text is not True
    if not document.repeated_keys_noted and not repeats_unknown:
        document.index.unique_keys = True  # proven: no object repeats a key
    return _Measured(
        counted.size,
        unsendable=unsendable,
        repeats_unknown=repeats_unknown,
        counted_text_quotes=counted.counted_text_quotes,
    )


def _bad_value_errors(text: str, document: ParsedDocument) -> list[_Error]:
    bad = find_unsendable_values(document)
    errors: list[_Error] = []
    for path, is_key in bad:
        _, offset, length = document.index.locate_nearest(path, key=is_key)
        token = text[offset : offset + length]
        errors.append(("error", _bad_value_message(token, is_key), path, offset, length))
    return errors


# -- messages ------------------------------------------------------------------------------------

_EMPTY_MESSAGE = (
    'The request is empty. A request body is a JSON object such as {"input": {"prompt": "..."}}.'
)


def _not_an_object_message(body: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "true or false", type(None): "null"}
    kind = kinds.get(type(body), "a number")
    return (
        f'The body must be a JSON object, {{"input": {{...}}}}, holding the worker\'s input; '
        f"this text is {kind}."
    )


def _nesting_message(depth: int) -> str:
    levels = f"more than {REPORTED_DEPTH}" if depth > REPORTED_DEPTH else str(depth)
    return (
        f"The JSON is nested {levels} levels deep here, too deep to check or send (Python's JSON "
        f"parser stops near 1000 levels, and no worker needs that many). Flatten the structure."
    )


def _long_number(text: str) -> tuple[str, JsonPath, int, int]:
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
    match = re.search(rf"-?[0-9]{{{limit + 1},}}", text)
    offset, length = (match.start(), match.end() - match.start()) if match else (0, 1)
    message = (
        f"This number has more than {limit} digits, more than can be read; send it as a string."
    )
    return message, (), offset, length


def _bad_value_message(token: str, is_key: bool) -> str:
    if is_key or token.startswith('"'):
        return (
            "This string holds a lone surrogate (\\uD800 to \\uDFFF without its pair): it is not "
            "valid Unicode and can't be sent as UTF-8. Remove it or complete the pair."
        )
    if token in ("NaN", "Infinity", "-Infinity"):
        return f"{token} is not valid JSON and RunPod refuses it; use null, a number or a string."
    return "This number is too large for JSON (it becomes Infinity); send it as a string."


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"


def _too_big_message(size: int, operation: Operation) -> str:
    limit = MAX_BODY_BYTES[operation]
    runsync_limit = MAX_BODY_BYTES["runsync"]
    if operation == "run" and size <= runsync_limit:
        advice = (
            f"Send it with /runsync (up to {_megabytes(runsync_limit)}), or pass large data by URL "
            f"or through S3 instead of inline."
        )
    else:
        advice = "Pass large data by URL or through S3 instead of inline."
    return (
        f"The body is {size:,} bytes when sent, over the "
        f"{_megabytes(limit)} ({limit:,} bytes) that /{operation} accepts. {advice}"
    )
