"""``job-console run BATCH.jsonl``: one job per line of the file, streamed.

Two passes over the file, each reading one line at a time (``read_jsonl_file``). First every line
is checked (an error is printed as ``FILE:LINE:COL: error: ...`` and then nothing is sent, as
always); then the lines are sent in order through the data runs' sender (``run_rows._Sender``)
with at most ``--in-flight`` jobs unfinished at a time (default 1,000: a batch up to that size
goes out at once, as it always did, and RunPod takes 1,000 ``/run`` requests per 10 s anyway).
Each job's final status is printed on stdout as one JSON line with its ``line`` in the file as
soon as the job ends, so in the order the jobs end, and the engine then lets the job go: a batch
of a million lines holds what its window holds. The end's summary and exit code come from
running counts (``run.Tally``), not from the records.

Every line is recorded in the history. When SIGINT or SIGTERM comes, or ``--timeout`` passes,
nothing more is sent: the jobs on their way become NOT_SENT (their note says whether the request
had left), the jobs already queued are printed as they are (they go on running, and ``job-console
resume`` follows them), and the lines not read yet are read now and recorded NOT_SENT ("the
endpoint never saw it"), each printed with its line and request, through the same window: so
``job-console resume --resend-not-sent`` can send every one of them later. Meanwhile the engine
holds the queued jobs (at most a window of them) beside that window: twice the window at most.

``--no-wait`` prints each job's line as soon as the endpoint queued it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gui.commands.run import (
    Interrupted,
    StopSignals,
    Tally,
    UsageError,
    check_body,
    placeholder_context,
    started_engine,
    status_json,
)
from gui.commands.run_rows import _Sender

if TYPE_CHECKING:
    from gui.core.engine.engine import Engine
    from gui.core.limits import Operation
    from gui.core.records import JobRecord
    from gui.core.request.placeholders import Context
    from gui.core.targets import Target

DEFAULT_BATCH_IN_FLIGHT = 1000


@dataclass(frozen=True, slots=True)
class _Line:
    """One body of the batch, as it will be sent."""

    number: int  # its line in the file, 1-based
    body: dict[str, Any]
    origin: dict[str, Any] | None


def run_batch(args: argparse.Namespace, signals: StopSignals) -> int:
    path = Path(args.file)
    operation: Operation = "runsync" if args.sync else "run"
    window = DEFAULT_BATCH_IN_FLIGHT if args.in_flight is None else args.in_flight
    if window < 1:
        raise UsageError("--in-flight needs at least 1.")
    context = placeholder_context(path, args)
    total = _check(path, operation, context)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    with ExitStack() as cleanups:
        engine, target = started_engine(args, cleanups)
        if target is None:
            target = engine.sandbox_target().result()
            if args.no_wait:
                print("job-console run: --no-wait with the run's own sandbox: the sandbox stops "
                      "when this command ends, and the jobs with it.", file=sys.stderr)  # fmt: skip
        sender = _BatchSender(engine, target, operation, window, total)
        sender.deadline = deadline
        sender.finish_when_queued = args.no_wait
        lines = _lines(path, operation, context)
        try:
            sender.send(lines, signals)
        except Interrupted as stop:
            print(file=sys.stderr)
            sender.stop(stop.reason, lines)
            engine.flush().result(timeout=30)
            print(sender.tally.summary("run", interrupted=stop), file=sys.stderr)
            return stop.exit_code
        except TimeoutError:
            from gui.core.wording import counted

            open_jobs = counted(len(sender.open_ids()), "job")
            sender.stop(f"the --timeout of {args.timeout:g} s passed", lines)
            print(f"job-console: --timeout passed with {open_jobs} not finished; they go on "
                  "running on the endpoint.", file=sys.stderr)  # fmt: skip
        engine.flush().result(timeout=30)
        print(sender.tally.summary("run"), file=sys.stderr)
        return sender.tally.exit_code(waited=not args.no_wait)


def _check(path: Path, operation: Operation, context: Context) -> int:
    """Check every line (printing each problem at its line); how many there are. Raises
    ``UsageError`` when a line is invalid: then nothing is sent."""
    from gui.core.errors import RequestFileError
    from gui.core.request.reading import read_jsonl_file

    count = 0
    failed = False
    try:
        for line in read_jsonl_file(path):
            count += 1
            failed |= check_body(path, line.number, line.text, operation, context) is None
    except RequestFileError as exc:
        raise UsageError(f"{exc} Nothing was sent.") from None
    if not count:
        raise UsageError(f"{path} holds no request (one JSON body per line).")
    if failed:
        raise UsageError(f"{path} is not a valid request; nothing was sent.")
    return count


def _lines(path: Path, operation: Operation, context: Context) -> Iterator[_Line]:
    """The bodies again, one line at a time, for sending (checked already: quietly)."""
    from gui.core.errors import RequestFileError
    from gui.core.request.reading import read_jsonl_file

    try:
        for line in read_jsonl_file(path):
            checked = check_body(path, line.number, line.text, operation, context, report=False)
            if checked is None:
                raise UsageError(
                    f"{path}:{line.number}: this line changed since the batch was checked and is "
                    "no longer a valid request; it and the lines after it were not sent."
                )
            yield _Line(line.number, *checked)
    except RequestFileError as exc:
        raise UsageError(f"{exc} It changed since the batch was checked.") from None


class _BatchSender(_Sender):
    """The data runs' sender, reporting a batch's lines: ``status_json`` with ``line``, and
    running counts in ``tally``."""

    def __init__(self, engine: Engine, target: Target, operation: Operation, window: int,
                 total: int) -> None:  # fmt: skip
        super().__init__(engine, target, operation, window, total, None)
        self.tally = Tally()

    def open_ids(self) -> list[str]:
        """Local ids of the jobs sent and not ended."""
        return list(self._open)

    def stop(self, reason: str, rest: Iterator[_Line]) -> None:
        """Send nothing more (``reason`` goes into the notes): print the queued jobs as they are,
        then record every line not sent yet as NOT_SENT, printing each (module docstring)."""
        self.engine.stop_sending(reason).result(timeout=60)
        self._take_news()
        now = {r.local_id: r for r in self.engine.jobs() if r.local_id in self._open}
        for local_id, line in list(self._open.items()):
            del self._open[local_id]
            self._finish(now[local_id], line)
        self.engine.let_go(list(now))  # those that ended meanwhile; the queued ones stay
        self.deadline = None
        self.finish_when_queued = True
        self.send(rest, None)

    def _finish(self, record: JobRecord, job: Any) -> None:
        self.ended += 1
        self.tally.add(record, self.engine.service.send_errors.get(record.local_id))
        print(status_json(record, single=False, line=job.number), flush=True)

    def _finish_unsent(self, job: Any, reason: str) -> None:
        from gui.core.redact import redact_body

        self.ended += 1
        self.tally.add_not_sent(None)
        print(json.dumps({"id": None, "status": "NOT_SENT", "note": reason, "line": job.number,
                          "request": redact_body(job.body)}, ensure_ascii=False),
              flush=True)  # fmt: skip

    def _progress_line(self) -> str:
        parts = [f"{state} {n}" for state, n in sorted(self.tally.states.items())]
        running = len(self._open) + len(self._pending)
        if running:
            parts.append(f"{running} on their way or running")
        return f"{self.ended}/{self.total} finished · " + ", ".join(parts)
