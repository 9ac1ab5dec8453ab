"""What the main window needs from profiles, in one object it owns.

    profiles = ProfileTargets(data_dir)
    engine = Engine(data_dir, **profiles.engine_options())   # keys and S3 secrets at send time
    profiles.fill_selector(profile_selector)                  # refill on sig_profiles_changed
    banner.setText(profiles.banner_text)                      # "" when the keyring is secure
    target = profiles.target_for(name)   # None: the sandbox (ask the engine) or a worker not up yet
    profiles.start_worker(name)          # then sig_worker_ready(name, url); target_for works
    profiles.open_dialog(window)         # the Profiles dialog
    profiles.shutdown()                  # when the window closes: stops local workers

One ``SecretStore`` serves the dialog and the engine, so a key typed in the dialog is used by the
next request at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from gui.core.errors import ConsoleError
from gui.core.profiles.profiles import SANDBOX, Profile, ProfileStore, make_key_provider
from gui.core.profiles.s3refs import make_body_resolver
from gui.core.profiles.secrets import SecretStore
from gui.core.targets import Target
from gui.ui.profiles.dialog import ProfilesDialog
from gui.ui.profiles.local_worker import UNSUPPORTED_ACTION_REASON, LocalWorkerPanel

__all__ = ["ProfileTargets"]


class ProfileTargets(QObject):
    """Profiles for the window: the selector's entries, the dialog, local workers, targets."""

    sig_profiles_changed = Signal()
    """Profiles or S3 credential sets were edited in the dialog: refill selectors and forms."""

    sig_worker_ready = Signal(str, str)
    """A local worker serves: (profile name, base URL). ``target_for(name)`` now answers."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        secrets: SecretStore | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.secrets = secrets if secrets is not None else SecretStore()
        self.store = ProfileStore(data_dir, self.secrets)
        self.worker_panel = LocalWorkerPanel()
        self._worker_urls: dict[str, str] = {}
        self.worker_panel.sig_worker_ready.connect(self._on_worker_panel_ready)
        self.worker_panel.sig_worker_stopped.connect(self._on_worker_panel_stopped)

    @property
    def banner_text(self) -> str:
        """What the window's banner says; empty when the keyring is secure."""
        return self.secrets.warning

    def engine_options(self) -> dict[str, Any]:
        """``Engine(data_dir, **options)``: the key provider and the S3 reference resolver."""
        return {
            "key_provider": make_key_provider(self.store, self.secrets),
            "body_resolver": make_body_resolver(self.secrets),
        }

    def profiles(self) -> list[Profile]:
        """Every profile; only the sandbox when ``profiles.json`` is unreadable (the dialog
        says why)."""
        try:
            return self.store.profiles()
        except ConsoleError:
            return [SANDBOX]

    def fill_selector(self, combo: QComboBox) -> None:
        """Put every profile in ``combo`` (item data: the name), keeping the current choice."""
        keep = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        for profile in self.profiles():
            label = f"{profile.name} (built in)" if profile.is_builtin else profile.name
            combo.addItem(label, profile.name)
            tip = profile.describe()
            if profile.kind == "local":
                tip += f"\n{UNSUPPORTED_ACTION_REASON}"
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        index = combo.findData(keep)
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)
        if index < 0:
            combo.currentIndexChanged.emit(combo.currentIndex())

    def target_for(self, name: str) -> Target | None:
        """The target of profile ``name``, or None when it is not known yet: the sandbox (the
        engine's ``sandbox_target()`` knows it) or a local worker that is not serving yet
        (``start_worker``). Raises ``ProfileNotFound`` for an unknown name."""
        profile = self.store.get(name)
        if profile.kind == "sandbox":
            return None
        if profile.needs_launch:
            url = self._worker_urls.get(name)
            return profile.to_target(url) if url else None
        return profile.to_target()

    def start_worker(self, name: str) -> None:
        """Start the local worker of ``name`` (shown in ``worker_panel``); ``sig_worker_ready``
        follows, or the panel shows why it stopped."""
        profile = self.store.get(name)
        self.worker_panel.set_profile(profile)
        if name not in self._worker_urls:
            self.worker_panel.start()

    def open_dialog(
        self, parent: QWidget | None = None, *, sandbox_url: str = ""
    ) -> ProfilesDialog:
        """Show the Profiles dialog (not modal); it deletes itself when closed."""
        dialog = ProfilesDialog(self.store, self.secrets, parent, sandbox_url=sandbox_url)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_profiles_changed.connect(self.sig_profiles_changed)
        dialog.sig_s3_sets_changed.connect(self.sig_profiles_changed)
        dialog.show()
        return dialog

    def shutdown(self) -> None:
        """Stop local workers (the window calls this when it closes)."""
        self.worker_panel.shutdown()
        self._worker_urls.clear()

    def _on_worker_panel_ready(self, name: str, url: str) -> None:
        self._worker_urls[name] = url
        self.sig_worker_ready.emit(name, url)

    def _on_worker_panel_stopped(self, name: str) -> None:
        self._worker_urls.pop(name, None)
