"""The JSON request editor (``requestEditor``): line numbers, colours, diagnostics, file drops."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
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
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from gui.ui import theme
from gui.ui.highlighter import JsonHighlighter

__all__ = ["ERROR_COLOR", "WARNING_COLOR", "EditorMark", "JsonEditor", "local_paths"]

ERROR_COLOR = QColor("#d32f2f")
WARNING_COLOR = QColor("#e69500")
"""The light scheme's marks; painting asks ``mark_color`` (it follows ``gui.ui.theme``)."""


def mark_color(severity: str) -> QColor:
    """The underline and gutter colour of a diagnostic in the scheme in use."""
    return theme.color("mark_error" if severity == "error" else "mark_warning")


# Underlining thousands of diagnostics helps nobody and costs layout time.
MAX_MARKS = 500
MAX_HIGHLIGHTED_CHARS = 2 * 1024 * 1024
INDENT = "  "  # the indentation Format writes


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

    def replace_all_text(self, text: str) -> None:
        """Replace the whole text as ONE undoable edit (Ctrl+Z brings the old text back)."""
        self._fit_highlighting(len(text))
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def replace_range(self, text: str, start: int, end: int, replacement: str) -> None:
        """Replace ``text[start:end]`` (code-point offsets into ``text``, the editor's text now)
        as one undoable edit; the rest of the document is left alone."""
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.setPosition(_utf16_offset(text, start))
        cursor.setPosition(_utf16_offset(text, end), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(replacement)
        cursor.endEditBlock()

    def set_fresh_text(self, text: str) -> None:
        """Start a new document with ``text`` (not undoable, not modified)."""
        self._fit_highlighting(len(text))
        self.setPlainText(text)
        self.document().setModified(False)

    def _fit_highlighting(self, length: int) -> None:
        # Colouring a multi-megabyte body takes seconds on the Qt thread: big texts stay plain.
        wanted = self.document() if length <= MAX_HIGHLIGHTED_CHARS else None
        if self.highlighter.document() is not wanted:
            self.highlighter.setDocument(wanted)

    @property
    def highlighting(self) -> bool:
        return self.highlighter.document() is not None

    def move_cursor_to(self, position: int, length: int = 0) -> None:
        """Put the cursor at a document position (selecting ``length`` characters) and show it."""
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

    def insertFromMimeData(self, source: QMimeData) -> None:
        # Pasting files copied in a file manager opens them, like dropping them.
        if not self.handle_drop(source):
            super().insertFromMimeData(source)
