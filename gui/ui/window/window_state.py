"""What the window remembers between runs: geometry and splitters, the operation, the profile and
the file in QSettings (an INI file in the data folder, so tests and ``--data-dir`` stay separate),
and the editor's text as a secret-free draft (``gui.ui.request.drafts``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHeaderView, QSplitter

from gui.core.profiles.secrets import reveal_listener_token_in_body
from gui.ui.jobs.first_run import FIRST_TEMPLATE
from gui.ui.request.drafts import LATE_DRAFT_BYTES, Draft, draft_size, read_draft, write_draft
from gui.ui.request.panel import human_size

if TYPE_CHECKING:
    from gui.ui.window.main_window import MainWindow

__all__ = ["default_main_sizes", "restore_window_state", "save_window_state"]

DEFAULT_SIZE = (1540, 880)  # made smaller to fit a smaller screen
# The main splitter until the person drags it: the templates at a fixed width, the request a third
# of the rest but at least its preferred width (its target bar uncut) and room for the Options form
# (labels above fields), and the jobs side (table and details) all the rest.
TEMPLATES_WIDTH = 160
REQUEST_SHARE = 0.34
REQUEST_MIN_WIDTH = 340


def _splitters(window: MainWindow) -> dict[str, QSplitter]:
    return {"splitter/main": window.splitter, "splitter/request": window.request.splitter}


def _job_header(window: MainWindow) -> QHeaderView:
    return window.jobs_panel.table.horizontalHeader()


def restore_window_state(window: MainWindow, default_text: str) -> None:
    """Geometry, splitters and operation as they were; then the draft, else the last template,
    else ``default_text``."""
    settings = window.settings
    geometry = settings.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    else:  # the first start: the default size, but never more than the screen offers
        screen = window.screen()
        room = screen.availableGeometry().size() if screen is not None else None
        width, height = DEFAULT_SIZE
        if room is not None and room.width() > 0 and room.height() > 0:
            width, height = min(width, room.width()), min(height, room.height())
        window.resize(width, height)
    for key, splitter in _splitters(window).items():
        state = settings.value(key)
        if state is not None:
            splitter.restoreState(state)
        elif splitter is window.splitter:
            _DefaultSplit(window)
    header_state = settings.value("jobs/header")
    if header_state is not None:
        _job_header(window).restoreState(header_state)  # column widths, order and the sorted column
    window.request.set_operation(str(settings.value("request/operation", "run")))
    _restore_text(window, default_text)


def default_main_sizes(window: MainWindow, width: int | None = None) -> list[int]:
    """Templates | request | jobs for a main splitter ``width`` pixels wide (default: as the
    window's width would make it)."""
    splitter = window.splitter
    if width is None:
        margins = splitter.contentsMargins()
        width = window.width() - margins.left() - margins.right()
    room = width - splitter.handleWidth() * (splitter.count() - 1)
    templates = max(TEMPLATES_WIDTH, window.templates.minimumSizeHint().width())
    rest = max(0, room - templates)
    least = max(REQUEST_MIN_WIDTH, window.request.sizeHint().width())
    request = min(rest, max(least, round(rest * REQUEST_SHARE)))
    return [templates, request, rest - request]


class _DefaultSplit(QObject):
    """Keeps the main splitter at ``default_main_sizes`` whatever the window's size (a small
    screen, maximizing) and the panels' needs (a longer operation name), until the person drags a
    handle: from then on the splitter is theirs."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window.splitter)
        self._window = window
        window.splitter.setSizes(default_main_sizes(window))
        window.splitter.installEventFilter(self)
        window.splitter.splitterMoved.connect(self._on_splitter_moved)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Before the splitter's own resizing, which would spread the change by stretch factors.
        splitter = self._window.splitter
        if event.type() == QEvent.Type.Resize and isinstance(event, QResizeEvent):
            margins = splitter.contentsMargins()
            width = event.size().width() - margins.left() - margins.right()
            splitter.setSizes(default_main_sizes(self._window, width))
        elif event.type() == QEvent.Type.LayoutRequest and splitter.isVisible():
            # A panel's preferred size changed (the request's target bar, say).
            sizes = default_main_sizes(self._window, splitter.contentsRect().width())
            if sizes != splitter.sizes():
                splitter.setSizes(sizes)
        return False

    def _on_splitter_moved(self, _position: int, _index: int) -> None:
        self._window.splitter.removeEventFilter(self)
        self.deleteLater()


def _restore_text(window: MainWindow, default_text: str) -> None:
    size = draft_size(window.data_dir)
    if size:
        saved_file = window.settings.value("request/file")
        window.file_path = Path(str(saved_file)) if saved_file else None
    if size <= LATE_DRAFT_BYTES:
        _show_draft(window, read_draft(window.data_dir, window.secrets), default_text)
        return
    # Read off the Qt thread and laid out once the window shows: the start does not wait for it.
    window.request.restore_later(
        lambda: read_draft(window.data_dir, window.secrets),
        f"the saved draft ({human_size(size)})",
        lambda draft: _show_draft(window, draft, default_text),
    )


def _show_draft(window: MainWindow, draft: Draft | None, default_text: str) -> None:
    request = window.request
    if draft is not None:
        request.set_text(draft.text, undoable=False)
        request.editor.document().setModified(draft.modified)
        # A template opened while a late draft loaded keeps its name (its text goes in next).
        window.current_template = window.current_template or draft.template
        return
    # A first start (no draft, no template used yet) opens the first example.
    last = window.settings.value("templates/last") or FIRST_TEMPLATE
    if last and window.store.exists(str(last)):
        template = window.store.get(str(last))
        request.load_body(
            reveal_listener_token_in_body(template.body, window.secrets), template.operation
        )
        request.editor.document().clearUndoRedoStacks()
        request.editor.document().setModified(False)
        window.current_template = template.name
        window.templates.select(template.name)
    else:
        request.set_text(default_text, undoable=False)


def save_window_state(window: MainWindow) -> None:
    """Remember everything ``restore_window_state`` reads (called when the window closes)."""
    settings = window.settings
    settings.setValue("window/geometry", window.saveGeometry())
    for key, splitter in _splitters(window).items():
        settings.setValue(key, splitter.saveState())
    settings.setValue("jobs/header", _job_header(window).saveState())
    settings.setValue("request/operation", window.request.operation())
    settings.setValue("request/profile", window.targets.selected_name())
    settings.setValue("request/file", str(window.file_path) if window.file_path else "")
    outcome = window.request.validation.current
    if window.request.restoring:  # the draft on disk was never shown: it stays as it is
        settings.sync()
        return
    write_draft(
        window.data_dir,
        window.request.text(),
        # A big text's light body lacks its input: then the careful text search decides.
        outcome.result.body if outcome is not None and outcome.complete else None,
        window.request.editor.document().isModified(),
        window.current_template,
    )
    settings.sync()
