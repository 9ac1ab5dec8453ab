"""The job table's search field (``jobFilterText``): the history's search syntax, read as typed.

``SearchField`` parses its text with ``parse_search`` once typing pauses (``PARSE_DELAY_MS``) and
tells a valid search as ``sig_query_changed(JobQuery)``. A search it can't read keeps the last
valid one in force: the field gets a red frame, and ``problem_label`` (placed by the owner under the
filter row) and the tooltip say what is wrong and what to do; the typed text stays as it is.
Enter applies at once; Escape empties the field (then passes on, when it is empty already). The
"?" inside the field opens ``help_menu``: the syntax, from ``FIELDS``, with examples to try.
"""

from __future__ import annotations

from html import escape
from types import ModuleType
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QMenu, QWidget, QWidgetAction

from gui.core.errors import SearchInvalid
from gui.ui import theme
from gui.ui.jobs.style import action_icon

if TYPE_CHECKING:
    from gui.core.storage.history import JobQuery

__all__ = ["EXAMPLES", "PARSE_DELAY_MS", "SearchField", "help_html", "help_text"]

PARSE_DELAY_MS = 150  # the pause in typing after which the search is read

# What each field finds. A field of ``FIELDS`` missing here is still listed (with its name).
_FIELD_HELP = {
    "status": ("status:failed", "jobs in that state; several: status:failed,cancelled"),
    "worker": ("worker:abc", "run by a worker whose id starts so"),
    "profile": ("profile:prod", "sent with that profile (the Target column)"),
    "endpoint": ("endpoint:ID", "sent to that endpoint id"),
    "template": ('template:"my template"', "sent from that template"),
    "id": ("id:3f2a", "RunPod job id or local id starting so"),
    "release": ("release:v4", "run by a worker on that release (version or image)"),
    "row": ("row:3", "made from that data run row: its number or its name"),
    "input": ("input:cat", "the word inside the request's input only"),
    "output": ("output:cat", "the word inside the output only"),
    "error": ("error:CUDA", "the word inside the error only"),
}
_STATES = ("submitting, queued, running, completed, failed, cancelled, timed_out, expired, purged, "
           "not_sent")  # fmt: skip
EXAMPLES = (
    "status:failed worker:abc prompt text",
    "status:failed,timed_out error:CUDA",
    '"red fox" template:"my template"',
    "status:running profile:prod",
)
"""Searches the help menu offers to try (each puts itself into the field)."""
_PLACEHOLDER = "Search jobs…  (Ctrl+F)"


def _history() -> ModuleType:
    """``gui.core.storage.history``, imported when first needed: it brings SQLite, which the
    window's start does without."""
    from gui.core.storage import history

    return history


def _field_rows() -> list[tuple[str, str]]:
    fields: tuple[str, ...] = _history().FIELDS
    return [_FIELD_HELP.get(name, (f"{name}:VALUE", f"jobs by {name}")) for name in fields]


def help_text() -> str:
    """The search syntax in plain text (the field's tooltip)."""
    rows = "\n".join(f"  {example:<24} {what}" for example, what in _field_rows())
    return (
        "Search the jobs: words find jobs by their ids, profile, worker, template and the text in "
        "their input, output and error (whole words, any case; the last word also as a start).\n"
        f'"two words" finds a phrase. Every part must match.\nFields:\n{rows}\n'
        f"States: {_STATES}.\n"
        'Quote a value with spaces (template:"my template") or text that looks like a field '
        '("http://host").\n'
        f"Example: {EXAMPLES[0]}\nEnter applies at once; Escape clears. Ctrl+F comes here."
    )


def help_html() -> str:
    """The search syntax as rich text (the "?" menu)."""
    rows = "".join(
        f"<tr><td><code>{escape(example)}</code></td><td>&nbsp;{escape(what)}</td></tr>"
        for example, what in _field_rows()
    )
    return (
        "<p><b>Search the jobs</b>: words find jobs by their ids, profile, worker, template<br>"
        "and the text inside their input, output and error (whole words, any case).<br>"
        '<code>"two words"</code> finds a phrase. Every part must match.</p>'
        f"<table cellspacing='2'>{rows}</table>"
        f"<p>States: {escape(_STATES).replace('cancelled, ', 'cancelled,<br>')}.<br>"
        "Quote a value with spaces, or text that looks like a field: "
        '<code>"http://host"</code>.<br>'
        "Enter applies at once; Escape clears the field.</p>"
    )


