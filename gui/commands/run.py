"""``job-console run FILE``: submit a request, follow it, print the result (a ``.jsonl`` batch is
streamed by ``run_batch``, a data run by ``run_rows``).

Exit codes: 0 every job COMPLETED; 1 a job FAILED, was CANCELLED, TIMED_OUT, EXPIRED, PURGED or
NOT_SENT, or was still running when ``--timeout`` passed; 2 an invalid request or wrong usage
(nothing is sent when a body is invalid); 3 nothing reached the endpoint (the API key was refused,
or it could not be reached); 130 on SIGINT and 143 on SIGTERM, after recording which jobs were sent
and which not.

What prints the jobs and picks the exit code (``follow``, ``print_statuses``, ``exit_code``,
``StopSignals``...) is shared with ``job-console resume``.

Top level: standard library only (the parser is built for every ``job-console`` call).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from gui.commands.arguments import seconds

if TYPE_CHECKING:
    import concurrent.futures

    from gui.core.engine.engine import Engine, SandboxLike
    from gui.core.limits import Operation
    from gui.core.records import JobRecord
    from gui.core.request.placeholders import Context
    from gui.core.targets import Target

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_TRANSPORT = 0, 1, 2, 3
WORKER_READY_TIMEOUT_S = 90.0  # importing runpod and starting uvicorn is slow on a busy machine
WAIT_DIAGNOSIS_AFTER_S = 10.0  # a job IN_QUEUE this long gets a diagnosis on stderr...
WAIT_DIAGNOSIS_EVERY_S = 30.0  # ...and another at most this often while it still waits
FACTS_WAIT_S = 15.0  # the longest the final JSON waits for the jobs' costs


class UsageError(Exception):
    """Wrong arguments or an invalid request: exit 2."""


class TransportFailure(Exception):
    """Could not reach the target or its key was refused: exit 3."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (a BaseException, like KeyboardInterrupt: no handler of
    ``Exception`` swallows it). The command stops sending, reports, and exits 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def reason(self) -> str:
        """For the jobs' notes: "the console was interrupted (SIGTERM)"."""
        return f"the console was interrupted ({signal.Signals(self.signum).name})"

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


class StopSignals:
    """While entered, SIGINT and SIGTERM raise ``Interrupted`` in the main thread; inside
    ``held()`` they wait for its end (so a batch is handed to the engine whole), and after the
    first one the others are ignored (the command is already stopping)."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        self._holding = False
        self._pending: int | None = None

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:  # fmt: skip
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._holding or self._pending is not None:
            self._pending = self._pending or signum
            return
        self._pending = signum
        raise Interrupted(signum)

    @contextmanager
    def held(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending is not None:
            raise Interrupted(self._pending)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="request body (.json) or a batch (.jsonl)")
    where = parser.add_argument_group("target (default: a sandbox started for this run)")
    where.add_argument("--profile", metavar="NAME", help="send to a saved profile")
    where.add_argument("--endpoint", metavar="ID", help="send to this RunPod endpoint id")
    where.add_argument(
        "--base-url",
        metavar="URL",
        help="API base URL for --endpoint (default https://api.runpod.ai/v2); the key comes "
        "from RUNPOD_API_KEY",
    )
    parser.add_argument("--sync", action="store_true", help="use /runsync instead of /run")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="print the job id and status as soon as the job is queued, and exit",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        metavar="S",
        help="stop following after S seconds (the job goes on; exit 1)",
    )
    parser.add_argument(
        "--var",
        action="append",
        metavar="NAME=VALUE",
        help="a value for {{NAME}} placeholders (repeatable); before the profile's variables",
    )
    from gui.commands import run_rows

    run_rows.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        with StopSignals() as signals:
            if args.data:
                from gui.commands.run_rows import run_data

                return run_data(args, signals)
            if args.dry_run or args.rerun_failed or args.results:
                raise UsageError("--dry-run, --rerun-failed and --results go with --data ROWS.")
            if _is_batch(args):
                from gui.commands.run_batch import run_batch

                return run_batch(args, signals)
            bodies = _read_bodies(Path(args.file), "runsync" if args.sync else "run", args)
            return _submit_and_follow(args, bodies, signals)
    except UsageError as exc:
        print(f"job-console run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TransportFailure as exc:
        print(f"job-console run: {exc}", file=sys.stderr)
        return EXIT_TRANSPORT
    except Interrupted as stop:  # before any job was recorded
        print(f"\njob-console run: {stop.reason}; nothing was sent.", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:  # not on the main thread: no handler of ours
        print("\njob-console run: interrupted; jobs already queued go on running.", file=sys.stderr)
        return 130


# -- reading and validating --------------------------------------------------------------------


def _read_text(path: Path) -> str:
    from gui.core.request.validation import read_request_file

    try:
        return read_request_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    except Exception as exc:  # RequestFileError: its message says what is wrong
        raise UsageError(str(exc)) from None


def _read_bodies(
    path: Path, operation: Operation, args: argparse.Namespace | None = None
) -> list[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    """The body in the file (a ``.jsonl`` batch goes to ``run_batch``) with its first line and,
    when it held placeholders, its origin (``JobRecord.origin``): expanded with ``--var`` and the
    profile's variables, validated; prints diagnostics and raises when it has errors."""
    context = placeholder_context(path, args)
    checked = check_body(path, 1, _read_text(path), operation, context)
    if checked is None:
        raise UsageError(f"{path} is not a valid request; nothing was sent.")
    return [(1, *checked)]


