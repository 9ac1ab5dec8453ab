"""UI responsiveness with 10,000 jobs: run by hand, prints its figures (not collected by pytest).

    python tests/benchmarks/bench_ui.py [--engine process|thread] [--rate-limits] [--jobs 10000]
        [--workers 50] [--duration 0.05] [--without collector] [--sample-stalls]

1. Starts ``python -m gui sandbox`` in ANOTHER process (its CPU is not ours).
2. The engine: ``--engine process`` (the default, as the window has it) runs it in a process of its
   own (``RemoteEngine``: ``job-console engine --data-dir D``); ``--engine thread`` runs it on a
   thread of this process, as the window did before issue 17.
3. Baseline: the Qt thread's event-loop latency with the jobs panel open and idle.
4. Load: the jobs panel + bridge over that engine, offscreen, with 10,000 jobs submitted (from a
   plain thread, as a batch would) and tracked to completion. The table is sorted by status, so
   every change moves rows, and one job stays selected with its details open.
5. Reopen: a new engine over the same history, and the time until the panel shows 10,000 rows.

Latency is a 5 ms precise QTimer's lateness (how much later than due each tick ran): p50, p99 and
max, against the baseline, and the ticks more than 16 ms late. Goals (issue 17): p99 under 8 ms,
max under 33 ms (two frames); peak RSS of the window and engine processes together under 300 MB
(the engine process's is its VmHWM, read before it ends).

``--sample-stalls`` samples the Qt thread's Python stack every millisecond (a thread of this
process: it perturbs a little) and prints, for each tick over 16 ms late, the stacks seen in its
gap.

``--without collector`` turns the window process's collector policy (``gui.ui.runtime``: freezing
what survives each flush, the idle full pass) off, to measure whether it still helps. The foreground
gate and the 1 ms switch interval were measured so too, and removed (issue 17).
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QApplication

from gui.core.engine.engine import Engine
from gui.core.engine.process.remote import RemoteEngine, engine_command
from gui.core.limits import RATE_LIMITS
from gui.core.records import JobState
from gui.core.targets import Target
from gui.ui import runtime
from gui.ui.bridge import EngineBridge, EngineLike
from gui.ui.jobs.model import JobColumn
from gui.ui.jobs.panel import JobsPanel

TICK_MS = 5
TUNING_PARTS = ("collector",)


def waited_for_a_core_ms() -> float:
    """How long this thread has waited, runnable, for the OS to give it a core (Linux schedstat;
    0 where there is none)."""
    try:
        with open("/proc/thread-self/schedstat") as stats:
            return int(stats.read().split()[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return 0.0


class StackSampler:
    """``--sample-stalls``: a thread that records the Qt thread's Python stack every millisecond,
    so a tick over 16 ms late can say what ran in its gap. A stack whose innermost frame is
    ``app.exec()`` means Qt's own C++ (painting, layout) or waiting; the sampler needs the GIL,
    so while the Qt thread holds it a sample lands when it lets go (its stack is still telling)."""

    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id
        self.samples: collections.deque[tuple[float, str]] = collections.deque(maxlen=2_000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            frame = sys._current_frames().get(self.thread_id)
            if frame is not None:
                self.samples.append((time.perf_counter() * 1e3, _describe(frame)))

    def between(self, began_ms: float, ended_ms: float) -> collections.Counter[str]:
        return collections.Counter(s for at, s in self.samples if began_ms <= at <= ended_ms)


def _describe(frame: object) -> str:
    """The innermost frames of a stack, innermost last (``file:function`` each)."""
    names: list[str] = []
    while frame is not None and len(names) < 40:
        code = frame.f_code  # type: ignore[attr-defined]
        names.append(f"{Path(code.co_filename).stem}:{code.co_name}:{frame.f_lineno}")  # type: ignore[attr-defined]
        frame = frame.f_back  # type: ignore[attr-defined]
    names.reverse()
    # Drop the bench's own outer frames up to the event loop.
    for n, name in enumerate(names):
        if name.startswith("bench_ui:run_event_loop"):
            names = names[n + 1 :]
            break
    return " > ".join(names[-8:]) or "app.exec (Qt C++)"


class LatencyProbe:
    """Records how late a 5 ms timer fires on the Qt thread, and for each tick more than 16 ms
    late what the gap was made of: the Qt thread's own CPU, its wait for a core (the OS), and
    garbage collection (``gc_ms``: the collector's running total, when one is given)."""

    def __init__(self, gc_ms: Callable[[], float] | None = None) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_tick)
        self.clock = QElapsedTimer()
        self.lateness_ms: list[float] = []
        self.stalls: list[tuple[float, float, float, float]] = []  # gap, CPU, core wait, GC (ms)
        self.stall_stacks: list[collections.Counter[str]] = []  # what ran in each (a sampler's)
        self.sampler: StackSampler | None = None
        self._last_pc = 0.0
        self.gc_ms = gc_ms or (lambda: 0.0)
        self._last = self._cpu = self._core = self._gc = 0.0

    def start(self) -> None:
        self.lateness_ms = []
        self.stalls = []
        self.stall_stacks = []
        self.clock.start()
        self._last_pc = time.perf_counter() * 1e3
        self._last = 0.0
        self._mark()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _mark(self) -> None:
        self._cpu, self._core, self._gc = time.thread_time(), waited_for_a_core_ms(), self.gc_ms()

    def _on_tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        now_pc = time.perf_counter() * 1e3
        late = max(0.0, now - self._last - TICK_MS)
        self.lateness_ms.append(late)
        if late > 16:
            cpu, core, collected = self._cpu, self._core, self._gc
            self._mark()
            gap = now - self._last
            self.stalls.append(
                (gap, (self._cpu - cpu) * 1e3, self._core - core, self._gc - collected)
            )
            if self.sampler is not None:
                self.stall_stacks.append(self.sampler.between(self._last_pc, now_pc))
        else:
            self._mark()
        self._last = now
        self._last_pc = now_pc

    def stalls_line(self) -> str:
        """What the ticks over 16 ms late were made of; '' when there were none."""
        if not self.stalls:
            return ""
        wall = sum(stall[0] for stall in self.stalls)
        cpu, core, collected = (sum(stall[n] for stall in self.stalls) for n in (1, 2, 3))
        worst = sorted(self.stalls)[-3:]
        return (
            f"  ticks over 16 ms late: {len(self.stalls)}, their gaps {wall:.0f} ms in all: the Qt "
            f"thread's own CPU {cpu / wall:.0%} (garbage collection {collected / wall:.0%}), "
            f"waiting for a core {core / wall:.0%}, the rest (the GIL, or asleep before due) "
            f"{max(0.0, wall - cpu - core) / wall:.0%}; worst (gap, CPU, core wait, GC ms): "
            + ", ".join(f"({a:.0f}, {b:.0f}, {c:.0f}, {d:.0f})" for a, b, c, d in worst)
        )

    def summary(self) -> dict[str, float]:
        data = sorted(self.lateness_ms)
        if not data:
            return {"ticks": 0, "p50": 0.0, "p99": 0.0, "max": 0.0, "over16": 0}
        return {
            "ticks": len(data),
            "p50": statistics.median(data),
            "p99": data[min(len(data) - 1, int(len(data) * 0.99))],
            "max": data[-1],
            "over16": sum(1 for ms in data if ms > 16),
        }


