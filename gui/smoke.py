"""Self-checks of the running app: ``--smoke`` (the bundle check) and the start-up probe.

``--smoke`` drives the real window as a person would: it waits until Submit is enabled (the example
request validated, the built-in sandbox resolved), clicks it, and exits 0 once the job it submitted
reaches COMPLETED and its webhook delivery reached the console's listener, 1 on any other end or
after a time limit. The start-up probe
(``JOB_CONSOLE_STARTUP_PROBE=1``) prints ``startup-idle`` when the window is shown and the event
loop has gone idle, with ``rss-kb N`` (resident memory then, on Linux); with
``JOB_CONSOLE_STARTUP_PROBE_JOBS=N`` it then waits until the job table holds N rows and prints
``history-shown``; then it quits. The start-up benchmark reads these lines.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from PySide6 import QtGui
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QPushButton

from gui.core.records import JobState
from gui.core.resources import resource_path

__all__ = ["STARTUP_PROBE_ENV", "STARTUP_PROBE_JOBS_ENV", "install_smoke", "install_startup_probe"]

STARTUP_PROBE_ENV = "JOB_CONSOLE_STARTUP_PROBE"
STARTUP_PROBE_JOBS_ENV = "JOB_CONSOLE_STARTUP_PROBE_JOBS"
SMOKE_TIME_LIMIT_S = 90.0
APP_ID = "io.github.runpod_job_console"
SMOKE_BODY = '{\n  "input": {\n    "prompt": "smoke check"\n  }\n}\n'


class _SmokeRun(QObject):
    sig_job_seen = Signal(str, str, int)
    """A job of this run changed: (local id, state, webhook deliveries). Crosses threads."""

    def __init__(self, window: Any, app: QApplication) -> None:
        super().__init__(window)
        self.window = window
        self.app = app
        self.started = time.monotonic()
        self.clicked = False
        # Filled just before the click, once the engine has loaded the history: jobs it holds
        # already are not this run's.
        self.known: set[str] = set()
        self.sig_job_seen.connect(self._on_engine_job_seen)
        self.unsubscribe = window.engine.subscribe(self._on_engine_event)
        self.poll = QTimer(self)
        self.poll.timeout.connect(self._on_poll_timeout)
        self.poll.start(100)

    def _on_engine_event(self, event: Any) -> None:  # engine thread
        record = getattr(event, "record", None)
        if self.clicked and record is not None and record.local_id not in self.known:
            self.sig_job_seen.emit(record.local_id, record.state.value, record.webhook_deliveries)

    def _on_poll_timeout(self) -> None:
        if time.monotonic() - self.started > SMOKE_TIME_LIMIT_S:
            self._finish(
                1, f"smoke: no COMPLETED job with its webhook within {SMOKE_TIME_LIMIT_S:.0f} s"
            )
            return
        if self.clicked:
            return
        button = self.window.findChild(QPushButton, "submitButton")
        started = self.window.engine.started
        if button is not None and button.isEnabled() and started.done():
            self.known = {record.local_id for record in self.window.engine.jobs()}
            self.clicked = True
            print("smoke: submitting the request to the built-in sandbox", flush=True)
            button.click()

    def _on_engine_job_seen(self, local_id: str, state: str, deliveries: int) -> None:
        # The first five minutes in one run: the job completes and its webhook reaches the
        # console's listener (the built-in sandbox reports there).
        if state == JobState.COMPLETED.value and deliveries >= 1:
            elapsed = time.monotonic() - self.started
            self._finish(
                0, f"smoke: job {local_id} COMPLETED, webhook received, {elapsed:.1f} s after start"
            )
        elif state != JobState.COMPLETED.value and JobState(state).terminal:
            self._finish(1, f"smoke: job {local_id} ended {state}")

    def _finish(self, code: int, message: str) -> None:
        self.poll.stop()
        self.unsubscribe()
        print(message, file=sys.stdout if code == 0 else sys.stderr, flush=True)
        from gui.ui.window.quit_guard import quit_without_asking

        quit_without_asking(self.window)  # a job may still run (a failed check): never wait
        self.window.close()
        self.app.exit(code)


def install_smoke(window: Any, app: QApplication) -> None:
    """Arm the smoke check on a window that has an engine; the app's exit code is the verdict."""
    problem = None
    if window.engine is None:
        problem = "this build has no job engine"
    elif b"svg" not in [bytes(f.data()) for f in QtGui.QImageReader.supportedImageFormats()]:
        problem = "Qt's SVG image plugin is missing: the icons can't be drawn"
    elif QIcon(str(resource_path("icons", f"{APP_ID}.svg"))).pixmap(32, 32).isNull():
        problem = f"the app icon is missing or unreadable ({resource_path('icons')})"
    elif not window.store.names():
        problem = f"no example templates were installed (from {resource_path('templates')})"
    if problem is not None:
        print(f"smoke: {problem}", file=sys.stderr)
        QTimer.singleShot(0, lambda: app.exit(1))
        return
    editor = window.request.editor
    editor.setPlainText(SMOKE_BODY)
    _SmokeRun(window, app)


def _resident_kb() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:  # not Linux: the benchmark leaves the figure out
        pass
    return None


def _job_rows(window: Any) -> int:
    panel = getattr(window, "jobs_panel", None)
    return 0 if panel is None else int(panel.model.rowCount())


def install_startup_probe(app: QApplication, window: Any = None) -> None:
    """Print ``startup-idle`` once the event loop has nothing left to do, then (when
    ``JOB_CONSOLE_STARTUP_PROBE_JOBS`` is set) ``history-shown`` once ``window``'s job table holds
    that many jobs, then quit."""
    wanted = int(os.environ.get(STARTUP_PROBE_JOBS_ENV) or 0)
    waiting = QTimer(app)

    def history_check() -> None:
        if _job_rows(window) >= wanted:
            waiting.stop()
            print("history-shown", flush=True)
            app.quit()

    def report() -> None:
        resident = _resident_kb()
        print("startup-idle", flush=True)
        if resident is not None:
            print(f"rss-kb {resident}", flush=True)
        if not wanted or window is None:
            app.quit()
            return
        # Polled, not signalled: the check must not change how the table is filled.
        waiting.timeout.connect(history_check)
        waiting.start(5)
        history_check()

    # A zero timer fires after the events already queued (show, first paint) are handled.
    QTimer.singleShot(0, lambda: QTimer.singleShot(0, report))
