"""Syntax colours for JSON in the request editor."""

from __future__ import annotations

import re

from PySide6.QtGui import QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from gui.ui import theme
from gui.ui.request.text.folding import TOKEN as FOLD_TOKEN

__all__ = ["JsonHighlighter"]

# One pass over a line: strings (a key when a colon follows), numbers, literals, punctuation.
_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*"?)(?P<colon>\s*:)?'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<literal>\b(?:true|false|null)\b)"
    r"|(?P<invalid>\b(?:NaN|-?Infinity)\b)"
    r"|(?P<punct>[{}\[\],:])"
)

# Colouring a single enormous line (a minified 20 MB body) would stall the Qt thread for nothing.
MAX_HIGHLIGHTED_LINE = 20_000


def _format(role: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(theme.color(role))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class JsonHighlighter(QSyntaxHighlighter):
    """Keys, strings, numbers, literals and punctuation in distinct colours from the scheme in
    use (``gui.ui.theme``); ``refresh_colors`` after a scheme change."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.formats: dict[str, QTextCharFormat] = {}
        self.refresh_colors(rehighlight=False)

    def refresh_colors(self, rehighlight: bool = True) -> None:
        """Take the colours of the scheme in use (and recolour the text)."""
        self.formats = {
            "key": _format("json_key", bold=True),
            "string": _format("json_string"),
            "number": _format("json_number"),
            "literal": _format("json_literal", bold=True),
            "invalid": _format("json_invalid", italic=True),
            "punct": _format("json_punct"),
            "fold": _format("notice_text", bold=True),
        }
        self.formats["fold"].setBackground(theme.color("notice_bg"))
        if rehighlight:
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if len(text) > MAX_HIGHLIGHTED_LINE:
            return
        # Qt counts positions in UTF-16 code units; Python in code points.
        astral = not text.isascii() and any(ord(ch) > 0xFFFF for ch in text)
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            if kind == "colon":
                kind = "key"
            if match.group("string") is not None:
                kind = "key" if match.group("colon") else "string"
                start, end = match.span("string")
            else:
                start, end = match.span()
            if kind is None:
                continue
            if astral:
                start, end = _utf16(text, start), _utf16(text, end)
            self.setFormat(start, end - start, self.formats[kind])
        if "\u27e6" in text:  # a folded string's chip (see ``folding``)
            for match in FOLD_TOKEN.finditer(text):
                start, end = match.span()
                if astral:
                    start, end = _utf16(text, start), _utf16(text, end)
                self.setFormat(start, end - start, self.formats["fold"])


def _utf16(text: str, index: int) -> int:
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)
