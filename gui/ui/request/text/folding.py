"""Long strings shown folded in the request editor, kept whole everywhere else.

A body holding a base64 image is one line of megabytes: Qt lays it out slowly (an 11 MB line took
seconds to open), nobody reads it, and every keystroke paid for it. So the editor shows such a
string as a chip, ``"⟦base64 PNG, 7.3 MB · fold 1⟧"``, and keeps the string itself in a
``FoldTable``:

- The editor's text stays valid JSON with the same structure: the chip replaces the characters
  between the quotes, never the quotes, and holds no quote, backslash or line break. So the
  highlighter, the form's splices and the line numbers work on the text as shown.
- Only runs without a quote, backslash or control character are folded (base64, data URLs, hex,
  long plain text), so the run is copied back verbatim: ``expand(fold(text)) == text`` for every
  text, byte for byte, whatever the text is (even invalid JSON).
- Everything that leaves the editor goes through ``expand``: validation (the body as it will be
  sent, its real size), Send, Save, the draft, templates, Copy. A fold is never forgotten while the
  editor lives, so undo and redo of a deleted chip bring the whole string back.
- A chip is one unit: typing inside it is refused, Backspace or Delete takes it whole; its context
  menu saves the string as a file, copies it, or inlines it (one undoable edit).

This module is plain Python (no Qt): the editor (``gui.ui.request.text.editor``) draws and guards
the chips; validation expands a ``FoldedText`` snapshot on its worker thread.
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_right
from dataclasses import dataclass, field

__all__ = [
    "FOLD_CHARS",
    "TOKEN",
    "FoldTable",
    "FoldedText",
    "Span",
    "describe",
    "shown_offset",
]

FOLD_CHARS = 64 * 1024
"""A string of at least this many characters is shown folded. Below it a line still colours and
draws unwrapped (see ``editor.LONG_LINE_CHARS``); a 48 KB thumbnail stays readable in place."""

_OPEN, _CLOSE = "\u27e6", "\u27e7"  # ⟦ ⟧: not on keyboards, not in base64 or URLs
_RUN = r'[^"\\\x00-\x1f\ud800-\udfff\u27e6\u27e7]'
# The closing quote is looked ahead, not consumed: a run found between a string's end and the
# next string's start (checked below) must not swallow the opening quote of the next string.
_CANDIDATE = re.compile(rf'"({_RUN}{{{FOLD_CHARS},}})(?=")')
_WHOLE_RUN = re.compile(rf"{_RUN}{{{FOLD_CHARS},}}")
TOKEN = re.compile(f'{_OPEN}([^{_OPEN}{_CLOSE}"\\\\\\n]{{1,100}}) · fold ([0-9]+){_CLOSE}')
"""A chip in the editor's text; group 2 is the fold's key."""
_ESCAPED_QUOTES = re.compile(r'\\+"')


@dataclass(frozen=True, slots=True)
class Span:
    """One chip of a shown text and the string it stands for, as offsets (code points)."""

    shown_start: int
    shown_end: int
    full_start: int
    full_end: int


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A snapshot of the editor's text and of the strings its chips stand for: expanded off the Qt
    thread (an immutable copy: the editor may change meanwhile)."""

    shown: str
    strings: dict[str, str] = field(default_factory=dict)

    def full_length(self) -> int:
        """The length of the expanded text (code points), without expanding it."""
        length = len(self.shown)
        for match in TOKEN.finditer(self.shown):
            string = self.strings.get(match.group(2))
            if string is not None:
                length += len(string) - (match.end() - match.start())
        return length

    def expand(self) -> tuple[str, list[Span]]:
        """The whole text, and where each chip's string lies in it."""
        parts, spans = self.expand_parts()
        return (parts[0] if len(parts) == 1 else "".join(parts)), spans

    def expand_parts(self) -> tuple[list[str], list[Span]]:
        """``expand`` with the whole text in parts, not joined (to send a big one on in pieces)."""
        spans: list[Span] = []
        parts: list[str] = []
        shift = 0
        last = 0
        for match in TOKEN.finditer(self.shown):
            string = self.strings.get(match.group(2))
            if string is None:
                continue  # typed text that only looks like a chip: it stays as typed
            parts.append(self.shown[last : match.start()])
            parts.append(string)
            start = match.start() + shift
            spans.append(Span(match.start(), match.end(), start, start + len(string)))
            shift += len(string) - (match.end() - match.start())
            last = match.end()
        if not spans:
            return [self.shown], spans
        parts.append(self.shown[last:])
        return parts, spans


