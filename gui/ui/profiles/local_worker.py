"""Local workers: a worker author's ``handler.py`` served by the console, with its output shown.

``LocalWorker`` starts ``python handler.py --rp_serve_api --rp_api_host 127.0.0.1 --rp_api_port P``
as a ``QProcess`` (the interpreter the profile names, else the one of a ``.venv`` or ``venv`` beside
the handler, else the console's own: ``worker_python``), streams its output, and says it is ready
once the port accepts connections (probed with ``QTcpSocket``, so the Qt thread never waits).
Before that, a short ``QProcess`` asks that interpreter whether it has ``runpod``: the console's own
has not after ``pip install .``, and the worker would die of a ``ModuleNotFoundError``; the
worker's output is read for one too. Either way the message says what to install, and where.
``LocalWorkerPanel`` is its log panel with Start and Stop. Both stop the worker when the
application quits. The client adapts to the server's quirks (RUNPOD_API.md §7).
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.core.profiles.profiles import (
    RUNPOD_PROBE,
    RUNPOD_PROBE_MISSING,
    Profile,
    missing_module_message,
    worker_command,
)

if TYPE_CHECKING:
    from PySide6.QtNetwork import QAbstractSocket, QTcpSocket

__all__ = ["LocalWorker", "LocalWorkerPanel"]

_LOG_LINES = 5000
_TAIL_CHARS = 4000  # of the worker's output, read for a ModuleNotFoundError when it dies
_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class LocalWorker(QObject):
    """One local worker process for ``profile`` (a local profile with a handler)."""

    sig_output_received = Signal(str)
    """The worker wrote to stdout or stderr (merged): a chunk of text."""

    sig_ready = Signal(str)
    """The worker answers: its base URL (``http://127.0.0.1:P``)."""

    sig_stopped = Signal(int, str)
    """The worker is gone: its exit code (-1 when it never started) and a sentence saying why."""

    def __init__(
        self,
        profile: Profile,
        parent: QObject | None = None,
        *,
        ready_timeout_ms: int = 60_000,
        probe_interval_ms: int = 150,
    ) -> None:
        super().__init__(parent)
        self.profile = profile
        self.port = profile.serve_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.ready = False
        self._stopping = False
        self._ready_timeout_ms = ready_timeout_ms
        self._waited_ms = 0
        self._probe_timer = QTimer(self)
        self._probe_timer.setSingleShot(True)
        self._probe_timer.setInterval(probe_interval_ms)
        self._probe_timer.timeout.connect(self._on_probe_timer_timeout)
        self._probe: QTcpSocket | None = None
        self._check: QProcess | None = None  # the runpod probe, while it runs
        self._command: list[str] = []
        self._tail = ""
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._on_process_output)
        self.process.finished.connect(self._on_process_finished)
        self.process.errorOccurred.connect(self._on_process_error)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

    @property
    def running(self) -> bool:
        """Starting (its Python being checked) or started."""
        return self._check is not None or self.process.state() != QProcess.ProcessState.NotRunning

    def command(self) -> list[str]:
        return worker_command(self.profile, self.port)

    def start(self) -> None:
        """Start the worker; ``sig_ready`` or ``sig_stopped`` follows."""
        if self.running:
            return
        if not _port_is_free(self.port):
            message = (
                f"Port {self.port} is already in use: stop what serves it, or choose another "
                "port in the profile."
            )
            self.sig_stopped.emit(-1, message)
            return
        command = self.command()
        handler = Path(command[1])
        if not handler.is_file():
            self.sig_stopped.emit(-1, f"The handler file {handler} does not exist.")
            return
        self._command = command
        self.ready = False
        self._stopping = False
        # Does its Python have runpod? Asked without waiting; the worker starts when it answers.
        check = QProcess(self)
        check.setProgram(command[0])
        check.setArguments(["-c", RUNPOD_PROBE])
        check.setWorkingDirectory(str(handler.parent))  # where the worker's imports resolve
        check.finished.connect(self._on_check_finished)
        check.errorOccurred.connect(self._on_check_error)
        self._check = check
        check.start()

    def _launch(self) -> None:
        command = self._command
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")  # show its output as it happens
        self.process.setProcessEnvironment(environment)
        self.process.setWorkingDirectory(str(Path(command[1]).parent))  # imports as in a shell
        self.process.setProgram(command[0])
        self.process.setArguments(command[1:])
        self._waited_ms = 0
        self._tail = ""
        self.sig_output_received.emit("$ " + " ".join(command) + "\n")
        self.process.start()
        self._probe_timer.start()

    def stop(self, wait_ms: int = 3000) -> None:
        """Stop the worker: SIGTERM, then kill after ``wait_ms``. Blocks at most that long."""
        self._probe_timer.stop()
        if self._drop_check():
            self.sig_stopped.emit(-1, "The worker was stopped.")
            return
        if not self.running:
            return
        self._stopping = True
        self.process.terminate()
        if not self.process.waitForFinished(wait_ms):
            self.process.kill()
            self.process.waitForFinished(1000)

    # -- its Python ------------------------------------------------------------------------------

    def _drop_check(self) -> bool:
        """Stop the runpod probe if it runs (its answer is no longer wanted); True if it did."""
        check, self._check = self._check, None
        if check is None:
            return False
        check.blockSignals(True)
        if check.state() != QProcess.ProcessState.NotRunning:
            check.kill()
            check.waitForFinished(1000)
        check.deleteLater()
        return True

    def _on_check_finished(self, exit_code: int, status: QProcess.ExitStatus) -> None:
        self._drop_check()
        if status == QProcess.ExitStatus.NormalExit and exit_code == RUNPOD_PROBE_MISSING:
            self._say_missing("runpod", -1)
            return
        self._launch()  # anything else the worker's own output will tell

    def _on_check_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._drop_check()
            self.sig_stopped.emit(
                -1, f"Could not start {self._command[0]}: is that Python interpreter there?"
            )

    def _say_missing(self, module: str, exit_code: int) -> None:
        message = missing_module_message(self._command[0], module)
        self.sig_output_received.emit(f"[console] {message}\n")
        self.sig_stopped.emit(exit_code, message)

    # -- readiness -----------------------------------------------------------------------------

    def _on_probe_timer_timeout(self) -> None:
        if not self.running or self.ready:
            return
        self._waited_ms += self._probe_timer.interval()
        if self._waited_ms > self._ready_timeout_ms:
            seconds = self._ready_timeout_ms // 1000
            self.sig_output_received.emit(
                f"[console] no answer on port {self.port} after {seconds} s\n"
            )
            self.stop()
            return
        from PySide6.QtNetwork import QTcpSocket  # first launch only: QtNetwork is slow to load

        probe = QTcpSocket(self)
        probe.connected.connect(self._on_probe_connected)
        probe.errorOccurred.connect(self._on_probe_failed)
        self._probe = probe
        probe.connectToHost("127.0.0.1", self.port)

    def _on_probe_connected(self) -> None:
        self._drop_probe()
        if self.running and not self.ready:
            self.ready = True
            self.sig_ready.emit(self.url)

    def _on_probe_failed(self, _error: QAbstractSocket.SocketError) -> None:
        self._drop_probe()
        if self.running and not self.ready:
            self._probe_timer.start()

    def _drop_probe(self) -> None:
        if self._probe is not None:
            self._probe.abort()
            self._probe.deleteLater()
            self._probe = None

    # -- the process ---------------------------------------------------------------------------

    def _on_process_output(self) -> None:
        data = bytes(self.process.readAllStandardOutput().data())
        if data:
            text = data.decode("utf-8", errors="replace")
            self._tail = (self._tail + text)[-_TAIL_CHARS:]
            self.sig_output_received.emit(text)

    def _on_process_finished(self, exit_code: int, _status: QProcess.ExitStatus) -> None:
        self._probe_timer.stop()
        self._drop_probe()
        was_ready, self.ready = self.ready, False
        missing = _MISSING_MODULE.findall(self._tail)
        if not self._stopping and not was_ready and missing:
            self._say_missing(missing[-1].split(".")[0], exit_code)
            return
        if self._stopping:
            message = "The worker was stopped."
        elif was_ready:
            message = f"The worker exited (code {exit_code})."
        else:
            message = f"The worker exited (code {exit_code}) before it served: see its output."
        self.sig_stopped.emit(exit_code, message)

    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            program = self.process.program()
            self.sig_stopped.emit(
                -1, f"Could not start {program}: is that Python interpreter there?"
            )


