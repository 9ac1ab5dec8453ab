"""The jobs side of the window: toolbar, filters with counts, ``jobTable``, ``jobDetails``, health.

``JobsPanel(bridge, data_dir=...)`` is one widget the main window embeds. It asks the main window
for two things through signals: put a request into the editor (``sig_resubmit_requested``) and show
a status bar message (``sig_status_message_requested``). The search field and the status toggles
reach the table through ``apply_query``, a saved view's sort through ``apply_sort``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QGuiApplication,
    QHideEvent,
    QPalette,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMenu,
    QSplitter,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.core.errors import SearchInvalid
from gui.core.records import JobRecord, JobState
from gui.core.redact import redact_body
from gui.core.targets import SANDBOX_ENDPOINT_ID, SANDBOX_PROFILE, Target
from gui.core.wording import counted
from gui.ui.bridge import EngineBridge
from gui.ui.jobs import actions as acts
from gui.ui.jobs.actions import JobActions
from gui.ui.jobs.cells import SORTABLE
from gui.ui.jobs.details.pane import DetailsPane
from gui.ui.jobs.filters import StatusFilterBar
from gui.ui.jobs.health import HealthStrip
from gui.ui.jobs.model import RECORD_ROLE, JobColumn, JobTableModel
from gui.ui.jobs.notify import JobFinishedNotifier, notifications_enabled, set_notifications_enabled
from gui.ui.jobs.saved_views import SavedViewsMenu
from gui.ui.jobs.waiting import WaitDiagnoses
from gui.ui.tasks import Latest, run_in_background

if TYPE_CHECKING:
    from gui.core.storage.history import JobQuery, SavedView, SortKey
    from gui.ui.jobs.details.view import JobDetails

__all__ = ["APPLY_BUDGET_MS", "JobsPanel"]

APPLY_BUDGET_MS = 8.0  # Qt-thread time per event-loop turn spent applying job changes
APPLY_CHUNK = 16  # changes applied between two looks at the clock (~8 ms at worst, measured)

# The id (elided in the middle: ids differ at both ends), target and status leave room for the
# times in the jobs side of a 1024-pixel window.
_COLUMN_WIDTHS = {
    JobColumn.JOB_ID: 170,
    JobColumn.TARGET: 80,
    JobColumn.STATUS: 115,
    JobColumn.SUBMITTED: 80,
    JobColumn.QUEUE_TIME: 80,
    JobColumn.RUN_TIME: 80,
    JobColumn.WORKER: 120,
    JobColumn.WEBHOOK: 80,
    JobColumn.TEMPLATE: 110,
    JobColumn.ROW: 80,
    JobColumn.COST: 70,
}
# The header's column for each sort (by SortKey's value); the finish time has none: the
# submission order is the closest.
_SORT_COLUMNS = {column.name.lower(): column for column in JobColumn} | {
    "finished": JobColumn.SUBMITTED
}


def _cost_words() -> str:
    from gui.core.account.cost import LEAVES_OUT

    return (
        "The estimated cost is the sum over the jobs the search and the status toggles show "
        "(search template:NAME or row:N for one template or data run). " + LEAVES_OUT
    )


class _JobTable(QTableView):
    """The job table; it says when it changes size (other rows are then on screen)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A viewport made here, so Python knows it: the one Qt makes would be handed over through
        # PySide6's type discovery, which sets up some 70 Qt classes at its first use (8 ms of
        # the window's start, for the first-run hint laid over it).
        viewport = QWidget(self)
        viewport.setBackgroundRole(QPalette.ColorRole.Base)
        viewport.setAutoFillBackground(True)
        self.setViewport(viewport)

    sig_resized: Signal = Signal()
    """The table changed size: other rows are on screen."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.sig_resized.emit()


class JobsPanel(QWidget):
    """Follows every job through the bridge; acts on the selected ones."""

    sig_resubmit_requested: Signal = Signal(dict, str)
    """Put this request body and operation (``"run"``/``"runsync"``) into the editor."""

    sig_status_message_requested: Signal = Signal(str, int)
    """Show a message in the main window's status bar (text, timeout in ms; 0 keeps it)."""

    def __init__(
        self, bridge: EngineBridge, parent: QWidget | None = None, *, data_dir: Path | None = None
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._target: Target | None = None
        self._management_url = ""
        # The table reads the history file; it shows what the engine announced once committed.
        self.model = JobTableModel(bridge.history_path, self, commit_wait=bridge.flush)
        self.job_actions = JobActions(self)
        self.saved_views = SavedViewsMenu(data_dir, self._current_view, self)
        self.toolbar = self._build_toolbar()
        self.filters = StatusFilterBar(self)
        self.filters.sig_states_changed.connect(self._on_filters_changed)
        self.filters.text.sig_query_changed.connect(self._on_filters_changed)
        # What a reset of the model keeps: (the job at the top, or None at the top; selected).
        self._kept: tuple[str | None, list[str]] = (None, [])
        self._restoring = False
        self._details_latest = Latest()  # the whole record of the job selected last
        self.table = self._build_table()
        self.model.followed = self._followed_jobs
        self.details_pane = DetailsPane(self)
        self.waiting = WaitDiagnoses(bridge, self.model.shown_records, self._target_of, self)
        self.model.wait_note = self.details_pane.wait_note = self.waiting.note_for
        self.waiting.sig_changed.connect(self._on_waiting_changed)
        self.health = HealthStrip(bridge, self)
        self.health.sig_status_message_requested.connect(self.sig_status_message_requested)
        self.saved_views.sig_status_message_requested.connect(self.sig_status_message_requested)
        self.saved_views.sig_view_chosen.connect(self._on_saved_views_view_chosen)
        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("jobCounts")
        self.counts_label.setContentsMargins(6, 0, 6, 2)
        # A long line (every state, the cost) wraps rather than widening the jobs side: unwrapped,
        # its width became the side's minimum and squeezed the request side's target bar.
        self.counts_label.setWordWrap(True)
        self.notifier = JobFinishedNotifier(self, self)
        # A job just submitted, to select once it is in the table (see ``reveal_new_job``).
        self._revealing: tuple[str, frozenset[str]] | None = None
        # Changes from the bridge wait here (latest per job) until applied within a time budget.
        self._incoming: dict[str, JobRecord] = {}
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(0)
        self._apply_timer.timeout.connect(self._apply_incoming)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.setObjectName("jobsSplitter")
        splitter.addWidget(self.table)
        splitter.addWidget(self.details_pane)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.health)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.filters)
        layout.addWidget(self.filters.text.problem_label)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.counts_label)
        self._connect()
        self.model.start()  # the count and the first page, read off the Qt thread
        # The engine may still be starting (the window shows first): its open jobs then.
        bridge.when_started(self._on_bridge_started, self._on_bridge_start_failed)
        bridge.sig_engine_replaced.connect(self._on_bridge_engine_replaced)
        self._on_model_counts_changed()
        self._on_selection_changed()

    @property
    def details(self) -> JobDetails:
        """The selected job's details (built on first need: see ``DetailsPane``)."""
        return self.details_pane.details

    def _on_bridge_started(self) -> None:
        # The unfinished jobs the engine holds: the model shows their newest records.
        self.model.apply_changes(self.bridge.snapshot())
        self.model.request_refresh()

    def _on_bridge_engine_replaced(self) -> None:
        # The new engine adopts the old one's unfinished jobs: read them again once it started.
        self.bridge.when_started(self._on_bridge_started, self._on_bridge_start_failed)

    def _on_bridge_start_failed(self, message: str) -> None:
        self.sig_status_message_requested.emit(message, 0)

    # -- building ----------------------------------------------------------------------------------
    def _build_toolbar(self) -> QToolBar:
        bar = QToolBar(self)
        bar.setObjectName("jobToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for key in (acts.CANCEL, acts.RETRY, acts.RESUBMIT_EDITOR, acts.RESUBMIT_TARGET):
            bar.addAction(self.job_actions[key])
        bar.addSeparator()
        for key, text, group in (
            ("copy", "Copy", (acts.COPY_ID, acts.COPY_CURL, acts.COPY_PYTHON)),
            ("export", "Export", (acts.EXPORT_JSON, acts.EXPORT_CSV)),
            ("data_run", "Data run", (acts.RERUN_ROWS, acts.EXPORT_ROWS)),
        ):
            # A menu's own action, not a widget of ours: the toolbar makes its button, and when
            # the bar is too narrow it lists the menu in its » overflow menu (a widget added with
            # addWidget would just vanish from there).
            menu = QMenu(text, bar)
            menu.setIcon(self.job_actions[group[0]].icon())
            menu.menuAction().setObjectName(f"action_{key}_menu")
            for action_key in group:
                menu.addAction(self.job_actions[action_key])
            bar.addAction(menu.menuAction())
            button = bar.widgetForAction(menu.menuAction())
            if isinstance(button, QToolButton):
                button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
                button.setObjectName(f"{key}MenuButton")
        bar.addAction(self.job_actions[acts.REMOVE])
        bar.addSeparator()
        bar.addAction(self.saved_views.menu.menuAction())
        views_button = bar.widgetForAction(self.saved_views.menu.menuAction())
        if isinstance(views_button, QToolButton):
            views_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            views_button.setObjectName("viewsMenuButton")
            # Its icon alone: with its name, Notify would leave a 1540-pixel window's toolbar
            # for the » menu (which lists Views by name).
            views_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.notify_action = bar.addAction("Notify")
        self.notify_action.setCheckable(True)
        self.notify_action.setChecked(notifications_enabled())
        self.notify_action.setToolTip("Show a desktop notification when a job ends while away")
        self.notify_action.toggled.connect(set_notifications_enabled)
        return bar

    def _build_table(self) -> _JobTable:
        table = _JobTable(self)
        table.setObjectName("jobTable")
        table.setModel(self.model)
        table.setSortingEnabled(True)  # a header click calls the model's sort: SQL
        table.sortByColumn(JobColumn.SUBMITTED, Qt.SortOrder.DescendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # ids differ at both ends
        table.setShowGrid(False)
        table.verticalHeader().hide()
        # A fixed row height: the view never measures a million rows.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionsMovable(True)
        for column, width in _COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        # The cost beside the times, on screen in a 1540-pixel window; Row and Release (after
        # Template) are a scroll away until the person moves them.
        header.moveSection(
            header.visualIndex(JobColumn.COST), header.visualIndex(JobColumn.RUN_TIME) + 1
        )
        header.sortIndicatorChanged.connect(self._on_header_sort_indicator_changed)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        return table

    def _on_header_sort_indicator_changed(self, column: int, _order: Qt.SortOrder) -> None:
        """A click on a column SQL can't sort by (Row, Cost, Release): the indicator goes back to
        the sort the rows are in."""
        if 0 <= column < len(JobColumn) and JobColumn(column) not in SORTABLE:
            key, descending = self.model.sort_key, self.model.descending
            order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
            self.table.horizontalHeader().setSortIndicator(_SORT_COLUMNS[key.value], order)

    def _connect(self) -> None:
        self.bridge.sig_jobs_changed.connect(self._on_bridge_jobs_changed)
        self.bridge.sig_jobs_removed.connect(self._on_bridge_jobs_removed)
        self.bridge.sig_action_failed.connect(self._on_bridge_action_failed)
        self.model.sig_counts_changed.connect(self._on_model_counts_changed)
        self.model.sig_read_failed.connect(self._on_bridge_action_failed)
        self.model.modelAboutToBeReset.connect(self._on_model_about_to_be_reset)
        self.model.modelReset.connect(self._on_model_reset)
        self.table.verticalScrollBar().valueChanged.connect(self._report_visible_rows)
        self.table.sig_resized.connect(self._report_visible_rows)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu_requested)
        handlers = {
            acts.CANCEL: self.cancel_selected,
            acts.RETRY: self.retry_selected,
            acts.RESUBMIT_EDITOR: self.resubmit_into_editor,
            acts.RESUBMIT_TARGET: self.resubmit_to_target,
            acts.COPY_ID: self.copy_ids,
            acts.COPY_CURL: lambda: self.copy_snippet("curl"),
            acts.COPY_PYTHON: lambda: self.copy_snippet("python"),
            acts.REMOVE: self.remove_selected,
            acts.EXPORT_JSON: lambda: self._on_export_requested("json"),
            acts.EXPORT_CSV: lambda: self._on_export_requested("csv"),
        }
        for key, handler in handlers.items():
            self.job_actions[key].triggered.connect(handler)

    # -- public ------------------------------------------------------------------------------------
    def set_target(self, target: Target | None, management_url: str = "") -> None:
        """The target chosen in the profile selector (and its profile's management URL): the
        health strip follows it, and the diagnosis of its jobs that wait is asked there."""
        self._target, self._management_url = target, management_url
        self.health.set_target(target)
        self._on_selection_changed()

    def _target_of(self, profile: str) -> tuple[Target, str] | None:
        """Where to ask why a job of ``profile`` waits: the selected target, or the built-in
        sandbox (the engine knows its address); None for another profile."""
        if self._target is not None and self._target.name == profile:
            return self._target, self._management_url
        if profile == SANDBOX_PROFILE:
            return Target(SANDBOX_PROFILE, "sandbox", "", SANDBOX_ENDPOINT_ID), ""
        return None

    def _on_waiting_changed(self) -> None:
        self.model.wait_notes_changed()
        self.details_pane.refresh_wait_note()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.waiting.timer.start()  # looks at the rows on screen while the table is seen
        self.waiting.check()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.waiting.timer.stop()

    def apply_query(self, query: JobQuery) -> None:
        """Show the jobs ``query`` finds (the search and the status toggles together), in SQL."""
        self.model.set_query(query)

    def apply_sort(self, key: SortKey, descending: bool) -> None:
        """Sort the table by ``key`` (the header shows it)."""
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.table.sortByColumn(_SORT_COLUMNS[key.value], order)

    def current_sort(self) -> tuple[SortKey, bool]:
        """The table's sort now, as the header shows it: (key, descending)."""
        from gui.core.storage.history import SortKey

        header = self.table.horizontalHeader()
        name = JobColumn(header.sortIndicatorSection()).name.lower()
        key = SortKey(name) if name in SortKey._value2member_map_ else SortKey.SUBMITTED
        return key, header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder

    def selected_records(self) -> list[JobRecord]:
        """The selected jobs' rows as the table has them, in its order: light records (their
        request, output and history left out, ``JobTableModel``) unless the engine announced the
        job whole; ``with_whole_records`` reads them whole."""
        rows = self.table.selectionModel().selectedRows()
        records = [index.data(RECORD_ROLE) for index in sorted(rows, key=lambda i: i.row())]
        return [record for record in records if isinstance(record, JobRecord)]

    def with_whole_records(
        self, records: list[JobRecord], then: Callable[[list[JobRecord]], None]
    ) -> None:
        """``then(records)`` on the Qt thread with these jobs whole (read off the Qt thread when
        need be), those still in the history."""
        self.model.read_in_full([record.local_id for record in records], then, context=self)

    def latest_record(self, local_id: str) -> JobRecord | None:
        """The newest snapshot of a job the panel has (waiting to be applied, announced by the
        engine, or among the rows read)."""
        waiting = self._incoming.get(local_id) or self.model.latest(local_id)
        if waiting is not None:
            return waiting
        row = self.model.row_of(local_id)
        return None if row is None else self.model.record_at(row)

    def selection_mark(self) -> frozenset[str]:
        """The jobs selected now (local ids), for ``reveal_new_job``."""
        return frozenset(record.local_id for record in self.selected_records())

    def reveal_new_job(self, local_id: str, mark: frozenset[str]) -> None:
        """Select a job just submitted and scroll to it, now or when it reaches the table, unless
        the selection changed since ``mark`` (``selection_mark`` when it was submitted): then
        the person chose another job meanwhile, and keeps it."""
        self._revealing = (local_id, mark)
        self._reveal_if_here()

    def _reveal_if_here(self) -> None:
        if self._revealing is None:
            return
        local_id, mark = self._revealing
        if self.selection_mark() != mark:
            self._revealing = None
        elif self.model.row_of(local_id) is not None:
            self._revealing = None
            self.select_job(local_id)  # a job the filters hide stays hidden

    def select_job(self, local_id: str) -> bool:
        """Select a job's row and scroll to it; False when it is not among the rows read (not
        shown, filtered out, or far from the rows on screen)."""
        row = self.model.row_of(local_id)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.scrollTo(self.model.index(row, 0))
        return True

    # -- actions -----------------------------------------------------------------------------------
    def cancel_selected(self) -> None:
        for record in self.selected_records():
            if not record.terminal and record.job_id:
                self.bridge.request_cancel(record.local_id)

    def retry_selected(self) -> None:
        for record in self.selected_records():
            if record.state in acts.RETRYABLE_STATES and record.job_id:
                self.bridge.request_retry(record.local_id)

    def resubmit_into_editor(self) -> None:
        records = self.selected_records()
        if len(records) == 1:
            self.with_whole_records(records, self._resubmit_into_editor)

    def _resubmit_into_editor(self, records: list[JobRecord]) -> None:
        for record in records[:1]:
            self.sig_resubmit_requested.emit(redact_body(record.source_body), record.operation)

    def resubmit_to_target(self) -> None:
        """Send again: NOT_SENT jobs as themselves, the others to the chosen target (asking
        first when NOT_SENT jobs or several jobs are in the selection)."""
        self.with_whole_records(self.selected_records(), self._resubmit_to_target)

    def _resubmit_to_target(self, records: list[JobRecord]) -> None:
        target_name = self._target.name if self._target else None
        plan = acts.send_again_plan(records, target_name)
        if plan.total == 0:
            return
        if (plan.resend or plan.total > 1) and not self.confirm(
            "Send again", acts.resend_warning(plan, target_name)
        ):
            return
        for record in plan.resend:
            self.bridge.request_resend(record.local_id)
        if (target := self._target) is not None:
            for record in plan.resubmit:
                self.bridge.request_submit(
                    target, redact_body(record.request), record.operation, record.template,
                    record.origin,
                )  # fmt: skip
        self.sig_status_message_requested.emit(f"Sent {plan.total} job(s) again.", 4000)

    def copy_ids(self) -> None:
        ids = [record.job_id for record in self.selected_records() if record.job_id]
        if ids:
            QGuiApplication.clipboard().setText("\n".join(ids))
            self.sig_status_message_requested.emit(f"Copied {counted(len(ids), 'job id')}.", 3000)

    def copy_snippet(self, language: str) -> None:
        records = self.selected_records()
        if len(records) == 1:
            self.with_whole_records(records, lambda whole: self._copy_snippet(whole, language))

    def _copy_snippet(self, records: list[JobRecord], language: str) -> None:
        if not records:
            return
        record = records[0]
        target = self._target if self._target and self._target.name == record.profile else None
        from gui.core.storage.snippets import (  # on first use, not at start
            curl_snippet,
            python_snippet,
        )

        make = curl_snippet if language == "curl" else python_snippet
        QGuiApplication.clipboard().setText(make(record, target))
        self.sig_status_message_requested.emit(
            f"Copied the request as {'curl' if language == 'curl' else 'Python'}; "
            "set RUNPOD_API_KEY before running it.",
            4000,
        )

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        box = QtWidgets.QMessageBox  # a dialog's class, set up by PySide6 when first used
        answer = box.question(
            self,
            title,
            text,
            box.StandardButton.Yes | box.StandardButton.Cancel,
            box.StandardButton.Cancel,
        )
        return answer == box.StandardButton.Yes

    def remove_selected(self) -> None:
        records = self.selected_records()
        if not records:
            return
        n = len(records)
        text = f"Remove {counted(n, 'job')} from the history? Outputs are lost."
        if self.confirm("Remove from history", text):
            self.bridge.request_remove([record.local_id for record in records])

    def export_selected(self, path: Path, kind: str) -> None:
        """Write the selected jobs to ``path`` as ``"json"`` or ``"csv"`` (read whole and written
        off the Qt thread)."""
        self.with_whole_records(self.selected_records(), lambda got: self._export(got, path, kind))

    def _export(self, records: list[JobRecord], path: Path, kind: str) -> None:
        from gui.core.storage.export import export_csv, export_json  # on first use, not at start

        writer = export_json if kind == "json" else export_csv
        run_in_background(
            lambda: writer(records, path),
            lambda _: self.sig_status_message_requested.emit(
                f"Exported {counted(len(records), 'job')} to {path}.", 5000
            ),
            lambda error: self.sig_status_message_requested.emit(
                f"Could not export to {path}: {error}", 0
            ),
            context=self,
        )

    def _on_export_requested(self, kind: str) -> None:
        pattern = "JSON (*.json)" if kind == "json" else "CSV (*.csv)"
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export jobs", f"jobs.{kind}", pattern
        )
        if path:
            self.export_selected(Path(path), kind)

    # -- slots -------------------------------------------------------------------------------------
    def _on_filters_changed(self, *_changed: object) -> None:
        query = self.filters.text.query().with_states(self.filters.chosen_states())
        self.apply_query(query)

    def _current_view(self) -> tuple[str, SortKey, bool]:
        """What a saved view keeps of the table now; ``SearchInvalid`` when the search has a
        problem."""
        from gui.core.storage.history import search_with_states

        field = self.filters.text
        if field.problems():
            raise SearchInvalid(["the search has a problem: fix it first.", *field.problems()])
        search = search_with_states(field.text(), self.filters.chosen_states())
        return (search, *self.current_sort())

    def _on_saved_views_view_chosen(self, view: SavedView) -> None:
        self.filters.clear_states()
        self.filters.text.set_search(view.search)
        self.apply_sort(view.sort, view.descending)
        self.sig_status_message_requested.emit(f"Showing the view “{view.name}”.", 3000)

    def _on_bridge_jobs_changed(self, records: list[JobRecord]) -> None:
        for record in records:
            self._incoming[record.local_id] = record
        if not self._apply_timer.isActive():
            self._apply_incoming()

    def _apply_incoming(self) -> None:
        """Apply waiting changes in slices until ``APPLY_BUDGET_MS`` is spent; the rest goes on at
        the next turn of the event loop, so a burst of thousands never stalls painting and input."""
        started = time.perf_counter()
        shown = self.details_pane.record
        newest_shown: JobRecord | None = None
        while self._incoming:
            chunk = list(itertools.islice(self._incoming.values(), APPLY_CHUNK))
            for record in chunk:
                del self._incoming[record.local_id]
                if shown is not None and record.local_id == shown.local_id:
                    newest_shown = record
            self.notifier.jobs_finished(self.model.apply_changes(chunk))
            if (time.perf_counter() - started) * 1000.0 >= APPLY_BUDGET_MS:
                break
        if self._incoming:
            self._apply_timer.start()
        if newest_shown is not None:
            self.details_pane.show_record(newest_shown)
        self._reveal_if_here()
        self._refresh_actions()

    def _on_bridge_jobs_removed(self, local_ids: list[str]) -> None:
        for local_id in local_ids:
            self._incoming.pop(local_id, None)
        self.model.remove_jobs(local_ids)
        shown = self.details_pane.record
        if shown is not None and shown.local_id in set(local_ids):
            self.details_pane.show_record(None)

    def _on_bridge_action_failed(self, message: str) -> None:
        self.sig_status_message_requested.emit(message, 0)

    def _on_model_counts_changed(self) -> None:
        counts = self.model.state_counts()
        self.filters.set_counts(counts)
        total = sum(counts.values())
        parts = [f"{state.value} {counts[state]}" for state in JobState if state in counts]
        cost = self.model.cost_total
        if cost is not None and (cost.priced or cost.unpriced):
            parts.append(f"estimated {cost.text}")
        summary = " · ".join([counted(total, "job"), *parts])
        self.counts_label.setText(summary)
        self.counts_label.setToolTip(_cost_words() if cost is not None else "")

    def _on_selection_changed(
        self, _selected: QItemSelection | None = None, _deselected: QItemSelection | None = None
    ) -> None:
        if self._restoring:
            return
        records = self.selected_records()
        self._refresh_actions(records)
        if len(records) != 1:
            self._details_latest.drop()
            self.details_pane.show_record(None)
            return
        local_id = records[0].local_id
        whole = self._incoming.get(local_id) or self.model.latest(local_id)
        if whole is not None:  # announced by the engine: whole already
            self._details_latest.drop()
            self.details_pane.show_record(whole)
            return
        # A row is light: the job's output, request and history are read now, off the Qt thread.
        self.model.read_in_full(
            [records[0].local_id], self._on_whole_record_read, context=self,
            latest=self._details_latest,
        )  # fmt: skip

    def _on_whole_record_read(self, records: list[JobRecord]) -> None:
        selected = self.selected_records()
        if records and len(selected) == 1 and selected[0].local_id == records[0].local_id:
            self.details_pane.show_record(self._incoming.get(records[0].local_id, records[0]))

    # -- keeping the selection and the scroll position across resets ------------------------------
    def _top_row_job(self) -> str | None:
        """The job in the top row on screen; None at the very top (new jobs then show there:
        with the newest first, the top of the table stays the top, not the job that was there)."""
        top = self.table.rowAt(0)
        record = self.model.record_at(top) if top > 0 else None
        return None if record is None else record.local_id

    def _followed_jobs(self) -> tuple[str | None, list[str]]:
        return self._top_row_job(), [r.local_id for r in self.selected_records()]

    def _on_model_about_to_be_reset(self) -> None:
        current = self.model.record_at(self.table.currentIndex().row())
        selected = [r.local_id for r in self.selected_records()]
        if current is not None and current.local_id in selected:  # the current row first
            selected.remove(current.local_id)
            selected.insert(0, current.local_id)
        self._kept = (self._top_row_job(), selected)

    def _on_model_reset(self) -> None:
        """Rows moved (new jobs, a new sort or search): the same jobs stay selected and the top
        row on screen stays the same job (or the top stays the top; ``_top_row_job``)."""
        top, selected = self._kept
        model, table = self.model, self.table
        self._restoring = True
        try:
            row = None if top is None else model.position(top)
            if row is not None:
                table.scrollTo(model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
            elif top is None:
                table.scrollToTop()
            selection = QItemSelection()
            rows = [r for r in (model.position(i) for i in selected) if r is not None]
            for row in rows:
                selection.select(model.index(row, 0), model.index(row, model.columnCount() - 1))
            flags = QItemSelectionModel.SelectionFlag
            table.selectionModel().select(selection, flags.ClearAndSelect | flags.Rows)
            if rows:
                table.selectionModel().setCurrentIndex(model.index(rows[0], 0), flags.NoUpdate)
        finally:
            self._restoring = False
        if [r.local_id for r in self.selected_records()] != selected:
            self._on_selection_changed()
        self._report_visible_rows()
        self._reveal_if_here()

    def _report_visible_rows(self) -> None:
        first = self.table.rowAt(0)
        if first < 0:
            return
        last = self.table.rowAt(self.table.viewport().height() - 1)
        self.model.set_visible_rows(first, last if last >= 0 else self.model.rowCount() - 1)

    def _refresh_actions(self, records: list[JobRecord] | None = None) -> None:
        selection = self.selected_records() if records is None else records
        self.job_actions.update(selection, self._target.name if self._target else None)

    def _on_table_context_menu_requested(self, position: QPoint) -> None:
        menu = self.job_actions.context_menu(self)
        menu.popup(self.table.viewport().mapToGlobal(position))
