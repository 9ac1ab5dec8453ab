"""Placeholders in a request body: ``{{name}}``, ``{{file:PATH}}``, ``{{uuid}}``, ``{{now}}``.

A body with placeholders is still JSON: placeholders live inside its strings, and expansion works
on the parsed body (never on the text), so a value can't break the JSON around it.

The rules
---------
* ``"{{seed}}"``: a string that is exactly one placeholder becomes the value, with the value's
  JSON type (a number stays a number, an object an object). Inside a longer string
  (``"a {{animal}} on a mat"``) the value is written as text: a string as it is, anything else as
  compact JSON.
* Values given as text (a CSV cell, ``--var NAME=VALUE``, a profile variable, a default) are read
  as JSON when the whole text is JSON (``42``, ``true``, ``null``, ``[1, 2]``, ``"42"``), else
  taken as the text itself. ``{{seed|text}}`` keeps the text a string. Values from a JSON or JSONL
  data file keep their own JSON type.
* ``{{name ?? default}}``: ``default`` (text, to the closing braces, spaces around it trimmed) is
  used when no value is given. ``??`` was chosen as it can't be confused with a ``|`` mode.
* ``{{file:PATH}}`` is the file's bytes in base64; ``{{file:PATH|datauri}}`` a ``data:`` URL with
  the file's MIME type (by its extension); ``{{file:PATH|text}}`` its text (UTF-8). A relative PATH
  is relative to the folder of the template or request file (the current folder when there is
  none); ``~`` is the home folder. PATH may hold variables, ``{{file:images/{{name}}.png}}``, but
  no ``|`` or ``}}``.
* Built-ins: ``{{uuid}}`` (a random UUID) and ``{{now}}`` (the time in ISO 8601 UTC), each the
  same everywhere in one body and new for every body. A variable of the same name wins.
* ``{{{{`` is a literal ``{{``. A ``}}`` needs no escape. Keys are never expanded.
* Values come, first found wins, from: the data row, ``--var NAME=VALUE``, the profile's
  variables (``Context.scopes`` in that order). Values are never expanded again.

``expand_body(body, context)`` never raises: each problem (an unknown variable, a missing or
unreadable file, a malformed placeholder) is a :class:`Problem` naming the string's JSON path and
where the placeholder stands in it; ``gui.core.request.validation`` turns those into line:column.
With ``read_files=False`` (validation) files are not read: a stand-in takes their place and their
size as sent is counted from their byte size (``extra_bytes``).
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gui.core.request.jsonscan import JsonPath

__all__ = [
    "BUILTINS",
    "Context",
    "Expansion",
    "Placeholder",
    "Problem",
    "Scope",
    "expand_body",
    "has_placeholders",
    "parse_string",
    "placeholder_names",
    "text_may_hold_placeholders",
    "text_value",
]

BUILTINS = ("uuid", "now")
FILE_MODES = ("base64", "datauri", "text")
VARIABLE_MODES = ("text",)
MAX_INLINE_FILE_BYTES = 15 * 1024 * 1024  # its base64 (20 MB) is all /runsync takes
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_OPEN, _CLOSE, _ESCAPE = "{{", "}}", "{{{{"
_ESCAPE_HINT = "For a literal {{ write {{{{."

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``{{...}}`` of a string: ``start``/``end`` index the decoded string."""

    kind: Literal["variable", "file", "builtin"]
    ref: str  # the variable's name, the file's path (may hold variables), or the built-in's name
    mode: str | None
    default: str | None
    start: int
    end: int

    @property
    def raw_length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one placeholder (or one string): ``path`` names the string in the
    body, ``index``/``length`` the placeholder within the string's decoded text."""

    severity: Severity
    message: str
    path: JsonPath
    index: int
    length: int
    placeholder: str = ""  # the placeholder as written, to find it in the JSON text


@dataclass(frozen=True, slots=True)
class Scope:
    """One source of values. ``typed``: the values are JSON values as they are (a JSON or JSONL
    data row); otherwise each is text, read as JSON where a placeholder is a whole string."""

    values: Mapping[str, Any]
    typed: bool = False


