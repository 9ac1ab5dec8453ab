"""Webhooks > Listener settings over real loopback HTTP: a new port serves (and is saved), a new
token makes the old URL 404, a taken port is reported with a free one to use, and the form offers
the public URL or says how to start a tunnel."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.core.webhooks.address import ListenerSettings
from gui.core.webhooks.listener import find_free_port
from gui.ui.webhooks.settings import ListenerSettingsDialog
from gui.ui.window.main_window import MainWindow
from tests.support.request_helpers import TIMEOUT_MS

DELIVERY = {"id": "job-nobody-sent", "status": "COMPLETED", "output": {"ok": True}}


def post(url: str, body: object = DELIVERY) -> int:
    """POST ``body`` as JSON over real HTTP; the status code (errors included)."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.fixture
def window(qtbot: QtBot, data_dir: Path) -> Iterator[MainWindow]:
    made = create_window(data_dir, engine="thread")
    qtbot.addWidget(made)
    made.show()
    listener = made.jobs_area.listener
    assert listener is not None
    qtbot.waitUntil(lambda: listener.info is not None, timeout=TIMEOUT_MS)
    yield made
    made.close()


def open_dialog(window: MainWindow) -> ListenerSettingsDialog:
    dialog = window.desktop.open_listener_settings()
    assert isinstance(dialog, ListenerSettingsDialog)
    assert dialog.objectName() == "listenerSettings"
    return dialog


def test_a_new_port_serves_deliveries_and_is_saved(qtbot: QtBot, window: MainWindow) -> None:
    listener = window.jobs_area.listener
    assert listener is not None
    new_port = find_free_port("127.0.0.1", listener.port + 7)
    dialog = open_dialog(window)
    dialog.port.setValue(new_port)
    dialog.apply()
    qtbot.waitUntil(
        lambda: listener.port == new_port and listener.info is not None, timeout=TIMEOUT_MS
    )
    url = listener.webhook_url()
    assert url.startswith(f"http://127.0.0.1:{new_port}/webhook/")
    assert post(url) == 200
    status = window.desktop.listener_status
    assert status is not None
    qtbot.waitUntil(lambda: "1 received" in status.text(), timeout=TIMEOUT_MS)
    assert f"listening on 127.0.0.1:{new_port}" in status.text()
    assert [d.payload["id"] for d in listener.store.list()] == ["job-nobody-sent"]
    ini = QSettings(str(window.data_dir / "window.ini"), QSettings.Format.IniFormat)
    saved = ListenerSettings.load(ini)
    assert saved.port == new_port


def test_regenerating_the_token_makes_the_old_url_404(qtbot: QtBot, window: MainWindow) -> None:
    listener = window.jobs_area.listener
    assert listener is not None
    old_url = listener.webhook_url()
    assert post(old_url) == 200
    dialog = open_dialog(window)
    dialog.regenerate.click()
    # The dialog shows (masked) the URL once the listener serves it.
    qtbot.waitUntil(lambda: dialog.url.text() not in ("", old_url), timeout=TIMEOUT_MS)
    new_url = listener.webhook_url()
    assert post(old_url) == 404
    assert post(new_url) == 200
    assert dialog.url.text() == new_url
    assert dialog.copy_webhook_url() == new_url


def test_a_taken_port_is_reported_with_a_free_one(qtbot: QtBot, window: MainWindow) -> None:
    listener = window.jobs_area.listener
    assert listener is not None
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        dialog = open_dialog(window)
        dialog.port.setValue(taken)
        dialog.apply()
        qtbot.waitUntil(lambda: dialog.use_free_port.isVisibleTo(dialog), timeout=TIMEOUT_MS)
        assert "already in use" in dialog.status.text()
        status = window.desktop.listener_status
        assert status is not None and status.text() == "Webhooks: off - port taken"
        dialog.use_free_port.click()
        qtbot.waitUntil(lambda: listener.info is not None, timeout=TIMEOUT_MS)
    assert listener.port != taken
    assert post(listener.webhook_url()) == 200


def test_public_url_fills_the_form_and_cloud_without_one_shows_a_tunnel_hint(
    qtbot: QtBot, window: MainWindow
) -> None:
    listener = window.jobs_area.listener
    assert listener is not None
    form = window.request.form
    form.set_cloud_target(True)
    assert form.tunnel_note.isVisibleTo(form)
    assert f"ngrok http {listener.port}" in form.tunnel_note.text()
    assert "cloudflared tunnel --url" in form.tunnel_note.text()

    dialog = open_dialog(window)
    dialog.public_url.setText("https://abc.trycloudflare.com/")
    dialog.apply()
    qtbot.waitUntil(lambda: listener.webhook_url().startswith("https://abc"), timeout=TIMEOUT_MS)
    local_path = str(listener.url).split("/", 3)[3]  # webhook/<token>
    expected = "https://abc.trycloudflare.com/" + local_path
    assert listener.webhook_url() == expected
    qtbot.waitUntil(lambda: not form.tunnel_note.isVisibleTo(form), timeout=TIMEOUT_MS)
    form.use_listener.click()
    assert form.webhook.text() == expected
    status = window.desktop.listener_status
    assert status is not None and "public URL set" in status.text()


