"""``EndpointPicker``: the account's endpoints (``endpointList``), to pick one instead of typing
its id. Asked of the engine through the bridge when it opens; the window never waits.

Each endpoint shows its name, id, type, GPU and workers min-max. Load-balancing endpoints are
listed but can't be picked: they serve plain HTTP, not jobs. A missing key, a refused one or an
unreachable API is said in words where the list would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.core.errors import ConsoleError
from gui.core.targets import Target
from gui.ui import theme
from gui.ui.tasks import when_done

if TYPE_CHECKING:
    from gui.core.account.models import Endpoint
    from gui.ui.bridge import EngineBridge

__all__ = ["NOT_FOR_JOBS", "EndpointPicker"]

NOT_FOR_JOBS = "load balancer: not supported for jobs"
COLUMNS = ("Name", "Id", "Type", "GPU", "Workers")
_ID = Qt.ItemDataRole.UserRole


class EndpointPicker(QDialog):
    """Lists the endpoints of ``target``'s account; ``sig_endpoint_picked`` tells the pick.

    ``api_key`` (a key typed in a form, called by the engine off the Qt thread) is used instead
    of the profile's stored key when given; ``current`` is selected when listed.
    """

    sig_endpoint_picked = Signal(str)
    """An endpoint was picked: its id."""

    def __init__(
        self,
        bridge: EngineBridge,
        target: Target,
        *,
        management_url: str = "",
        api_key: Callable[[], str | None] | None = None,
        current: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("endpointPicker")
        self.setWindowTitle("Pick an endpoint")
        self._current = current
        self.status = QLabel(f"Asking {management_url or 'RunPod'} for the account's endpoints…")
        self.status.setObjectName("endpointPickerStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.list = QTreeWidget()
        self.list.setObjectName("endpointList")
        self.list.setHeaderLabels(list(COLUMNS))
        self.list.setRootIsDecorated(False)
        self.list.setAllColumnsShowFocus(True)
        header = self.list.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.list.itemSelectionChanged.connect(self._on_list_selection_changed)
        self.list.itemDoubleClicked.connect(self._on_list_item_double_clicked)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.pick_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.pick_button.setText("Pick")
        self.pick_button.setObjectName("pickEndpointOkButton")
        self.pick_button.setEnabled(False)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.buttons)
        self.resize(720, 360)
        future = bridge.list_endpoints(target, management_url, api_key)
        when_done(future, self._on_endpoints, self._on_failed, context=self)

    def picked(self) -> str:
        """The selected endpoint's id ("" when none, or a load balancer)."""
        items = self.list.selectedItems()
        if not items or not items[0].flags() & Qt.ItemFlag.ItemIsEnabled:
            return ""
        return str(items[0].data(0, _ID))

    def _on_endpoints(self, endpoints: list[Endpoint]) -> None:
        self.list.clear()
        for endpoint in endpoints:
            kind = "queue" if endpoint.supports_jobs else NOT_FOR_JOBS
            workers = f"{endpoint.workers_min}-{endpoint.workers_max}"
            cells = [endpoint.name or "-", endpoint.id, kind, endpoint.hardware or "-", workers]
            item = QTreeWidgetItem(cells)
            item.setData(0, _ID, endpoint.id)
            if not endpoint.supports_jobs:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                for column in range(len(COLUMNS)):
                    item.setToolTip(
                        column,
                        "A load-balancing endpoint serves plain HTTP requests, not queued jobs "
                        "(/run, /status): the console can't send jobs to it.",
                    )
            self.list.addTopLevelItem(item)
            if endpoint.id == self._current and endpoint.supports_jobs:
                self.list.setCurrentItem(item)
        usable = sum(1 for endpoint in endpoints if endpoint.supports_jobs)
        if not endpoints:
            self._say(
                "This account has no serverless endpoint yet: create one in RunPod's console."
            )
        else:
            self._say(
                f"{len(endpoints)} endpoints, {usable} for jobs. Double-click one, or select it "
                "and Pick.",
                ok=True,
            )
        self.list.setFocus()

    def _on_failed(self, error: BaseException) -> None:
        detail = (
            str(error) if isinstance(error, ConsoleError) else f"{type(error).__name__}: {error}"
        )
        self._say(f"The endpoints could not be listed: {detail}", ok=False)

    def _say(self, text: str, ok: bool | None = None) -> None:
        self.status.setText(text)
        role = "text" if ok is None else "muted" if ok else "error"
        self.status.setStyleSheet("" if role == "text" else f"color: {theme.css(role)};")

    def _on_list_selection_changed(self) -> None:
        self.pick_button.setEnabled(bool(self.picked()))

    def _on_list_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self._on_buttons_accepted()

    def _on_buttons_accepted(self) -> None:
        chosen = self.picked()
        if chosen:
            self.sig_endpoint_picked.emit(chosen)
            self.accept()