@dataclass(slots=True)
class Context:
    """Where values and files come from for one body.

    ``scopes`` are searched in order (data row, ``--var``, profile). ``strict``: an unknown
    variable is an error (a run); otherwise a warning (the editor, which knows no row yet).
    """

    scopes: Sequence[Scope] = ()
    base_dir: Path | None = None
    strict: bool = True
    read_files: bool = True
    _builtins: dict[str, str] = field(default_factory=dict)

    def lookup(self, name: str) -> tuple[bool, Any, bool]:
        """``(found, value, typed)`` of variable ``name``."""
        for scope in self.scopes:
            if name in scope.values:
                return True, scope.values[name], scope.typed
        if name in BUILTINS:
            if name not in self._builtins:
                self._builtins[name] = (
                    str(uuid.uuid4())
                    if name == "uuid"
                    else datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
                )
            return True, self._builtins[name], True
        return False, None, False

    def resolve_path(self, written: str) -> Path:
        path = Path(written).expanduser()
        if not path.is_absolute():
            path = (self.base_dir or Path.cwd()) / path
        return path


@dataclass(slots=True)
class Expansion:
    """The result of :func:`expand_body`."""

    body: Any  # the expanded body (copied only along the paths that changed)
    problems: list[Problem] = field(default_factory=list)
    used: dict[str, Any] = field(default_factory=dict)  # variable -> value used (text as text)
    files: list[Path] = field(default_factory=list)
    edits: list[tuple[JsonPath, str, Any]] = field(default_factory=list)  # path, old, new
    extra_bytes: int = 0  # bytes of files counted but not read (read_files=False)
    found: bool = False  # the body held a placeholder (or an escape)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class _Malformed(ValueError):
    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.start, self.end = start, end


# -- reading placeholders ----------------------------------------------------------------------


def parse_string(text: str) -> list[str | Placeholder]:
    """The string as literal pieces (escapes undone) and placeholders, in order.

    Raises ``ValueError`` (with ``start``/``end`` attributes) for a malformed placeholder."""
    pieces: list[str | Placeholder] = []
    literal: list[str] = []
    pos = 0
    while True:
        start = text.find(_OPEN, pos)
        if start < 0:
            literal.append(text[pos:])
            break
        literal.append(text[pos:start])
        if text.startswith(_ESCAPE, start):
            literal.append(_OPEN)
            pos = start + len(_ESCAPE)
            continue
        end = _closing(text, start + 2)
        if end < 0:
            raise _Malformed(
                f"This {{{{ is never closed with }}}}. {_ESCAPE_HINT}", start, len(text)
            )
        if literal:
            joined = "".join(literal)
            if joined:
                pieces.append(joined)
            literal = []
        pieces.append(_placeholder(text[start + 2 : end], start, end + 2))
        pos = end + 2
    joined = "".join(literal)
    if joined:
        pieces.append(joined)
    return pieces


def _closing(text: str, pos: int) -> int:
    """Index of the ``}}`` that closes a placeholder whose inside starts at ``pos`` (a file's
    path may hold ``{{name}}`` placeholders of its own), or -1."""
    depth = 0
    while True:
        close = text.find(_CLOSE, pos)
        if close < 0:
            return -1
        opening = text.find(_OPEN, pos, close)
        if opening >= 0:
            depth += 1
            pos = opening + 2
            continue
        if depth == 0:
            return close
        depth -= 1
        pos = close + 2


def _placeholder(inside: str, start: int, end: int) -> Placeholder:
    ref, default = inside, None
    if "??" in inside:
        ref, default = inside.split("??", 1)
        default = default.strip()
    mode = None
    if "|" in ref:
        ref, mode = ref.rsplit("|", 1)
        mode = mode.strip()
    ref = ref.strip()
    if ref.startswith("file:"):
        path = ref[5:].strip()
        if not path:
            raise _Malformed("{{file:PATH}} needs the path of a file.", start, end)
        if mode is not None and mode not in FILE_MODES:
            raise _Malformed(
                f"Unknown file mode |{mode}: use |base64 (the default), |datauri or |text.",
                start,
                end,
            )
        if default is not None:
            raise _Malformed("A file placeholder takes no ?? default.", start, end)
        return Placeholder("file", path, mode or "base64", None, start, end)
    if not _NAME.match(ref):
        shown = ref if len(ref) <= 40 else ref[:40] + "..."
        raise _Malformed(
            f"{{{{{shown}}}}} is not a placeholder: a variable name is letters, digits, _, - "
            f"and . (starting with a letter or _), or file:PATH. {_ESCAPE_HINT}",
            start,
            end,
        )
    if mode is not None and mode not in VARIABLE_MODES:
        raise _Malformed(
            f"Unknown mode |{mode} for a variable: |text keeps the value a string.", start, end
        )
    kind: Literal["variable", "builtin"] = "builtin" if ref in BUILTINS else "variable"
    return Placeholder(kind, ref, mode, default, start, end)


