"""Self-checks of the running app: ``--smoke`` (the bundle check) and the start-up probe.

``--smoke`` drives the real window as a person would: it waits until Submit is enabled (the example
request validated, the built-in sandbox resolved), clicks it, and exits 0 once the job it submitted
reaches COMPLETED, 1 on any other end or after a time limit. The start-up probe
(``JOB_CONSOLE_STARTUP_PROBE=1``) prints one line when the window is shown and the event loop has
gone idle, then quits: the start-up benchmark reads it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QPushButton

from gui.core.records import JobState

__all__ = ["STARTUP_PROBE_ENV", "install_smoke", "install_startup_probe"]

STARTUP_PROBE_ENV = "JOB_CONSOLE_STARTUP_PROBE"
SMOKE_TIME_LIMIT_S = 90.0
SMOKE_BODY = '{\n  "input": {\n    "prompt": "smoke check"\n  }\n}\n'


class _SmokeRun(QObject):
    sig_job_seen = Signal(str, str)
    """A job of this run changed: (local id, state). Crosses from the engine thread."""

    def __init__(self, window: Any, app: QApplication) -> None:
        super().__init__(window)
        self.window = window
        self.app = app
        self.started = time.monotonic()
        self.clicked = False
        self.known: set[str] = {record.local_id for record in window.engine.jobs()}
        self.sig_job_seen.connect(self._on_engine_job_seen)
        self.unsubscribe = window.engine.subscribe(self._on_engine_event)
        self.poll = QTimer(self)
        self.poll.timeout.connect(self._on_poll_timeout)
        self.poll.start(100)

    def _on_engine_event(self, event: Any) -> None:  # engine thread
        record = getattr(event, "record", None)
        if record is not None and record.local_id not in self.known:
            self.sig_job_seen.emit(record.local_id, record.state.value)

    def _on_poll_timeout(self) -> None:
        if time.monotonic() - self.started > SMOKE_TIME_LIMIT_S:
            self._finish(1, f"smoke: no COMPLETED job within {SMOKE_TIME_LIMIT_S:.0f} s")
            return
        if self.clicked:
            return
        button = self.window.findChild(QPushButton, "submitButton")
        if button is not None and button.isEnabled():
            self.clicked = True
            print("smoke: submitting the request to the built-in sandbox", flush=True)
            button.click()

    def _on_engine_job_seen(self, local_id: str, state: str) -> None:
        if state == JobState.COMPLETED.value:
            elapsed = time.monotonic() - self.started
            self._finish(0, f"smoke: job {local_id} COMPLETED {elapsed:.1f} s after start")
        elif JobState(state).terminal:
            self._finish(1, f"smoke: job {local_id} ended {state}")

    def _finish(self, code: int, message: str) -> None:
        self.poll.stop()
        self.unsubscribe()
        print(message, file=sys.stdout if code == 0 else sys.stderr, flush=True)
        self.window.close()
        self.app.exit(code)


def install_smoke(window: Any, app: QApplication) -> None:
    """Arm the smoke check on a window that has an engine; the app's exit code is the verdict."""
    if window.engine is None:
        print("smoke: this build has no job engine", file=sys.stderr)
        QTimer.singleShot(0, lambda: app.exit(1))
        return
    editor = window.request.editor
    editor.setPlainText(SMOKE_BODY)
    _SmokeRun(window, app)


def install_startup_probe(app: QApplication) -> None:
    """Print ``startup-idle`` once the event loop has nothing left to do, then quit."""

    def report() -> None:
        print("startup-idle", flush=True)
        app.quit()

    # A zero timer fires after the events already queued (show, first paint) are handled.
    QTimer.singleShot(0, lambda: QTimer.singleShot(0, report))