class LocalWorkerPanel(QWidget):
    """The log panel of a local worker: its output, its state, Start and Stop."""

    sig_worker_ready = Signal(str, str)
    """A worker serves: (profile name, base URL). The engine sends that profile's jobs there."""

    sig_worker_stopped = Signal(str)
    """The worker of this profile stopped."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("localWorkerPanel")
        self.worker: LocalWorker | None = None
        self.status = QLabel("No local worker.")
        self.status.setObjectName("localWorkerStatus")
        self.status.setWordWrap(True)  # a missing package's message names a command to copy
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton("Start worker")
        self.start_button.setObjectName("startWorkerButton")
        self.stop_button = QPushButton("Stop worker")
        self.stop_button.setObjectName("stopWorkerButton")
        self.log = QPlainTextEdit()
        self.log.setObjectName("localWorkerLog")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(_LOG_LINES)
        self.start_button.clicked.connect(self._on_start_clicked)
        self.stop_button.clicked.connect(self._on_stop_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.log)
        self._update_buttons()

    def sizeHint(self) -> QSize:
        # A dock under the window: a few lines of the log, not the text box's own ~200 px, so
        # the window's panels keep their room at 1024x700.
        hint = super().sizeHint()
        return QSize(hint.width(), min(hint.height(), 190))

    def set_profile(self, profile: Profile | None) -> None:
        """Show ``profile``'s worker (stopping a different one that runs)."""
        if self.worker is not None and (profile is None or self.worker.profile != profile):
            self.shutdown()
            self.worker.deleteLater()
            self.worker = None
        if profile is not None and profile.needs_launch and self.worker is None:
            self.worker = LocalWorker(profile, self)
            self.worker.sig_output_received.connect(self._on_worker_output_received)
            self.worker.sig_ready.connect(self._on_worker_ready)
            self.worker.sig_stopped.connect(self._on_worker_stopped)
            self.status.setText(f"{profile.name}: not running ({profile.handler}).")
        elif profile is None or not profile.needs_launch:
            self.status.setText("No local worker.")
        self._update_buttons()

    def start(self) -> None:
        if self.worker is not None:
            self.status.setText(f"{self.worker.profile.name}: starting…")
            self.worker.start()
        self._update_buttons()

    def shutdown(self) -> None:
        """Stop the worker (the window calls this when it closes)."""
        if self.worker is not None:
            self.worker.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def _update_buttons(self) -> None:
        running = self.worker is not None and self.worker.running
        self.start_button.setEnabled(self.worker is not None and not running)
        self.stop_button.setEnabled(running)

    def _on_start_clicked(self) -> None:
        self.start()

    def _on_stop_clicked(self) -> None:
        self.shutdown()

    def _on_worker_output_received(self, text: str) -> None:
        self.log.moveCursor(self.log.textCursor().MoveOperation.End)
        self.log.insertPlainText(text)
        self.log.ensureCursorVisible()

    def _on_worker_ready(self, url: str) -> None:
        assert self.worker is not None
        self.status.setText(f"{self.worker.profile.name}: serving at {url}")
        self._update_buttons()
        self.sig_worker_ready.emit(self.worker.profile.name, url)

    def _on_worker_stopped(self, _exit_code: int, message: str) -> None:
        name = self.worker.profile.name if self.worker is not None else ""
        self.status.setText(f"{name}: {message}")
        self._update_buttons()
        self.sig_worker_stopped.emit(name)