def text_value(text: str) -> Any:
    """A value given as text, as a whole string's placeholder takes it: its JSON value when the
    whole text is JSON (NaN and Infinity are not), else the text itself."""
    stripped = text.strip()
    if not stripped or stripped[0] not in '-0123456789tfn"[{':
        return text
    try:
        return json.loads(stripped, parse_constant=_no_constant)
    except ValueError:
        return text


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _as_text(value: Any, typed: bool) -> str:
    if isinstance(value, str):
        return value
    if not typed:
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# -- finding and expanding ---------------------------------------------------------------------


def text_may_hold_placeholders(text: str) -> bool:
    """Whether the JSON ``text`` holds ``{{`` anywhere (only a string can: ``{{`` is no JSON
    structure). Cheap on a big text: ``str.find`` of one character runs at memchr speed, while a
    search for two characters costs as much as validating a 20 MB body of base64; after many
    ``{`` (a body of many objects) a regular expression takes over."""
    pos = text.find("{")
    seen = 0
    while pos >= 0:
        if text.startswith("{", pos + 1):
            return True
        seen += 1
        if seen == 256:
            return _PAIR.search(text, pos + 1) is not None
        pos = text.find("{", pos + 1)
    return False


_PAIR = re.compile(r"\{\{")
_LONG = 4096  # chars: a longer string is searched for "{{" one "{" at a time (memchr)


def has_placeholders(body: Any) -> bool:
    """Whether any string of ``body`` holds ``{{`` (a placeholder or an escape)."""
    return next(_strings_with_braces(body), None) is not None


def placeholder_names(body: Any) -> list[str]:
    """The variable names the body's placeholders use (file paths' included), in order, once
    each; built-ins left out. Malformed placeholders are skipped."""
    names: dict[str, None] = {}
    for _, text in _strings_with_braces(body):
        try:
            pieces = parse_string(text)
        except ValueError:
            continue
        for piece in pieces:
            if isinstance(piece, Placeholder):
                if piece.kind == "variable":
                    names[piece.ref] = None
                elif piece.kind == "file" and _OPEN in piece.ref:
                    try:
                        inner = parse_string(piece.ref)
                    except ValueError:
                        continue
                    for part in inner:
                        if isinstance(part, Placeholder) and part.kind == "variable":
                            names[part.ref] = None
    return list(names)


def _strings_with_braces(body: Any) -> Iterator[tuple[JsonPath, str]]:
    """``(path, string)`` for every string value of ``body`` holding ``{{``, depth first."""
    if type(body) is str:
        if text_may_hold_placeholders(body):
            yield (), body
        return
    stack: list[tuple[JsonPath, Any]] = [((), body)]
    while stack:
        path, node = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            kind = type(value)
            if kind is str:
                if _OPEN in value if len(value) < _LONG else text_may_hold_placeholders(value):
                    yield (*path, key), value
            elif kind is dict or kind is list:
                stack.append(((*path, key), value))


def expand_body(body: Any, context: Context) -> Expansion:
    """``body`` with its placeholders replaced (see the module's rules). Never raises."""
    expansion = Expansion(body)
    edits: list[tuple[JsonPath, Any]] = []
    for path, text in _strings_with_braces(body):
        expansion.found = True
        new = _expand_string(text, path, context, expansion)
        if new is not _UNCHANGED:
            edits.append((path, new))
            expansion.edits.append((path, text, new))
    if edits:
        expansion.body = _replaced(body, edits)
    return expansion


_UNCHANGED: Any = object()


def _expand_string(text: str, path: JsonPath, context: Context, out: Expansion) -> Any:
    try:
        pieces = parse_string(text)
    except _Malformed as bad:
        raw = text[bad.start : bad.end]
        out.problems.append(Problem("error", str(bad), path, bad.start, len(raw), raw))
        return _UNCHANGED
    if len(pieces) == 1 and isinstance(pieces[0], Placeholder):
        value = _value(pieces[0], text, path, context, out, whole=True)
        return _UNCHANGED if value is _UNCHANGED else value
    parts: list[str] = []
    failed = False
    for piece in pieces:
        if isinstance(piece, str):
            parts.append(piece)
            continue
        value = _value(piece, text, path, context, out, whole=False)
        if value is _UNCHANGED:
            failed = True
            parts.append(text[piece.start : piece.end])
        else:
            parts.append(value)
    return _UNCHANGED if failed else "".join(parts)


