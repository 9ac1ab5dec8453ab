"""Start-up time: process start to the main window shown and idle (run by hand).

    python tests/benchmarks/bench_startup.py [--runs 7] [--jobs 10000]

Six programs, each started afresh several times in alternation, medians printed:
- baseline: a bare PySide6 script that shows an empty QMainWindow (at the app's first-start size);
- a plain PySide6 script that builds the same widgets as the window's first frame, with none of
  the app's code (what any window of this shape pays: the floor under the app's own time);
- ``job-console`` on an empty data folder, with its engine on a thread of the window's process and
  with its engine in a process of its own (issue 17);
- the same two on a data folder whose history holds ``--jobs`` finished jobs.
The engine's place is chosen with the window's hidden ``--engine thread|process`` option.
Each prints ``startup-idle`` once shown with its event loop idle; the time is measured from spawning
the process to reading that line. The app also reports when its job table holds the whole history
(``history-shown``: a history loaded after the window shows is counted honestly), its resident
memory at idle (VmRSS) and its peak (VmHWM, read at exit).
Goals (issue 8): at most 1.5x the baseline empty, at most 2x with 10,000 jobs; (issue 17) the
engine process within 10% of the engine thread.

Measure what users run: an installed app (``pip install .`` into a virtual environment, then run
this file with that environment's Python from outside the checkout). An editable install (the
test command's ``pip install -e``) puts an import hook into every Python start, the baseline's
too: ~10 ms of imports the app would mostly make anyway, which flatters its ratio. The report
says which kind it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from gui.ui.window.window_state import DEFAULT_SIZE

# Shows ``window``, then says ``startup-idle`` once the event loop has handled what was queued.
SHOW_AND_REPORT_IDLE = """
window.show()
def report():
    print("startup-idle", flush=True)
    app.quit()
QTimer.singleShot(0, lambda: QTimer.singleShot(0, report))
app.exec()
"""

# Both reference programs show their window at the app's first-start size (their first argument,
# WIDTHxHEIGHT), so all three fill and paint the same pixels.
WINDOW_SIZE = "x".join(map(str, DEFAULT_SIZE))

BASELINE = (
    """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(*map(int, sys.argv[1].split("x")))
"""
    + SHOW_AND_REPORT_IDLE
)

# The same widgets as the window's first frame (menus, templates, editor and its tabs, diagnostics,
# job table with its toolbar and filters, the details' hint, Webhooks tab, status bar), built by a
# plain script with none of the app's code: what PySide6 alone needs for a window of this shape.
# It tells how much of the app's time is its own (imports, logic, data) and how much any such
# window pays.
WIDGETS_ONLY = (
    """
import sys
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence, QStandardItemModel
from PySide6.QtWidgets import (
    QApplication, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QMainWindow,
    QPlainTextEdit, QPushButton, QSplitter, QTableView, QTabWidget, QToolBar, QToolButton,
    QVBoxLayout, QWidget,
)
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(*map(int, sys.argv[1].split("x")))
for title in ("&File", "&Edit", "&Request", "&View", "&Webhooks", "&Help"):
    menu = window.menuBar().addMenu(title)
    for n in range(6):
        action = QAction(f"Action {n}", window)
        action.setShortcut(QKeySequence(f"Ctrl+{n}"))
        menu.addAction(action)
panes = QSplitter(Qt.Orientation.Horizontal)
templates = QListWidget()
templates.addItems(["Echo", "Image", "Streaming", "Long job", "Failing job"])
panes.addWidget(templates)
request = QWidget()
column = QVBoxLayout(request)
row = QHBoxLayout()
for widget in (QLabel("Target"), QComboBox(), QComboBox(), QPushButton("Submit")):
    row.addWidget(widget)
column.addLayout(row)
editor = QPlainTextEdit()
editor.setPlainText('{\\n  "input": {\\n    "prompt": "Hello"\\n  }\\n}\\n')
editor_tabs = QTabWidget()
editor_tabs.addTab(editor, "Request JSON")
editor_tabs.addTab(QWidget(), "Options")
column.addWidget(editor_tabs)
column.addWidget(QListWidget())
column.addWidget(QLabel("Body 36 B of 10.0 MB allowed for /run (0%)"))
panes.addWidget(request)
tabs = QTabWidget()
jobs = QWidget()
jobs_column = QVBoxLayout(jobs)
toolbar = QToolBar()
icon = QIcon(sys.argv[2])
for n in range(8):
    button = QToolButton()
    button.setIcon(icon)
    button.setText(f"Action {n}")
    toolbar.addWidget(button)
