"""``job-console run TEMPLATE --data ROWS``: one job per data row, streamed.

Two passes over the data file, each reading one row at a time: the preview (row count, the first
rows' bodies, every row that can't make a valid body with its problems; ``--dry-run`` stops
there), then the sending, with at most ``--in-flight`` jobs unfinished at a time (the engine's
limiter paces them within RunPod's rate limits). Each job's final status goes to stdout as one
JSON line with its ``row`` (and ``name``) as it ends; ``--results FILE`` (``.csv`` or ``.jsonl``)
gets one line per row: its variables, status and output. ``--rerun-failed`` sends only the rows
whose last job (in the history, for this template and data file) FAILED or TIMED_OUT.

Exit codes as ``run``: 0 every row's job COMPLETED; 1 a job did not complete, or a row was
invalid while others ran; 2 no row could be sent (or ``--dry-run`` found an invalid row).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gui.commands.run import (
    EXIT_JOB_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Interrupted,
    StopSignals,
    UsageError,
    status_json,
)

if TYPE_CHECKING:
    import concurrent.futures

    from gui.core.engine.engine import Engine
    from gui.core.limits import Operation
    from gui.core.records import JobRecord
    from gui.core.request.datarun import PreparedJob, RunTemplate
    from gui.core.storage.run_results import RowResults
    from gui.core.targets import Target

DEFAULT_IN_FLIGHT = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data`` and its companions (``--var`` is ``run``'s own)."""
    group = parser.add_argument_group("data runs (FILE is a template with {{placeholders}})")
    group.add_argument(
        "--data",
        metavar="ROWS",
        help="one job per row of ROWS (.csv with a header, .jsonl, or .json array of objects)",
    )
    group.add_argument(
        "--dry-run", action="store_true", help="show the preview (and every invalid row) only"
    )
    group.add_argument("--preview", type=int, default=3, metavar="N",
                       help="rows shown expanded in the preview (default 3)")  # fmt: skip
    group.add_argument(
        "--rerun-failed",
        action="store_true",
        help="send only the rows whose last job of this template and data FAILED or TIMED_OUT",
    )
    group.add_argument(
        "--results",
        metavar="FILE",
        help="one line per row (variables, status, output): .csv/.jsonl",
    )
    group.add_argument("--in-flight", type=int, metavar="N",
                       help=f"unfinished jobs at a time (default {DEFAULT_IN_FLIGHT}; for a .jsonl "
                       "batch without --data, 1000)")  # fmt: skip


def parse_vars(items: list[str] | None) -> dict[str, str]:
    """``--var NAME=VALUE`` (repeatable) as a mapping; a malformed one is a usage error."""
    given: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--var {item!r}: write it as NAME=VALUE, e.g. --var seed=42.")
        given[name.strip()] = value
    return given


def profile_variables(args: argparse.Namespace) -> dict[str, str]:
    """The variables of ``--profile`` (the sandbox's without one); none for ``--endpoint``."""
    from gui.core.errors import ConsoleError
    from gui.core.paths import resolve_data_dir
    from gui.core.profiles.profiles import ProfileStore
    from gui.core.targets import SANDBOX_PROFILE

    if getattr(args, "endpoint", None):
        return {}
    store = ProfileStore(resolve_data_dir(getattr(args, "data_dir", None)))
    try:
        return store.variables(args.profile or SANDBOX_PROFILE)
    except ConsoleError as exc:
        raise UsageError(str(exc)) from None


def run_data(args: argparse.Namespace, signals: StopSignals) -> int:
    from gui.commands.run import _read_text
    from gui.core.request.datarun import RunTemplate

    if args.no_wait or args.timeout is not None:
        raise UsageError(
            "--no-wait and --timeout go without --data (a data run waits for each row)."
        )
    window = DEFAULT_IN_FLIGHT if args.in_flight is None else args.in_flight
    if window < 1:
        raise UsageError("--in-flight needs at least 1.")
    path = Path(args.file).absolute()
    data = Path(args.data).absolute()
    operation: Operation = "runsync" if args.sync else "run"
    template = RunTemplate(_read_text(path), path, operation, parse_vars(args.var),
                           profile_variables(args), data=data)  # fmt: skip
    if template.errors:
        for d in template.diagnostics:
            print(f"{path}:{d.line}:{d.column}: {d.severity}: {d.message}", file=sys.stderr)
        raise UsageError(f"{path} is not a valid template; nothing was sent.")
    wanted = _failed_rows(args, path, data) if args.rerun_failed else None
    if wanted is not None and not wanted:
        print(f"job-console run: no row of {data.name} has a last job that FAILED or TIMED_OUT; "
              "nothing to send.", file=sys.stderr)  # fmt: skip
        return EXIT_OK
    valid, invalid = _preview(template, data, args.preview, wanted)
    if args.dry_run:
        return EXIT_USAGE if invalid else EXIT_OK
    if not valid:
        raise UsageError("no row makes a valid request; nothing was sent.")
    with ExitStack() as cleanups:
        results = _Results.open(Path(args.results), cleanups) if args.results else None
        from gui.commands.run import _engine_and_target

        engine, target = _engine_and_target(args, cleanups)
        engine.start()
        cleanups.callback(engine.close)
        if target is None:
            target = engine.sandbox_target().result()
        sender = _Sender(engine, target, operation, window, valid, results)
        try:
            sender.send((job for job in _rows(template, data, wanted) if job.ok), signals)
        except Interrupted as stop:
            engine.stop_sending(stop.reason).result(timeout=60)
            engine.flush().result(timeout=30)
            print(f"\njob-console run: {stop.reason}; {sender.sent} row(s) were sent, "
                  f"{valid - sender.sent} not. Jobs already queued go on running; "
                  "`job-console resume` follows them.", file=sys.stderr)  # fmt: skip
            return stop.exit_code
        engine.flush().result(timeout=30)
        if results is not None:
            results.invalid_rows(template, data, wanted)
        print(sender.summary(invalid), file=sys.stderr)
        return EXIT_JOB_FAILED if sender.failed or invalid else EXIT_OK


