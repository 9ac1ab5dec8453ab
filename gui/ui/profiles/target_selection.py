"""Which target Submit sends to: the ``profileSelector`` filled from the profiles, turned into a
``Target`` (the built-in sandbox's names no address: the engine knows where it runs, and starts it
when it is first selected; a local worker the console launches is usable once it serves)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox

from gui.core.errors import ProfileError
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.targets import SANDBOX_PROFILE, Target
from gui.ui.bridge import EngineBridge

__all__ = ["TargetSelection"]


class TargetSelection(QObject):
    """Keeps ``selector`` in step with ``profiles`` and turns the chosen one into a ``Target``."""

    sig_target_changed = Signal(object)
    """The selected profile's ``Target`` is known (None: it can't be used yet, e.g. a local worker
    that is not running)."""

    sig_profile_changed = Signal(object)
    """Another ``Profile`` was selected (the local worker panel follows it)."""

    sig_problem_reported = Signal(str)
    """Something about the target went wrong; the message says what to do."""

    def __init__(
        self,
        selector: QComboBox,
        profiles: ProfileStore | None,
        bridge: EngineBridge | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.selector = selector
        self.profiles = profiles
        self.bridge = bridge
        self._sandbox_asked = False
        self._worker_urls: dict[str, str] = {}
        self.selector.currentIndexChanged.connect(self._on_selector_changed)

    # -- the list --------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Fill the selector from the profiles, keeping (or setting) the selection."""
        wanted = select or self.selected_name()
        self.selector.blockSignals(True)
        try:
            self.selector.clear()
            for profile in self._all_profiles():
                label = f"{profile.name} (built in)" if profile.is_builtin else profile.name
                self.selector.addItem(label, profile.name)
                self.selector.setItemData(
                    self.selector.count() - 1, profile.describe(), Qt.ItemDataRole.ToolTipRole
                )
            index = self.selector.findData(wanted)
            self.selector.setCurrentIndex(max(index, 0))
        finally:
            self.selector.blockSignals(False)
        self._on_selector_changed(self.selector.currentIndex())

    def selected_name(self) -> str:
        data = self.selector.currentData()
        return str(data) if data else SANDBOX_PROFILE

    def selected_profile(self) -> Profile | None:
        name = self.selected_name()
        return next((p for p in self._all_profiles() if p.name == name), None)

    def _all_profiles(self) -> list[Profile]:
        if self.profiles is None:
            from gui.core.profiles.profiles import SANDBOX

            return [SANDBOX]
        try:
            return self.profiles.profiles()
        except (ProfileError, OSError, ValueError) as exc:
            self.sig_problem_reported.emit(f"The profiles could not be read: {exc}")
            from gui.core.profiles.profiles import SANDBOX

            return [SANDBOX]

    def _on_selector_changed(self, _index: int) -> None:
        profile = self.selected_profile()
        self.sig_profile_changed.emit(profile)
        self.with_target(self.sig_target_changed.emit, quiet=True)

    # -- local workers ---------------------------------------------------------------------

    def worker_ready(self, profile_name: str, base_url: str) -> None:
        """A local worker the console started serves at ``base_url``."""
        self._worker_urls[profile_name] = base_url
        if profile_name == self.selected_name():
            self.with_target(self.sig_target_changed.emit, quiet=True)

    def worker_stopped(self, profile_name: str) -> None:
        self._worker_urls.pop(profile_name, None)
        if profile_name == self.selected_name():
            self.sig_target_changed.emit(None)

    # -- resolving -------------------------------------------------------------------------

    def with_target(self, then: Callable[[Target], None], *, quiet: bool = False) -> None:
        """Call ``then(target)`` on the Qt thread once the selected profile's target is known.

        When it can't be used (the window closed, a local worker not started), say why, unless
        ``quiet``.
        """
        profile = self.selected_profile()
        bridge = self.bridge
        if bridge is None or profile is None:
            return
        if profile.kind == "sandbox":
            self._with_sandbox(bridge, profile, then)
            return
        if profile.needs_launch:
            url = self._worker_urls.get(profile.name)
            if url is None:
                if not quiet:
                    self.sig_problem_reported.emit(
                        f"The local worker of {profile.name!r} is not running: start it in the "
                        "Local worker panel, then submit again."
                    )
                return
            then(profile.to_target(url))
            return
        then(profile.to_target())

    def _with_sandbox(
        self, bridge: EngineBridge, profile: Profile, then: Callable[[Target], None]
    ) -> None:
        then(profile.to_target())  # no address: the engine sends it where the sandbox runs
        if self._sandbox_asked:
            return
        self._sandbox_asked = True  # started now, so the health strip and Submit don't wait

        def failed(error: BaseException) -> None:
            self._sandbox_asked = False  # asked again next time
            self.sig_problem_reported.emit(f"The built-in sandbox could not start: {error}")

        bridge.deliver(bridge.sandbox_target(), None, failed)
