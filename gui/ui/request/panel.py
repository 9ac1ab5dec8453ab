"""The request side of the window: target bar, JSON editor and options form, diagnostics, size.

It owns everything between the text and a valid body: live validation off the Qt thread, the form
kept in step with the text, Format, and loading dropped or opened files (read off the Qt thread,
applied as one undoable edit; a file that can't be used leaves the text untouched and says why).
Submitting and batches are the window's business: this panel asks through its signals.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.core.limits import MAX_BODY_BYTES, Operation
from gui.core.request.body_fields import REMOVE, apply_field
from gui.core.request.codes import UNREACHABLE_WEBHOOK
from gui.core.targets import SANDBOX_PROFILE
from gui.ui import theme
from gui.ui.request.options_tab import OptionsTab
from gui.ui.request.text.diagnostics import DiagnosticsList
from gui.ui.request.text.editor import EditorMark, JsonEditor
from gui.ui.request.text.validation_worker import ValidationOutcome, ValidationWorker
from gui.ui.tasks import run_in_background

if TYPE_CHECKING:
    from gui.ui.request.options_form import RequestForm

__all__ = ["RequestPanel", "human_size", "is_binary_file"]

# Format and form edits parse on the Qt thread up to this size; bigger texts go to a worker.
_SYNC_PARSE_LIMIT = 1024 * 1024


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


_BINARY_TYPES = ("image/", "audio/", "video/", "application/pdf", "application/zip")


def is_binary_file(path: Path) -> bool:
    """An image, sound, video, PDF or archive (by its name): a file for a ``{{file:...}}``
    placeholder, not a request to open."""
    import mimetypes

    kind, _ = mimetypes.guess_type(path.name)
    return kind is not None and kind.startswith(_BINARY_TYPES)


def pretty(body: Any) -> str:
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


class _Banner(QWidget):
    """A message above the editor that stays until closed (or until the next good load)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("requestBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        theme.bind_style(
            self,
            lambda: (
                f"#requestBanner {{ background: {theme.css('banner_bg')}; "
                f"border: 1px solid {theme.css('banner_border')}; border-radius: 4px; }}"
                f"#requestBanner QLabel {{ color: {theme.css('banner_text')}; }}"
            ),
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()


class _WhenShown(QObject):
    """Calls ``then()`` once, right after ``window`` first painted; or 2 s after it was shown,
    when it paints nothing (minimised). Like ``gui.app``'s first-paint gate, it watches the window
    alone, and only until then."""

    def __init__(self, window: QWidget, then: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._then: Callable[[], None] | None = then
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            # Parents paint before children, in one pass: a zero timer fires once all is shown.
            QTimer.singleShot(0, self, self._finish)
        elif event.type() == QEvent.Type.Show:
            QTimer.singleShot(2000, self, self._finish)
        return False

    def _finish(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            self._window.removeEventFilter(self)
            then()


_UNREAD = object()  # a restored text not read yet


class RequestPanel(QWidget):
    """Target, operation, editor, form, diagnostics and the body's size against its limit."""

    sig_submit_requested = Signal(dict, str)
    """Submit this valid body with this operation ("run" or "runsync") to the selected target."""

    sig_template_submit_requested = Signal(dict, str, dict)
    """Submit this body, its placeholders filled, with this operation; the dict is its origin
    (``JobRecord.origin``: the template and the values used), kept in the history."""

    sig_data_run_requested = Signal(object)
    """Offer a data run of the editor's template over this data file (a ``Path`` dropped on it;
    None: let the person pick one)."""

    sig_batch_requested = Signal(list)
    """These dropped files (``list[Path]``) hold several requests: open the batch dialog."""

    sig_file_loaded = Signal(object)
    """A file opened as the document (``Path``) is in the editor now."""

    sig_status_message_requested = Signal(str, int)
    """Show this message in the status bar for this many milliseconds (0: until replaced)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.validation = ValidationWorker(self)
        self.validation.sig_validation_finished.connect(self._on_validation_finished)
        self._submit_blocker: str | None = "Starting…"
        self._submit_busy: str | None = None  # see set_submit_busy
        self._target_reaches_local = False  # until a target is chosen, warn as for the cloud
        self._last_outcome: ValidationOutcome | None = None
        self._form_cache: tuple[int, dict[str, Any]] | None = None
        # Placeholders: the selected profile's variables and the request or template file.
        self._variables: dict[str, str] = {}
        self._source_path: Path | None = None
        self._expanding = False  # a Submit is filling placeholders (off the Qt thread)
        # While a saved text is read to be shown after the window (see ``restore_later``): what
        # was asked of the panel meanwhile, done once it is shown.
        self._restoring: str | None = None  # what is being restored
        self._after_restore: list[Callable[[], None]] = []
        self._build()
        self.editor.textChanged.connect(self._on_editor_text_changed)
        self.editor.sig_files_dropped.connect(self.open_dropped)
        self.editor.sig_status_message_requested.connect(self.sig_status_message_requested)
        self.options.sig_field_edited.connect(self._on_form_field_edited)
        self.diagnostics.sig_diagnostic_activated.connect(self._on_diagnostics_activated)
        self.operation_selector.currentIndexChanged.connect(self._on_operation_changed)
        # A problem shown (e.g. a job not sent) was about the last target, not the one chosen now.
        self.profile_selector.currentIndexChanged.connect(self.banner.hide)
        self.submit_button.clicked.connect(self.request_submit)
        self._update_submit_button()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Target", self))
        self.profile_selector = QComboBox(self)
        self.profile_selector.setObjectName("profileSelector")
        self.profile_selector.addItem(f"{SANDBOX_PROFILE} (built in)", SANDBOX_PROFILE)
        self.profile_selector.setToolTip("Where Submit sends the request")
        bar.addWidget(self.profile_selector, 1)
        # In a small window a long profile name is cut rather than the request side kept wide.
        self.profile_selector.setMinimumWidth(self.fontMetrics().averageCharWidth() * 12)
        self.operation_selector = QComboBox(self)
        self.operation_selector.setObjectName("operationSelector")
        self.operation_selector.addItem("Run  (/run)", "run")
        self.operation_selector.addItem("Run sync  (/runsync)", "runsync")
        self.operation_selector.setToolTip(
            "/run queues the job and answers at once; /runsync waits for the result"
        )
        self.operation_selector.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self._fit_operation_selector()
        bar.addWidget(self.operation_selector)
        self.submit_button = QPushButton("Submit", self)
        self.submit_button.setObjectName("submitButton")
        self.submit_button.setDefault(True)
        self.submit_button.setMinimumWidth(96)
        bar.addWidget(self.submit_button)
        layout.addLayout(bar)

        self.banner = _Banner(self)
        layout.addWidget(self.banner)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.tabs = QTabWidget(self.splitter)
        self.editor = JsonEditor(self.tabs)
        self.tabs.addTab(self.editor, "Request JSON")
        self.options = OptionsTab(self.tabs)
        self.tabs.addTab(self.options, "Options")
        # Submit's other way, under it in the tabs' free corner: the target bar (which sets the
        # request side's least width) stays as narrow as it was.
        self.data_run_button = QToolButton(self.tabs)
        self.data_run_button.setObjectName("runWithDataButton")
        self.data_run_button.setText("Run with data…")
        self.data_run_button.setAutoRaise(True)
        self.data_run_button.setToolTip(
            "Send this request once per row of a data file (.csv, .jsonl, .json), each row "
            "filling its {{placeholders}} (Ctrl+Shift+D)"
        )
        self.data_run_button.clicked.connect(lambda: self.sig_data_run_requested.emit(None))
        self.tabs.setCornerWidget(self.data_run_button, Qt.Corner.TopRightCorner)
        lower = QWidget(self.splitter)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 4, 0, 0)
        self.problems_title = QLabel("<b>Problems</b>", lower)
        lower_layout.addWidget(self.problems_title)
        self.diagnostics = DiagnosticsList(lower)
        lower_layout.addWidget(self.diagnostics, 1)
        self.size_label = QLabel(lower)
        self.size_label.setObjectName("bodySizeLabel")
        lower_layout.addWidget(self.size_label)
        # How the editor shows a text with a very long line or of many megabytes (see JsonEditor).
        self.display_note = QLabel(lower)
        self.display_note.setObjectName("editorDisplayNote")
        self.display_note.setWordWrap(True)
        self.display_note.hide()
        self.editor.sig_display_note_changed.connect(self._on_editor_display_note_changed)
        lower_layout.addWidget(self.display_note)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([520, 150])
        layout.addWidget(self.splitter, 1)

    # -- state -----------------------------------------------------------------------------

    def operation(self) -> Operation:
        return "runsync" if self.operation_selector.currentData() == "runsync" else "run"

    def set_operation(self, operation: str) -> None:
        index = self.operation_selector.findData(operation)
        if index >= 0:
            self.operation_selector.setCurrentIndex(index)

    def text(self) -> str:
        """The whole text, folded strings in place (what is sent, saved and kept as the draft)."""
        return self.editor.full_text()

    def set_text(self, text: str, *, undoable: bool = True) -> None:
        """Replace the text: as one undoable edit, or (not undoable) as a fresh document.

        While a saved text is being restored this waits, and then applies on top of it."""
        if self._restoring is not None:
            self._after_restore.append(lambda: self.set_text(text, undoable=undoable))
            return
        self.banner.hide()
        if undoable:
            self.editor.replace_all_text(text)
        else:
            self.editor.set_fresh_text(text)
        self.validation.validate_now(self.editor.text_snapshot, self.operation())

    def load_body(self, body: dict[str, Any], operation: str | None = None) -> None:
        """Put a body into the editor (pretty-printed, undoable), e.g. a template or a resubmit."""
        if operation:
            self.set_operation(operation)
        self.set_text(pretty(body))

    @property
    def restoring(self) -> bool:
        """A saved text is being read to be shown (``restore_later``); the editor is empty."""
        return self._restoring is not None

    def restore_later(
        self, read: Callable[[], Any], description: str, apply: Callable[[Any], None]
    ) -> None:
        """Show a saved text once the window is on the screen, not before: ``read()`` runs off the
        Qt thread, then ``apply(result)``
        (``apply(None)`` if ``read`` failed) runs on the Qt thread once the window has painted.

        Until then the editor is read-only and says it is loading ``description``, so nothing can
        be typed over the saved text before it is seen; Submit waits; a text put in meanwhile (a
        template, a file) goes in after it, as an undoable edit (Ctrl+Z brings the saved one
        back). The window's close must not save the empty editor over it (see ``restoring``).
        """
        self._restoring = description
        placeholder = self.editor.placeholderText()
        self.editor.setReadOnly(True)
        self.editor.setPlaceholderText(f"Loading {description}…")
        self._update_submit_button()
        state: dict[str, Any] = {"result": _UNREAD, "shown": False}

        def finish() -> None:
            if state["result"] is _UNREAD or not state["shown"]:
                return
            self._restoring = None
            self.editor.setReadOnly(False)
            self.editor.setPlaceholderText(placeholder)
            apply(state["result"])
            waiting, self._after_restore = self._after_restore, []
            for action in waiting:
                action()
            self._update_submit_button()

        def read_done(result: Any) -> None:
            state["result"] = result
            finish()

        def shown() -> None:
            state["shown"] = True
            finish()

        _WhenShown(self.window(), shown)
        run_in_background(read, read_done, lambda _error: read_done(None), context=self)

    @property
    def variables(self) -> dict[str, str]:
        """The selected profile's variables, the values Submit fills placeholders with."""
        return dict(self._variables)

    @property
    def source_path(self) -> Path | None:
        """The request or template file the text came from (relative files are beside it)."""
        return self._source_path

    def set_placeholder_context(self, variables: dict[str, str], path: Path | None) -> None:
        """Fill placeholders with ``variables`` (the selected profile's), relative files from
        ``path``'s folder: validation knows them as the person types, Submit sends with them."""
        if variables == self._variables and path == self._source_path:
            return
        self._variables, self._source_path = dict(variables), path
        from gui.ui.request.expansion import checking_context

        self.validation.placeholders = checking_context(variables, path)
        from gui.core.request.placeholders import text_may_hold_placeholders

        # Only placeholders see the context: other texts keep their result (and Submit its state).
        if self._restoring is None and text_may_hold_placeholders(self.text()):
            self.validation.validate_now(self.editor.text_snapshot, self.operation())

    def set_submit_busy(self, text: str | None) -> None:
        """Submit shows ``text`` and is disabled (a request waits for the engine to start);
        None gives it back."""
        self._submit_busy = text
        self.submit_button.setText(text or "Submit")
        self._update_submit_button()

    def set_submit_blocker(self, reason: str | None) -> None:
        """Something other than the text stops Submit (the window still starting); None lifts it."""
        self._submit_blocker = reason
        self._update_submit_button()

    def show_problem(self, message: str) -> None:
        """Tell the person something went wrong; the editor's text stays as it was."""
        self.banner.show_message(message)
        self.sig_status_message_requested.emit(message, 10_000)

    def _on_editor_display_note_changed(self, note: str) -> None:
        self.display_note.setText(note)
        self.display_note.setVisible(bool(note))

    # -- validation ------------------------------------------------------------------------

    def _on_editor_text_changed(self) -> None:
        self.validation.schedule(self.editor.text_snapshot, self.operation())
        self._update_submit_button()

    def _fit_operation_selector(self) -> None:
        # As wide as the chosen operation's text, not the longest one's: room for the profile's
        # name in a small window. Qt counts a combo's contents in widths of "X", plus an icon's
        # room (these items have none, so their text may take it).
        box = self.operation_selector
        metrics = box.fontMetrics()
        text = metrics.horizontalAdvance(box.currentText()) - box.iconSize().width() - 4
        box.setMinimumContentsLength(max(1, -(-text // metrics.horizontalAdvance("X"))))

    def _on_operation_changed(self, _index: int) -> None:
        self._fit_operation_selector()
        self.validation.validate_now(self.editor.text_snapshot, self.operation())

    def set_target_reaches_local(self, reaches: bool) -> None:
        """The built-in sandbox and local workers reach a webhook on this computer; RunPod's cloud
        does not, so only for the cloud does a localhost webhook get its warning."""
        self._target_reaches_local = reaches
        if self._last_outcome is not None:
            self._on_validation_finished(self._last_outcome)

    def _shown(self, outcome: ValidationOutcome) -> ValidationOutcome:
        if not self._target_reaches_local:
            return outcome
        kept = [d for d in outcome.result.diagnostics if d.code != UNREACHABLE_WEBHOOK]
        if len(kept) == len(outcome.result.diagnostics):
            return outcome
        return dataclasses.replace(
            outcome,
            result=dataclasses.replace(outcome.result, diagnostics=kept),
            marks=[mark for mark in outcome.marks if mark.code != UNREACHABLE_WEBHOOK],
        )

    def _on_validation_finished(self, outcome: ValidationOutcome) -> None:
        self._last_outcome = outcome
        outcome = self._shown(outcome)
        result = outcome.result
        self.editor.set_marks(outcome.marks)
        self.diagnostics.set_marks(outcome.marks)
        self.options.show_body(result.body, result.diagnostics)
        errors = sum(1 for d in result.diagnostics if d.severity == "error")
        warnings = len(result.diagnostics) - errors
        self.problems_title.setText(
            f"<b>Problems</b> &nbsp;{errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}"
        )
        limit = MAX_BODY_BYTES[outcome.operation]
        if result.size_bytes is None:
            size_text = "Body size: unknown until the JSON parses"
        else:
            share = result.size_bytes / limit
            size_text = (
                f"Body {human_size(result.size_bytes)} of {human_size(limit)} allowed for "
                f"/{outcome.operation} ({share:.0%})"
            )
            if share > 1:
                size_text = f"<span style='color:{theme.css('error')}'>{size_text}</span>"
        self.size_label.setText(size_text)
        self._update_submit_button()

    def _update_submit_button(self) -> None:
        outcome = self.validation.current
        reason: str | None
        if self._submit_busy:
            reason = "The request waits for the engine to start; it is sent once it is ready."
        elif self._submit_blocker:
            reason = self._submit_blocker
        elif self._restoring is not None:
            reason = f"Loading {self._restoring}…"
        elif outcome is None:
            reason = "Checking the request…"
        elif not outcome.result.ok:
            errors = [d for d in outcome.result.diagnostics if d.severity == "error"]
            first = errors[0]
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            reason = (
                f"Fix the errors first: line {first.line}:{first.column}: {first.message}{more}"
            )
        else:
            reason = None
        self.submit_button.setEnabled(reason is None)
        self.submit_button.setToolTip(
            reason or f"Send this request to /{self.operation()} (Ctrl+Enter)"
        )

    def submit_disabled_reason(self) -> str | None:
        return None if self.submit_button.isEnabled() else self.submit_button.toolTip()

    def request_submit(self) -> None:
        """Ask the window to submit the body, if it is valid and checked."""
        outcome = self.validation.current
        if not self.submit_button.isEnabled() or outcome is None or outcome.result.body is None:
            return
        if self._expanding:
            return
        text = self.text()
        from gui.core.request.placeholders import text_may_hold_placeholders

        if text_may_hold_placeholders(text):
            self._submit_expanded(text, outcome.operation)
            return
        body = outcome.result.body if outcome.complete else self.current_body()
        if body is not None:
            self.sig_submit_requested.emit(body, outcome.operation)

    def _submit_expanded(self, text: str, operation: Operation) -> None:
        """Fill the placeholders off the Qt thread (files are read), then ask for the Submit; a
        placeholder without a value stops it, saying where."""
        from gui.ui.request.expansion import expand_request

        variables, path = dict(self._variables), self._source_path
        self._expanding = True
        self.sig_status_message_requested.emit("Filling in the placeholders…", 0)

        def done(job: Any) -> None:
            self._expanding = False
            if job.ok:
                self.sig_status_message_requested.emit("", 0)
                self.sig_template_submit_requested.emit(job.body, operation, job.origin)
                return
            more = f" (and {len(job.problems) - 1} more)" if len(job.problems) > 1 else ""
            first = job.problems[0].rstrip(".")
            self.show_problem(
                f"Not submitted: {first}{more}. Profiles… holds the profile's variables; Run "
                "with data… takes the values from a file."
            )

        def failed(error: BaseException) -> None:
            self._expanding = False
            self.show_problem(f"Not submitted: the placeholders could not be filled: {error}")

        run_in_background(
            lambda: expand_request(text, operation, variables, path), done, failed, context=self
        )

    def _on_diagnostics_activated(self, mark: EditorMark) -> None:
        self.tabs.setCurrentWidget(self.editor)
        self.editor.move_cursor_to(mark.start)

    # -- format and form -------------------------------------------------------------------

    def _wait_for_restore(self) -> bool:
        """True (and says so) while the saved text is not in the editor yet: nothing to edit."""
        if self._restoring is not None:
            self.sig_status_message_requested.emit(
                f"Loading {self._restoring}: try again once it shows.", 6000
            )
        return self._restoring is not None

    @property
    def form(self) -> RequestForm:
        """The options form (built when its tab is first shown: see ``OptionsTab``)."""
        return self.options.form

    def format_text(self) -> None:
        """Pretty-print the JSON (Ctrl+Shift+F) as one undoable edit; big texts parse off-thread."""
        if self._wait_for_restore():
            return
        text = self.text()
        revision = self.editor.document().revision()

        def apply(body: Any) -> None:
            if self.editor.document().revision() == revision:
                self.set_text(pretty(body))

        def refuse(_error: BaseException) -> None:
            self.sig_status_message_requested.emit(
                "Format needs valid JSON: fix the first error in the Problems list.", 6000
            )

        if len(text) <= _SYNC_PARSE_LIMIT:
            try:
                body = json.loads(text)
            except ValueError as exc:
                refuse(exc)
            else:
                apply(body)
        else:
            run_in_background(lambda: json.loads(text), apply, refuse, context=self)

    def current_body(self) -> dict[str, Any] | None:
        """The text's whole body now: from the last validation when still current, else parsed
        here (a big text's validation, done in a child process, holds no input)."""
        outcome = self.validation.current
        if outcome is not None and outcome.complete:
            return outcome.result.body
        try:
            body = json.loads(self.text())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _options_body(self) -> dict[str, Any] | None:
        """The body's top-level options (``input`` may be left out): what the form edits."""
        outcome = self.validation.current
        if outcome is not None:
            return outcome.result.body
        revision = self.editor.document().revision()
        if self._form_cache is not None and self._form_cache[0] == revision:
            return self._form_cache[1]
        return self.current_body()

    def _on_form_field_edited(self, path: tuple[str, ...], value: Any) -> None:
        """Write a form change into the text as one undoable edit of that one top-level key, so
        the rest (the ``input`` above all) stays exactly as typed."""
        if self._wait_for_restore():
            return
        body = self._options_body()
        if body is None:
            self.sig_status_message_requested.emit(
                "The options can't be applied while the JSON text has syntax errors.", 6000
            )
            return
        updated = apply_field(body, path, value)
        text = self.editor.shown_text()  # as shown: the splice keeps the chips of ``input``
        from gui.ui.request.text.splice import (
            splice_top_level,  # with the first form edit, not at start
        )

        edit = splice_top_level(text, path[0], updated.get(path[0], REMOVE))
        if edit is not None:
            self.editor.replace_range(text, edit.start, edit.end, edit.replacement)
        else:  # not editable in place (a key given twice): the whole body, pretty-printed
            whole = self.current_body()
            if whole is None:
                return
            self.editor.replace_all_text(pretty(apply_field(whole, path, value)))
        self._form_cache = (self.editor.document().revision(), updated)

    # -- files -----------------------------------------------------------------------------

    def open_dropped(self, paths: list[Path]) -> None:
        """One JSON file replaces the text (undoable); several files or a .jsonl make a batch; an
        image or other binary file goes in at the cursor as a ``{{file:PATH}}`` placeholder."""
        if len(paths) == 1 and is_binary_file(paths[0]):
            self.insert_file_placeholder(paths[0])
        elif len(paths) == 1 and self._offers_data_run(paths[0]):
            self.sig_data_run_requested.emit(paths[0])
        elif len(paths) == 1 and paths[0].suffix.lower() != ".jsonl":
            self.load_file(paths[0], as_document=False)
        elif paths:
            self.sig_batch_requested.emit(list(paths))

    def _offers_data_run(self, path: Path) -> bool:
        """A data file dropped on a template with placeholders: a .csv (or .tsv), or a .jsonl
        whose first line is an object with no ``input`` (a JSONL of request bodies stays a
        batch of literal bodies, as before)."""
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".tsv", ".jsonl", ".ndjson"):
            return False
        from gui.core.request.placeholders import text_may_hold_placeholders

        if not text_may_hold_placeholders(self.text()):
            return False
        if suffix in (".csv", ".tsv"):
            return True
        try:  # the first line is enough: its first 64 KB, read here
            with path.open("rb") as handle:
                head = handle.read(64 * 1024)
            first = next((line for line in head.splitlines() if line.strip()), b"")
            value = json.loads(first)
        except (OSError, ValueError):
            return False
        return isinstance(value, dict) and "input" not in value

    def insert_file_placeholder(self, path: Path) -> None:
        """Put ``"{{file:PATH}}"`` at the cursor (a string of its own, or inside the string the
        cursor is in): the file is read and inlined as base64 when the request is sent, never
        pasted into the text as megabytes."""
        placeholder = "{{file:" + str(path.resolve()) + "}}"
        cursor = self.editor.textCursor()
        line = cursor.block().text()[: cursor.positionInBlock()]
        in_string = line.count('"') % 2 == 1  # good enough on one line of JSON: keys are short
        quoted = json.dumps(placeholder, ensure_ascii=False)
        cursor.insertText(quoted[1:-1] if in_string else quoted)
        self.editor.setTextCursor(cursor)
        self.sig_status_message_requested.emit(
            f"{path.name} goes in as a file placeholder: it is read and sent as base64 "
            f"({human_size(path.stat().st_size)} before encoding).",
            6000,
        )

    def load_file(self, path: Path, *, as_document: bool) -> None:
        """Read ``path`` off the Qt thread, then put its text in the editor as one undoable edit.

        ``as_document`` (File > Open): the file becomes the document being edited and saved.
        A file that can't be used shows why and leaves the text untouched.
        """
        self.sig_status_message_requested.emit(f"Reading {path.name}…", 0)

        def failed(error: BaseException) -> None:
            if self._restoring is not None:  # the saved text first, then this
                self._after_restore.append(lambda: failed(error))
                return
            self.show_problem(f"{path.name} was not loaded: {error}")

        def loaded(text: str) -> None:
            if self._restoring is not None:  # the saved text first, this on top of it
                self._after_restore.append(lambda: loaded(text))
                return
            self.set_text(text)
            if as_document:
                self.editor.document().setModified(False)
                self.sig_file_loaded.emit(path)
            self.sig_status_message_requested.emit(
                f"Loaded {path.name}. Undo (Ctrl+Z) brings the previous text back.", 6000
            )

        from gui.core.request.validation import (
            read_request_file,  # with the first file: not at start
        )

        run_in_background(lambda: read_request_file(path), loaded, failed, context=self)