def placeholder_context(path: Path, args: argparse.Namespace | None) -> Context:
    """What fills the placeholders of the bodies of ``path``: ``--var``, then the profile's."""
    from gui.core.request.placeholders import Context, Scope

    scopes: list[Scope] = []
    if args is not None:
        from gui.commands.run_rows import parse_vars, profile_variables

        scopes = [Scope(parse_vars(args.var)), Scope(profile_variables(args))]
    return Context(scopes, path.absolute().parent, strict=True)


def check_body(
    path: Path,
    first_line: int,
    text: str,
    operation: Operation,
    context: Context,
    *,
    report: bool = True,
) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The body in ``text`` (from ``first_line`` of ``path``) as it will be sent, with its origin
    when it held placeholders; ``None`` when it is invalid, after printing its diagnostics (and
    warnings) when ``report``."""
    from gui.core.request.placeholders import expand_body
    from gui.core.request.validation import validate_text

    result = validate_text(text, operation, context)
    for d in result.diagnostics if report else ():
        print(f"{path}:{first_line + d.line - 1}:{d.column}: {d.severity}: {d.message}",
              file=sys.stderr)  # fmt: skip
    if not result.ok or result.body is None:
        return None
    if result.placeholders is None:
        return result.body, None
    from gui.core.redact import redact_body

    expansion = expand_body(result.body, context)
    if not expansion.ok:  # a file changed since it was checked
        for problem in expansion.errors if report else ():
            print(f"{path}:{first_line}: error: {problem.message}", file=sys.stderr)
        return None
    origin = {"body": redact_body(result.body), "file": str(path.absolute()),
              "variables": redact_body(expansion.used)}  # fmt: skip
    return expansion.body, origin


# -- the target --------------------------------------------------------------------------------


def builtin_sandbox() -> SandboxLike:
    """The engine's built-in sandbox (``gui.sandbox``), made when first used."""
    from gui.sandbox import SandboxServer

    return SandboxServer()


