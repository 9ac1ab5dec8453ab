"""The area under the job table (``jobDetails``): a short hint until a job is first shown, then
``JobDetails`` (``jobDetailsView``) inside it.

``JobDetails`` (its tabs, the JSON tree, the image and error views) is built when the first job
is shown, not while the window starts: with nothing selected it would only show empty tabs. Its
modules (``PREPARE_MODULES``) are imported ahead, once the window has started and shows the pane,
one a turn of the event loop, so that the first job shown costs the window ~10 ms, not the ~35
it took with the imports. The pane itself, with the name automation looks for, exists from the
window's start.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from gui.ui import runtime

if TYPE_CHECKING:
    from gui.core.records import JobRecord
    from gui.ui.jobs.details.view import JobDetails

__all__ = [
    "DETAILS_SHARE",
    "NO_JOB_SUMMARY",
    "NO_JOB_TITLE",
    "PREPARE_AFTER_MS",
    "PREPARE_MODULES",
    "DetailsPane",
]

NO_JOB_TITLE = "No job selected"
NO_JOB_SUMMARY = "Select a job in the table to see its output, request and history."
# When the details first appear they take this share of their splitter (the one-line hint before
# them left them ~100 px: an image preview and a tree need room); the table keeps a few rows.
DETAILS_SHARE = 0.6
TABLE_KEEPS_PX = 150
PREPARE_MODULES = (
    "gui.ui.jobs.details.output_scan",
    "gui.ui.jobs.details.json_tree",
    "gui.ui.jobs.details.logs_tab",
    "gui.ui.jobs.details.parts",
    "gui.ui.jobs.details.view",
    "gui.core.account.models",
    "gui.core.account.cost",
)
"""What showing the first job imports, leaves first: imported together then, they stopped the
window for 25-37 ms (bench_ui, the tick a job was first selected); one a turn, 3-10 ms each."""
PREPARE_AFTER_MS = 1000  # after the pane first shows and the window's start is over


class DetailsPane(QWidget):
    """Holds the window's one ``JobDetails``, made on first need (``details``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobDetails")  # the name of DESIGN.md, there from the start
        self._details: JobDetails | None = None
        self.history_path: Path | None = None  # jobs.sqlite3: the Logs tab reads it
        self.wait_note: Callable[[JobRecord], str | None] = lambda _record: None
        """Why a job waits, for the details' line under the summary (the panel sets it)."""
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._hint = QLabel(f"{NO_JOB_TITLE}<br>{NO_JOB_SUMMARY}", self)
        self._hint.setObjectName("noJobHint")
        self._hint.setWordWrap(True)
        self._hint.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._hint.setContentsMargins(4, 4, 4, 4)
        self._layout.addWidget(self._hint)
        self._to_prepare = list(PREPARE_MODULES)
        self._prepare_timer = QTimer(self)
        self._prepare_timer.setSingleShot(True)
        self._prepare_timer.timeout.connect(self._prepare_next)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._to_prepare and not self._prepare_timer.isActive():
            self._prepare_timer.start(PREPARE_AFTER_MS)

    def _prepare_next(self) -> None:
        """Import the next of ``PREPARE_MODULES`` not imported yet; the rest at the next turns."""
        if self._details is not None:  # shown already: all imported
            self._to_prepare.clear()
            return
        if not runtime.START.is_open:  # the window has not painted yet: its start comes first
            self._prepare_timer.start(PREPARE_AFTER_MS)
            return
        while self._to_prepare:
            name = self._to_prepare.pop(0)
            if name not in sys.modules:
                importlib.import_module(name)
                break
        if self._to_prepare:
            self._prepare_timer.start(0)

    @property
    def record(self) -> JobRecord | None:
        """The job shown (None: none, or none yet)."""
        return None if self._details is None else self._details.record

    @property
    def details(self) -> JobDetails:
        """The details view, built now if it was not yet."""
        if self._details is None:
            from gui.ui.jobs.details.view import JobDetails

            details = JobDetails(self)
            details.logs.set_history(self.history_path)
            self._layout.replaceWidget(self._hint, details)
            self._hint.hide()  # now: deleteLater waits for the event loop, painting goes on
            self._hint.deleteLater()
            details.show()  # at once: a layout shows a late child only on the next turn
            self._details = details
            self._claim_room()
        return self._details

    def _claim_room(self) -> None:
        """Grow to ``DETAILS_SHARE`` of the splitter holding this pane, if smaller."""
        splitter = self.parentWidget()
        if not isinstance(splitter, QSplitter):
            return
        sizes = splitter.sizes()
        index = splitter.indexOf(self)
        total = sum(sizes)
        wanted = min(int(total * DETAILS_SHARE), total - TABLE_KEEPS_PX)
        if index < 0 or total <= 0 or sizes[index] >= wanted:
            return
        # The other panes share what is left in their present proportions.
        left, before = total - wanted, max(total - sizes[index], 1)
        splitter.setSizes(
            [wanted if i == index else size * left // before for i, size in enumerate(sizes)]
        )

    def show_record(self, record: JobRecord | None) -> None:
        """Show a job (or nothing); nothing shown yet and nothing to show builds nothing."""
        if record is None and self._details is None:
            return
        self.details.show_record(record)
        self.details.set_wait_note(None if record is None else self.wait_note(record))

    def refresh_wait_note(self) -> None:
        """``wait_note`` may say something else now: the job shown says it."""
        record = self.record
        if record is not None:
            self.details.set_wait_note(self.wait_note(record))