jobs_column.addWidget(toolbar)
jobs_column.addWidget(QLineEdit())
model = QStandardItemModel(0, 8)
model.setHorizontalHeaderLabels([f"Column {n}" for n in range(8)])
table = QTableView()
table.setModel(model)
table.setSortingEnabled(True)
jobs_column.addWidget(table)
jobs_column.addWidget(QLabel("No job selected. Select a job in the table to see its output."))
tabs.addTab(jobs, "Jobs")
tabs.addTab(QWidget(), "Webhooks")
panes.addWidget(tabs)
window.setCentralWidget(panes)
window.statusBar().showMessage("Ready")
"""
    + SHOW_AND_REPORT_IDLE
)

OFFSCREEN_SCREEN = {"name": "bench", "x": 0, "y": 0, "width": 1920, "height": 1080, "dpr": 1}

PEAK_RSS = (
    "import atexit\n"
    "def _peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM'):\n"
    "            print('peak-rss-kb', line.split()[1], flush=True)\n"
    "atexit.register(_peak)\n"
)


def app_command(engine: str) -> list[str]:
    """``job-console`` started as a launcher starts it, its engine on a thread or in a process."""
    run = PEAK_RSS + "import sys\nfrom gui.cli import main\nsys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", run, "--engine", engine]


def fill_history(data_dir: Path, count: int) -> None:
    from gui.core.records import JobRecord, JobState
    from gui.core.storage.store import JobStore
    from gui.core.targets import SANDBOX_ENDPOINT_ID, SANDBOX_PROFILE, Target

    target = Target(SANDBOX_PROFILE, "sandbox", "", SANDBOX_ENDPOINT_ID)
    store = JobStore(data_dir / "jobs.sqlite3")
    now = time.time() - 3600
    for index in range(count):
        record = JobRecord(
            local_id=uuid.uuid4().hex,
            profile=SANDBOX_PROFILE,
            endpoint_id=SANDBOX_ENDPOINT_ID,
            operation="run",
            request={"input": {"prompt": f"job {index}"}},
            submitted_at=now + index * 0.01,
            state=JobState.COMPLETED,
            job_id=f"{uuid.uuid4()}-u1",
            started_at=now + index * 0.01 + 0.1,
            finished_at=now + index * 0.01 + 0.3,
            delay_time_ms=100,
            execution_time_ms=200,
            worker_id="sandbox-worker-1",
            output={"prompt": f"job {index}"},
            history=[(now, "IN_QUEUE"), (now + 0.1, "IN_PROGRESS"), (now + 0.3, "COMPLETED")],
        )
        store.save(record, target)
    store.flush().result(timeout=120)
    store.close()


def time_once(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """One start: ``idle`` and ``history`` in seconds, ``rss``/``peak`` in kB (those reported)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    figures: dict[str, float] = {}
    for line in process.stdout:
        if line.startswith("startup-idle") and "idle" not in figures:
            figures["idle"] = time.perf_counter() - started
        elif line.startswith("history-shown"):
            figures["history"] = time.perf_counter() - started
        elif line.startswith("rss-kb"):
            figures["rss"] = int(line.split()[1])
        elif line.startswith("peak-rss-kb"):
            figures["peak"] = int(line.split()[1])
    process.wait(timeout=120)
    if "idle" not in figures:
        raise SystemExit(f"{command} never reported startup-idle (exit {process.returncode})")
    return figures