def test_a_bad_public_url_is_refused_and_other_hosts_warn(window: MainWindow) -> None:
    dialog = open_dialog(window)
    dialog.public_url.setText("abc.trycloudflare.com")
    assert dialog.apply() is False
    assert "https://" in dialog.status.text()
    assert not dialog.host_warning.isVisibleTo(dialog)
    dialog.host.setCurrentText("0.0.0.0")
    assert dialog.host_warning.isVisibleTo(dialog)
    assert "other machines" in dialog.host_warning.text()


def test_clicking_the_status_opens_the_settings(qtbot: QtBot, window: MainWindow) -> None:
    status = window.desktop.listener_status
    assert status is not None
    assert window.findChildren(ListenerSettingsDialog) == []
    qtbot.mouseClick(status, Qt.MouseButton.LeftButton)
    dialogs = window.findChildren(ListenerSettingsDialog)
    assert len(dialogs) == 1 and dialogs[0].isVisible()


@contextmanager
def window_on_a_taken_port(qtbot: QtBot, data_dir: Path) -> Iterator[tuple[MainWindow, int]]:
    """A window whose saved listener port is held by another socket while it starts (and while
    the caller's block runs), with its listener serving; the window and the taken port."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ini = QSettings(str(data_dir / "window.ini"), QSettings.Format.IniFormat)
        ListenerSettings(port=taken).save(ini)
        window = create_window(data_dir, engine="thread")
        qtbot.addWidget(window)
        listener = window.jobs_area.listener
        assert listener is not None
        qtbot.waitUntil(lambda: listener.info is not None, timeout=TIMEOUT_MS)
        yield window, taken
        window.close()


def test_a_saved_port_taken_at_start_moves_to_a_free_one_and_says_so(
    qtbot: QtBot, data_dir: Path
) -> None:
    with window_on_a_taken_port(qtbot, data_dir) as (window, taken):
        listener = window.jobs_area.listener
        status = window.desktop.listener_status
        assert listener is not None and status is not None
        assert listener.port != taken
        assert f"({taken} was taken)" in status.text()
        assert post(listener.webhook_url()) == 200


def test_a_public_url_set_after_the_port_moved_keeps_the_port_served(
    qtbot: QtBot, data_dir: Path
) -> None:
    """The dialog starts from the port the listener serves on (the status bar's), not the saved
    one that was taken: applying a public URL then restarted the listener on the taken port and
    failed."""
    with window_on_a_taken_port(qtbot, data_dir) as (window, taken):
        listener = window.jobs_area.listener
        assert listener is not None
        served = listener.port
        assert served != taken
        dialog = open_dialog(window)
        assert dialog.port.value() == served
        dialog.public_url.setText("https://abc.trycloudflare.com/")
        assert dialog.apply() is True
        tunnel = "https://abc"
        qtbot.waitUntil(lambda: listener.webhook_url().startswith(tunnel), timeout=TIMEOUT_MS)
        assert listener.port == served
        assert post(str(listener.url)) == 200


def test_a_host_other_machines_can_reach_is_applied_only_once_confirmed(
    qtbot: QtBot, window: MainWindow
) -> None:
    listener = window.jobs_area.listener
    assert listener is not None
    dialog = open_dialog(window)
    asked: list[str] = []

    def refuse(host: str) -> bool:
        asked.append(host)
        return False

    dialog.confirm_exposed = refuse  # type: ignore[method-assign]
    dialog.host.setCurrentText("0.0.0.0")
    assert dialog.apply() is False
    assert asked == ["0.0.0.0"]
    assert "Not applied" in dialog.status.text()
    assert ListenerSettings.load(dialog.settings).host == "127.0.0.1"  # nothing saved
    assert listener.host == "127.0.0.1"

    dialog.confirm_exposed = lambda host: True  # type: ignore[method-assign]
    dialog.port.setValue(find_free_port("0.0.0.0"))
    assert dialog.apply() is True
    assert ListenerSettings.load(dialog.settings).host == "0.0.0.0"
    qtbot.waitUntil(lambda: listener.host == "0.0.0.0", timeout=TIMEOUT_MS)

    asked.clear()
    dialog.confirm_exposed = refuse  # type: ignore[method-assign]
    dialog.host.setCurrentText("127.0.0.1")  # back to loopback: nothing to confirm
    assert dialog.apply() is True
    assert asked == []
