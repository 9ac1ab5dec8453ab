"""The JSON request editor (``requestEditor``): line numbers, colours, diagnostics, file drops."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontDatabase,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
    QTextOption,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from gui.ui import theme
from gui.ui.request.text.folding import FOLD_CHARS, FoldedText, FoldTable
from gui.ui.request.text.highlighter import MAX_HIGHLIGHTED_LINE, JsonHighlighter
from gui.ui.request.text.mirror import TextRope

__all__ = [
    "ERROR_COLOR",
    "LONG_LINE_CHARS",
    "EditorMark",
    "JsonEditor",
    "local_paths",
    "longest_line",
]

ERROR_COLOR = QColor("#d32f2f")
"""The light scheme's error mark; painting asks ``mark_color`` (it follows ``gui.ui.theme``)."""


def mark_color(severity: str) -> QColor:
    """The underline and gutter colour of a diagnostic in the scheme in use."""
    return theme.color("mark_error" if severity == "error" else "mark_warning")


# Underlining thousands of diagnostics helps nobody and costs layout time.
MAX_MARKS = 500
MAX_HIGHLIGHTED_CHARS = 2 * 1024 * 1024
INDENT = "  "  # the indentation Format writes

LONG_LINE_CHARS = 100_000
"""A text with a line longer than this is shown wrapped at the editor's width (and unwrapped again
once no line is). QTextLayout places a line's glyphs in 26.6 fixed point, so a line wider than
2**31/64 pixels (some 4 million characters at 8 px) overflows: measured, an 11 MB base64 line drew
its first characters on top of each other, and from 5 million characters the horizontal scroll bar
was gone (the rest of the line out of reach). Wrapped, each row is laid out on its own and draws
right. Far below the overflow already, such a line is a blob (an image) nobody reads sideways."""

# An edit this big (a paste, a cut, an undo of a whole text) rechecks the lines at once, before
# the text is drawn; smaller ones are rechecked once typing pauses.
_RESCAN_EDIT_CHARS = 10_000
_RESCAN_DELAY_MS = 500


SLICED_CHARS = 1024 * 1024
"""A whole text longer than this (as shown) goes into the document slice by slice, a few each turn
of the event loop, after its first screen: Qt needs 2.1-2.6 s to build the document of a 20 MB body
of 823 k lines (a bare QPlainTextEdit's setPlainText, measured), and the window would be frozen
meanwhile. Everything that reads the text reads the editor's copy (``shown_text``), whole from the
start. The load is one undo step; an edit (a key that types or deletes, a paste, a drop, undo)
first puts the rest in at once, so it lands where it would have without slices."""
_SLICE_CHARS = 32 * 1024  # ~1,000 lines of a pretty-printed body: 4-10 ms of Qt's time each
_SLICE_TURN_S = 0.012  # slices per turn of the event loop until this much time is used

_EDITING_KEYS = frozenset(
    {Qt.Key.Key_Backspace, Qt.Key.Key_Delete, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab}
)