def probe_environment(tmp: str) -> dict[str, str]:
    """The environment the measured apps start in: the start-up probe on, no keyring, an
    offscreen screen of desktop size unless a platform is set, bytecode written under ``tmp``."""
    env = dict(os.environ)
    env["JOB_CONSOLE_STARTUP_PROBE"] = "1"
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    if "QT_QPA_PLATFORM" not in env:
        # A desktop-sized offscreen screen (its default is 800x800, smaller than the
        # window's first-start size, which the window would then shrink to fit).
        screen = Path(tmp, "offscreen.json")
        screen.write_text(json.dumps({"screens": [OFFSCREEN_SCREEN]}), encoding="utf-8")
        env["QT_QPA_PLATFORM"] = f"offscreen:configfile={screen}"
    # An installed app (wheel, bundle) starts from compiled bytecode: let the warm-up run
    # write it (outside the source tree), even where PYTHONDONTWRITEBYTECODE is set.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tmp, "pycache"))
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=10_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = probe_environment(tmp)
        empty, full = Path(tmp, "empty"), Path(tmp, "full")
        empty.mkdir()
        full.mkdir()
        fill_history(full, options.jobs)
        # Started as a launcher starts it (the data folder comes from the environment variable).
        thread_app = app_command("thread")
        process_app = app_command("process")
        empty_env = dict(env, JOB_CONSOLE_HOME=str(empty))
        full_env = dict(
            env, JOB_CONSOLE_HOME=str(full), JOB_CONSOLE_STARTUP_PROBE_JOBS=str(options.jobs)
        )
        icon = str(Path(__file__).resolve().parents[2] / "resources/icons/status-completed.svg")
        programs = {
            "bare QMainWindow": ([sys.executable, "-c", BASELINE, WINDOW_SIZE], env),
            "same widgets, no app code": (
                [sys.executable, "-c", WIDGETS_ONLY, WINDOW_SIZE, icon],
                env,
            ),
            "job-console, engine thread": (thread_app, empty_env),
            "job-console, engine process": (process_app, empty_env),
            f"engine thread, {options.jobs:,} jobs": (thread_app, full_env),
            f"engine process, {options.jobs:,} jobs": (process_app, full_env),
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in programs}
        for command, command_env in programs.values():  # warm the file cache once
            time_once(command, command_env)
        for _ in range(options.runs):
            for name, (command, command_env) in programs.items():
                runs[name].append(time_once(command, command_env))
    report(runs, options.runs)
    print(f"engine process / engine thread, medians of {options.runs} starts (goal: within 10%):")
    for thread, process in (
        ("job-console, engine thread", "job-console, engine process"),
        (f"engine thread, {options.jobs:,} jobs", f"engine process, {options.jobs:,} jobs"),
    ):
        threaded = statistics.median(figures["idle"] for figures in runs[thread])
        separate = statistics.median(figures["idle"] for figures in runs[process])
        print(
            f"  {process:32s} shown and idle {separate * 1000:5.0f} ms / {threaded * 1000:5.0f} ms"
            f" = {separate / threaded:4.2f}x"
        )


def install_kind() -> str:
    """'installed app' or 'editable install (...)': see the module's docstring."""
    import gui

    if any("__editable__" in getattr(finder, "__module__", "") for finder in sys.meta_path):
        return "editable install (its import hook flatters the ratio: see the docstring)"
    if "site-packages" not in Path(gui.__file__).parts:
        return "app from the checkout (not installed)"
    return "installed app"


def report(runs: dict[str, list[dict[str, float]]], count: int) -> None:
    def median(name: str, key: str) -> float | None:
        values = [figures[key] for figures in runs[name] if key in figures]
        return statistics.median(values) if values else None

    baseline = median("bare QMainWindow", "idle") or 1.0
    print(f"start-up to shown and idle, median of {count} runs (offscreen), {install_kind()}:")
    for name in runs:
        idle = median(name, "idle") or 0.0
        line = f"  {name:32s} {idle * 1000:7.0f} ms  {idle / baseline:4.2f}x baseline"
        history = median(name, "history")
        if history is not None:
            line += f"; history in the table {history * 1000:.0f} ms ({history / baseline:.2f}x)"
        rss, peak = median(name, "rss"), median(name, "peak")
        if rss is not None:
            line += f"; RSS at idle {rss / 1024:.0f} MB"
        if peak is not None:
            line += f", peak {peak / 1024:.0f} MB"
        print(line)


if __name__ == "__main__":
    main()
