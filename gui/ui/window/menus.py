"""The window's desktop side: View (appearance, moving around), Webhooks and Help menus, the
listener's state in the status bar, and the first-run hint. ``install_desktop(window)`` adds them
to a built ``MainWindow``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from gui.ui import theme
from gui.ui.jobs.first_run import EmptyTableHint
from gui.ui.jobs.style import app_icon, retheme_icons

if TYPE_CHECKING:
    from gui.ui.webhooks.listener_state import ListenerState
    from gui.ui.window.help_dialogs import AboutDialog, ShortcutsDialog
    from gui.ui.window.main_window import MainWindow

__all__ = ["Desktop", "ListenerStatus", "add_menu_action", "install_desktop"]

APPEARANCE_KEY = "view/appearance"
_STATUS_TIP = "Click for the listener settings (port, public URL, token)."


class ListenerStatus(QLabel):
    """``Webhooks: listening on 127.0.0.1:8787 · public URL none · 3 received``; a click opens
    the listener settings."""

    sig_settings_requested = Signal()
    """The user clicked: open the listener settings."""

    def __init__(self, listener: ListenerState | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("listenerStatus")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(_STATUS_TIP)
        self.listener = listener
        self._failure = ""
        if listener is None:
            self.setText("Webhooks: off")
            return
        listener.sig_started.connect(self._on_listener_started)
        listener.sig_failed.connect(self._on_listener_failed)
        listener.sig_received_changed.connect(self._on_listener_received_changed)
        self.refresh()

    def _on_listener_started(self, _url: str) -> None:
        self._failure = ""
        self.refresh()

    def _on_listener_received_changed(self, _count: int) -> None:
        self.refresh()

    def _on_listener_failed(self, message: str) -> None:
        taken = self.listener is not None and self.listener.suggested_port
        self._failure = "port taken" if taken else "not started"
        self.setToolTip(f"{message}\n{_STATUS_TIP}")
        self.refresh()

    def refresh(self) -> None:
        listener = self.listener
        if listener is None:
            return
        if self._failure:
            self.setText(f"Webhooks: off - {self._failure}")
            return
        if listener.info is None:
            self.setText("Webhooks: starting…")
            return
        public = "public URL set" if listener.public_base else "public URL none"
        moved = listener.port != listener.requested_port
        taken = f" ({listener.requested_port} was taken)" if moved else ""
        self.setText(
            f"Webhooks: listening on {listener.host}:{listener.port}{taken} · {public} · "
            f"{listener.received} received"
        )
        why = f"Port {listener.requested_port} was in use: a free one was taken.\n" if moved else ""
        self.setToolTip(why + _STATUS_TIP)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.sig_settings_requested.emit()
        super().mouseReleaseEvent(event)


class Desktop(QObject):
    """What ``install_desktop`` added (tests reach the parts through it)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.themes = theme.app_theme()
        self.appearance: dict[str, QAction] = {}
        self.listener_status: ListenerStatus | None = None
        self.first_run_hint: EmptyTableHint | None = None
        self.shortcuts_action: QAction | None = None

    # -- appearance ------------------------------------------------------------------------

    def set_appearance(self, preference: str) -> str:
        """``system``, ``light`` or ``dark`` (saved); returns the scheme in use."""
        self.window.settings.setValue(APPEARANCE_KEY, preference)
        if preference in self.appearance:
            self.appearance[preference].setChecked(True)
        return self.themes.set_preference(preference)

    def _on_themes_scheme_changed(self, _scheme: str) -> None:
        window = self.window
        window.request.editor.refresh_colors()
        retheme_icons(window)
        window.jobs_panel.table.viewport().update()

    # -- moving around ---------------------------------------------------------------------

    def focus_filter(self) -> None:
        panel = self.window.jobs_panel
        self.window.jobs_area.setCurrentWidget(panel)
        panel.filters.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        panel.filters.text.selectAll()

    def focus_table(self) -> None:
        panel = self.window.jobs_panel
        self.window.jobs_area.setCurrentWidget(panel)
        panel.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def step_job(self, step: int) -> None:
        """Select the next (1) or previous (-1) job in the table's order."""
        panel = self.window.jobs_panel
        if panel.model.rowCount() == 0:
            return
        current = panel.table.currentIndex()
        row = current.row() + step if current.isValid() else 0
        row = min(max(row, 0), panel.model.rowCount() - 1)
        panel.table.selectRow(row)
        panel.table.scrollTo(panel.model.index(row, 0))

    # -- dialogs ---------------------------------------------------------------------------

    def open_shortcuts(self) -> ShortcutsDialog:
        from gui.ui.window.help_dialogs import (
            ShortcutsDialog,  # dialogs are imported when first opened
        )

        dialog = ShortcutsDialog(self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_about(self) -> AboutDialog:
        from gui.ui.window.help_dialogs import AboutDialog

        dialog = AboutDialog(self.window, self.window.data_dir, self.window.secrets)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_listener_settings(self) -> QWidget | None:
        listener = self.window.jobs_area.listener
        if listener is None:
            self.window.statusBar().showMessage("The webhook listener is not available.", 6000)
            return None
        from gui.ui.webhooks.settings import ListenerSettingsDialog

        dialog = ListenerSettingsDialog(listener, self.window.settings, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def copy_webhook_url(self) -> None:
        listener = self.window.jobs_area.listener
        url = listener.webhook_url() if listener is not None else ""
        if url:
            QApplication.clipboard().setText(url)
            self.window.statusBar().showMessage("The webhook URL is on the clipboard.", 5000)
        else:
            self.window.statusBar().showMessage("The webhook listener is not running.", 5000)


def add_menu_action(owner: QWidget, menu: Any, text: str, slot: Any, *keys: Any) -> QAction:
    """An action in ``menu`` that calls ``slot``, with these shortcuts (anything QKeySequence
    takes: "Ctrl+1", a StandardKey...); ``owner`` holds it, so its shortcuts work in its window."""
    action = QAction(text, owner)
    if keys:
        action.setShortcuts([QKeySequence(key) for key in keys])
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def install_desktop(window: MainWindow) -> Desktop:
    """Add the View, Webhooks and Help menus, the listener status and the first-run hint."""
    desktop = Desktop(window)
    window.setWindowIcon(app_icon())
    bar = window.menuBar()
    view = bar.addMenu("&View")
    appearance = view.addMenu("&Appearance")
    group = QActionGroup(appearance)
    for key, label in (("system", "&System"), ("light", "&Light"), ("dark", "&Dark")):
        action = group.addAction(label)
        action.setCheckable(True)
        action.triggered.connect(lambda _checked=False, k=key: desktop.set_appearance(k))
        appearance.addAction(action)
        desktop.appearance[key] = action
    desktop.themes.sig_scheme_changed.connect(desktop._on_themes_scheme_changed)
    desktop.set_appearance(str(window.settings.value(APPEARANCE_KEY, "system")))
    view.addSeparator()
    editor, templates = window.request.editor, window.templates.list
    add_menu_action(window, view, "Focus &templates", lambda: templates.setFocus(), "Ctrl+1")
    add_menu_action(window, view, "Focus &editor", lambda: editor.setFocus(), "Ctrl+2")
    add_menu_action(window, view, "Focus &job table", desktop.focus_table, "Ctrl+3")
    add_menu_action(window, view, "&Find jobs", desktop.focus_filter, "Ctrl+F")
    add_menu_action(window, view, "Endpoint &workers", window.jobs_area.show_workers, "Ctrl+4")
    add_menu_action(window, view, "&Next job", lambda: desktop.step_job(1), "Alt+Down")
    add_menu_action(window, view, "&Previous job", lambda: desktop.step_job(-1), "Alt+Up")

    webhooks = bar.addMenu("&Webhooks")
    add_menu_action(window, webhooks, "&Listener settings…", desktop.open_listener_settings)
    add_menu_action(window, webhooks, "&Copy webhook URL", desktop.copy_webhook_url, "Ctrl+Shift+W")

    help_menu = bar.addMenu("&Help")
    desktop.shortcuts_action = add_menu_action(
        window, help_menu, "&Keyboard shortcuts", desktop.open_shortcuts, "F1", "Ctrl+/"
    )
    add_menu_action(window, help_menu, "&About RunPod Job Console", desktop.open_about)

    status = ListenerStatus(window.jobs_area.listener, window)
    status.sig_settings_requested.connect(desktop.open_listener_settings)
    window.statusBar().addPermanentWidget(status)
    desktop.listener_status = status
    panel = window.jobs_panel
    hint = EmptyTableHint(panel.table, panel.model, lambda: panel.model.history_size == 0)
    hint.set_loading(True)
    panel.bridge.when_started(
        lambda: hint.set_loading(False), lambda _message: hint.set_loading(False)
    )
    desktop.first_run_hint = hint
    return desktop
