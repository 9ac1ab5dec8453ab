"""The main window: templates | request | jobs, menus, file handling, settings, and submitting."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtWidgets
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.core.errors import ConsoleError
from gui.core.files import write_text_atomic
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.profiles.secrets import SecretStore, reveal_listener_token_in_body
from gui.core.records import JobRecord, JobState
from gui.core.redact import redact_registered, redact_text
from gui.core.storage.templates import Template, TemplateStore, find_secrets
from gui.core.targets import SANDBOX_PROFILE, Target
from gui.ui.bridge import ENGINE_READY, ENGINE_STARTING, EngineBridge, EngineLike
from gui.ui.jobs import actions as acts
from gui.ui.jobs.model import job_span_ms
from gui.ui.jobs.style import format_duration_ms
from gui.ui.profiles.target_selection import TargetSelection
from gui.ui.request.drafts import mentions_secret
from gui.ui.request.panel import RequestPanel
from gui.ui.request.secret_move import SecretMover
from gui.ui.request.templates_panel import TemplatesPanel
from gui.ui.request.text.editor import local_paths
from gui.ui.tasks import run_in_background
from gui.ui.window.engine_bar import EngineBar
from gui.ui.window.jobs_area import JobsArea
from gui.ui.window.menus import add_menu_action, install_desktop
from gui.ui.window.window_state import restore_window_state, save_window_state

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtGui import QCloseEvent

    from gui.ui.profiles.local_worker import LocalWorkerPanel
    from gui.ui.request.batch_dialog import BatchDialog
    from gui.ui.request.data_run import DataRunDialog, DataRunSource

__all__ = ["APP_TITLE", "MainWindow"]

APP_TITLE = "RunPod Job Console"
ENGINE_WAIT_TEXT = "Starting engine…"
"""Submit's text while a request waits for the engine to start."""
_DEFAULT_TEXT = '{\n  "input": {\n    "prompt": "Hello"\n  }\n}\n'