def _engine_and_target(
    args: argparse.Namespace, cleanups: ExitStack
) -> tuple[Engine, Target | None]:
    """An engine (not started) and the target; ``None`` means the engine's own sandbox."""
    from gui.core.engine.engine import Engine, env_key_provider
    from gui.core.paths import resolve_data_dir
    from gui.core.targets import Target

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    if args.profile and args.endpoint:
        raise UsageError("give either --profile or --endpoint, not both.")
    if args.base_url and not args.endpoint:
        raise UsageError("--base-url goes with --endpoint.")
    if args.endpoint:
        base = args.base_url or "https://api.runpod.ai/v2"
        target = Target(name=f"endpoint {args.endpoint}", kind="cloud", base_url=base.rstrip("/"),
                        endpoint_id=args.endpoint)  # fmt: skip
        if not os.environ.get("RUNPOD_API_KEY") and not args.base_url:
            print("job-console run: RUNPOD_API_KEY is not set; RunPod will refuse the request.",
                  file=sys.stderr)  # fmt: skip
        return Engine(data_dir, key_provider=env_key_provider, sandbox=builtin_sandbox,
                      kind="run"), target  # fmt: skip
    if args.profile:
        return _profile_engine(data_dir, args.profile, cleanups)
    return Engine(data_dir, sandbox=builtin_sandbox, kind="run"), None


def _profile_engine(data_dir: Path, name: str, cleanups: ExitStack) -> tuple[Engine, Target | None]:
    from gui.core.engine.engine import Engine
    from gui.core.errors import ConsoleError
    from gui.core.profiles.profiles import ProfileStore, resolve_profile, worker_command
    from gui.core.profiles.s3refs import make_body_resolver
    from gui.core.profiles.secrets import SecretStore

    secrets = SecretStore()
    try:
        target, key_provider = resolve_profile(data_dir, name, secrets)
    except ConsoleError as exc:
        raise UsageError(str(exc)) from None
    engine = Engine(data_dir, key_provider=key_provider, body_resolver=make_body_resolver(secrets),
                    sandbox=builtin_sandbox, kind="run")  # fmt: skip
    if target.kind == "sandbox":
        return engine, None
    if target.kind == "local" and not _answers(target):
        profile = ProfileStore(data_dir, secrets).get(name)
        if not profile.needs_launch:
            raise TransportFailure(
                f"no local worker answers at {target.base_url}. Start it first: python "
                "handler.py --rp_serve_api (add --rp_api_port P for another port)."
            )
        _launch_worker(worker_command(profile), target, cleanups)
    return engine, target


def _answers(target: Target) -> bool:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(target.base_url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 3).close()
    except OSError:
        return False
    return True


def _launch_worker(command: list[str], target: Target, cleanups: ExitStack) -> None:
    """Start the profile's handler with --rp_serve_api for this run; stopped when the run ends."""
    import subprocess

    print(f"job-console run: starting the local worker: {' '.join(command)}", file=sys.stderr)
    worker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop() -> None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()

    cleanups.callback(stop)
    deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
    while not _answers(target):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise TransportFailure(
                f"the local worker did not start (it should answer at {target.base_url}). Run "
                f"it by hand to see why: {' '.join(command)}"
            )
        time.sleep(0.2)


# -- submitting and following ------------------------------------------------------------------


def _submit_and_follow(
    args: argparse.Namespace,
    bodies: list[tuple[int, dict[str, Any], dict[str, Any] | None]],
    signals: StopSignals,
) -> int:
    with ExitStack() as cleanups:
        engine, target = started_engine(args, cleanups)
        batch = _Batch()
        try:
            return _send_and_report(args, bodies, engine, target, batch, signals)
        except Interrupted as stop:
            return report_interrupted("run", engine, batch.ids, stop, single=True)


def started_engine(args: argparse.Namespace, cleanups: ExitStack) -> tuple[Engine, Target | None]:
    """The run's engine, started (closed by ``cleanups`` before a local worker it launched is
    stopped), and its target (None: the run's own sandbox); says so when the history holds
    jobs of a console that stopped, which ``resume`` follows, not ``run``."""
    engine, target = _engine_and_target(args, cleanups)
    engine.start()
    cleanups.callback(engine.close)
    if engine.orphaned:
        # run's exit code is about its own jobs: it leaves other consoles' jobs alone.
        print(f"job-console run: {len(engine.orphaned)} unfinished job(s) in the history "
              "belong to a console that stopped; `job-console resume` follows them.",
              file=sys.stderr)  # fmt: skip
    return engine, target