# Characters whose place or form differs between the text put in and ``toPlainText()``: astral ones
# are two of Qt's positions but one of Python's; the rest toPlainText writes as a line break or a
# space. A text holding one is read back from the document instead of copied.
_NOT_AS_PUT_IN = re.compile("[\r\u00a0\u2028\u2029\ufdd0\ufdd1\U00010000-\U0010ffff]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


_AS_PLAIN_TEXT = (
    ("\u2029", "\n"),
    ("\u2028", "\n"),
    ("\ufdd0", "\n"),
    ("\ufdd1", "\n"),
    ("\u00a0", " "),
)


def longest_line(text: str) -> int:
    """The length in characters of the longest line of ``text``."""
    if len(text) <= MAX_HIGHLIGHTED_LINE:
        return len(text)  # an upper bound, and below every limit that asks
    return max(map(len, text.split("\n")))


@dataclass(frozen=True, slots=True)
class EditorMark:
    """A diagnostic placed in the editor. ``start``/``end`` are Qt document positions (UTF-16)."""

    severity: str  # "error" | "warning"
    start: int
    end: int
    line: int  # 1-based
    column: int  # 1-based, in characters
    message: str
    code: str = ""  # the diagnostic's rule code, when it has one


def _utf16_offset(text: str, offset: int) -> int:
    """Qt's position for a code-point offset: characters beyond the BMP count twice."""
    if text.isascii():
        return offset
    return offset + sum(1 for char in text[:offset] if ord(char) > 0xFFFF)


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files named by dropped or pasted data (file manager URLs)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class _Gutter(QWidget):
    """Line numbers, and a coloured dot on each line that holds a diagnostic."""

    def __init__(self, editor: JsonEditor) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_gutter(event)


class JsonEditor(QPlainTextEdit):
    """A plain-text JSON editor. Diagnostics come in through ``set_marks``; dropped local files go
    out through ``sig_files_dropped`` (the window decides what to do with them)."""

    sig_files_dropped = Signal(list)
    """Local files (``list[Path]``) were dropped on the editor; their contents are not read yet."""

    sig_display_note_changed = Signal(str)
    """How the text is shown changed: wrapped for a long line, or without colours ("" when it is
    shown as usual)."""

    sig_status_message_requested = Signal(str, int)
    """Show this message in the status bar for this many milliseconds (a chip's file saved)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("requestEditor")
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 10))
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabChangesFocus(False)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 2)
        self.setAcceptDrops(True)
        self.setPlaceholderText('{\n  "input": {}\n}')
        # The text's Python copy (see ``text_mirror``), None while it is not kept (a text with a
        # character beyond the BMP: its positions differ); first of the document's listeners.
        self._mirror: TextRope | None = TextRope()
        self._mirror_revision = self.document().revision()
        self.document().contentsChange.connect(self._on_document_contents_changed_mirror)
        # Connected before the highlighter's own slot, so a text grown too big is uncoloured
        # before the highlighter starts on it (see ``_on_document_contents_changed``).
        self.document().contentsChange.connect(self._on_document_contents_changed)
        self._longest_line = 0  # characters in the longest line when last checked
        self._fitting = False  # set while a whole text goes in, already measured
        # A text going in slice by slice (see SLICED_CHARS): the text, how much of it is in the
        # document, and whether it is an undoable edit.
        self._loading: tuple[str, bool] | None = None
        self._loaded_chars = 0
        self._load_timer = QTimer(self)
        self._load_timer.setSingleShot(True)
        self._load_timer.timeout.connect(self._on_load_timer_timeout)
        self.display_note = ""
        self.folds = FoldTable()  # the long strings shown as chips (see ``folding``)
        self._rescan_timer = QTimer(self)
        self._rescan_timer.setSingleShot(True)
        self._rescan_timer.setInterval(_RESCAN_DELAY_MS)
        self._rescan_timer.timeout.connect(self._on_rescan_timer_timeout)
        self.highlighter = JsonHighlighter(self.document())
        self.marks: list[EditorMark] = []
        self._mark_lines: dict[int, str] = {}
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(self._on_document_block_count_changed)
        self.updateRequest.connect(self._on_viewport_update_requested)
        self.cursorPositionChanged.connect(self._refresh_extra_selections)
        self._on_document_block_count_changed(0)
        self._refresh_extra_selections()

    def refresh_colors(self) -> None:
        """Recolour syntax, marks and gutter after a colour-scheme change (``gui.ui.theme``)."""
        self.highlighter.refresh_colors()
        self._refresh_extra_selections()
        self._gutter.update()

    # -- text ------------------------------------------------------------------------------

    def full_text(self) -> str:
        """The whole text, each folded string in place: what is sent, saved, copied, kept."""
        return self.folds.expand(self.shown_text())

    def text_snapshot(self) -> FoldedText | str:
        """The text as shown and the strings its chips stand for, to expand off the Qt thread."""
        return self.folds.snapshot(self.shown_text())

    def shown_text(self) -> str:
        """The text as shown (chips, not their strings): ``toPlainText()``, from the editor's
        copy of it (``text_mirror``) rather than read out of the document."""
        if self._mirror is not None:
            return self._mirror.text()
        self.finish_loading()  # (not reached while loading: a sliced text is copied)
        text = self.toPlainText()
        # (Shorter than the document: a half of a surrogate pair left by an edit, which Python's
        # string leaves out.)
        length = self.document().characterCount() - 1
        if len(text) == length and (text.isascii() or _ASTRAL.search(text) is None):
            self._mirror = TextRope(text)
            self._mirror_revision = self.document().revision()
        return text

    @staticmethod
    def _copied_exactly(text: str) -> bool:
        """``toPlainText()`` gives ``text`` back as it was put in, at the same positions."""
        return (text.isascii() and "\r" not in text) or _NOT_AS_PUT_IN.search(text) is None

    def _reset_mirror(self, text: str) -> None:
        """``text`` was just put in as the whole document: copy it, unless ``toPlainText()``
        would give it back changed (then it is read back when first asked for)."""
        self._mirror = TextRope(text) if self._copied_exactly(text) else None
        self._mirror_revision = self.document().revision()

    def _on_document_contents_changed_mirror(self, position: int, removed: int, added: int) -> None:
        mirror = self._mirror
        if mirror is None or self._fitting:
            return  # not kept, or a whole text going in (copied once it is in)
        document = self.document()
        revision = document.revision()
        if removed == added and revision == self._mirror_revision:
            return  # formats only (the colours): every edit of the text raises the revision
        self._mirror_revision = revision
        length = document.characterCount() - 1
        # While a text goes in slice by slice the copy holds the rest of it after the document's.
        in_document = len(mirror) - self._chars_to_load()
        # Qt may count the document's final paragraph end in both numbers: it is not text.
        removed = min(removed, in_document - position)
        added = min(added, length - position)
        if min(position, removed, added) < 0 or in_document - removed + added != length:
            self._mirror = None  # lost count: read the document once, when next asked
            return
        new = ""
        if added:
            cursor = QTextCursor(document)
            cursor.setPosition(position)
            cursor.setPosition(position + added, QTextCursor.MoveMode.KeepAnchor)
            new = cursor.selectedText()
            if not new.isascii():
                if len(new) != added or _ASTRAL.search(new) is not None:
                    self._mirror = None
                    return
                # What toPlainText writes for paragraph ends, line separators, frame marks and
                # no-break spaces.
                for char, plain in _AS_PLAIN_TEXT:
                    if char in new:
                        new = new.replace(char, plain)
        mirror.replace(position, position + removed, new)

    def replace_all_text(self, text: str) -> None:
        """Replace the whole text as ONE undoable edit (Ctrl+Z brings the old text back); its
        long strings are shown folded. A big text goes in slice by slice (``SLICED_CHARS``)."""
        self.finish_loading()
        text = self.folds.fold(text)
        first = self._first_slice(text)
        with self._fitted_to(text):
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
            cursor.select(QTextCursor.SelectionType.Document)
            cursor.insertText(first)
            cursor.endEditBlock()
            self._reset_mirror(text)
        self.moveCursor(QTextCursor.MoveOperation.Start)
        if len(first) < len(text):
            self._start_loading(text, len(first), undoable=True)

    def replace_range(self, text: str, start: int, end: int, replacement: str) -> None:
        """Replace ``text[start:end]`` (code-point offsets into ``text``, the editor's text now)
        as one undoable edit; the rest of the document is left alone."""
        self.finish_loading()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.setPosition(_utf16_offset(text, start))
        cursor.setPosition(_utf16_offset(text, end), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(replacement)
        cursor.endEditBlock()

    def replace_positions(self, start: int, end: int, replacement: str) -> None:
        """Replace document positions ``start``..``end`` as one undoable edit (not folded: an
        inlined string stays inline)."""
        self.finish_loading()
        if len(replacement) > _RESCAN_EDIT_CHARS:
            length = self.document().characterCount() + len(replacement)
            self._fit(max(self._longest_line, longest_line(replacement)), length, growing=True)
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(replacement)
        cursor.endEditBlock()

    def set_fresh_text(self, text: str) -> None:
        """Start a new document with ``text`` (not undoable, not modified); its long strings are
        shown folded. A big text goes in slice by slice (``SLICED_CHARS``)."""
        self.finish_loading()
        text = self.folds.fold(text)
        first = self._first_slice(text)
        with self._fitted_to(text):
            self.setPlainText(first)
            self._reset_mirror(text)
        self.document().setModified(False)
        if len(first) < len(text):
            self._start_loading(text, len(first), undoable=False)

    # -- a big text going in slice by slice -------------------------------------------------

    @property
    def loading(self) -> bool:
        """A big text is still going into the document, slice by slice."""
        return self._loading is not None

    def _chars_to_load(self) -> int:
        return 0 if self._loading is None else len(self._loading[0]) - self._loaded_chars

    def _first_slice(self, text: str) -> str:
        """The part of ``text`` to put in at once: all of it unless it is big and the editor's
        copy can hold it exactly (else the document must hold it all: it is what is read)."""
        if len(text) <= SLICED_CHARS or not self._copied_exactly(text):
            return text
        return text[: text.find("\n", _SLICE_CHARS) + 1 or len(text)]

    def _start_loading(self, text: str, loaded: int, *, undoable: bool) -> None:
        self._loading = (text, undoable)
        self._loaded_chars = loaded
        if not undoable:
            self.document().setUndoRedoEnabled(False)  # not undoable: no slice is an undo step
        self._load_timer.start(0)

    def finish_loading(self) -> None:
        """Put the rest of a text going in slice by slice into the document now."""
        if self._loading is not None:
            self._load_slices(budget_s=None)

    def _on_load_timer_timeout(self) -> None:
        self._load_slices(budget_s=_SLICE_TURN_S)

    def _load_slices(self, budget_s: float | None) -> None:
        assert self._loading is not None
        text, undoable = self._loading
        document = self.document()
        started = time.perf_counter()
        fitting, self._fitting = self._fitting, True  # measured and copied whole already
        try:
            while self._loaded_chars < len(text):
                if budget_s is not None and time.perf_counter() - started > budget_s:
                    self._load_timer.start(0)
                    return
                start = self._loaded_chars
                end = text.find("\n", start + _SLICE_CHARS) + 1 or len(text)
                modified = document.isModified()
                cursor = QTextCursor(document)
                cursor.movePosition(QTextCursor.MoveOperation.End)
                if undoable:
                    cursor.joinPreviousEditBlock()  # the whole load stays one undo step
                else:
                    cursor.beginEditBlock()
                cursor.insertText(text[start:end])
                cursor.endEditBlock()
                document.setModified(modified)
                self._loaded_chars = end
                self._mirror_revision = document.revision()
        finally:
            self._fitting = fitting
        self._loading = None
        self._load_timer.stop()
        document.setUndoRedoEnabled(True)
        self._refresh_extra_selections()  # marks past the first slice were held at its end

    def undo(self) -> None:
        self.finish_loading()
        super().undo()

    def redo(self) -> None:
        self.finish_loading()
        super().redo()

    # -- how the text is shown: wrapped for a long line, coloured unless big -----------------

    @property
    def highlighting(self) -> bool:
        return self.highlighter.document() is not None

    @property
    def wrapped(self) -> bool:
        """Lines are wrapped at the editor's width (the text has a line over LONG_LINE_CHARS)."""
        return self.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth

    @contextmanager
    def _fitted_to(self, text: str) -> Iterator[None]:
        """Put ``text`` in (the body of the ``with``) shown as it must be, laid out once: wrapping
        goes on and colours off before it goes in (wrapping after would lay out an 11 MB line a
        second time, and colouring it would take seconds), the reverse after it is in."""
        longest = longest_line(text)
        self._rescan_timer.stop()
        self._fitting = True
        try:
            self._fit(longest, len(text), growing=True)
            yield
        finally:
            self._fitting = False
        self._fit(longest, len(text), growing=False)

    def _fit(self, longest: int, length: int, *, growing: bool) -> None:
        """Wrap and colour for a text of ``length`` characters whose longest line has ``longest``;
        ``growing``: only the changes a bigger text needs (before it goes in), else all."""
        self._longest_line = longest
        wrap = longest > LONG_LINE_CHARS
        colour = length <= MAX_HIGHLIGHTED_CHARS
        fitting, self._fitting = self._fitting, True  # (un)colouring edits the document too
        try:
            if wrap != self.wrapped and (wrap or not growing):
                # Anywhere: at word boundaries, a line of megabytes without a space or a slash
                # (hex, "AAAA...") takes minutes to break (each row searches the rest of it).
                self.setWordWrapMode(
                    QTextOption.WrapMode.WrapAnywhere
                    if wrap
                    else QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere
                )
                mode = QPlainTextEdit.LineWrapMode
                self.setLineWrapMode(mode.WidgetWidth if wrap else mode.NoWrap)
                # A wrapped long line is taller than the view: a scroll bar that appeared only
                # after the layout would narrow it and lay the whole line out again (measured:
                # 11 MB, 5.0 s to shown instead of 3.2 s).
                policy = Qt.ScrollBarPolicy
                self.setVerticalScrollBarPolicy(
                    policy.ScrollBarAlwaysOn if wrap else policy.ScrollBarAsNeeded
                )
            if colour != self.highlighting and (not colour or not growing):
                self.highlighter.setDocument(self.document() if colour else None)
        finally:
            self._fitting = fitting
        self._update_display_note()

    def _on_document_contents_changed(self, position: int, removed: int, added: int) -> None:
        if self._fitting:
            return  # a whole text, measured before it went in
        length = self.document().characterCount() - 1
        if length > MAX_HIGHLIGHTED_CHARS and self.highlighting:
            # Grown big by an undo: off before the highlighter's slot (next in line) colours it.
            self._fit(self._longest_line, length, growing=True)
        if max(removed, added) > _RESCAN_EDIT_CHARS:
            self._rescan_timer.stop()
            self._fit(longest_line(self.shown_text()), length, growing=False)
        elif length <= MAX_HIGHLIGHTED_LINE:
            self._fit(length, length, growing=False)  # no line can be long: nothing to measure
        else:
            # A small edit changes only the lines it touches: one made longer counts at once; a
            # long one made shorter once typing pauses, when the whole text is measured again.
            document = self.document()
            block = document.findBlock(position)
            last = document.findBlock(position + added).blockNumber()
            longest = self._longest_line
            while block.isValid() and block.blockNumber() <= last:
                longest = max(longest, block.length() - 1)
                block = block.next()
            if longest != self._longest_line:
                self._fit(longest, length, growing=False)
            if self._longest_line > MAX_HIGHLIGHTED_LINE:
                self._rescan_timer.start()

    def _on_rescan_timer_timeout(self) -> None:
        text = self.shown_text()
        self._fit(longest_line(text), len(text), growing=False)

    def _update_display_note(self) -> None:
        parts = []
        if self.wrapped:
            parts.append(
                f"Wrapped at the editor's width: a line is over {LONG_LINE_CHARS:,} characters."
            )
        if not self.highlighting:
            megabytes = MAX_HIGHLIGHTED_CHARS // (1024 * 1024)
            parts.append(f"Without colours: the text is over {megabytes} MB.")
        elif self._longest_line > MAX_HIGHLIGHTED_LINE:
            parts.append(f"Lines over {MAX_HIGHLIGHTED_LINE:,} characters are not coloured.")
        note = " ".join(parts)
        if note != self.display_note:
            self.display_note = note
            self.sig_display_note_changed.emit(note)

    def move_cursor_to(self, position: int, length: int = 0) -> None:
        """Put the cursor at a document position (selecting ``length`` characters) and show it."""
        self.finish_loading()
        cursor = self.textCursor()
        end_of_text = max(self.document().characterCount() - 1, 0)
        cursor.setPosition(min(max(position, 0), end_of_text))
        if length:
            cursor.setPosition(min(position + length, end_of_text), QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- diagnostics -----------------------------------------------------------------------

    def set_marks(self, marks: Sequence[EditorMark]) -> None:
        """Underline these diagnostics (wave, red or amber) and mark their lines in the gutter."""
        self.marks = list(marks[:MAX_MARKS])
        self._mark_lines = {}
        for mark in self.marks:
            # An error outranks a warning on the same line.
            if self._mark_lines.get(mark.line) != "error":
                self._mark_lines[mark.line] = mark.severity
        self._refresh_extra_selections()
        self._gutter.update()

    def _refresh_extra_selections(self) -> None:
        selections: list[QTextEdit.ExtraSelection] = []
        if not self.document().isEmpty():  # else it would paint over the placeholder text
            current = QTextEdit.ExtraSelection()
            current.format.setBackground(self.palette().alternateBase())
            current.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            current.cursor = self.textCursor()
            current.cursor.clearSelection()
            selections.append(current)
        end_of_text = max(self.document().characterCount() - 1, 0)
        for mark in self.marks:
            selection = QTextEdit.ExtraSelection()
            color = mark_color(mark.severity)
            selection.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            selection.format.setUnderlineColor(color)
            selection.format.setToolTip(mark.message)
            cursor = QTextCursor(self.document())
            start = min(mark.start, end_of_text)
            end = min(max(mark.end, start + 1), end_of_text)
            if start == end and start > 0:
                start -= 1  # an error at the very end: underline the last character
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            selections.append(selection)
        self.setExtraSelections(selections)

    def underlined_ranges(self) -> list[tuple[int, int, QColor]]:
        """(start, end, colour) of each diagnostic underline shown now (tests and tooling)."""
        ranges = []
        for selection in self.extraSelections():
            if selection.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline:
                cursor = selection.cursor
                ranges.append(
                    (
                        cursor.selectionStart(),
                        cursor.selectionEnd(),
                        selection.format.underlineColor(),
                    )
                )
        return ranges

    def marked_lines(self) -> dict[int, str]:
        """Line number (1-based) -> "error" or "warning" for the gutter marks shown now."""
        return dict(self._mark_lines)

    def event(self, event):  # type: ignore[no-untyped-def]
        # Hovering an underlined diagnostic shows its message.
        if event.type() == event.Type.ToolTip:
            cursor = self.cursorForPosition(event.pos())
            position = cursor.position()
            messages = [m.message for m in self.marks if m.start <= position <= max(m.end, m.start)]
            if messages:
                from PySide6.QtWidgets import QToolTip

                QToolTip.showText(event.globalPos(), "\n".join(messages[:5]), self)
                return True
        return super().event(event)

    # -- gutter ----------------------------------------------------------------------------

    def gutter_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        return 20 + self.fontMetrics().horizontalAdvance("9") * max(digits, 3)

    def _on_document_block_count_changed(self, _count: int) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_viewport_update_requested(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        area = self.contentsRect()
        self._gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.window())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        line_height = self.fontMetrics().height()
        width = self._gutter.width()
        current = self.textCursor().blockNumber()
        text_color = palette.placeholderText().color()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                severity = self._mark_lines.get(number + 1)
                if severity is not None:
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(mark_color(severity))
                    diameter = max(6, line_height // 2)
                    painter.drawEllipse(4, top + (line_height - diameter) // 2, diameter, diameter)
                painter.setPen(palette.text().color() if number == current else text_color)
                painter.drawText(
                    0, top, width - 6, line_height, Qt.AlignmentFlag.AlignRight, str(number + 1)
                )
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()

    # -- typing ----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter keeps the line's indentation (one level more after ``{`` or ``[``); Tab inserts
        two spaces. Each is one undo step, like any typed text."""
        from gui.ui.request.text.chips import guard_chip_keys

        if self.loading and (event.text() or event.key() in _EDITING_KEYS):
            self.finish_loading()  # an edit (or Ctrl+A, Ctrl+C...) of the whole text, not a part
        if self.folds and guard_chip_keys(self, event):
            return
        plain = event.modifiers() in (
            Qt.KeyboardModifier.NoModifier,
            Qt.KeyboardModifier.KeypadModifier,
        )
        if plain and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            cursor = self.textCursor()
            line = cursor.block().text()[: cursor.positionInBlock()]
            indent = line[: len(line) - len(line.lstrip(" "))]
            if line.rstrip().endswith(("{", "[")):
                indent += INDENT
            cursor.insertText("\n" + indent)
            self.ensureCursorVisible()
            return
        if plain and event.key() == Qt.Key.Key_Tab:
            self.textCursor().insertText(INDENT)
            return
        super().keyPressEvent(event)

    # -- drops -----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.finish_loading()
        if self.handle_drop(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dropEvent(event)  # plain text: Qt inserts it at the drop point, undoably

    def handle_drop(self, mime: QMimeData) -> bool:
        """Emit ``sig_files_dropped`` when ``mime`` names local files; False for anything else."""
        paths = local_paths(mime)
        if not paths:
            return False
        self.sig_files_dropped.emit(paths)
        return True

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.finish_loading()  # its actions (undo, paste, select all) are for the whole text
        from gui.ui.request.text.chips import add_chip_actions, chip_at

        menu = self.createStandardContextMenu(event.pos())
        chip = chip_at(self, self.cursorForPosition(event.pos()).position(), inside=True)
        if chip is not None:
            add_chip_actions(self, menu, chip)
        menu.exec(event.globalPos())
        menu.deleteLater()

    def createMimeDataFromSelection(self) -> QMimeData:
        # Copy and cut (and drags out) carry the whole strings, never the chips.
        mime = QMimeData()
        selected = self.textCursor().selection().toPlainText()
        mime.setText(self.folds.expand(selected) if self.folds else selected)
        return mime

    def insertFromMimeData(self, source: QMimeData) -> None:
        self.finish_loading()
        # Pasting files copied in a file manager opens them, like dropping them.
        if self.handle_drop(source):
            return
        pasted = source.text() if source.hasText() else ""
        if len(pasted) >= FOLD_CHARS:
            # A pasted base64 image (alone, or in a whole body) goes in as a chip.
            folded = self.folds.fold_run(pasted) or self.folds.fold(pasted)
            if folded != pasted:
                self.textCursor().insertText(folded)
                self.ensureCursorVisible()
                return
        if len(pasted) > _RESCAN_EDIT_CHARS:
            # A big paste (a base64 image) is wrapped and uncoloured before it is laid out.
            length = self.document().characterCount() + len(pasted)
            self._fit(max(self._longest_line, longest_line(pasted)), length, growing=True)
        super().insertFromMimeData(source)