def shown_offset(spans: list[Span], offset: int) -> int:
    """The shown text's offset for an offset of the expanded text (inside a string: its chip)."""
    index = bisect_right([span.full_start for span in spans], offset) - 1
    if index < 0:
        return offset
    span = spans[index]
    if offset < span.full_end:
        return span.shown_start
    return offset - span.full_end + span.shown_end


class FoldTable:
    """The strings the editor's chips stand for. Only grows while the editor lives, so a chip
    brought back by undo still has its string."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._keys: dict[str, str] = {}  # the same string folded again gets the same chip

    def __bool__(self) -> bool:
        return bool(self._strings)

    def string(self, key: str) -> str | None:
        return self._strings.get(key)

    def token_for(self, string: str) -> str:
        """The chip standing for ``string`` (a run without quotes, backslashes, line breaks)."""
        key = self._keys.get(string)
        if key is None:
            key = str(len(self._strings) + 1)
            self._strings[key] = string
            self._keys[string] = key
        return f"{_OPEN}{describe(string)} · fold {key}{_CLOSE}"

    def fold(self, text: str) -> str:
        """``text`` with each string of at least ``FOLD_CHARS`` plain characters as a chip."""
        if len(text) < FOLD_CHARS:
            return text
        parts: list[str] = []
        last = 0
        quotes = 0  # unescaped quotes in text[:counted]
        counted = 0
        escapes = "\\" in text
        for match in _CANDIDATE.finditer(text):
            quotes += _unescaped_quotes(text, counted, match.end(), escapes)
            counted = match.end()  # the run holds no quote: only its opening one was counted
            escaped = escapes and _backslashes_before(text, match.start()) % 2 == 1
            opens_a_string = not escaped and quotes % 2 == 1  # counted with it: odd opens
            if opens_a_string and _is_value(text, match.end() + 1):
                parts.append(text[last : match.start(1)])
                parts.append(self.token_for(match.group(1)))
                last = match.end()
            # (else: a run between two strings, or a key: left as it is)
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)

    def fold_run(self, text: str) -> str | None:
        """The chip for ``text`` when the whole of it is one foldable run (a pasted base64
        string), else None."""
        if _WHOLE_RUN.fullmatch(text) is None:
            return None
        return self.token_for(text)

    def snapshot(self, shown: str) -> FoldedText | str:
        """What validation needs to see the whole text: ``shown`` itself when it holds no chip."""
        if not self._strings or _OPEN not in shown:
            return shown
        return FoldedText(shown, dict(self._strings))

    def expand(self, shown: str) -> str:
        """The whole text of a shown one (each chip replaced by its string)."""
        snapshot = self.snapshot(shown)
        return snapshot if isinstance(snapshot, str) else snapshot.expand()[0]


def _unescaped_quotes(text: str, start: int, end: int, escapes: bool) -> int:
    count = text.count('"', start, end)
    if escapes:
        for match in _ESCAPED_QUOTES.finditer(text, start, end):
            if (match.end() - match.start() - 1) % 2 == 1:
                count -= 1
    return count


def _backslashes_before(text: str, index: int) -> int:
    start = index
    while start > 0 and text[start - 1] == "\\":
        start -= 1
    return index - start


def _is_value(text: str, after_quote: int) -> bool:
    """A string is a value, not a key, when no colon follows it."""
    rest = text[after_quote : after_quote + 64].lstrip()
    return not rest.startswith(":")


_MAGIC = (
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"%PDF", "PDF"),
    (b"RIFF", "RIFF"),
    (b"ID3", "MP3"),
    (b"fLaC", "FLAC"),
    (b"OggS", "Ogg"),
    (b"PK\x03\x04", "ZIP"),
    (b"\x1f\x8b", "gzip"),
)


def describe(string: str) -> str:
    """What a long string holds, for its chip: "base64 PNG, 7.3 MB", "data URL image/png, 2 MB",
    "text, 1.1 MB" (the size is the string's, as sent)."""
    size = _size(len(string.encode("utf-8", "surrogatepass")))
    if string.startswith("data:"):
        mime = string[5:].split(";", 1)[0].split(",", 1)[0] or "text/plain"
        return f"data URL {mime[:40]}, {size}"
    head = string[:64]
    try:
        raw = base64.b64decode(head[: len(head) // 4 * 4], validate=True)
    except (binascii.Error, ValueError):
        return f"text, {size}"
    if head.isalnum() and (head.isdigit() or head.isalpha()):
        return f"text, {size}"  # "AAAA…" or digits only: base64 in form, not worth naming
    kind = next((name for magic, name in _MAGIC if raw.startswith(magic)), "")
    if kind == "RIFF":
        kind = {b"WEBP": "WebP", b"WAVE": "WAV"}.get(raw[8:12], "RIFF")
    return f"base64 {kind}, {size}" if kind else f"base64, {size}"


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