class _Batch:
    """This run's job: its local id once recorded, and the future of its submission."""

    def __init__(self) -> None:
        self.futures: list[concurrent.futures.Future[JobRecord]] = []
        self.ids: set[str] = set()


def _is_batch(args: argparse.Namespace) -> bool:
    return Path(args.file).suffix.lower() == ".jsonl"


def _send_and_report(args: argparse.Namespace,
                     bodies: list[tuple[int, dict[str, Any], dict[str, Any] | None]],
                     engine: Engine, target: Target | None, batch: _Batch, signals: StopSignals
                     ) -> int:  # fmt: skip
    if target is None:
        target = engine.sandbox_target().result()
        if args.no_wait:
            print("job-console run: --no-wait with the run's own sandbox: the sandbox stops "
                  "when this command ends, and the job with it.", file=sys.stderr)  # fmt: skip
    operation: Operation = "runsync" if args.sync else "run"
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    progress = Progress(len(bodies))
    engine.subscribe(lambda event: progress.touch())
    _submit_all(engine, target, [(body, origin) for _, body, origin in bodies], operation, deadline,
                batch, signals)  # fmt: skip
    records = [r for r in engine.jobs() if r.local_id in batch.ids]
    if not args.no_wait:
        records = follow(engine, batch.ids, deadline, progress, WaitDiagnosis(engine, target))
        records = with_facts(engine, batch.ids) or records
    progress.finish()
    engine.flush().result(timeout=30)
    print_statuses(records, single=True)
    errors = engine.service.send_errors
    if any(_not_sent(r) for r in records):
        print_summary("run", records)
    return exit_code(records, errors, waited=not args.no_wait)


def _submit_all(engine: Engine, target: Target,
                bodies: list[tuple[dict[str, Any], dict[str, Any] | None]], operation: Operation,
                deadline: float | None, batch: _Batch, signals: StopSignals) -> None:  # fmt: skip
    """Send every body (the engine's limiter paces a batch); ``batch`` learns the local ids."""
    import concurrent.futures

    from gui.core.events import EngineEvent, JobAdded

    def note_added(event: EngineEvent) -> None:
        if isinstance(event, JobAdded):
            batch.ids.add(event.record.local_id)

    unsubscribe = engine.subscribe(note_added)
    wait_ms = None
    if operation == "runsync" and deadline is not None:
        # Ask RunPod to answer (with the job id at least) before our own deadline passes.
        from gui.core.limits import RUNSYNC_WAIT_MS

        low, high = RUNSYNC_WAIT_MS
        wait_ms = int(min(high, max(low, (deadline - time.monotonic()) * 1000 - 500)))
    with signals.held():  # the whole batch reaches the engine, so each job is recorded
        batch.futures = [engine.submit(target, body, operation, wait_ms=wait_ms, origin=origin)
                         for body, origin in bodies]  # fmt: skip
    timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
    concurrent.futures.wait(batch.futures, timeout=timeout)
    unsubscribe()
    for future in batch.futures:
        if future.done() and future.exception() is not None:
            raise UsageError(str(future.exception()))


def with_facts(engine: Engine, ids: set[str]) -> list[JobRecord]:
    """The jobs of ``ids`` once their costs are recorded (``FACTS_WAIT_S`` at most)."""
    import concurrent.futures

    try:
        engine.facts_settled().result(timeout=FACTS_WAIT_S)
    except concurrent.futures.TimeoutError:
        pass  # printed without the cost that is still on its way
    return [r for r in engine.jobs() if r.local_id in ids]


