"""Make the README's screenshots with the real app: ``python packaging/screenshots.py``.

It opens the real window (``gui.app.create_window``) on a fresh temporary data folder, offscreen
unless a display is set (``xvfb-run python packaging/screenshots.py`` works too), submits the
example templates to the built-in sandbox through the real engine with the window's own webhook
listener as their ``webhook``, waits until the jobs have reached varied states, and saves PNGs into
``resources/screenshots/`` (``--out DIR`` elsewhere):

- ``first-start.png``: the window as a new user first sees it (the Echo example, the empty table's
  hint), before any job;
- ``window-light.png``: the main window with a COMPLETED image job selected (its output shown);
- ``failed-job.png``: the FAILED job's error (type, message, traceback);
- ``webhook-log.png``: the Webhooks tab with the deliveries the sandbox sent;
- ``workers-panel.png``: the Workers tab: the sandbox endpoint's workers (one running the long
  job), its summary and what keeps its jobs waiting, if anything;
- ``options-tab.png``: the request's Options form at the first-start size;
- ``small-window.png``: the same window at 1024x700 (a laptop screen);
- ``window-dark.png``: the main window in the dark scheme (``JOB_CONSOLE_COLOR_SCHEME=dark``, in a
  second process, since the scheme is chosen when the app starts).

``--scheme light`` or ``--scheme dark`` makes only that scheme's pictures.

Nothing of the user's is touched: the data folder is temporary and the keyring is an in-memory one
that lives in this process only (so the listener token and any key never reach the real keyring).
Prints one line per file written; exit 0 when all were written, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "resources" / "screenshots"
WINDOW_SIZE = (1540, 880)  # the first-start size (gui.ui.window.window_state.DEFAULT_SIZE)
SMALL_SIZE = (1024, 700)
TIME_LIMIT_S = 60.0
# The example templates, in the order they are sent (the table shows the newest first).
EXAMPLES = ("Long job", "Echo", "Streaming", "Failing job", "Image")


def _install_memory_keyring() -> None:
    """Keep the app's secrets (the listener token) in this process: the real keyring stays as is."""
    import keyring
    import keyring.backend

    class MemoryKeyring(keyring.backend.KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.values: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.values.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.values[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.values.pop((service, username), None)

    keyring.set_keyring(MemoryKeyring())


def _wait(app: Any, done: Callable[[], bool], what: str, limit_s: float = TIME_LIMIT_S) -> None:
    """Run the event loop until ``done()`` holds; SystemExit naming ``what`` after ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: gave up waiting for {what} after {limit_s:.0f} s")
        app.processEvents()
        time.sleep(0.02)


def _settle(app: Any, seconds: float = 0.6) -> None:
    """Let queued updates (the bridge's coalesced batches, lazy output views) reach the widgets."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _save(window: Any, app: Any, path: Path) -> None:
    _settle(app)
    if not window.grab().save(str(path), "PNG"):
        raise SystemExit(f"screenshots: could not write {path}")
    print(f"{path} ({path.stat().st_size // 1024} KB)", flush=True)


def _submit_examples(window: Any, app: Any) -> dict[str, str]:
    """Send the example templates to the sandbox with the listener's webhook; name -> local id."""
    listener = window.jobs_area.listener
    _wait(app, lambda: listener is not None and listener.url is not None, "the webhook listener")
    templates = {template.name: template for template in window.store.templates()}
    targets: list[Any] = []
    window.targets.with_target(targets.append)
    _wait(app, lambda: bool(targets), "the built-in sandbox")
    submitted: dict[str, str] = {}
    for name in EXAMPLES:
        template = templates[name]
        body = dict(template.body)
        body["webhook"] = listener.url
        record = window.engine.submit(targets[0], body, template.operation, template=name)
        submitted[name] = record.result(timeout=30).local_id
        _settle(app, 0.3)  # distinct submission times, so the table's order is stable
    return submitted


def _state(window: Any, local_id: str) -> str:
    for record in window.engine.jobs():
        if record.local_id == local_id:
            return str(record.state.value)
    return ""


def _delivery_row(window: Any, log: Any, local_id: str) -> int:
    """The webhook log's row of this job's delivery (a small payload reads better than base64)."""
    job_id = next(r.job_id for r in window.engine.jobs() if r.local_id == local_id)
    for row in range(log.model.rowCount()):
        if log.model.delivery_at(row).job_id == job_id:
            return row
    return 0


def _capture(window: Any, app: Any, out: Path, dark: bool) -> None:
    from PySide6.QtWidgets import QLabel

    if not dark:
        listener = window.jobs_area.listener
        _wait(app, lambda: listener is not None and listener.url is not None, "the listener")
        health = window.jobs_panel.health.label
        _wait(app, lambda: "workers" in health.text(), "the sandbox's health")
        hint = window.jobs_panel.table.viewport().findChild(QLabel, "firstRunHint")
        _wait(app, lambda: hint is None or "No jobs" in hint.text(), "the job history to load")
        _save(window, app, out / "first-start.png")
    jobs = _submit_examples(window, app)
    ended = ("Echo", "Failing job", "Image")
    _wait(
        app,
        lambda: all(_state(window, jobs[name]) in ("COMPLETED", "FAILED") for name in ended),
        "the short jobs to end",
    )
    _wait(app, lambda: _state(window, jobs["Long job"]) == "IN_PROGRESS", "the long job to run")
    panel = window.jobs_panel
    log = window.jobs_area.webhook_log
    _wait(app, lambda: log.model.rowCount() >= len(ended), "the webhook deliveries")
    _wait(app, lambda: panel.select_job(jobs["Image"]), "the image job's row")
    window.templates.select("Image")
    window.templates.open_selected()
    details = panel.details
    details.output_tabs.setCurrentWidget(details.images)
    if dark:
        _save(window, app, out / "window-dark.png")
        return
    _save(window, app, out / "window-light.png")
    panel.select_job(jobs["Failing job"])
    _save(window, app, out / "failed-job.png")
    window.jobs_area.show_webhooks()
    log.table.selectRow(_delivery_row(window, log, jobs["Streaming"]))
    _save(window, app, out / "webhook-log.png")
    window.jobs_area.show_workers()
    workers = window.jobs_area.workers_panel
    _wait(app, lambda: workers.model.rowCount() > 0, "the sandbox's workers")
    _save(window, app, out / "workers-panel.png")
    window.jobs_area.setCurrentIndex(0)  # back to the jobs
    panel.select_job(jobs["Image"])
    request = window.request
    request.tabs.setCurrentWidget(request.options)
    _save(window, app, out / "options-tab.png")
    window.resize(*SMALL_SIZE)
    _save(window, app, out / "small-window.png")


def _run_scheme(out: Path, scheme: str) -> int:
    """One scheme's pictures in a fresh process (a QApplication picks its scheme once)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--out", str(out), "--scheme", scheme]
    return subprocess.run(command, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNG files")
    parser.add_argument("--scheme", choices=("both", "light", "dark"), default="both")
    args = parser.parse_args(argv)
    if args.scheme == "both":
        light = _run_scheme(args.out, "light")
        return light or _run_scheme(args.out, "dark")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["JOB_CONSOLE_COLOR_SCHEME"] = args.scheme
    _install_memory_keyring()
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from gui.app import create_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("RunPod Job Console")
    with tempfile.TemporaryDirectory(prefix="job-console-screenshots-") as folder:
        window = create_window(Path(folder), engine="thread")
        window.resize(*WINDOW_SIZE)
        window.show()
        try:
            _capture(window, app, args.out, dark=args.scheme == "dark")
        finally:
            from gui.ui.window.quit_guard import quit_without_asking

            quit_without_asking(window)  # the long job still runs: no question before quitting
            window.close()
            _settle(app, 0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