def _rows(template: RunTemplate, data: Path, wanted: set[int] | None) -> Iterator[PreparedJob]:
    from gui.core.errors import RequestFileError
    from gui.core.request.datarows import read_rows

    try:
        for row in read_rows(data):
            if wanted is None or row.number in wanted:
                yield template.prepare(row)
    except RequestFileError as exc:
        raise UsageError(f"{exc} Nothing was sent.") from None


def _preview(template: RunTemplate, data: Path, shown: int, wanted: set[int] | None
             ) -> tuple[int, int]:  # fmt: skip
    """Print the preview on stderr; ``(valid rows, invalid rows)``."""
    valid = invalid = 0
    for job in _rows(template, data, wanted):
        assert job.row is not None
        if not job.ok:
            invalid += 1
            for problem in job.problems:
                print(f"job-console run: {data.name} {job.row.label}: {problem}", file=sys.stderr)
            continue
        valid += 1
        if valid <= shown:
            text = json.dumps(job.body, ensure_ascii=False)
            cut = text if len(text) <= 400 else text[:400] + f"... ({len(text):,} characters)"
            print(f"{job.row.label}: {cut}", file=sys.stderr)
    rerun = " (rows to run again)" if wanted is not None else ""
    print(f"job-console run: {data.name}: {valid + invalid} row(s){rerun}: {valid} valid, "
          f"{invalid} invalid{' (nothing is sent for those)' if invalid else ''}.",
          file=sys.stderr)  # fmt: skip
    return valid, invalid


def _failed_rows(args: argparse.Namespace, template: Path, data: Path) -> set[int]:
    """Rows whose last job of this template and data file FAILED or TIMED_OUT, by the history."""
    from gui.core.paths import resolve_data_dir
    from gui.core.storage.history import HistoryReader
    from gui.core.storage.store import DB_FILENAME

    with HistoryReader(resolve_data_dir(getattr(args, "data_dir", None)) / DB_FILENAME) as reader:
        rows = reader.failed_rows(str(template), str(data))
    if rows is None:
        raise UsageError(
            f"the history holds no job of {template.name} with {data.name}: run it first "
            "(without --rerun-failed)."
        )
    return rows


