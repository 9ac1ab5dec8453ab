"""Edits of one top-level key of a request text that leave the rest of the text as it was typed.

The options form changes ``webhook``, ``policy`` or ``s3Config``; rewriting the whole text for
that would reformat the person's ``input`` (and, for a 20 MB body, re-lay out all of it). A
``TextEdit`` names the one range to replace instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gui.core.request.body_fields import REMOVE
from gui.core.request.jsonscan import JsonIndex, Member, root_offset, skip_whitespace

__all__ = ["TextEdit", "apply_text_edit", "splice_top_level"]

_INDENT = re.compile(r"[ \t]*")


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``text[start:end]`` (code-point offsets) with ``replacement``."""

    start: int
    end: int
    replacement: str


def apply_text_edit(text: str, edit: TextEdit) -> str:
    return text[: edit.start] + edit.replacement + text[edit.end :]


def _line_indent(text: str, position: int) -> str | None:
    """The indentation before ``position`` when only whitespace precedes it on its line."""
    line_start = text.rfind("\n", 0, position) + 1
    before = text[line_start:position]
    return before if _INDENT.fullmatch(before) else None


def _render(value: Any, indent: str | None) -> str:
    """JSON for ``value``: pretty, its later lines under ``indent``; compact when ``indent`` is
    None (the text keeps its members on one line)."""
    if indent is None:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + indent)


def splice_top_level(text: str, key: str, value: Any) -> TextEdit | None:
    """The edit that sets the top-level ``key`` to ``value`` (``REMOVE`` deletes it).

    None when the text can't be edited in place (not a JSON object, the key given twice): then
    the caller rewrites the whole text.
    """
    root = root_offset(text)
    if root >= len(text) or text[root] != "{":
        return None
    members = JsonIndex(text).members(())
    close = skip_whitespace(text, members[-1].value_end if members else root + 1)
    if close >= len(text) or text[close] != "}":
        return None  # members() found nothing usable, or the object does not end where expected
    same = [member for member in members if member.key == key]
    if len(same) > 1:
        return None
    if value is REMOVE:
        return _removal(text, members, same[0]) if same else TextEdit(0, 0, "")
    if same:
        member = same[0]
        rendered = _render(value, _line_indent(text, member.key_start))
        return TextEdit(member.value_start, member.value_end, rendered)
    return _insertion(text, members, root, close, key, value)


def _removal(text: str, members: list[Member], member: Member) -> TextEdit:
    position = members.index(member)
    if len(members) == 1:
        root = root_offset(text)
        return TextEdit(root + 1, skip_whitespace(text, member.value_end), "")
    if position > 0:
        # From the end of the previous value: its comma, the key and the value go.
        return TextEdit(members[position - 1].value_end, member.value_end, "")
    # The first member: it and the comma and whitespace after it go.
    return TextEdit(member.key_start, members[1].key_start, "")


def _insertion(
    text: str, members: list[Member], root: int, close: int, key: str, value: Any
) -> TextEdit:
    name = json.dumps(key, ensure_ascii=False)
    if not members:
        return TextEdit(root + 1, close, f"\n  {name}: {_render(value, '  ')}\n")
    last = members[-1]
    indent = _line_indent(text, last.key_start)
    if indent is None:
        return TextEdit(last.value_end, last.value_end, f", {name}: {_render(value, None)}")
    return TextEdit(last.value_end, last.value_end, f",\n{indent}{name}: {_render(value, indent)}")
