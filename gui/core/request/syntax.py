"""JSON syntax errors in plain words, with the position a person should look at.

Python's messages ("Expecting property name enclosed in double quotes") describe the parser, not the
mistake; the usual mistakes (a trailing comma, single quotes, ``True``, a comment, an unclosed
bracket) are recognised here from the error and the characters around it.
"""

from __future__ import annotations

import json
import re

__all__ = ["REPORTED_DEPTH", "deepest_nesting", "describe_syntax_error"]

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A string token, or one bracket. Strings are matched whole so brackets inside them don't count.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_BLANK_TO_END = re.compile(r"[ \t\n\r]*\Z")
_CLOSING = {"{": "}", "[": "]"}
_NOT_JSON_WORDS = {
    "True": "true",
    "TRUE": "true",
    "False": "false",
    "FALSE": "false",
    "None": "null",
    "NULL": "null",
    "Null": "null",
    "nil": "null",
    "undefined": "null",
}
REPORTED_DEPTH = 512


def describe_syntax_error(error: json.JSONDecodeError, text: str) -> tuple[str, int, int]:
    """``(message, offset, length)`` for a ``json`` decoding error of ``text``."""
    pos = error.pos
    reason = error.msg
    if reason.startswith("Unterminated string"):
        line_end = text.find("\n", pos)
        end = len(text) if line_end < 0 else line_end
        return "This string is never closed: add the closing double quote.", pos, end - pos
    if reason.startswith("Invalid control character"):
        return _control_character(text, pos), pos, 1
    if reason.startswith("Invalid \\uXXXX"):
        message = "A \\u escape needs four hexadecimal digits, like \\u00e9."
        return message, pos - 1, 6
    if reason.startswith("Invalid \\escape"):
        message = (
            'This backslash escape is not valid JSON. The escapes are \\" \\\\ \\/ \\b \\f \\n \\r '
            "\\t and \\uXXXX; write \\\\ for a backslash."
        )
        return message, pos, 2
    if reason.startswith("Illegal trailing comma"):  # Python 3.13+ names it itself
        return _TRAILING_COMMA, pos, 1
    if reason == "Extra data":
        return _extra_data(text, pos), pos, 1
    if _rest_is_blank(text, pos):
        return _ends_early(text), len(text), 1
    return _unexpected(reason, text, pos)


def deepest_nesting(text: str) -> tuple[int, int]:
    """``(depth, offset)``: where nesting first goes deeper than 512 levels, else its deepest point.

    Used when the C parser gave up on nesting (RecursionError): a regex walk has no recursion.
    """
    depth = deepest = deepest_at = 0
    for match in _STRUCTURE.finditer(text):
        char = text[match.start()]
        if char in "{[":
            depth += 1
            if depth > deepest:
                deepest, deepest_at = depth, match.start()
                if depth > REPORTED_DEPTH:
                    break
        elif char in "}]":
            depth -= 1
    return deepest, deepest_at


_TRAILING_COMMA = "JSON allows no comma before a closing bracket: remove this comma."
_SINGLE_QUOTES = "JSON needs double quotes around keys and strings, not single quotes."
_COMMENT = "JSON has no comments: remove this one."


def _unexpected(reason: str, text: str, pos: int) -> tuple[str, int, int]:
    """Errors at a character that is there but not allowed."""
    char = text[pos]
    comma = _previous_comma(text, pos)
    if (
        char in "]}"
        and comma is not None
        and reason.startswith(("Expecting value", "Expecting prop"))
    ):
        return _TRAILING_COMMA, comma, 1
    if char == "'":
        return _SINGLE_QUOTES, pos, 1
    if char == "/":
        return _COMMENT, pos, 2 if text.startswith(("//", "/*"), pos) else 1
    word_match = _WORD.match(text, pos)
    word = word_match.group() if word_match else ""
    if reason.startswith("Expecting value"):
        if word in _NOT_JSON_WORDS:
            return f"{word} is not JSON: write {_NOT_JSON_WORDS[word]}.", pos, len(word)
        if word:
            message = f'{word} is not a JSON value: a string needs double quotes, like "{word}".'
            return message, pos, len(word)
        if char == ",":
            return "A value is missing before this comma.", pos, 1
        message = "A value is expected here: an object, array, string, number, true, false or null."
        return message, pos, 1
    if reason.startswith("Expecting property name"):
        if word:
            return f'Keys need double quotes: write "{word}".', pos, len(word)
        return 'A key in double quotes is expected here, as in "name": value.', pos, 1
    if reason.startswith("Expecting ':'"):
        if char == "=":
            return "Use a colon between a key and its value, not =.", pos, 1
        return 'A colon is missing after the key: write "key": value.', pos, 1
    if reason.startswith("Expecting ','"):
        if char == '"' or char in "{[-" or char.isalnum():
            return "A comma is missing before this item.", pos, max(1, len(word))
        return "A comma or a closing bracket is expected here.", pos, 1
    return f"Invalid JSON: {reason}.", pos, 1


def _control_character(text: str, pos: int) -> str:
    char = text[pos]
    if char in "\r\n":
        return (
            "A string can't continue onto the next line: close it with a double quote, or write "
            "the line break as \\n."
        )
    if char == "\t":
        return "A tab inside a string must be written as \\t."
    code = ord(char)
    return f"A control character (U+{code:04X}) inside a string must be written \\u{code:04x}."


def _extra_data(text: str, pos: int) -> str:
    char = text[pos]
    if char in "}]":
        return f"An extra {char} after the end of the body: remove it."
    return (
        "More text follows the end of the body: a request is a single JSON object. (A missing "
        "comma, or a bracket closed too early?)"
    )


def _ends_early(text: str) -> str:
    open_brackets = _unclosed_brackets(text)
    if not open_brackets:
        return "The text ends where a value is expected."
    start = open_brackets[-1]
    line = text.count("\n", 0, start) + 1
    opener = text[start]
    closing = _CLOSING[opener]
    return f"The text ends before the {opener} opened on line {line} is closed: add {closing}."


def _unclosed_brackets(text: str) -> list[int]:
    stack: list[int] = []
    for match in _STRUCTURE.finditer(text):
        char = text[match.start()]
        if char in "{[":
            stack.append(match.start())
        elif char in "}]" and stack:
            stack.pop()
    return stack


def _previous_comma(text: str, pos: int) -> int | None:
    before = text[max(0, pos - 1000) : pos].rstrip(" \t\r\n")
    if before.endswith(","):
        return max(0, pos - 1000) + len(before) - 1
    return None


def _rest_is_blank(text: str, pos: int) -> bool:
    return _BLANK_TO_END.match(text, pos) is not None