class _Sender:
    """Sends prepared rows with at most ``window`` unfinished jobs; reports each as it ends, then
    lets it go from the engine (the store keeps it). ``run_batch`` sends a ``.jsonl`` batch's lines
    with it too: anything with ``body`` and ``origin`` is sent."""

    def __init__(self, engine: Engine, target: Target, operation: Operation, window: int,
                 total: int, results: _Results | None) -> None:  # fmt: skip
        self.engine, self.target, self.operation = engine, target, operation
        self.window, self.total, self.results = window, total, results
        self.sent = self.ended = self.failed = 0
        self.states: dict[str, int] = {}
        self.deadline: float | None = None  # monotonic; past it, ``send`` raises TimeoutError
        self.finish_when_queued = False  # report a job once queued, without waiting for its end
        self._open: dict[str, Any] = {}  # local id -> its row, until the job ends
        self._pending: dict[concurrent.futures.Future[JobRecord], Any] = {}  # submissions
        self._early: dict[str, JobRecord] = {}  # ended before its submission's future said its id
        self._ended: queue.SimpleQueue[JobRecord] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._last_progress = 0.0

    def _on_event(self, event: Any) -> None:
        record = getattr(event, "record", None)
        if record is not None and record.terminal:
            self._ended.put(record)
            self._wake.set()

    def send(self, rows: Iterator[Any], signals: StopSignals | None) -> None:
        """Send ``rows`` (valid ones) in order; each ended job is printed, then let go from the
        engine's memory (the store keeps it), so the engine holds at most ``window`` jobs. Each
        submission is handed over inside ``signals.held()`` (none: after a stop)."""
        unsubscribe = self.engine.subscribe(self._on_event)
        try:
            exhausted = False
            while True:
                # A signal waits for the end of the turn (or comes during the wait): no row is
                # half read, half handed over or half reported when ``Interrupted`` is raised.
                with signals.held() if signals is not None else contextlib.nullcontext():
                    while not exhausted and len(self._pending) + len(self._open) < self.window:
                        job = next(rows, None)
                        if job is None:
                            exhausted = True
                            break
                        assert job.body is not None
                        future = self.engine.submit(self.target, job.body, self.operation,
                                                    origin=job.origin)  # fmt: skip
                        future.add_done_callback(lambda _: self._wake.set())
                        self._pending[future] = job
                        self.sent += 1
                    self._take_news()
                    self._progress()
                    if exhausted and not self._pending and not self._open:
                        return
                    if self.deadline is not None and time.monotonic() >= self.deadline:
                        raise TimeoutError
                self._wake.wait(0.5)
                self._wake.clear()
        finally:
            unsubscribe()
            self._progress(final=True)

    def _take_news(self) -> None:
        """Fold in the submissions answered and the jobs ended since the last turn."""
        for future in [f for f in self._pending if f.done()]:
            job = self._pending.pop(future)
            error = future.exception()
            if error is not None:
                self._finish_unsent(job, str(error))
            elif self.finish_when_queued and not future.result().terminal:
                self._finish(future.result(), job)
            else:
                self._open[future.result().local_id] = job
        while True:
            try:
                record = self._ended.get_nowait()
            except queue.Empty:
                break
            self._early[record.local_id] = record
        ended = [i for i in self._early if i in self._open]
        for local_id in ended:
            self._finish(self._early.pop(local_id), self._open.pop(local_id))
        if ended:  # before any new submission: the engine's loop takes them in order
            self.engine.let_go(ended)
        if len(self._early) > 10 * self.window:  # other consoles' jobs: never ours
            self._early.clear()

    def _finish(self, record: JobRecord, job: PreparedJob) -> None:
        assert job.row is not None
        self.ended += 1
        state = str(record.state)
        self.states[state] = self.states.get(state, 0) + 1
        if state != "COMPLETED":
            self.failed += 1
        line = json.loads(status_json(record, single=False))
        line["row"] = job.row.number
        if job.row.name:
            line["name"] = job.row.name
        print(json.dumps(line, ensure_ascii=False), flush=True)
        if self.results is not None:
            self.results.write(job, state, record.job_id, record.output, record.error)

    def _finish_unsent(self, job: PreparedJob, reason: str) -> None:
        assert job.row is not None
        self.ended += 1
        self.failed += 1
        self.states["NOT_SENT"] = self.states.get("NOT_SENT", 0) + 1
        print(json.dumps({"status": "NOT_SENT", "row": job.row.number, "note": reason}), flush=True)
        if self.results is not None:
            self.results.write(job, "NOT_SENT", None, None, reason)

    def _progress(self, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last_progress < (0.2 if sys.stderr.isatty() else 2.0):
            return
        self._last_progress = now
        line = self._progress_line()
        if sys.stderr.isatty():
            sys.stderr.write("\r\033[K" + line + ("\n" if final else ""))
            sys.stderr.flush()
        else:
            print(line, file=sys.stderr)

    def _progress_line(self) -> str:
        return (f"{self.ended}/{self.total} rows finished, {self.sent} sent, "
                f"{len(self._open)} running, {self.failed} not completed")  # fmt: skip

    def summary(self, invalid: int) -> str:
        states = ", ".join(f"{n} {s}" for s, n in sorted(self.states.items()))
        extra = f"; {invalid} invalid row(s) not sent" if invalid else ""
        return f"job-console run: {self.ended} row(s) run ({states}){extra}."


class _Results:
    """``RowResults`` (``gui.core.storage.run_results``) fed with prepared rows as they end."""

    def __init__(self, results: RowResults) -> None:
        self.results = results

    @classmethod
    def open(cls, path: Path, cleanups: ExitStack) -> _Results:
        from gui.core.errors import RequestFileError
        from gui.core.storage.run_results import RowResults

        try:
            results = RowResults.open(path)
        except RequestFileError as exc:
            raise UsageError(f"--results {exc}") from None
        cleanups.callback(results.close)
        return cls(results)

    def write(self, job: PreparedJob, status: str, job_id: str | None, output: Any,
              error: str | None) -> None:  # fmt: skip
        assert job.row is not None
        self.results.write(job.row, status, job_id, output, error)

    def invalid_rows(self, template: RunTemplate, data: Path, wanted: set[int] | None) -> None:
        """A line for each row that was not sent (a third pass: nothing kept in memory)."""
        for job in _rows(template, data, wanted):
            if not job.ok:
                self.write(job, "INVALID", None, None, "; ".join(job.problems))
