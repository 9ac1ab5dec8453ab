"""``job-console resume``: follow every unfinished job of the history to its end.

After a batch was killed, a CI runner timed out or the machine rebooted: the jobs RunPod queued go
on without the console, and their outputs are gone once RunPod's retention passes (30 minutes
after a ``/run`` job ends). This takes them over the way the window does when it starts (the
engine's own resume, which ``jobs_to_resume`` decides), follows each one, and prints
one JSON line per job as ``job-console run`` does. A job whose sending was cut off (it has no id) is
NOT_SENT, saying so; ``--resend-not-sent`` sends every NOT_SENT job of the history again.

Exit codes as ``run``'s: 0 every job COMPLETED (or nothing to resume), 1 some job FAILED, was
CANCELLED, TIMED_OUT, EXPIRED or NOT_SENT, or was still running when ``--timeout`` passed; 3 nothing
reached the endpoint; 130 on SIGINT, 143 on SIGTERM.

Top level: standard library only (the parser is built for every ``job-console`` call).
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING

from gui.commands.arguments import seconds

if TYPE_CHECKING:
    from gui.commands.run import StopSignals
    from gui.core.engine.engine import Engine
    from gui.core.records import JobRecord

RESEND_WARNING = (
    'A request whose connection dropped after it was sent (its note says the endpoint "may have '
    'queued it") may already be queued there, and then runs twice.'
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="only the jobs sent with this profile (the name in each job's history row; "
        "default: every profile)",
    )
    parser.add_argument(
        "--resend-not-sent",
        action="store_true",
        help="also send every NOT_SENT job again (each as itself, to the endpoint it was meant "
        "for), and follow it. " + RESEND_WARNING,
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        metavar="S",
        help="stop following after S seconds (the jobs go on; exit 1)",
    )


def run(args: argparse.Namespace) -> int:
    from gui.commands.run import Interrupted, StopSignals

    try:
        with StopSignals() as signals, ExitStack() as cleanups:
            with signals.held():  # an engine half started would not be closed
                engine = _start_engine(args)
                cleanups.callback(engine.close)
            return _follow_and_report(args, engine, signals)
    except Interrupted as stop:  # while the engine started
        print(f"\njob-console resume: {stop.reason}.", file=sys.stderr)
        return stop.exit_code


def _start_engine(args: argparse.Namespace) -> Engine:
    from gui.commands.run import builtin_sandbox
    from gui.core.engine.engine import Engine
    from gui.core.paths import resolve_data_dir
    from gui.core.profiles.profiles import ProfileStore, make_key_provider
    from gui.core.profiles.s3refs import make_body_resolver
    from gui.core.profiles.secrets import SecretStore

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    secrets = SecretStore()
    engine = Engine(
        data_dir,
        key_provider=make_key_provider(ProfileStore(data_dir, secrets), secrets),
        body_resolver=make_body_resolver(secrets),
        resume_profiles=None if args.profile is None else {args.profile},
        sandbox=builtin_sandbox,
        kind="resume",
    )
    engine.start()
    return engine


def _follow_and_report(args: argparse.Namespace, engine: Engine, signals: StopSignals) -> int:
    from gui.commands.run import (
        Interrupted,
        Progress,
        exit_code,
        follow,
        print_statuses,
        print_summary,
        report_interrupted,
    )

    ids = set(engine.resumed)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    try:
        if args.resend_not_sent:
            _resend_not_sent(engine, args.profile, ids, signals)
        if not ids:
            which = f" of profile {args.profile!r}" if args.profile else ""
            print(f"job-console resume: no unfinished job{which} in the history "
                  f"({engine.data_dir}); nothing to follow.", file=sys.stderr)  # fmt: skip
            return 0
        print(f"job-console resume: following {len(ids)} job(s).", file=sys.stderr)
        progress = Progress(len(ids))
        engine.subscribe(lambda event: progress.touch())
        records = follow(engine, ids, deadline, progress)
        progress.finish()
    except Interrupted as stop:
        return report_interrupted("resume", engine, ids, stop)
    engine.flush().result(timeout=30)
    print_statuses(records, single=False)
    print_summary("resume", records)
    return exit_code(records, engine.service.send_errors, waited=True)


def _resend_not_sent(
    engine: Engine, profile: str | None, ids: set[str], signals: StopSignals
) -> None:
    """Send every NOT_SENT job (of ``profile``) again, after the warning; ``ids`` learns them."""
    from gui.core.errors import ConsoleError

    not_sent = [r for r in _stored_not_sent(engine) if profile is None or r.profile == profile]
    if not not_sent:
        return
    print(f"job-console resume: sending {len(not_sent)} NOT_SENT job(s) again. Warning: "
          f"{RESEND_WARNING}", file=sys.stderr)  # fmt: skip
    with signals.held():  # every one is handed over, so an interruption reports them all
        futures = {r.local_id: engine.resend(r.local_id) for r in not_sent}
        ids.update(futures)
    for local_id, future in futures.items():
        try:
            future.result()
        except ConsoleError as exc:  # e.g. a request whose secret the history keeps redacted
            print(f"job-console resume: job {local_id} stays NOT_SENT: {exc}", file=sys.stderr)


def _stored_not_sent(engine: Engine) -> list[JobRecord]:
    """Every NOT_SENT job of the history, oldest first (the engine holds only unfinished ones)."""
    from gui.core.records import JobState
    from gui.core.storage.history import HistoryReader, JobQuery, SortKey
    from gui.core.storage.store import DB_FILENAME

    query = JobQuery(states=frozenset({JobState.NOT_SENT}))
    with HistoryReader(engine.data_dir / DB_FILENAME) as reader:
        total = reader.count(query)
        return reader.page(query, SortKey.SUBMITTED, False, 0, total)