class GcPauses:
    """How long the cyclic garbage collector stopped every thread, per collection."""

    def __init__(self) -> None:
        self.pauses_ms: list[tuple[int, float]] = []  # (generation, milliseconds)
        self.cpu_ms: list[float] = []  # the collecting thread's own CPU time, per collection
        self._started = self._cpu = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started, self._cpu = time.perf_counter(), time.thread_time()
        else:
            self.pauses_ms.append((info["generation"], (time.perf_counter() - self._started) * 1e3))
            self.cpu_ms.append((time.thread_time() - self._cpu) * 1e3)

    def total_ms(self) -> float:
        return sum(ms for _, ms in self.pauses_ms)

    def worst(self) -> str:
        if not self.pauses_ms:
            return "none"
        parts = []
        for generation in (0, 1, 2):
            pauses = [ms for gen, ms in self.pauses_ms if gen == generation]
            if pauses:
                parts.append(f"gen{generation} {len(pauses)}x max {max(pauses):.1f} ms")
        wall = self.total_ms()
        parts.append(f"its own CPU {sum(self.cpu_ms) / wall:.0%} of {wall:.0f} ms wall")
        return ", ".join(parts)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


def child_peak_rss_mb(pid: int | None) -> float:
    """A live process's peak RSS (VmHWM); 0 when there is none to read."""
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class _NoCollectorPolicy:
    """``--without collector``: the collector left to its automatic passes."""

    EVERY_S = IDLE_S = 0.0

    def after_flush(self) -> None: ...
    def after_load(self) -> None: ...
    def maintain(self) -> bool:
        return False

    def full_pass(self) -> None:
        gc.collect()


