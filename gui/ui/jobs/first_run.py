"""The first five minutes: a hint over the empty job table that says what to do, gone once a job
exists, and the example template a new user starts from."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel

from gui.ui import theme

__all__ = ["FIRST_TEMPLATE", "HINT_TEXT", "LOADING_TEXT", "EmptyTableHint"]

FIRST_TEMPLATE = "Echo"
"""The example template selected and loaded on a first start (no draft, no last template)."""

HINT_TEXT = (
    "No jobs yet.\n\nPick an example template on the left and press Ctrl+Enter to run it on the "
    "built-in sandbox. No account or setting needed."
)

LOADING_TEXT = "Loading the job history…"


class EmptyTableHint(QLabel):
    """A centred hint over ``table``'s viewport, shown while its model has no rows at all.

    It follows the model given, and ``is_empty`` when given (a filter that hides every job is
    not an empty history), and lets mouse clicks through to the table.
    """

    def __init__(
        self,
        table: QAbstractItemView,
        model: QAbstractItemModel,
        is_empty: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(HINT_TEXT, table.viewport())
        self.setObjectName("firstRunHint")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        theme.bind_style(self, lambda: f"color: {theme.css('hint')}; font-size: 11pt;")
        self._model = model
        self._is_empty = is_empty or (lambda: model.rowCount() == 0)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._refresh)
        table.viewport().installEventFilter(self)
        self._fit()
        self._refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._fit()
        return False

    def _fit(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        area = parent.rect()
        margin = max(24, area.width() // 10)
        self.setGeometry(area.adjusted(margin, 0, -margin, 0))

    def set_loading(self, loading: bool) -> None:
        """While the history loads, an empty table means "not yet", not "no jobs"."""
        self.setText(LOADING_TEXT if loading else HINT_TEXT)
        self._refresh()

    def _refresh(self, *_args: object) -> None:
        self.setVisible(self._is_empty())
