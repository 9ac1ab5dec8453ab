"""A layout that places its widgets in a row and wraps them onto more rows when narrow.

Used by the job table's filter row: seven labelled toggles and a text field fit one row of a wide
window, and wrap, rather than force the window wider than a laptop's screen, on a narrow one.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QWidget

__all__ = ["FlowLayout"]


class FlowLayout(QLayout):
    """Left to right, wrapping; the last item (e.g. a text field) may take a row's rest."""

    def __init__(self, parent: QWidget | None = None, *, spacing: int = 2) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.stretch_last = False
        """Give the last item what its row leaves over (it keeps at least its size hint)."""

    # -- QLayout's item list ---------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def spacing(self) -> int:
        return self._spacing

    def setSpacing(self, spacing: int) -> None:
        self._spacing = spacing
        self.invalidate()

    # -- sizes -----------------------------------------------------------------------------

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def sizeHint(self) -> QSize:
        # One row of everything: what a wide window shows.
        shown = self._shown()
        width = sum(item.sizeHint().width() for item in shown)
        width += self._spacing * max(0, len(shown) - 1)
        height = max((item.sizeHint().height() for item in shown), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def minimumSize(self) -> QSize:
        # The widest single item: anything narrower wraps.
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize()).expandedTo(QSize(item.sizeHint().width(), 0))
        return size.grownBy(self.contentsMargins())

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    # -- placing ---------------------------------------------------------------------------

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        """Place the items in ``rect`` (when ``apply``); returns the height they need."""
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        shown = self._shown()
        x, y, row_height = area.x(), area.y(), 0
        for index, item in enumerate(shown):
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y, row_height = area.x(), y + row_height + self._spacing, 0
            width = hint.width()
            last = index == len(shown) - 1
            if last and self.stretch_last:
                widget = item.widget()
                grow = QSizePolicy.PolicyFlag.GrowFlag.value
                if widget is None or widget.sizePolicy().horizontalPolicy().value & grow:
                    width = max(width, area.right() + 1 - x)
            if apply:
                item.setGeometry(QRect(QPoint(x, y), QSize(width, hint.height())))
            x += width + self._spacing
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + margins.bottom()
