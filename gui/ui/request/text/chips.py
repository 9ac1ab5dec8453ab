"""The folded strings' chips in the request editor: kept whole by the keys, and their menu (save
the string as a file, copy it, inline it). What a chip is and why: see ``folding``."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent, QTextCursor
from PySide6.QtWidgets import QFileDialog, QMenu, QToolTip

from gui.core.files import write_bytes_atomic
from gui.ui.request.text.folding import TOKEN

if TYPE_CHECKING:
    from gui.ui.request.text.editor import JsonEditor

__all__ = ["Chip", "add_chip_actions", "chip_at", "guard_chip_keys"]


@dataclass(frozen=True, slots=True)
class Chip:
    """A chip in the document: positions (Qt's) and the fold's key."""

    start: int
    end: int
    key: str


def _chips_in_block(editor: JsonEditor, position: int) -> list[Chip]:
    block = editor.document().findBlock(position)
    text = block.text()
    if "\u27e6" not in text:
        return []
    base = block.position()
    chips = []
    for match in TOKEN.finditer(text):
        # Chips hold BMP characters only; an astral one before them on the line shifts Qt's count.
        before = text[: match.start()]
        shift = sum(1 for char in before if ord(char) > 0xFFFF) if not before.isascii() else 0
        start = base + match.start() + shift
        chips.append(Chip(start, start + match.end() - match.start(), match.group(2)))
    return chips


def chip_at(editor: JsonEditor, position: int, *, inside: bool = False) -> Chip | None:
    """The chip covering ``position`` (its edges count unless ``inside``)."""
    for chip in _chips_in_block(editor, position):
        if (chip.start < position < chip.end) or (
            not inside and chip.start <= position <= chip.end
        ):
            return chip
    return None


def _snap(editor: JsonEditor, cursor: QTextCursor) -> bool:
    """Widen a selection that cuts a chip to take the chip whole; True if it changed."""
    start, end = cursor.selectionStart(), cursor.selectionEnd()
    first = chip_at(editor, start, inside=True)
    last = chip_at(editor, end, inside=True)
    new_start = first.start if first else start
    new_end = last.end if last else end
    if (new_start, new_end) == (start, end):
        return False
    cursor.setPosition(new_start)
    cursor.setPosition(new_end, QTextCursor.MoveMode.KeepAnchor)
    return True


def guard_chip_keys(editor: JsonEditor, event: QKeyEvent) -> bool:
    """Keep chips whole: Backspace/Delete next to or in one takes it all; typing inside one is
    refused with a hint. True when the key was handled here."""
    cursor = editor.textCursor()
    key = event.key()
    deleting = key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete)
    if cursor.hasSelection():
        if (deleting or event.text()) and _snap(editor, cursor):
            editor.setTextCursor(cursor)  # the key then acts on whole chips
        return False
    position = cursor.position()
    if deleting:
        probe = position - 1 if key == Qt.Key.Key_Backspace else position + 1
        chip = chip_at(editor, probe, inside=True) or chip_at(editor, position, inside=True)
        if chip is None:
            return False
        cursor.setPosition(chip.start)
        cursor.setPosition(chip.end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()  # one undoable edit: Ctrl+Z brings the chip (and string) back
        editor.setTextCursor(cursor)
        return True
    if event.text() and event.text().isprintable() and chip_at(editor, position, inside=True):
        rect = editor.cursorRect()
        QToolTip.showText(
            editor.viewport().mapToGlobal(rect.bottomLeft()),
            "This string is folded. Right-click it to inline it before editing, "
            "or delete it whole.",
            editor,
        )
        return True
    return False


def add_chip_actions(editor: JsonEditor, menu: QMenu, chip: Chip) -> None:
    """Put the chip's actions at the top of its context menu."""
    string = editor.folds.string(chip.key)
    if string is None:
        return
    first = menu.actions()[0] if menu.actions() else None
    megabytes = len(string) / (1024 * 1024)
    actions = [
        ("Save string as file…", lambda: _save_as_file(editor, string)),
        ("Copy whole string", lambda: QGuiApplication.clipboard().setText(string)),
        (f"Inline the string ({megabytes:.1f} MB of text)", lambda: _inline(editor, chip, string)),
    ]
    for label, slot in actions:
        action = menu.addAction(label)
        action.triggered.connect(slot)
        if first is not None:
            menu.insertAction(first, action)
    if first is not None:
        menu.insertSeparator(first)


def decoded_bytes(string: str) -> bytes | None:
    """The bytes of a base64 string or a base64 ``data:`` URL (None when it is neither)."""
    payload = string
    if string.startswith("data:"):
        head, _, payload = string.partition(",")
        if not head.endswith(";base64"):
            return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def _save_as_file(editor: JsonEditor, string: str) -> None:
    data = decoded_bytes(string)
    chosen, _ = QFileDialog.getSaveFileName(
        editor,
        "Save the decoded bytes" if data is not None else "Save the string",
        str(Path.home() / ("decoded.bin" if data is not None else "string.txt")),
    )
    if not chosen:
        return
    try:
        write_bytes_atomic(Path(chosen), data if data is not None else string.encode("utf-8"))
    except OSError as exc:
        editor.sig_status_message_requested.emit(
            f"Could not save {chosen}: {exc.strerror or exc}", 8000
        )
        return
    editor.sig_status_message_requested.emit(f"Saved {chosen}", 5000)


def _inline(editor: JsonEditor, chip: Chip, string: str) -> None:
    """Put the whole string back in the text, as one undoable edit (Ctrl+Z folds it again)."""
    editor.replace_positions(chip.start, chip.end, string)
