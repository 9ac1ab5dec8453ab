"""The filter row above ``jobTable``: one toggle per status (with its count) and the search field
(``search_field``).

The row wraps onto a second line in a narrow window (``FlowLayout``) instead of making the window
wider than the screen. When the toggles' names don't fit one row beside the text field, the toggles
show only their icon and count (the name is in the tooltip and the accessible name), so the filters
take at most two rows (toggles, then the text field) in a small window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QToolButton, QWidget

from gui.core.records import JobState
from gui.ui.flow_layout import FlowLayout
from gui.ui.jobs.search_field import SearchField
from gui.ui.jobs.style import state_icon

__all__ = ["ALWAYS_SHOWN", "StatusFilterBar"]

# States people filter by often; the console's rarer own states appear only when a job has one.
ALWAYS_SHOWN = (
    JobState.IN_QUEUE,
    JobState.IN_PROGRESS,
    JobState.COMPLETED,
    JobState.FAILED,
    JobState.CANCELLED,
    JobState.TIMED_OUT,
)

_LABELS = {
    JobState.SUBMITTING: "Submitting",
    JobState.IN_QUEUE: "Queued",
    JobState.IN_PROGRESS: "Running",
    JobState.COMPLETED: "Completed",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
    JobState.TIMED_OUT: "Timed out",
    JobState.EXPIRED: "Expired",
    JobState.PURGED: "Purged",
    JobState.NOT_SENT: "Not sent",
}


class StatusFilterBar(QWidget):
    """Toggling states shows only jobs in those states; none toggled shows every job."""

    sig_states_changed: Signal = Signal(object)
    """The chosen states changed: a ``frozenset[JobState]``, or ``None`` for every state."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobFilters")
        layout = self._layout = FlowLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self._counts: dict[JobState, int] = {}
        self._named = True  # the toggles show their state's name (else only icon and count)
        layout.stretch_last = True  # the text field takes what its row leaves
        self.all_button = QToolButton(self)
        self.all_button.setText("All")
        self.all_button.setCheckable(True)
        self.all_button.setChecked(True)
        self.all_button.setToolTip("Show jobs in every state")
        self.all_button.clicked.connect(self._on_all_clicked)
        layout.addWidget(self.all_button)
        self.buttons: dict[JobState, QToolButton] = {}
        for state in JobState:
            button = QToolButton(self)
            button.setObjectName(f"filter_{state.value}")
            button.setCheckable(True)
            button.setIcon(state_icon(state))
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setToolTip(f"Show only {state.value} jobs (toggle several to combine)")
            button.toggled.connect(self._on_state_toggled)
            button.setVisible(state in ALWAYS_SHOWN)
            layout.addWidget(button)
            self.buttons[state] = button
        self.text = SearchField(self)  # its problem_label goes where the owner puts it
        self.text.setMinimumWidth(220)
        layout.addWidget(self.text)
        self.set_counts({})

    def set_counts(self, counts: dict[JobState, int]) -> None:
        """Show each state's count; rarer states appear only while some job is in them."""
        self._counts = dict(counts)
        self.all_button.setText(f"All {sum(counts.values())}")
        for state, button in self.buttons.items():
            count = counts.get(state, 0)
            button.setAccessibleName(f"{_LABELS[state]} {count}")
            button.setText(self._text(state))
            button.setVisible(state in ALWAYS_SHOWN or count > 0 or button.isChecked())
        self._fit_names()

    def _text(self, state: JobState) -> str:
        count = self._counts.get(state, 0)
        return f"{_LABELS[state]} {count}" if self._named else str(count)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_names()
        super().resizeEvent(event)

    def _fit_names(self) -> None:
        """Names on the toggles only when all of them fit one row with the text field."""
        named = self._named_row_width() <= self.width()
        if named != self._named:
            self._named = named
            for state, button in self.buttons.items():
                button.setText(self._text(state))

    def _named_row_width(self) -> int:
        """The width of one row of named toggles and the text field at its least."""
        width = self.all_button.sizeHint().width() + self.text.minimumWidth()
        shown = [(s, b) for s, b in self.buttons.items() if not b.isHidden()]
        for state, button in shown:
            named = f"{_LABELS[state]} {self._counts.get(state, 0)}"
            metrics = button.fontMetrics()
            extra = metrics.horizontalAdvance(named) - metrics.horizontalAdvance(button.text())
            width += button.sizeHint().width() + extra
        margins = self._layout.contentsMargins()
        spacing = self._layout.spacing() * (len(shown) + 1)
        return width + spacing + margins.left() + margins.right()

    def chosen_states(self) -> frozenset[JobState] | None:
        chosen = frozenset(state for state, button in self.buttons.items() if button.isChecked())
        return chosen or None

    def _on_state_toggled(self, _checked: bool) -> None:
        chosen = self.chosen_states()
        self.all_button.setChecked(chosen is None)
        self.sig_states_changed.emit(chosen)

    def _on_all_clicked(self) -> None:
        self.clear_states()

    def clear_states(self) -> None:
        """Show every state (as the All toggle does)."""
        for button in self.buttons.values():
            button.blockSignals(True)
            button.setChecked(False)
            button.blockSignals(False)
        self.all_button.setChecked(True)
        self.sig_states_changed.emit(None)