def _value(
    placeholder: Placeholder, text: str, path: JsonPath, context: Context, out: Expansion, *,
    whole: bool,
) -> Any:  # fmt: skip
    """The placeholder's value (a JSON value when ``whole``, else text), or ``_UNCHANGED`` after
    noting a problem."""
    raw = text[placeholder.start : placeholder.end]

    def problem(message: str, severity: Severity = "error") -> Any:
        out.problems.append(
            Problem(severity, message, path, placeholder.start, placeholder.raw_length, raw)
        )
        return _UNCHANGED

    if placeholder.kind == "file":
        return _file_value(placeholder, raw, path, context, out, problem)
    found, value, typed = context.lookup(placeholder.ref)
    if not found and placeholder.default is not None:
        found, value, typed = True, placeholder.default, False
    if not found:
        message = (
            f"No value for {{{{{placeholder.ref}}}}}: give it in the data row, with --var "
            f"{placeholder.ref}=VALUE, in the profile's variables, or write a default as "
            f"{{{{{placeholder.ref} ?? VALUE}}}}."
        )
        return problem(message, "error" if context.strict else "warning")
    if placeholder.kind == "variable":
        out.used[placeholder.ref] = value
    if placeholder.mode == "text":
        return _as_text(value, typed)
    if whole:
        return value if typed else text_value(value) if isinstance(value, str) else value
    return _as_text(value, typed)


def _file_value(
    placeholder: Placeholder, raw: str, path: JsonPath, context: Context, out: Expansion,
    problem: Any,
) -> Any:  # fmt: skip
    written = placeholder.ref
    if _OPEN in written:  # a path made of variables: expand them as text first
        inner = Expansion(written)
        expanded = _expand_string(written, path, context, inner)
        out.used.update(inner.used)
        if inner.problems:
            return problem(inner.problems[0].message, inner.problems[0].severity)
        written = str(expanded) if expanded is not _UNCHANGED else written
    file = context.resolve_path(written)
    try:
        info = file.stat()
    except FileNotFoundError:
        return problem(f"{{{{file:{written}}}}}: no such file ({file}). Check the path; a "
                       "relative path starts at the template's folder.")  # fmt: skip
    except OSError as exc:
        return problem(f"{{{{file:{written}}}}}: {file} can't be read ({exc.strerror}).")
    if not os.path.isfile(file):
        return problem(f"{{{{file:{written}}}}}: {file} is not a regular file.")
    if not os.access(file, os.R_OK):
        return problem(f"{{{{file:{written}}}}}: {file} can't be read (permission denied).")
    mode = placeholder.mode or "base64"
    prefix = f"data:{_mime_type(file)};base64," if mode == "datauri" else ""
    if info.st_size > MAX_INLINE_FILE_BYTES:
        megabytes = info.st_size / 1024 / 1024
        return problem(
            f"{{{{file:{written}}}}}: {file} is {megabytes:.1f} MB, too big to send inline "
            "(RunPod takes 20 MB at most). Pass it by URL or through S3."
        )
    out.files.append(file)
    if mode != "text" and not context.read_files:
        # Counted, not read: base64 needs no JSON escapes, so its size is known from the file's.
        out.extra_bytes += len(prefix) + 4 * ((info.st_size + 2) // 3)
        return ""
    try:
        data = file.read_bytes()
    except OSError as exc:
        return problem(f"{{{{file:{written}}}}}: {file} can't be read ({exc.strerror}).")
    if mode == "text":
        try:
            return data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return problem(f"{{{{file:{written}|text}}}}: {file} is not UTF-8 text (byte "
                           f"0x{data[exc.start]:02X} on line {line}). Save it as UTF-8, or "
                           "send it as base64 without |text.")  # fmt: skip
    return prefix + base64.b64encode(data).decode("ascii")


def _mime_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _replaced(body: Any, edits: list[tuple[JsonPath, Any]]) -> Any:
    """``body`` with each path set to its new value; containers copied along the paths only."""
    if edits and edits[0][0] == ():
        return edits[0][1]
    copied: set[int] = set()
    root = _shallow(body)
    copied.add(id(root))
    for path, value in edits:
        node = root
        for step in path[:-1]:
            child = node[step]
            if id(child) not in copied:
                child = _shallow(child)
                copied.add(id(child))
                node[step] = child
            node = child
        node[path[-1]] = value
    return root


def _shallow(node: Any) -> Any:
    return dict(node) if type(node) is dict else list(node)
