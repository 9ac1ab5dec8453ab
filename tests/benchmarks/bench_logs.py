"""Worker logs of 100 concurrent jobs on 20 workers at 200 lines/s: run by hand, prints figures.

    python tests/benchmarks/bench_logs.py [--jobs 100] [--workers 20] [--lines 100] [--duration 10]

1. Starts ``python -m gui sandbox`` in ANOTHER process (its CPU is not ours), with 20 workers.
2. A real Engine follows 100 jobs sent at once (20 run, 80 wait); each logs ``--lines`` lines
   through the SDK's logger over ``--duration`` seconds, so the 20 running jobs write
   20 x lines / duration lines per second (200 with the defaults). The engine follows one log
   stream per worker (the management API of the sandbox, as ``RUNPOD_API_URL`` names it).
3. The jobs panel is open, a running job selected, its details on the Logs tab (following).
4. No line lost: each job keeps exactly what its handler wrote (its tagged lines: ``Started.``,
   the log lines, ``Handler output``, ``Finished.``; and the one untagged line of its run), read
   back from the history, each once.

The Qt thread's latency is a 5 ms precise QTimer's lateness (as ``bench_ui.py`` measures it):
p50, p99, max. Goal (issue 19): p99 under 16 ms.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_ui import LatencyProbe, build_panel, start_sandbox
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from gui.core.engine.engine import Engine
from gui.core.records import JobState
from gui.core.storage.history import HistoryReader
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import Target
from gui.ui import runtime


def run_event_loop(seconds: float, stop_when: Callable[[], bool] | None = None) -> None:
    """Run a local event loop for up to ``seconds``, leaving early once ``stop_when()`` holds.

    Not ``app.exec()`` and ``app.quit()`` (as bench_ui.py): Qt 6's quit closes every window
    first, and the panel would be measured hidden, its Logs tab idle."""
    loop = QEventLoop()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(seconds * 1000))
    checker = QTimer()
    if stop_when is not None:
        checker.setInterval(200)
        checker.timeout.connect(lambda: loop.quit() if stop_when() else None)
        checker.start()
    loop.exec()
    checker.stop()
    deadline.stop()


def main() -> int:
    runtime.set_up_pyside()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--workers", type=int, default=20)
    parser.add_argument("--lines", type=int, default=100, help="log lines per job")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds each job runs")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    rate = min(args.jobs, args.workers) * args.lines / args.duration
    print(f"{args.jobs} jobs on {args.workers} workers, {args.lines} lines each over "
          f"{args.duration:g} s: {rate:.0f} lines/s while {args.workers} run")  # fmt: skip

    app = QApplication(sys.argv[:1])
    sandbox, base_url = start_sandbox(args.workers, 0.05)
    os.environ["RUNPOD_API_URL"] = base_url  # the sandbox's management API, as runpodctl reads it
    data_dir = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    target = Target(name="Bench sandbox", kind="cloud", base_url=base_url, endpoint_id="bench")
    try:
        engine = Engine(
            data_dir,
            key_provider=lambda _target: "bench-key",
            rate_limits=None,
        )
        engine.start()
        bridge, panel = build_panel(engine, target)
        panel.details_pane.history_path = data_dir / DB_FILENAME
        probe = LatencyProbe()
        probe.start()
        run_event_loop(2.0)
        probe.stop()
        baseline = probe.summary()

        body = {"input": {"sandbox": {"duration": args.duration, "log": args.lines}}}
        sent = [engine.submit(target, body) for _ in range(args.jobs)]
        local_ids = [future.result(timeout=60).local_id for future in sent]
        shown: list[str] = []

        def show_a_running_job() -> None:
            if shown:
                return
            for record in engine.jobs():
                if record.state is JobState.IN_PROGRESS and panel.select_job(record.local_id):
                    details = panel.details
                    details.tabs.setCurrentWidget(details.logs)
                    shown.append(record.local_id)
                    return

        def all_done() -> bool:
            show_a_running_job()
            return sum(1 for r in engine.jobs() if r.terminal) >= args.jobs

        started = time.monotonic()
        probe.start()
        run_event_loop(args.timeout, all_done)
        run_event_loop(4.0)  # the last lines, within the follower's grace
        probe.stop()
        elapsed = time.monotonic() - started
        loaded = probe.summary()
        follow = engine.log_follow
        streams = len({r.worker_id for r in engine.jobs()})
        visible = panel.isVisible()
        in_tab = panel.details.logs.view.blockCount() if shown else 0
        engine.flush().result(timeout=60)
        bridge.close()
        panel.close()
        engine.close()
        app.processEvents()

        expected = args.lines + 4  # Started., the lines, Handler output, Finished.; one untagged
        lost = doubled = stored = 0
        with HistoryReader(data_dir / DB_FILENAME) as reader:
            for local_id in local_ids:
                lines = reader.logs(local_id)
                stored += len(lines)
                seen = Counter((line.worker_id, line.event_id) for line in lines)
                doubled += sum(count - 1 for count in seen.values())
                lost += max(0, expected - len(seen))
        emitted = expected * args.jobs
        print(f"load: {elapsed:.1f} s, {emitted / elapsed:.0f} lines/s kept on average; "
              f"{streams} workers ran the jobs; follower kept {sum(follow.kept.values()) if follow else 0} lines")  # noqa: E501  # fmt: skip
        print(f"lines: emitted {emitted}, stored {stored}, lost {lost}, doubled {doubled}")
        print(f"Logs tab of {shown[0] if shown else '-'}: {in_tab} lines shown (panel visible "
              f"to the end: {visible})")  # fmt: skip
        for name, figures in (("baseline (idle)", baseline), ("while following", loaded)):
            print(f"Qt thread lateness, {name}: {figures['ticks']:.0f} ticks, p50 "
                  f"{figures['p50']:.2f} ms, p99 {figures['p99']:.2f} ms, max "
                  f"{figures['max']:.2f} ms")  # fmt: skip
        ok = lost == 0 and doubled == 0 and loaded["p99"] < 16
        print("PASS" if ok else "FAIL", "(no line lost or doubled, p99 < 16 ms)")
        return 0 if ok else 1
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