class WaitDiagnosis:
    """Why the oldest queued job waits, on stderr: after ``WAIT_DIAGNOSIS_AFTER_S``, then at most
    every ``WAIT_DIAGNOSIS_EVERY_S``, asked on a thread of its own (the management API is
    another host: the progress line does not wait for it)."""

    def __init__(self, engine: Engine, target: Target) -> None:
        self._engine = engine
        self._target = target
        self._next_at: float | None = None
        self._asking: threading.Thread | None = None

    def check(self, records: list[JobRecord], now: float) -> None:
        waiting = [r for r in records if str(r.state) == "IN_QUEUE"]
        if not waiting or (self._asking is not None and self._asking.is_alive()):
            return
        waited = now - min(r.submitted_at for r in waiting)
        due = WAIT_DIAGNOSIS_AFTER_S if self._next_at is None else self._next_at
        if waited < due:
            return
        self._next_at = waited + WAIT_DIAGNOSIS_EVERY_S
        self._asking = threading.Thread(target=self._tell, args=(waited,), daemon=True)
        self._asking.start()

    def _tell(self, waited: float) -> None:
        from gui.core.account.diagnosis import wait_diagnosis_line
        from gui.core.errors import AccountUnavailable

        try:
            access = self._engine.account_access(self._target)
            key, url = access.api_key, access.base_url
        except AccountUnavailable:
            key, url = None, ""
        line = wait_diagnosis_line(self._target, key, waited, management_url=url, environ={})
        start = "\n" if sys.stderr.isatty() else ""  # off the progress line it rewrites
        print(f"{start}job-console: {line}", file=sys.stderr, flush=True)


def follow(engine: Engine, ids: set[str], deadline: float | None, progress: Progress,
           diagnosis: WaitDiagnosis | None = None) -> list[JobRecord]:  # fmt: skip
    """Wait until every job of ``ids`` has ended (or ``deadline``); their records, oldest first.
    ``diagnosis`` says on stderr why jobs wait, while they do."""
    while True:
        records = [r for r in engine.jobs() if r.local_id in ids]
        progress.show(records)
        if diagnosis is not None:
            diagnosis.check(records, time.time())
        if all(r.terminal for r in records):
            return records
        if deadline is not None and time.monotonic() >= deadline:
            from gui.core.wording import counted

            open_jobs = counted(sum(1 for r in records if not r.terminal), "job")
            progress.finish()
            print(f"job-console: --timeout passed with {open_jobs} not finished; "
                  "they go on running on the endpoint.", file=sys.stderr)  # fmt: skip
            return records
        progress.wait(0.2)


def report_interrupted(
    verb: str,
    engine: Engine,
    ids: set[str],
    stop: Interrupted,
    *,
    single: bool = False,
) -> int:
    """After SIGINT or SIGTERM: send nothing more (each job still on its way is recorded NOT_SENT
    with a note saying the console was interrupted), print every job as it is now, and say what
    goes on. The HTTP clients are closed by the engine's ``close`` afterwards."""
    engine.stop_sending(stop.reason).result(timeout=60)
    engine.flush().result(timeout=30)
    records = [r for r in engine.jobs() if r.local_id in ids]
    print(file=sys.stderr)
    print_statuses(records, single=single)
    print_summary(verb, records, interrupted=stop)
    return stop.exit_code


def _not_sent(record: JobRecord) -> bool:
    return str(record.state) == "NOT_SENT"


def exit_code(records: list[JobRecord], errors: Mapping[str, Exception], *, waited: bool) -> int:
    """The exit code for these jobs (``Tally.exit_code``)."""
    return Tally.of(records, errors).exit_code(waited=waited)


def print_summary(verb: str, records: list[JobRecord], *, interrupted: Interrupted | None = None
                  ) -> None:  # fmt: skip
    """One line on stderr: how many jobs reached the endpoint (by state), how many were not sent."""
    print(Tally.of(records).summary(verb, interrupted=interrupted), file=sys.stderr)


