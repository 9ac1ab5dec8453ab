"""Start-up time: process start to the main window shown and idle (run by hand).

    python tests/benchmarks/bench_startup.py [--runs 7] [--jobs 10000]

Three programs, each started afresh several times in alternation, medians printed:
- baseline: a bare PySide6 script that shows an empty QMainWindow;
- ``job-console`` on an empty data folder;
- ``job-console`` on a data folder whose history holds ``--jobs`` finished jobs.
Each prints ``startup-idle`` once shown with its event loop idle; the time is measured from spawning
the process to reading that line. Also prints the app's peak resident memory (VmHWM) at idle.
Goals (issue 8): at most 1.5x the baseline empty, at most 2x with 10,000 jobs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASELINE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1100, 720)
window.show()
def report():
    print("startup-idle", flush=True)
    app.quit()
QTimer.singleShot(0, lambda: QTimer.singleShot(0, report))
app.exec()
"""

PEAK_RSS = (
    "import atexit\n"
    "def _peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM'):\n"
    "            print('peak-rss-kb', line.split()[1], flush=True)\n"
    "atexit.register(_peak)\n"
)


def fill_history(data_dir: Path, count: int) -> None:
    from gui.core.records import JobRecord, JobState
    from gui.core.store import JobStore
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


def time_once(command: list[str], env: dict[str, str]) -> tuple[float, int | None]:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    elapsed = None
    peak = None
    for line in process.stdout:
        if line.startswith("startup-idle") and elapsed is None:
            elapsed = time.perf_counter() - started
        elif line.startswith("peak-rss-kb"):
            peak = int(line.split()[1])
    process.wait(timeout=120)
    if elapsed is None:
        raise SystemExit(f"{command} never reported startup-idle (exit {process.returncode})")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=10_000)
    options = parser.parse_args()
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    env["JOB_CONSOLE_STARTUP_PROBE"] = "1"
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    with tempfile.TemporaryDirectory() as tmp:
        empty, full = Path(tmp, "empty"), Path(tmp, "full")
        empty.mkdir()
        full.mkdir()
        fill_history(full, options.jobs)
        app = [
            sys.executable,
            "-c",
            PEAK_RSS + "import sys\nfrom gui.cli import main\nsys.exit(main(sys.argv[1:]))",
            "--data-dir",
        ]
        programs = {
            "bare QMainWindow": [sys.executable, "-c", BASELINE],
            "job-console, empty history": [*app, str(empty)],
            f"job-console, {options.jobs:,} jobs": [*app, str(full)],
        }
        times: dict[str, list[float]] = {name: [] for name in programs}
        peaks: dict[str, list[int]] = {name: [] for name in programs}
        for command in programs.values():  # warm the file cache once
            time_once(command, env)
        for _ in range(options.runs):
            for name, command in programs.items():
                elapsed, peak = time_once(command, env)
                times[name].append(elapsed)
                if peak:
                    peaks[name].append(peak)
    baseline = statistics.median(times["bare QMainWindow"])
    print(f"start-up to shown and idle, median of {options.runs} runs (offscreen):")
    for name in programs:
        median = statistics.median(times[name])
        memory = f", peak RSS {statistics.median(peaks[name]) / 1024:.0f} MB" if peaks[name] else ""
        print(f"  {name:32s} {median * 1000:7.0f} ms  {median / baseline:4.2f}x baseline{memory}")


if __name__ == "__main__":
    main()