def turn_off(parts: set[str]) -> None:
    """Turn the named parts of the window process's tuning off (``--without``)."""
    if "collector" in parts:
        runtime._collector_policy = _NoCollectorPolicy()  # type: ignore[assignment]


def open_engine(mode: str, data_dir: Path, rate_limits: bool) -> tuple[EngineLike, int | None]:
    """The engine, started, and the pid of its process (None in this process)."""
    if mode == "process":
        command = engine_command(data_dir) + ([] if rate_limits else ["--no-rate-limits"])
        remote = RemoteEngine(data_dir, command=command)
        remote.start().result(timeout=120)
        return remote, remote.pid  # type: ignore[return-value]
    engine = Engine(data_dir, rate_limits=RATE_LIMITS if rate_limits else None)
    engine.start()
    return engine, None


def start_sandbox(workers: int, duration: float) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "gui", "sandbox", "--port", "0", "--quiet"]
    command += ["--workers", str(workers), "--duration", str(duration)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    prefix = "Sandbox listening on "
    if not first.startswith(prefix):
        process.kill()
        raise SystemExit(f"the sandbox did not start: {first!r}")
    return process, first[len(prefix) :]


def pump(app: QApplication, until: float) -> None:
    """Run the Qt event loop (not a busy loop) until ``until`` (monotonic seconds)."""
    while time.monotonic() < until:
        app.processEvents()
        time.sleep(0.001)  # let the timer and the engine thread breathe; events still flow


def run_event_loop(app: QApplication, seconds: float, stop_when: object = None) -> None:
    """Run app.exec() for up to ``seconds``, quitting early when ``stop_when()`` is true."""
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(app.quit)
    deadline.start(int(seconds * 1000))
    checker = QTimer()
    if callable(stop_when):
        checker.setInterval(200)
        checker.timeout.connect(lambda: app.quit() if stop_when() else None)
        checker.start()
    app.exec()
    checker.stop()
    deadline.stop()


def build_panel(engine: EngineLike, target: Target) -> tuple[EngineBridge, JobsPanel]:
    bridge = EngineBridge(engine)
    panel = JobsPanel(bridge)
    panel.set_target(target)
    panel.resize(1200, 800)
    panel.show()
    return bridge, panel


def main() -> int:
    # What the window's process has (gui.cli.main calls runtime.install): PySide6's quiet import
    # scan; not the start-up phase (no first paint ends it here).
    runtime.set_up_pyside()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--engine",
        choices=("process", "thread"),
        default="process",
        help="the engine in a process of its own (the window's) or on a thread of this one",
    )
    parser.add_argument(
        "--without",
        default="",
        help=f"parts of the window process's tuning to turn off, comma-separated: "
        f"{', '.join(TUNING_PARTS)}",
    )
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--duration", type=float, default=0.05, help="seconds each job runs")
    parser.add_argument("--timeout", type=float, default=900, help="give up after S seconds")
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="let the engine keep to RunPod's published rate limits (as against the cloud)",
    )
    parser.add_argument(
        "--sort",
        choices=[column.name.lower() for column in JobColumn],
        default="status",
        help="the table's sort column during the load (status: every change moves rows)",
    )
    parser.add_argument(
        "--sample-stalls",
        action="store_true",
        help="sample the Qt thread's stack every ms and print what ran in each tick over 16 ms",
    )
    args = parser.parse_args()
    without = {part for part in args.without.split(",") if part}
    if without - set(TUNING_PARTS):
        parser.error(f"--without takes {', '.join(TUNING_PARTS)}, not {args.without!r}")
    turn_off(without)

    app = QApplication(sys.argv[:1])
    app.setOrganizationName("runpod-job-console-bench")
    sandbox, base_url = start_sandbox(args.workers, args.duration)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    target = Target(name="Bench sandbox", kind="cloud", base_url=base_url, endpoint_id="bench")
    print(f"sandbox (another process): {base_url}; history in {data_dir}")
    try:
        engine, engine_pid = open_engine(args.engine, data_dir, args.rate_limits)
        bridge, panel = build_panel(engine, target)
        probe = LatencyProbe()

        sampler = StackSampler(threading.get_ident()) if args.sample_stalls else None
        if sampler is not None:
            sampler.start()
            probe.sampler = sampler

        # -- baseline: the same panel, idle -------------------------------------------------
        probe.start()
        run_event_loop(app, 3.0)
        probe.stop()
        baseline = probe.summary()
        idle_stalls = list(zip(probe.stalls, probe.stall_stacks, strict=False))

        # -- load: 10,000 jobs submitted and tracked to completion ----------------------------
        gc_pauses = GcPauses()
        gc.callbacks.append(gc_pauses)
        probe.gc_ms = gc_pauses.total_ms
        slow_applies: list[float] = []
        apply = panel._apply_incoming

        slow_turns: list[tuple[float, float, float]] = []  # (wall ms, own CPU ms, GC ms)

        def timed_apply() -> None:
            began, cpu = time.perf_counter(), time.thread_time()
            collected = gc_pauses.total_ms()
            apply()
            wall = (time.perf_counter() - began) * 1e3
            slow_applies.append(wall)
            if wall > 16:
                own = (time.thread_time() - cpu) * 1e3
                slow_turns.append((wall, own, gc_pauses.total_ms() - collected))

        panel._apply_incoming = timed_apply  # type: ignore[method-assign]
        panel._apply_timer.timeout.disconnect()
        panel._apply_timer.timeout.connect(timed_apply)
        batches: list[int] = []
        bridge.sig_jobs_changed.connect(lambda records: batches.append(len(records)))
        panel.table.sortByColumn(JobColumn[args.sort.upper()], Qt.SortOrder.AscendingOrder)

        def submit_all() -> None:
            for n in range(args.jobs):
                engine.submit(target, {"input": {"n": n, "prompt": f"job {n}"}})

        def all_done() -> bool:
            counts = panel.model.state_counts()
            finished = sum(count for state, count in counts.items() if state.terminal)
            if finished and not panel.selected_records():
                panel.table.selectRow(0)  # keep one job selected, its details shown
            return finished >= args.jobs

        started = time.monotonic()
        submitter = threading.Thread(target=submit_all, name="bench-submit")
        probe.start()
        submitter.start()
        run_event_loop(app, args.timeout, all_done)
        probe.stop()
        if sampler is not None:
            sampler.stop()
        gc.callbacks.remove(gc_pauses)
        submitter.join()
        elapsed = time.monotonic() - started
        loaded = probe.summary()
        counts = panel.model.state_counts()
        rss_after_load = peak_rss_mb()
        engine_rss = child_peak_rss_mb(engine_pid)
        completed = counts.get(JobState.COMPLETED, 0)
        # The collector's idle full pass (unfreeze, collect, freeze) with 10,000 jobs in memory.
        began = time.perf_counter()
        bridge._collector.full_pass()
        idle_pass_ms = (time.perf_counter() - began) * 1e3
        bridge.close()
        panel.close()
        panel.deleteLater()
        engine.close()
        app.processEvents()

        # -- reopen with 10,000 jobs in the history ---------------------------------------------
        opened = time.monotonic()
        engine2, _pid = open_engine(args.engine, data_dir, False)
        engine_ready = time.monotonic()
        bridge2, panel2 = build_panel(engine2, target)
        # The table reads the history file off the Qt thread: until it shows every job.
        until = time.monotonic() + args.timeout
        while panel2.model.rowCount() < args.jobs and time.monotonic() < until:
            app.processEvents()
            time.sleep(0.001)
        panel2.grab()  # the first paint of the table
        shown = time.monotonic()
        rows = panel2.model.rowCount()
        bridge2.close()
        engine2.close()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)

    limits = "RunPod's rate limits" if args.rate_limits else "no client-side rate limits"
    where = "a process of its own" if args.engine == "process" else "a thread of this process"
    tuning = f"tuning off: {', '.join(sorted(without))}" if without else "all tuning on"
    print(f"\nengine in {where}; table sorted by {args.sort} during the load; {limits}; {tuning}")
    print(f"jobs: {args.jobs} submitted, {completed} COMPLETED, states {dict(counts)}")
    print(f"tracked to completion in {elapsed:.1f} s ({args.jobs / elapsed:.0f} jobs/s)")
    print(f"bridge batches: {len(batches)} (mean {statistics.mean(batches or [0]):.0f} jobs each)")
    print("\nQt event-loop lateness of a 5 ms timer (ms):")
    print(f"  {'':10} {'ticks':>7} {'p50':>7} {'p99':>7} {'max':>7} {'>16 ms':>7}")
    for name, figures in (("idle", baseline), (f"{args.jobs:,} jobs", loaded)):
        print(
            f"  {name:10} {figures['ticks']:>7.0f} {figures['p50']:>7.2f} "
            f"{figures['p99']:>7.2f} {figures['max']:>7.2f} {figures['over16']:>7.0f}"
        )
    p99_ratio = loaded["p99"] / max(baseline["p99"], 0.01)
    max_ratio = loaded["max"] / max(baseline["max"], 0.01)
    print(
        f"  ratio loaded/idle: p99 {p99_ratio:.1f}x, max {max_ratio:.1f}x   "
        "(goals: p99 < 8 ms, max < 33 ms)"
    )
    if probe.stalls_line():
        print(probe.stalls_line())
    longest_apply = max(slow_applies, default=0.0)
    print(
        f"  Qt-thread time applying changes per turn: max {longest_apply:.1f} ms over "
        f"{len(slow_applies)} turns; garbage collector: {gc_pauses.worst()}"
    )
    if slow_turns:
        wall = sum(t[0] for t in slow_turns)
        print(
            f"  turns over 16 ms: {len(slow_turns)}, {wall:.0f} ms in all: the Qt thread's own CPU "
            f"{sum(t[1] for t in slow_turns) / wall:.0%} of it, garbage collection "
            f"{sum(t[2] for t in slow_turns) / wall:.0%}; worst (wall, CPU, GC ms): "
            + ", ".join(f"({a:.0f}, {b:.0f}, {c:.0f})" for a, b, c in sorted(slow_turns)[-5:])
        )
    if sampler is not None:
        loaded_stalls = list(zip(probe.stalls, probe.stall_stacks, strict=True))
        for phase, (gap, cpu, *_rest), stacks in [
            *(("idle", *stall) for stall in idle_stalls),
            *(("loaded", *stall) for stall in loaded_stalls),
        ]:
            print(f"  {phase} stall: gap {gap:.0f} ms, Qt thread's CPU {cpu:.0f} ms; samples:")
            for stack, count in stacks.most_common(6):
                print(f"    {count:3d}x {stack}")
    print(f"  a full collection with the jobs in memory, idle: {idle_pass_ms:.0f} ms")
    together = rss_after_load + engine_rss
    engine_part = f", engine process {engine_rss:.0f} MB" if engine_pid is not None else ""
    print(
        f"\npeak RSS: window process {rss_after_load:.0f} MB{engine_part}; together "
        f"{together:.0f} MB (goal < 300 MB)"
    )
    print(
        f"reopen with {rows} jobs in the history: {shown - opened:.2f} s "
        f"(engine {engine_ready - opened:.2f} s, panel + first paint {shown - engine_ready:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