class Tally:
    """What the end of a run says about its jobs, kept as counts: a batch adds each job when it
    prints its line and lets the record go, so its end costs the same for ten jobs or a million.
    ``add`` takes the job's record and why it was not sent (``JobService.send_errors``)."""

    def __init__(self) -> None:
        self.total = 0
        self.states: dict[str, int] = {}
        self.open = 0  # reached the endpoint and not ended when counted
        self.unreached = 0  # NOT_SENT because the endpoint was unreachable or refused the key
        self.refused_here = 0  # NOT_SENT because the console refused it (a body, a secret)

    @classmethod
    def of(cls, records: list[JobRecord], errors: Mapping[str, Exception] | None = None) -> Tally:
        tally = cls()
        for record in records:
            tally.add(record, None if errors is None else errors.get(record.local_id))
        return tally

    def add(self, record: JobRecord, error: Exception | None = None) -> None:
        self.total += 1
        state = str(record.state)
        self.states[state] = self.states.get(state, 0) + 1
        self.open += not record.terminal
        if _not_sent(record):
            self._why_not_sent(error)

    def add_not_sent(self, error: Exception | None) -> None:
        """A job refused before it was even recorded (``Engine.submit`` raised ``error``)."""
        self.total += 1
        self.states["NOT_SENT"] = self.states.get("NOT_SENT", 0) + 1
        self._why_not_sent(error)

    def _why_not_sent(self, error: Exception | None) -> None:
        from gui.core.errors import (
            AuthRefused,
            RequestInvalid,
            SecretUnavailable,
            SubmissionUncertain,
            TransportError,
        )

        unreached = isinstance(error, AuthRefused | TransportError)
        self.unreached += unreached and not isinstance(error, SubmissionUncertain)
        self.refused_here += isinstance(error, RequestInvalid | SecretUnavailable)

    def exit_code(self, *, waited: bool) -> int:
        """0 every job COMPLETED; 2 every job refused by the console before sending (an invalid
        body, a missing secret); 3 nothing reached the endpoint (key refused, unreachable); else
        1 when some job did not complete (or is still running, when ``waited``)."""
        if self.total and self.states.get("NOT_SENT", 0) == self.total:
            if self.unreached == self.total:
                return EXIT_TRANSPORT
            if self.refused_here == self.total:
                return EXIT_USAGE
        ended_otherwise = self.total - self.states.get("COMPLETED", 0) - self.open
        return EXIT_JOB_FAILED if ended_otherwise or (waited and self.open) else EXIT_OK

    def summary(self, verb: str, *, interrupted: Interrupted | None = None) -> str:
        """How many jobs reached the endpoint (by state), how many were not sent."""
        not_sent = self.states.get("NOT_SENT", 0)
        reached = self.total - not_sent
        counts = sorted((state, n) for state, n in self.states.items() if state != "NOT_SENT")
        states = ", ".join(f"{n} {state}" for state, n in counts)
        line = f"job-console {verb}: "
        if interrupted is not None:
            line += f"interrupted ({interrupted.name}). "
        line += f"{self.total} job(s): {reached} reached the endpoint"
        line += f" ({states})" if states else ""
        line += f", {not_sent} not sent."
        if not_sent:
            line += (" Each NOT_SENT line on stdout says why in its note and carries its request"
                     + (" and its line in the batch" if verb == "run" else "") + ".")  # fmt: skip
        if interrupted is not None and self.open:
            line += (" Jobs already queued go on running on the endpoint; `job-console resume` "
                     "follows them to their end.")  # fmt: skip
        return line


def print_statuses(records: list[JobRecord], *, single: bool) -> None:
    for record in records:
        print(status_json(record, single=single), flush=True)


def status_json(record: JobRecord, *, single: bool, line: int | None = None) -> str:
    """RunPod's status shape for the job, plus the console's note when there is one and, from a
    batch, its ``line`` in the file (a batch prints its jobs as they end). A NOT_SENT job also
    carries its request (secrets redacted): what a script needs to send it again."""
    payload: dict[str, Any] = {"id": record.job_id, "status": str(record.state)}
    optional = {
        "delayTime": record.delay_time_ms,
        "executionTime": record.execution_time_ms,
        "workerId": record.worker_id,
        "output": record.output,
        "error": record.error,
        "stream": [{"output": chunk} for chunk in record.stream] or None,
        "note": record.note,
        "line": line,
    }
    cost = (record.facts or {}).get("cost")
    if isinstance(cost, dict):
        optional["cost"] = cost_json(cost)
    if _not_sent(record):
        optional["request"] = record.request
    payload.update({key: value for key, value in optional.items() if value is not None})
    return json.dumps(payload, indent=2 if single else None, ensure_ascii=False)


