"""The local worker runs on the worker's own Python; a missing ``runpod`` says how to install it.

After ``pip install .`` the console's own Python has no ``runpod``: a real virtual environment
without it (``python -m venv --without-pip``, beside the handler as a worker author keeps one)
stands for that here.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QPushButton
from pytestqt.qtbot import QtBot

from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.profiles.secrets import SecretStore
from gui.ui.profiles.dialog import ProfilesDialog
from gui.ui.profiles.local_worker import LocalWorker, LocalWorkerPanel

HANDLER = "import runpod\nrunpod.serverless.start({'handler': lambda job: job['input']})\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bare_venv(folder: Path) -> Path:
    """A real virtual environment in ``folder/.venv``, without runpod (or pip): its python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder / ".venv")],
        check=True,
        timeout=120,
    )
    return folder / ".venv" / "bin" / "python"


@pytest.fixture
def worker_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my-worker"
    folder.mkdir()
    (folder / "handler.py").write_text(HANDLER)
    return folder


def test_start_finds_the_workers_venv_and_says_how_to_install_runpod_there(
    qtbot: QtBot, worker_folder: Path
) -> None:
    python = _bare_venv(worker_folder)
    profile = Profile("w", "local", handler=str(worker_folder / "handler.py"), port=_free_port())
    panel = LocalWorkerPanel()
    qtbot.addWidget(panel)
    panel.set_profile(profile)
    with qtbot.waitSignal(panel.sig_worker_stopped, timeout=30_000):
        panel.start_button.click()
    install = f"{python} -m pip install runpod"
    assert "has no runpod package" in panel.status.text()
    assert install in panel.status.text()
    assert install in panel.log.toPlainText()
    assert panel.worker is not None and not panel.worker.running
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()


def test_the_python_named_in_the_profile_is_the_one_checked(
    qtbot: QtBot, worker_folder: Path, tmp_path: Path
) -> None:
    # A venv beside the handler has runpod missing, but the profile names another Python.
    _bare_venv(worker_folder)
    other = _bare_venv(tmp_path)
    profile = Profile(
        "w",
        "local",
        handler=str(worker_folder / "handler.py"),
        python=str(other),
        port=_free_port(),
    )
    worker = LocalWorker(profile)
    with qtbot.waitSignal(worker.sig_stopped, timeout=30_000) as stopped:
        worker.start()
    assert stopped.args[0] == -1
    assert f"{other} -m pip install runpod" in stopped.args[1]


@pytest.mark.slow
def test_a_module_missing_in_the_workers_output_is_named(qtbot: QtBot, worker_folder: Path) -> None:
    # This Python has runpod; the handler imports something it lacks.
    (worker_folder / "handler.py").write_text("import runpod\nimport torch_not_installed_here\n")
    profile = Profile(
        "w",
        "local",
        handler=str(worker_folder / "handler.py"),
        python=sys.executable,
        port=_free_port(),
    )
    worker = LocalWorker(profile)
    with qtbot.waitSignal(worker.sig_stopped, timeout=60_000) as stopped:
        worker.start()
    assert stopped.args[0] == 1
    assert "no module named 'torch_not_installed_here'" in stopped.args[1]
    assert f"{sys.executable} -m pip install -r requirements.txt" in stopped.args[1]


def test_stop_while_its_python_is_checked_starts_nothing(qtbot: QtBot, worker_folder: Path) -> None:
    profile = Profile(
        "w",
        "local",
        handler=str(worker_folder / "handler.py"),
        python=sys.executable,
        port=_free_port(),
    )
    worker = LocalWorker(profile)
    launched: list[str] = []
    worker.sig_output_received.connect(launched.append)
    worker.start()
    assert worker.running  # starting: its Python is being asked
    with qtbot.waitSignal(worker.sig_stopped, timeout=5_000) as stopped:
        worker.stop()
    assert stopped.args[1] == "The worker was stopped."
    assert not worker.running
    qtbot.wait(300)
    assert launched == [] and not worker.running


def test_the_form_names_the_venv_found_beside_the_handler(
    qtbot: QtBot, data_dir: Path, worker_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python = _bare_venv(worker_folder)
    handler = str(worker_folder / "handler.py")
    secrets = SecretStore()
    dialog = ProfilesDialog(ProfileStore(data_dir, secrets), secrets)
    qtbot.addWidget(dialog)
    dialog.add_button.click()
    form = dialog.form
    form.name_edit.setText("worker")
    form.kind_combo.setCurrentIndex(form.kind_combo.findData("local"))
    assert not form.python_edit.isHidden()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (handler, ""))
    form.findChild(QPushButton, "handlerBrowseButton").click()
    assert form.handler_edit.text() == handler
    assert form.python_edit.text() == str(python)  # found, and written where it can be seen
    dialog.save_button.click()
    assert ProfileStore(data_dir).get("worker").python == str(python)


def test_the_pythons_placeholder_says_which_one_an_empty_field_means(
    qtbot: QtBot, data_dir: Path, worker_folder: Path
) -> None:
    secrets = SecretStore()
    dialog = ProfilesDialog(ProfileStore(data_dir, secrets), secrets)
    qtbot.addWidget(dialog)
    form = dialog.form
    form.handler_edit.setText(str(worker_folder / "handler.py"))
    form.handler_edit.editingFinished.emit()
    assert "console's own" in form.python_edit.placeholderText()
    python = _bare_venv(worker_folder)
    form.handler_edit.editingFinished.emit()
    assert form.python_edit.placeholderText().startswith(str(python))