class SearchField(QLineEdit):
    """The search field; ``query()`` is the search in force (the last valid one)."""

    sig_query_changed: Signal = Signal(object)
    """A new valid search is in force: a ``JobQuery`` (the status toggles not included)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobFilterText")  # the name the window's tests and menus know
        self.setPlaceholderText(_PLACEHOLDER)
        self.setClearButtonEnabled(True)
        self.addAction(action_icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self._query: JobQuery | None = None  # None: no search yet, every job
        self._help_menu: QMenu | None = None
        self._problems: list[str] = []
        self.problem_label = QLabel(parent)
        self.problem_label.setObjectName("jobSearchProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setContentsMargins(6, 0, 6, 0)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem_label.hide()
        theme.bind_style(self.problem_label, lambda: f"color: {theme.css('error')};")
        theme.bind_style(self, self._style)
        self.help_action = self.addAction(
            action_icon("help"), QLineEdit.ActionPosition.TrailingPosition
        )
        self.help_action.setObjectName("jobSearchHelpAction")
        self.help_action.setToolTip("Search syntax and examples")
        self.help_action.triggered.connect(self._on_help_triggered)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PARSE_DELAY_MS)
        self._timer.timeout.connect(self.apply_now)
        self.textChanged.connect(self._on_text_changed)
        self.returnPressed.connect(self.apply_now)

    # -- public ------------------------------------------------------------------------------------
    def query(self) -> JobQuery:
        """The search in force: the text's, or the last valid one while the text can't be read."""
        if self._query is None:
            self._query = _history().JobQuery()
        return self._query

    @property
    def help_menu(self) -> QMenu:
        """The "?" menu: the syntax and examples (built when first needed)."""
        if self._help_menu is None:
            self._help_menu = self._build_help_menu()
        return self._help_menu

    def problems(self) -> list[str]:
        """What is wrong with the text (empty while it reads)."""
        return list(self._problems)

    def set_search(self, text: str) -> None:
        """Put ``text`` in the field and apply it at once (a saved view, an example)."""
        self.setText(text)
        self.apply_now()

    def apply_now(self) -> None:
        """Read the text now (without waiting for the pause in typing)."""
        self._timer.stop()
        try:
            query = _history().parse_search(self.text())
        except SearchInvalid as invalid:
            self._show_problems(invalid.problems)
            return
        self._show_problems([])
        if query != self.query():
            self._query = query
            self.sig_query_changed.emit(query)

    # -- building ----------------------------------------------------------------------------------
    def _build_help_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.setObjectName("jobSearchHelp")
        label = QLabel(help_html(), menu)
        label.setObjectName("jobSearchHelpText")
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setContentsMargins(10, 6, 10, 4)
        shown = QWidgetAction(menu)
        shown.setDefaultWidget(label)
        menu.addAction(shown)
        menu.addSection("Try an example")
        for example in EXAMPLES:
            action = QAction(example, menu)
            action.triggered.connect(lambda _checked=False, text=example: self._try(text))
            menu.addAction(action)
        return menu

    def _try(self, text: str) -> None:
        self.set_search(text)
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def _style(self) -> str:
        if not self._problems:
            return ""
        return (
            f"QLineEdit#jobFilterText {{ border: 2px solid {theme.css('error')}; "
            "border-radius: 3px; padding: 1px 2px; }"
        )

    def _show_problems(self, problems: list[str]) -> None:
        if problems == self._problems:
            return
        self._problems = list(problems)
        self.setStyleSheet(self._style())
        if problems:
            said = " ".join(problems)
            shown = "Search not applied (showing the last one that worked)"
            self.problem_label.setText(f"{shown}: {said}")
            self.setToolTip(f"{said}\n\n{help_text()}")
            self.setAccessibleDescription(said)
        else:
            self.setToolTip("")  # the syntax, when next hovered (see event)
            self.setAccessibleDescription("")
        self.problem_label.setVisible(bool(problems))

    # -- slots and events --------------------------------------------------------------------------
    def _on_text_changed(self, _text: str) -> None:
        self._timer.start()

    def _on_help_triggered(self) -> None:
        self.help_menu.popup(self.mapToGlobal(QPoint(self.width() - 8, self.height())))

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and not self.toolTip():
            self.setToolTip(help_text())  # on the first hover, not at the window's start
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            self.apply_now()
            event.accept()
            return
        super().keyPressEvent(event)