def cost_json(cost: Mapping[str, Any]) -> dict[str, Any]:
    """A job's ``cost`` in the final JSON: ``usd`` (null without an estimate, and ``missing``
    says why), ``gpu``, ``gpuCount``, ``seconds`` (billed, rounded up), ``perGpuSecond`` and
    ``leavesOut``: what the estimate does not count."""
    from gui.core.account.cost import LEAVES_OUT

    names = {"usd": "usd", "gpu": "gpu", "gpu_count": "gpuCount", "seconds": "seconds",
             "per_gpu_second": "perGpuSecond", "missing": "missing"}  # fmt: skip
    shown = {names[key]: value for key, value in cost.items() if key in names}
    return {"usd": None, **shown, "leavesOut": LEAVES_OUT}


class Progress:
    """One line on stderr, rewritten in place on a terminal, or a line per change otherwise."""

    def __init__(self, total: int) -> None:
        import threading

        self.total = total
        self._changed = threading.Event()
        self._tty = sys.stderr.isatty()
        self._last = self._printed = ""
        self._last_at = 0.0

    def touch(self) -> None:
        self._changed.set()

    def wait(self, seconds: float) -> None:
        self._changed.wait(seconds)
        self._changed.clear()

    def show(self, records: list[JobRecord]) -> None:
        line = _describe(records, time.time()) if len(records) == 1 else _summary(records)
        if self._tty:
            if line != self._last:
                sys.stderr.write("\r\033[K" + line)
                sys.stderr.flush()
        elif self._worth_a_line(line):
            print(line, file=sys.stderr)
            self._printed = line
            self._last_at = time.monotonic()
        self._last = line

    def _worth_a_line(self, line: str) -> bool:
        """Logs get a line per state change of one job; a batch's summary at most every 2 s."""
        since = time.monotonic() - self._last_at
        if _kind(line) == _kind(self._last):
            return since > 10
        return self.total == 1 or since > 2

    def finish(self) -> None:
        if self._tty and self._last:
            sys.stderr.write("\n")
        elif not self._tty and self._last and self._last != self._printed:
            print(self._last, file=sys.stderr)
        self._last = self._printed = ""


def _kind(line: str) -> str:
    """The part of a progress line that matters for a log (without the running clocks)."""
    return line.split(" · ")[0]


def _describe(records: list[JobRecord], now: float) -> str:
    (r,) = records
    parts = [f"{r.job_id or 'job'}: {r.state}"]
    if r.delay_time_ms is not None:
        parts.append(f"queue {r.delay_time_ms / 1000:.1f}s")
    elif not r.terminal and r.started_at is None:
        parts.append(f"queue {now - r.submitted_at:.1f}s")
    if r.execution_time_ms is not None:
        parts.append(f"run {r.execution_time_ms / 1000:.1f}s")
    elif r.started_at is not None and not r.terminal:
        parts.append(f"run {now - r.started_at:.1f}s")
    if r.progress is not None and not r.terminal:
        parts.append(f"progress {json.dumps(r.progress)[:40]}")
    return parts[0] + (" · " + ", ".join(parts[1:]) if len(parts) > 1 else "")


def _summary(records: list[JobRecord]) -> str:
    counts: dict[str, int] = {}
    for r in records:
        counts[str(r.state)] = counts.get(str(r.state), 0) + 1
    done = sum(1 for r in records if r.terminal)
    states = ", ".join(f"{state} {n}" for state, n in sorted(counts.items()))
    return f"{done}/{len(records)} finished · {states}"
