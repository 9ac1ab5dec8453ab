"""Work on a job's output that may be large, meant to run OFF the Qt thread (no Qt imports here).

- ``format_raw``: the beginning of the document as indented JSON, for the Raw view;
- ``find_images``: base64 PNG/JPEG strings and ``data:image/...;base64,`` URLs, decoded;
- ``search_paths``: the paths of keys and values that contain a text;
- ``path_text``: a path as ``$.images[0]["file name"]``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gui.core.wording import counted

__all__ = [
    "LINE_LIMIT_CHARS",
    "RAW_LIMIT_CHARS",
    "FoundImage",
    "RawText",
    "find_images",
    "format_raw",
    "path_text",
    "search_paths",
]

PathPart = str | int
RAW_LIMIT_CHARS = 64 * 1024  # about 100 KB of indented text: laid out in ~10 ms; Save has all
LINE_LIMIT_CHARS = 10_000

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATA_URL = re.compile(r"^data:image/([a-zA-Z0-9.+-]+);base64,")
# The first bytes of PNG and JPEG files, as base64 text.
_SIGNATURES = {"iVBORw0KGgo": "png", "/9j/": "jpeg"}
_MIN_IMAGE_CHARS = 64


@dataclass(frozen=True, slots=True)
class RawText:
    text: str
    truncated: bool  # the document goes on beyond ``text`` (keys or items left out)
    cut_strings: int = 0  # strings shortened to ``line_limit`` (the rest of the document is whole)


@dataclass(frozen=True, slots=True)
class FoundImage:
    path: tuple[PathPart, ...]
    format: str  # "png", "jpeg", ... (from the data URL or the file signature)
    data: bytes


class _Clipper:
    """Copies the beginning of a document: strings cut at ``line_limit``, containers ended once
    about ``limit`` characters were taken. Its cost follows what is shown, never the document."""

    def __init__(self, limit: int, line_limit: int) -> None:
        self.budget = limit
        self.line_limit = line_limit
        self.clipped = False  # keys or items left out
        self.cut_strings = 0

    def clip(self, value: Any) -> Any:
        if isinstance(value, str):
            self.budget -= min(len(value), self.line_limit) + 4
            if len(value) <= self.line_limit:
                return value
            self.cut_strings += 1
            return f"{value[: self.line_limit]}… (cut: {len(value):,} characters in all)"
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if self.budget <= 0:
                    self.clipped = True
                    out["…"] = f"({counted(len(value) - len(out), 'more key')})"
                    break
                self.budget -= len(str(key)) + 6
                out[str(key)] = self.clip(item)
            return out
        if isinstance(value, list):
            items: list[Any] = []
            for item in value:
                if self.budget <= 0:
                    self.clipped = True
                    items.append(f"… ({counted(len(value) - len(items), 'more item')})")
                    break
                items.append(self.clip(item))
            return items
        self.budget -= 8
        return value


def format_raw(
    value: Any, limit: int = RAW_LIMIT_CHARS, line_limit: int = LINE_LIMIT_CHARS
) -> RawText:
    """The beginning of ``value`` as indented JSON, about ``limit`` characters at most, strings
    cut at ``line_limit`` (a text view lays out a megabyte-long line slowly).

    Only the part shown is copied and encoded, so a 20 MB output costs what 256 KB cost; the C
    encoder would hold the GIL (and so stall the Qt thread) for the whole document.
    """
    clipper = _Clipper(limit, line_limit)
    shown = clipper.clip(value)
    text = json.dumps(shown, indent=2, ensure_ascii=False, default=str)
    return RawText(text, clipper.clipped, clipper.cut_strings)


def path_text(path: tuple[PathPart, ...] | list[PathPart]) -> str:
    """``$`` for the root, then ``.key``, ``[3]`` or ``["odd key"]`` per step."""
    out = ["$"]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


def _walk(value: Any) -> Iterator[tuple[tuple[PathPart, ...], PathPart | None, Any]]:
    """Every (path, key, value) in the document, depth first, without recursion."""
    stack: list[tuple[tuple[PathPart, ...], PathPart | None, Any]] = [((), None, value)]
    while stack:
        path, key, item = stack.pop()
        yield path, key, item
        if isinstance(item, dict):
            children = [((*path, k), k, v) for k, v in item.items()]
        elif isinstance(item, list):
            children = [((*path, i), i, v) for i, v in enumerate(item)]
        else:
            continue
        stack.extend(reversed(children))


def search_paths(value: Any, needle: str, limit: int = 1000) -> list[tuple[PathPart, ...]]:
    """Paths whose key or scalar value contains ``needle`` (case-insensitive), document order."""
    wanted = needle.casefold()
    if not wanted:
        return []
    found: list[tuple[PathPart, ...]] = []
    for path, key, item in _walk(value):
        hit = isinstance(key, str) and wanted in key.casefold()
        if not hit and not isinstance(item, dict | list):
            text = item if isinstance(item, str) else json.dumps(item)
            hit = wanted in text.casefold()
        if hit:
            found.append(path)
            if len(found) >= limit:
                break
    return found


def _decode_image(text: str) -> tuple[str, bytes] | None:
    match = _DATA_URL.match(text)
    if match:
        image_format, payload = match.group(1).lower(), text[match.end() :]
    else:
        image_format = next((f for s, f in _SIGNATURES.items() if text.startswith(s)), "")
        if not image_format:
            return None
        payload = text
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None
    return image_format, data


def find_images(value: Any, limit: int = 20) -> list[FoundImage]:
    """Images held in the output as base64 (PNG, JPEG) or as data URLs, at most ``limit``."""
    found: list[FoundImage] = []
    for path, _key, item in _walk(value):
        if not isinstance(item, str) or len(item) < _MIN_IMAGE_CHARS:
            continue
        decoded = _decode_image(item)
        if decoded is not None:
            found.append(FoundImage(path, decoded[0], decoded[1]))
            if len(found) >= limit:
                break
    return found
