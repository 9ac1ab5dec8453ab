"""Typing in the request editor while big bodies are validated: how late does the Qt thread get?

Run by hand: ``python tests/benchmarks/bench_editor.py``. For a small body (the baseline), a 10 MB
and a 20 MB body of many small values, and a body holding one 20 MB base64 string (shown folded:
see ``gui.ui.request.text.folding``), it loads the text, then types a key every 300 ms (each
keystroke schedules a debounced validation on a worker thread) while a 5 ms timer measures the
Qt thread's lateness.
Prints the load time (until the text is shown: a big one goes in slice by slice after its first
screen, see ``editor.SLICED_CHARS``), the time until all of it is in the document, the Qt thread's
largest lateness meanwhile, the 99th percentile and maximum lateness while typing, and their ratio
to the baseline. ``--bare`` also times a bare QPlainTextEdit's setPlainText of each text (Qt's
own bound on building the document).

``--stream-jobs N [--engine process|thread] [--rate-limits]`` measures instead typing in the editor
while N jobs stream in (issue 17's figure: p99 under 16 ms with 10,000): the request panel beside a
jobs panel over an ``EngineBridge`` (the table sorted by status, one job selected), the engine in a
process of its own (``RemoteEngine``, the window's) or on a thread of this one, and the sandbox in
another process (``bench_ui.start_sandbox``). A key is typed every ``STREAM_KEY_INTERVAL_MS`` (a
person typing) from the first submit until every job has ended; the baseline is the same typing
with the same panels idle, measured first in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui.ui.request.panel import RequestPanel

KEYSTROKES = 12
KEY_INTERVAL_MS = 300
TICK_MS = 5
STREAM_KEY_INTERVAL_MS = 150


def body_text(megabytes: float) -> str:
    """A pretty-printed body of about ``megabytes`` (counted on its compact serialization)."""

    def build(rows: int) -> dict[str, object]:
        text = "lorem ipsum dolor sit amet " * 3
        return {"input": {"rows": [{"id": i, "text": text} for i in range(rows)]}}

    sample = 1000
    per_row = len(json.dumps(build(sample), separators=(",", ":"))) / sample
    rows = max(1, int(megabytes * 1024 * 1024 / per_row) - 1)
    return json.dumps(build(rows), indent=2)


def base64_body_text(megabytes: float) -> str:
    """A pretty-printed body whose input holds a base64 PNG of about ``megabytes``."""
    import base64
    import os

    png = b"\x89PNG\r\n\x1a\n" + os.urandom(int(megabytes * 1024 * 1024 * 3 / 4))
    image = base64.b64encode(png).decode()
    return json.dumps({"input": {"image": image, "prompt": "a cat"}}, indent=2)


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def measure(panel: RequestPanel, text: str) -> dict[str, float]:
    gaps: list[int] = []
    clock = QElapsedTimer()
    last = [0]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0] - TICK_MS)
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    started = time.perf_counter()
    panel.set_text(text)
    QApplication.processEvents()  # laid out and painted: shown
    load_s = time.perf_counter() - started
    clock.start()
    timer.start()
    while panel.editor.loading:
        wait(20)
    whole_s = time.perf_counter() - started
    while panel.validation.current is None:
        wait(20)
    loading_max = max(gaps[1:], default=0)
    gaps.clear()
    panel.editor.moveCursor(panel.editor.textCursor().MoveOperation.End)
    for _ in range(KEYSTROKES):
        QTest.keyClick(panel.editor, Qt.Key.Key_Space)
        wait(KEY_INTERVAL_MS)
    timer.stop()
    gaps = sorted(max(0, gap) for gap in gaps[1:])
    return {
        "load_s": load_s,
        "whole_s": whole_s,
        "loading_max_ms": loading_max,
        "p99_ms": gaps[int(len(gaps) * 0.99)],
        "max_ms": gaps[-1],
        "median_ms": statistics.median(gaps),
    }


def stream_jobs(count: int, engine_mode: str, rate_limits: bool) -> None:
    """Typing in the editor while ``count`` jobs stream into the jobs panel beside it."""
    import tempfile
    import threading

    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from gui.core.targets import Target
    from gui.ui import runtime
    from gui.ui.jobs.model import JobColumn
    from tests.benchmarks.bench_ui import (
        LatencyProbe,
        build_panel,
        child_peak_rss_mb,
        open_engine,
        peak_rss_mb,
        run_event_loop,
        start_sandbox,
    )

    runtime.set_up_pyside()  # what gui.cli gives the window's process
    app = QApplication.instance() or QApplication([])
    sandbox, base_url = start_sandbox(workers=50, duration=0.05)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-editor-"))
    target = Target(name="Bench sandbox", kind="cloud", base_url=base_url, endpoint_id="bench")
    try:
        engine, engine_pid = open_engine(engine_mode, data_dir, rate_limits)
        window = QWidget()
        row = QHBoxLayout(window)
        request = RequestPanel()
        request.set_text(body_text(0.001))
        row.addWidget(request)
        bridge, jobs = build_panel(engine, target)
        row.addWidget(jobs)
        window.resize(1540, 880)
        window.show()
        jobs.table.sortByColumn(JobColumn.STATUS, Qt.SortOrder.AscendingOrder)
        request.editor.setFocus()
        request.editor.moveCursor(request.editor.textCursor().MoveOperation.End)
        typed = [0]

        def type_key() -> None:
            QTest.keyClick(request.editor, Qt.Key.Key_Space)
            typed[0] += 1

        keys = QTimer()
        keys.setInterval(STREAM_KEY_INTERVAL_MS)
        keys.timeout.connect(type_key)
        probe = LatencyProbe()

        # -- baseline: the same typing, the same panels, no jobs -----------------------------
        keys.start()
        probe.start()
        run_event_loop(app, 5.0)
        probe.stop()
        baseline, baseline_keys = probe.summary(), typed[0]

        # -- typing while the jobs stream in ------------------------------------------------
        def submit_all() -> None:
            for n in range(count):
                engine.submit(target, {"input": {"n": n, "prompt": f"job {n}"}})

        def all_done() -> bool:
            counts = jobs.model.state_counts()
            finished = sum(number for state, number in counts.items() if state.terminal)
            if finished and not jobs.selected_records():
                jobs.table.selectRow(0)
            return finished >= count

        typed[0] = 0
        started = time.monotonic()
        submitter = threading.Thread(target=submit_all, name="bench-submit")
        probe.start()
        submitter.start()
        run_event_loop(app, 900, all_done)
        probe.stop()
        keys.stop()
        submitter.join()
        elapsed = time.monotonic() - started
        loaded, stalls = probe.summary(), probe.stalls_line()
        window_rss, engine_rss = peak_rss_mb(), child_peak_rss_mb(engine_pid)
        finished = sum(n for state, n in jobs.model.state_counts().items() if state.terminal)
        bridge.close()
        request.validation.close()
        engine.close()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)

    where = "a process of its own" if engine_mode == "process" else "a thread of this process"
    limits = "RunPod's rate limits" if rate_limits else "no client-side rate limits"
    print(f"engine in {where}; {limits}; a key every {STREAM_KEY_INTERVAL_MS} ms")
    print(f"jobs: {count} submitted, {finished} ended in {elapsed:.1f} s; {typed[0]} keys typed")
    print("Qt event-loop lateness of a 5 ms timer while typing (ms):")
    print(f"  {'':22} {'ticks':>7} {'p50':>7} {'p99':>7} {'max':>7} {'>16 ms':>7}")
    for name, figures in (
        (f"idle ({baseline_keys} keys)", baseline),
        (f"{count:,} jobs streaming", loaded),
    ):
        print(
            f"  {name:22} {figures['ticks']:>7.0f} {figures['p50']:>7.2f} "
            f"{figures['p99']:>7.2f} {figures['max']:>7.2f} {figures['over16']:>7.0f}"
        )
    print(
        f"  ratio streaming/idle: p99 {loaded['p99'] / max(baseline['p99'], 0.01):.1f}x, "
        f"max {loaded['max'] / max(baseline['max'], 0.01):.1f}x   (goal: p99 < 16 ms)"
    )
    if stalls:
        print(stalls)
    engine_part = f", engine process {engine_rss:.0f} MB" if engine_pid is not None else ""
    print(f"peak RSS: window process {window_rss:.0f} MB{engine_part}")


def main() -> None:
    if "--stream-jobs" in sys.argv:
        import argparse

        parser = argparse.ArgumentParser(description="typing while jobs stream in")
        parser.add_argument("--stream-jobs", type=int, required=True)
        parser.add_argument("--engine", choices=("process", "thread"), default="process")
        parser.add_argument("--rate-limits", action="store_true")
        args = parser.parse_args()
        stream_jobs(args.stream_jobs, args.engine, args.rate_limits)
        return
    app = QApplication.instance() or QApplication([])
    panel = RequestPanel()
    panel.resize(900, 700)
    panel.show()
    baseline = measure(panel, body_text(0.001))
    print(
        f"{'body':>9} {'load s':>7} {'whole s':>7} {'max ms':>7} {'p99 ms':>7} {'max ms':>7}"
        "  ratio p99/max to baseline (load: shown, all in, max lateness meanwhile; then typing)"
    )
    cases = (
        ("baseline", lambda: ""),
        ("10 MB", lambda: body_text(10.0)),
        ("20 MB", lambda: body_text(20.0)),
        ("20 MB b64", lambda: base64_body_text(20.0)),
    )
    for label, make in cases:
        figures = baseline if label == "baseline" else measure(panel, make())
        print(
            f"{label:>9} {figures['load_s']:7.2f} {figures['whole_s']:7.2f}"
            f" {figures['loading_max_ms']:7.0f} {figures['p99_ms']:7.0f} {figures['max_ms']:7.0f}"
            f"  {figures['p99_ms'] / max(baseline['p99_ms'], 1):.1f}x"
            f" / {figures['max_ms'] / max(baseline['max_ms'], 1):.1f}x"
        )
    if "--bare" in sys.argv:
        from PySide6.QtWidgets import QPlainTextEdit

        for label, make in cases[1:]:
            bare = QPlainTextEdit()
            bare.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
            bare.resize(900, 700)
            bare.show()
            QApplication.processEvents()
            text = make()
            started = time.perf_counter()
            bare.setPlainText(text)
            QApplication.processEvents()
            elapsed = time.perf_counter() - started
            print(f"{label:>9} bare QPlainTextEdit setPlainText, shown: {elapsed:.2f} s")
            bare.close()
            bare.deleteLater()
    panel.validation.close()
    del app


if __name__ == "__main__":
    main()
