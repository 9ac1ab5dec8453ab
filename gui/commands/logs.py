"""``job-console logs JOB_ID [--follow]``: the worker log lines kept with a job of the history.

A job's lines are kept while a console follows it (``gui.core.engine.log_follow``): those tagged
with its RunPod id, and its worker's untagged lines during its run (marked ``untagged``). They
stay in the history after the worker is gone. The job is named by its local id or its RunPod id.

``--follow`` goes on printing new lines until the job has ended (and a few seconds more, for its
last lines). When no console follows the job, this one takes it over and follows its worker's
log stream itself; otherwise it reads what that console keeps. ``--json``: one JSON object per
line (``time``, ``worker``, ``source``, ``level``, ``message``, ``requestId``, ``untagged``).

Exit codes: 0 the lines were printed (none, said on stderr, is not an error); 1 no such job, or a
history that can't be opened; 3 the endpoint could not be reached to follow the job; 130 on
SIGINT, 143 on SIGTERM.

Top level: standard library only (the parser is built for every ``job-console`` call).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gui.core.engine.engine import Engine
    from gui.core.storage.history import HistoryReader
    from gui.core.storage.job_logs import JobLogLine

EXIT_OK, EXIT_FAILED, EXIT_TRANSPORT = 0, 1, 3
POLL_S = 0.3  # how often --follow reads the history for new lines
TAIL_S = 4.0  # after the job's end, how long --follow waits for its last lines
NO_LINES = (
    "no log lines are kept for job {job}. Lines are kept while a console follows a job on the "
    "built-in sandbox or a cloud endpoint with an API key (local workers have none); a worker "
    "that logged nothing leaves none."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", metavar="JOB_ID", help="its local id or its RunPod job id")
    parser.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="keep printing new lines until the job ends (following it when no console does)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    from gui.commands.run import Interrupted
    from gui.core.errors import ConsoleError
    from gui.core.paths import resolve_data_dir
    from gui.core.storage.history import HistoryReader
    from gui.core.storage.store import DB_FILENAME

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    try:
        reader = HistoryReader(data_dir / DB_FILENAME)
    except ConsoleError as exc:  # written by a newer release: left as it is
        return _fail(str(exc), EXIT_FAILED)
    with reader:
        stored = reader.stored(args.job)
        if stored is None:
            return _fail(
                f"no job {args.job} in the history ({data_dir}). `job-console history list` "
                "shows the jobs it holds.",
                EXIT_FAILED,
            )
        local_id = stored.record.local_id
        printed = _print(reader.logs(local_id), as_json=args.json)
        if args.follow and not stored.record.terminal:
            try:
                printed += _follow(args, data_dir, reader, local_id, printed)
            except Interrupted as stop:
                return stop.exit_code
            except ConsoleError as exc:
                return _fail(str(exc), EXIT_TRANSPORT)
    if not printed:
        print(f"job-console logs: {NO_LINES.format(job=args.job)}", file=sys.stderr)
    return EXIT_OK


def _fail(message: str, code: int) -> int:
    print(f"job-console logs: {message}", file=sys.stderr)
    return code


def _print(lines: list[JobLogLine], *, as_json: bool) -> int:
    for line in lines:
        if as_json:
            print(json.dumps(line.to_json(), ensure_ascii=False))
        else:
            print(format_line(line))
    sys.stdout.flush()
    return len(lines)


def format_line(line: JobLogLine) -> str:
    """``TIME LEVEL  WORKER  message``; an untagged line says so before its message."""
    mark = "(untagged) " if line.untagged else ""
    level = line.level or "-"
    return f"{line.at or '-'} {level:<5} {line.worker_id}  {mark}{line.message}"


def _follow(
    args: argparse.Namespace, data_dir: Path, reader: HistoryReader, local_id: str, after: int
) -> int:
    """Print new lines until the job has ended; returns how many."""
    from gui.commands.run import StopSignals

    printed = 0
    position = _last_position(reader, local_id)
    with StopSignals() as signals, ExitStack() as cleanups:
        engine: Engine | None = None
        with signals.held():  # an engine half started would not be closed
            engine = _take_over(data_dir, local_id)
            if engine is not None:
                cleanups.callback(engine.close)
        ended_at: float | None = None
        while ended_at is None or time.monotonic() - ended_at < TAIL_S:
            if engine is not None:
                engine.flush().result(timeout=30)
            fresh = reader.logs(local_id, after=position)
            if fresh:
                position = fresh[-1].position
                printed += _print(fresh, as_json=args.json)
            stored = reader.stored(local_id)
            if ended_at is None and (stored is None or stored.record.terminal):
                ended_at = time.monotonic()
            time.sleep(POLL_S)
    return printed


def _last_position(reader: HistoryReader, local_id: str) -> int:
    last = reader.logs(local_id, last=1)
    return last[-1].position if last else 0


def _take_over(data_dir: Path, local_id: str) -> Engine | None:
    """An engine of this command following the job, or None when another console follows it
    (its lines are read from the history as that console keeps them)."""
    from gui.commands.history import _start_engine
    from gui.core.errors import AuthRefused, ConsoleError, TransportError

    engine = _start_engine(data_dir)
    try:
        engine.follow(local_id, None).result()
    except (AuthRefused, TransportError):
        engine.close()
        raise
    except ConsoleError as exc:
        engine.close()
        print(f"job-console logs: {exc}", file=sys.stderr)
        return None
    except BaseException:
        engine.close()
        raise
    return engine