class MainWindow(QMainWindow):
    """The console's window. ``engine`` is started and owned: closing the window closes it.

    The window talks to it through its one ``bridge`` (``gui.ui.bridge``), which it hands to the
    panels that need it.
    """

    def __init__(
        self,
        data_dir: Path,
        engine: EngineLike,
        parent: QWidget | None = None,
        *,
        profiles: ProfileStore | None = None,
        secrets: SecretStore | None = None,
        profile: str | None = None,
        restart: Callable[[], EngineLike] | None = None,
    ) -> None:
        """``restart`` makes a new engine for ``data_dir`` when the first one stopped or hangs
        (the engine bar's Restart engine)."""
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.engine: EngineLike | None = engine  # None once closed
        # None once closed.
        self.bridge: EngineBridge | None = EngineBridge(engine, self, restart=restart)
        self.profiles = profiles
        self.secrets = secrets
        self.settings = QSettings(str(self.data_dir / "window.ini"), QSettings.Format.IniFormat)
        self.file_path: Path | None = None
        self.current_template: str | None = None
        self.batch_dialog: BatchDialog | None = None
        self.data_run_dialog: DataRunDialog | None = None
        self._selection_at_submit: frozenset[str] = frozenset()  # see _on_engine_submitted
        # The submitted job whose state the status bar tells: (local id, state, message shown).
        self._followed_job: tuple[str, JobState, str] | None = None
        self.store = TemplateStore(self.data_dir)
        self.store.install_examples()

        self.request = RequestPanel(self)
        self.templates = TemplatesPanel(self.store, self)
        self.jobs_area = JobsArea(self.bridge, self.data_dir, secrets, self)
        self.jobs_panel = self.jobs_area.jobs_panel
        self.engine_bar = EngineBar(self.bridge, self)
        self._submits_waiting = 0  # sent while the engine was not ready, not answered yet
        self._engine_words_shown = ""  # the status bar's last words about the engine
        self.targets = TargetSelection(self.request.profile_selector, profiles, self.bridge, self)
        self.secret_mover = SecretMover(self.request, profiles, self)
        # Built when a profile first needs a worker started here (see local_worker).
        self._local_worker: LocalWorkerPanel | None = None
        self.local_worker_dock: QtWidgets.QDockWidget | None = None
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        jobs_side = QWidget(self)  # the engine's bar over the jobs
        jobs_layout = QVBoxLayout(jobs_side)
        jobs_layout.setContentsMargins(0, 0, 0, 0)
        jobs_layout.setSpacing(4)
        jobs_layout.addWidget(self.engine_bar)
        jobs_layout.addWidget(self.jobs_area, 1)
        for widget in (self.templates, self.request, jobs_side):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setStretchFactor(2, 3)
        self.setCentralWidget(self.splitter)
        self.setAcceptDrops(True)
        self.splitter.setContentsMargins(6, 6, 6, 0)
        self._build_menus()
        self.statusBar().showMessage("Ready", 3000)
        self._connect()
        self.request.set_submit_blocker(None)
        restore_window_state(self, _DEFAULT_TEXT)
        self.desktop = install_desktop(self)  # View, Webhooks, Help; listener status; hints
        self.reload_s3_sets()
        self._update_title()
        chosen = profile or str(self.settings.value("request/profile", SANDBOX_PROFILE))
        # Resolving the target starts the sandbox now: the health strip and the first Submit
        # don't wait for it.
        QTimer.singleShot(0, lambda: self.targets.reload(select=chosen))

    # -- building --------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        standard = QKeySequence.StandardKey
        file_menu = bar.addMenu("&File")
        add_menu_action(self, file_menu, "&New request", self.new_request, standard.New)
        add_menu_action(self, file_menu, "&Open…", self.open_with_dialog, standard.Open)
        add_menu_action(self, file_menu, "&Save", self.save, standard.Save)
        add_menu_action(self, file_menu, "Save &As…", self.save_as, QKeySequence("Ctrl+Shift+S"))
        file_menu.addSeparator()
        add_menu_action(self, file_menu, "Save as &Template…", self.save_template_with_dialog)
        add_menu_action(self, file_menu, "&Import Templates…", self.templates.import_with_dialog)
        add_menu_action(self, file_menu, "&Export Template…", self.templates.export_with_dialog)
        file_menu.addSeparator()
        add_menu_action(self, file_menu, "&Quit", self.close, standard.Quit)

        edit_menu = bar.addMenu("&Edit")
        editor = self.request.editor
        self.undo_action = add_menu_action(self, edit_menu, "&Undo", editor.undo, standard.Undo)
        self.redo_action = add_menu_action(self, edit_menu, "&Redo", editor.redo, standard.Redo)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        editor.undoAvailable.connect(self.undo_action.setEnabled)
        editor.redoAvailable.connect(self.redo_action.setEnabled)
        edit_menu.addSeparator()
        self.format_action = add_menu_action(
            self, edit_menu, "&Format JSON", self.request.format_text, QKeySequence("Ctrl+Shift+F")
        )

        request_menu = bar.addMenu("&Request")
        self.submit_action = add_menu_action(
            self, request_menu, "&Submit", self.request.request_submit, QKeySequence("Ctrl+Return")
        )
        self.data_run_action = add_menu_action(
            self, request_menu, "Run with &Data…", self.run_with_data, QKeySequence("Ctrl+Shift+D")
        )
        request_menu.addSeparator()
        self.profiles_action = add_menu_action(self, request_menu, "&Profiles…", self.open_profiles)
        self.profiles_action.setEnabled(self.profiles is not None and self.secrets is not None)
        # Ctrl+Enter on the keypad too.
        self.submit_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.submit_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def _connect(self) -> None:
        request = self.request
        request.sig_submit_requested.connect(self._on_request_submit_requested)
        request.sig_template_submit_requested.connect(self._on_request_submit_requested)
        request.sig_batch_requested.connect(self._on_request_batch_requested)
        request.sig_data_run_requested.connect(self.run_with_data)
        request.sig_file_loaded.connect(self._on_request_file_loaded)
        request.sig_status_message_requested.connect(self._on_status_message_requested)
        request.editor.document().modificationChanged.connect(self.setWindowModified)
        self.templates.sig_template_open_requested.connect(self._on_templates_open_requested)
        self.templates.sig_save_requested.connect(self.save_template_with_dialog)
        self.templates.sig_status_message_requested.connect(self._on_status_message_requested)
        self.jobs_area.sig_resubmit_requested.connect(self._on_jobs_resubmit_requested)
        self.jobs_area.sig_status_message_requested.connect(self._on_status_message_requested)
        self.jobs_area.sig_listener_url_changed.connect(self.request.options.set_listener_url)
        self.targets.sig_target_changed.connect(self._on_targets_target_changed)
        self.targets.sig_profile_changed.connect(self._on_targets_profile_changed)
        self.targets.sig_problem_reported.connect(self.request.show_problem)
        if self.bridge is not None:
            self.bridge.sig_jobs_changed.connect(self._on_bridge_jobs_changed)
            self.bridge.sig_engine_replaced.connect(self._on_bridge_engine_replaced)
            self.bridge.sig_engine_state_changed.connect(self._on_bridge_engine_state_changed)
        job_actions = self.jobs_panel.job_actions
        job_actions[acts.RERUN_ROWS].triggered.connect(self.rerun_failed_rows)
        job_actions[acts.EXPORT_ROWS].triggered.connect(lambda: self.export_data_run_results())

    @property
    def local_worker(self) -> LocalWorkerPanel:
        """The panel that starts a local worker (``handler.py --rp_serve_api``), in a dock under
        the window; built when first needed."""
        if self._local_worker is None:
            from gui.ui.profiles.local_worker import (
                LocalWorkerPanel,  # not at start: it is rarely used
            )

            panel = LocalWorkerPanel(self)
            panel.sig_worker_ready.connect(self.targets.worker_ready)
            panel.sig_worker_stopped.connect(self.targets.worker_stopped)
            dock = QtWidgets.QDockWidget("Local worker", self)
            dock.setObjectName("localWorkerDock")
            dock.setWidget(panel)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            dock.hide()
            self._local_worker, self.local_worker_dock = panel, dock
        return self._local_worker

    def _on_status_message_requested(self, message: str, timeout_ms: int) -> None:
        self.statusBar().showMessage(message, timeout_ms)

    def _update_title(self) -> None:
        name = self.file_path.name if self.file_path is not None else "Untitled request"
        self.setWindowTitle(f"{name}[*] — {APP_TITLE}")

    # -- files -----------------------------------------------------------------------------

    def new_request(self) -> None:
        self.file_path = None
        self.current_template = None
        self._update_placeholder_context()
        self.request.set_text(_DEFAULT_TEXT)
        self.request.editor.document().setModified(False)
        self._update_title()

    def open_with_dialog(self) -> None:
        start = str(self.file_path.parent if self.file_path else Path.home())
        chosen, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open request", start, "JSON requests (*.json);;All files (*)"
        )
        if chosen:
            self.open_path(Path(chosen))

    def open_path(self, path: Path) -> None:
        """Open a request file as the document (read off the Qt thread; undoable)."""
        self.request.load_file(path, as_document=True)

    def _on_request_file_loaded(self, path: Path) -> None:
        self.file_path = path
        self.current_template = None
        self._update_title()
        self._update_placeholder_context()

    def source_path(self) -> Path | None:
        """The open template's file, or the request's: relative ``{{file:...}}`` are beside it."""
        if self.current_template is not None and self.store.exists(self.current_template):
            try:
                return self.store.get(self.current_template).path
            except ConsoleError:
                pass
        return self.file_path

    def _update_placeholder_context(self) -> None:
        """Placeholders are filled with the selected profile's variables, files found beside the
        request's file."""
        variables: dict[str, str] = {}
        if self.profiles is not None:
            try:
                variables = self.profiles.variables(self.targets.selected_name())
            except (ConsoleError, OSError, ValueError) as exc:
                self.request.show_problem(f"The profile's variables could not be read: {exc}")
        self.request.set_placeholder_context(variables, self.source_path())

    def save(self) -> bool:
        if self.file_path is None:
            return self.save_as()
        return self.save_to(self.file_path)

    def save_as(self) -> bool:
        start = str(self.file_path or Path.home() / "request.json")
        chosen, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save request", start, "JSON (*.json)"
        )
        return self.save_to(Path(chosen)) if chosen else False

    def save_to(self, path: Path) -> bool:
        """Write the editor's text to ``path`` (atomically); it becomes the document's file.

        A request holding a secret is not written: its S3 secret can move into the keyring first.
        """
        body = self.request.current_body()
        body = None if body is None else redact_registered(body)
        if body is None and mentions_secret(self.request.text()):
            self.request.show_problem(
                "The file was not saved: the text may hold a secret and isn't valid JSON yet, so "
                "it can't be checked. Fix the JSON, then save again."
            )
            return False
        if (
            body is not None
            and find_secrets(body)
            and self.secret_mover.without_secrets(body, "saved") is None
        ):
            return False
        try:
            # The listener's token (in a webhook URL) is written as its keyring reference.
            write_text_atomic(path, redact_text(self.request.text()))
        except OSError as exc:
            self.request.show_problem(f"Could not save {path}: {exc.strerror or exc}")
            return False
        self.file_path = path
        self.request.editor.document().setModified(False)
        self._update_title()
        self._update_placeholder_context()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    # -- templates -------------------------------------------------------------------------

    def _on_templates_open_requested(self, template: Template) -> None:
        # The template keeps the listener's token as its reference: the editor shows the real URL.
        body = reveal_listener_token_in_body(template.body, self.secrets)
        self.request.load_body(body, template.operation)
        self.current_template = template.name
        self._update_placeholder_context()
        self.settings.setValue("templates/last", template.name)
        self.statusBar().showMessage(f"Opened template {template.name!r}.", 5000)

    def save_template_with_dialog(self) -> None:
        body = self._checked_body("save it as a template")
        if body is None:
            return
        from gui.ui.request.template_dialog import TemplateDetailsDialog  # on first use

        # It starts empty: filled with the last template's name, saving as it stood replaced it.
        dialog = TemplateDetailsDialog(
            self, operation=self.request.operation(), existing=self.store.names()
        )
        if dialog.exec() == TemplateDetailsDialog.DialogCode.Accepted:
            name, description = dialog.values()
            self.save_as_template(name, body, description)

    def save_as_template(
        self, name: str, body: dict[str, Any] | None = None, description: str = ""
    ) -> Template | None:
        """Save the request (or ``body``) as a template; a body holding a secret is refused."""
        body = body if body is not None else self._checked_body("save it as a template")
        if body is None:
            return None
        body = redact_registered(body)  # the listener's token is kept as its reference
        if find_secrets(body):
            body = self.secret_mover.without_secrets(body, "saved as a template")
            if body is None:
                return None
        template = self.templates.save_template(name, body, self.request.operation(), description)
        if template is not None:
            self.current_template = template.name
            self._update_placeholder_context()
            self.settings.setValue("templates/last", template.name)
        return template

    def _checked_body(self, purpose: str) -> dict[str, Any] | None:
        checked = self.request.validation.current is not None
        body = self.request.current_body() if checked else None
        if body is None:
            self.request.show_problem(f"The request is not a JSON object yet: fix it to {purpose}.")
        return body

    # -- jobs ------------------------------------------------------------------------------

    def _on_jobs_resubmit_requested(self, body: dict[str, Any], operation: str) -> None:
        self.request.load_body(body, operation)
        self.statusBar().showMessage("The job's request is in the editor; Submit sends it.", 5000)

    def _on_targets_target_changed(self, target: Target | None) -> None:
        profile = self.targets.selected_profile()
        management_url = profile.management_url if profile is not None else ""
        self.jobs_area.set_target(target, management_url)
        self.request.options.set_cloud_target(target is not None and target.kind == "cloud")
        self.request.set_target_reaches_local(target is not None and target.kind != "cloud")

    def _on_targets_profile_changed(self, profile: Profile | None) -> None:
        self._update_placeholder_context()
        needs_worker = profile is not None and profile.needs_launch
        if self._local_worker is None and not needs_worker:
            return
        self.local_worker.set_profile(profile)
        assert self.local_worker_dock is not None
        self.local_worker_dock.setVisible(needs_worker)

    def reload_s3_sets(self) -> None:
        """Offer the saved S3 credential sets in the form."""
        if self.profiles is None:
            return
        try:
            self.request.options.set_s3_sets(self.profiles.s3_sets())
        except (ConsoleError, OSError, ValueError) as exc:
            self.request.show_problem(f"The S3 credential sets could not be read: {exc}")

    def open_profiles(self) -> None:
        """The profiles dialog; the selector follows its changes."""
        if self.profiles is None or self.secrets is None:
            return
        # Imported when first opened: with it come httpx and the connection check.
        from gui.ui.profiles.dialog import ProfilesDialog

        dialog = ProfilesDialog(self.profiles, self.secrets, self, bridge=self.bridge)
        dialog.sig_profiles_changed.connect(self.targets.reload)
        dialog.sig_s3_sets_changed.connect(self.reload_s3_sets)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _on_request_submit_requested(
        self, body: dict[str, Any], operation: str, origin: dict[str, Any] | None = None
    ) -> None:
        bridge = self.bridge
        if bridge is None:
            return
        template = self.current_template
        self._selection_at_submit = self.jobs_panel.selection_mark()
        self.statusBar().showMessage(f"Submitting to /{operation}…", 0)

        def send(target: Target) -> None:
            # Sent at once: an engine still starting takes it when ready. Until it answers,
            # Submit says it waits for the engine.
            waits = bridge.engine_state != ENGINE_READY
            future = bridge.submit(target, body, operation, template=template, origin=origin)
            if waits:
                self._submits_waiting += 1
                self.request.set_submit_busy(ENGINE_WAIT_TEXT)
            bridge.deliver(
                future,
                lambda record: self._on_engine_submitted(record, waited=waits),
                lambda error: self._on_engine_submit_failed(error, waited=waits),
            )

        self.targets.with_target(send)

    def _submit_answered(self, waited: bool) -> None:
        if waited:
            self._submits_waiting -= 1
            if self._submits_waiting == 0:
                self.request.set_submit_busy(None)

    def _on_engine_submit_failed(self, error: BaseException, *, waited: bool = False) -> None:
        self._submit_answered(waited)
        self.request.show_problem(f"The request was not submitted: {error}")

    def _on_engine_submitted(self, record: JobRecord, *, waited: bool = False) -> None:
        self._submit_answered(waited)
        if record.state == JobState.NOT_SENT:
            # The note says what happened in a whole sentence ("Not sent: ..."): no prefix again.
            self.request.show_problem(record.note or "The request was not sent: no answer came.")
        else:
            # Its output shows below the table: selected, unless another job was chosen since.
            panel = self.jobs_panel
            panel.reveal_new_job(record.local_id, self._selection_at_submit)
            # Its later states may have come first (the bridge and this answer race).
            latest = panel.latest_record(record.local_id)
            if latest is not None and len(latest.history) > len(record.history):
                record = latest
            self._show_job_state(record, submitted=True)

    def _show_job_state(self, record: JobRecord, *, submitted: bool = False) -> None:
        """The submitted job's state in the status bar, kept up to date until it ends."""
        name = record.job_id or record.local_id
        if record.terminal:
            took = job_span_ms(record)
            message = f"Job {name} {record.state.value}" + (
                f" in {format_duration_ms(took)}" if took is not None else ""
            )
            self._followed_job = None
            self.statusBar().showMessage(message, 10_000)
            return
        message = f"Job {name} {'submitted: ' if submitted else ''}{record.state.value}"
        self._followed_job = (record.local_id, record.state, message)
        self.statusBar().showMessage(message, 0)

    def _on_bridge_engine_replaced(self) -> None:
        if self.bridge is not None:
            self.engine = self.bridge.engine  # the window closes this one now

    def _on_bridge_engine_state_changed(self, state: str, words: str) -> None:
        if state != ENGINE_READY:
            self.statusBar().showMessage(words, 0 if state != ENGINE_STARTING else 5000)
        elif self.statusBar().currentMessage() == self._engine_words_shown:
            self.statusBar().clearMessage()
        self._engine_words_shown = words

    def _on_bridge_jobs_changed(self, records: list[JobRecord]) -> None:
        followed = self._followed_job
        if followed is None:
            return
        local_id, state, shown = followed
        record = next((r for r in reversed(records) if r.local_id == local_id), None)
        if record is None or record.state == state:
            return
        if self.statusBar().currentMessage() not in (shown, ""):
            # Another message has the bar (a problem, a file saved): it stays.
            if record.terminal:
                self._followed_job = None
            return
        self._show_job_state(record)

    def _on_request_batch_requested(self, paths: list[Path]) -> None:
        operation = self.request.operation()
        bridge = self.bridge
        if bridge is None:  # closed
            return

        def submitter(target: Target) -> None:
            self._open_batch(
                paths,
                operation,
                lambda body, origin: bridge.submit(target, body, operation, origin=origin),
            )

        self.targets.with_target(submitter)

    def _open_batch(self, paths: list[Path], operation: Any, submit: Any) -> None:
        previous = self.batch_dialog
        if previous is not None and not previous.isVisible() and not previous.busy:
            previous.deleteLater()  # one finished batch at a time is kept
        from gui.ui.request.batch_dialog import BatchDialog  # first batch only: it brings pydantic

        variables = self.request.variables
        self.batch_dialog = BatchDialog(paths, operation, submit, self, variables=variables)
        self.batch_dialog.open()

    def run_with_data(self, data: Path | None = None) -> None:
        """*Run with data…*: the editor's request once per row of ``data`` (picked when None),
        through the preview dialog."""
        from gui.ui.request.data_run import DATA_FILE_FILTER, DataRunSource  # on first use

        if self.request.restoring:
            self.statusBar().showMessage("The saved request is still loading: try again.", 5000)
            return
        if data is None:
            start = self.settings.value("dataRun/folder", str(Path.home()))
            chosen, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Run with data", str(start), DATA_FILE_FILTER
            )
            if not chosen:
                return
            data = Path(chosen)
            self.settings.setValue("dataRun/folder", str(data.parent))
        source = DataRunSource(self.request.text(), self.source_path(), self.request.operation(),
                               self.request.variables, data.absolute())  # fmt: skip
        self.open_data_run(source)

    def open_data_run(self, source: DataRunSource) -> None:
        """The data run's dialog, sending to the selected target."""
        bridge = self.bridge
        if bridge is None:
            return
        template = self.current_template

        def opened(target: Target) -> None:
            from gui.ui.request.data_run import DataRunDialog

            def submit(body: dict[str, Any], origin: dict[str, Any]) -> Any:
                return bridge.submit(target, body, source.operation, template=template,
                                     origin=origin)  # fmt: skip

            previous = self.data_run_dialog
            if previous is not None and not previous.isVisible() and not previous.busy:
                previous.deleteLater()  # one finished run at a time is kept
            self.data_run_dialog = DataRunDialog(source, submit, self)
            self.data_run_dialog.open()

        self.targets.with_target(opened)

    def _with_data_run_of_selection(
        self, history: Path | None, then: Callable[[DataRunSource], None]
    ) -> None:
        """``then(source)`` with the data run of the selected job, once its whole record (its
        origin: template, variables, data file) is read; the table's rows are light."""
        records = self.jobs_panel.selected_records()
        if len(records) != 1:
            self.statusBar().showMessage("Select one job made by a data run first.", 5000)
            return
        self.jobs_panel.with_whole_records(
            records, lambda whole: self._on_whole_job_for_data_run(whole, history, then)
        )

    def _on_whole_job_for_data_run(
        self,
        records: list[JobRecord],
        history: Path | None,
        then: Callable[[DataRunSource], None],
    ) -> None:
        from gui.ui.request.data_run import source_of_job

        source = source_of_job(records[0], self.request.variables, history) if records else None
        if source is None:
            self.statusBar().showMessage("Select one job made by a data run first.", 5000)
            return
        # The history keeps the listener's token as its reference: the request gets the real URL.
        body = reveal_listener_token_in_body(json.loads(source.text), self.secrets)
        then(replace(source, text=json.dumps(body, indent=2, ensure_ascii=False) + "\n"))

    def rerun_failed_rows(self) -> None:
        """*Rerun failed rows…* of the selected job's data run: the rows whose last job FAILED or
        TIMED_OUT, with the data file as it is now, through the preview dialog."""
        self._with_data_run_of_selection(self.data_dir / "jobs.sqlite3", self.open_data_run)

    def export_data_run_results(self, out: Path | None = None) -> None:
        """One line per row of the selected job's data run (values, status, output) to ``out``
        (asked for when None), written off the Qt thread."""
        self._with_data_run_of_selection(None, lambda source: self._export_results(source, out))

    def _export_results(self, source: DataRunSource, out: Path | None) -> None:
        from gui.ui.request.data_run import RESULTS_FILTER, export_results

        if out is None:
            start = source.data.with_name(f"{source.data.stem}-results.csv")
            chosen, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Export data run results", str(start), RESULTS_FILTER
            )
            if not chosen:
                return
            out = Path(chosen)
        history = self.data_dir / "jobs.sqlite3"
        bar = self.statusBar()
        bar.showMessage(f"Exporting the results of {source.data.name}…", 0)

        def done(counts: dict[str, int]) -> None:
            states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            bar.showMessage(f"Exported {sum(counts.values())} row(s) ({states}) to {out}.", 10_000)

        def failed(error: BaseException) -> None:
            self.request.show_problem(f"The results were not exported: {error}")

        run_in_background(lambda: export_results(source, history, out), done, failed, context=self)

    # -- settings and closing --------------------------------------------------------------

    # Files dropped anywhere on the window (not only on the editor) open the same way.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.request.open_dropped(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        from gui.ui.window import quit_guard  # loaded when needed, not on the start

        if not quit_guard.may_quit(self, self.bridge):
            event.ignore()
            return
        save_window_state(self)
        self.request.validation.close()
        if self._local_worker is not None:
            self._local_worker.shutdown()
        self.targets.bridge = None  # nothing may ask the closed engine for a target
        self.jobs_area.shutdown()
        if self.bridge is not None:
            self.bridge.kill_hung_engine()  # closing it would wait for its answer
            self.bridge.close()  # no answer of the engine is delivered any more
            self.bridge = None
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        super().closeEvent(event)
