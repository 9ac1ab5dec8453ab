"""``job-console history``: the job history of the data folder (the window's) from the command line.

- ``list [SEARCH...]``: the jobs a search finds (the window's filter syntax, ``status:failed
  worker:abc words``), newest first, one line each (``--json``: one JSON object per line);
  ``--limit`` (50 by default, 0 for all), ``--sort``, ``--oldest-first``.
- ``show JOB_ID``: one job, whole, as JSON (the window's export shape, no secret), with the worker
  log lines kept with it under ``logs``; by its local id or its RunPod id.
- ``follow JOB_ID --profile NAME``: start tracking a job sent elsewhere (curl, the SDK): RunPod has
  no call that lists jobs, so an id nobody keeps is a lost job. It is added to the history once its
  first ``/status`` answered and followed to its end as ``run`` follows its own; a job already in
  the history (an imported one) is followed the same way.
- ``export FILE``: every job, as a JSON array or JSON lines (``-``: standard output).
- ``import FILE``: the jobs of such a file, all or none (``gui.core.storage.transfer``).

Exit codes: ``list``, ``show``, ``export`` and ``import``: 0 done; 1 no such job (``show``), or a
history that can't be opened (written by a newer release); 2 a search ``list`` can't read, a file
that can't be read or written, or that is not a history export (nothing was imported).
``follow``: as ``run``'s: 0 the job COMPLETED; 1 it FAILED, was CANCELLED, TIMED_OUT or EXPIRED,
RunPod does not know it, or ``--timeout`` passed; 2 wrong usage (an unknown profile, a job that is
not in the history and no ``--profile``); 3 the endpoint could not be reached or refused the key;
130 on SIGINT, 143 on SIGTERM.

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

from gui.commands.arguments import seconds

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Iterator

    from gui.core.account.cost import BilledComparison, CostEstimate, CostTotal
    from gui.core.engine.engine import Engine
    from gui.core.records import JobRecord
    from gui.core.storage.history import HistoryReader, JobQuery
    from gui.core.targets import Target

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_TRANSPORT = 0, 1, 2, 3
# gui.core.storage.history.SortKey's values, spelled here: the parser is built for every call.
_SORTS = ("submitted", "job_id", "target", "status", "queue_time", "run_time", "worker",
          "webhook", "template", "finished")  # fmt: skip
_PAGE = 1000  # rows read at a time by list
_LISTED = 10  # unfinished imported jobs named in import's report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="history_action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="list the jobs a search finds, newest first",
        description="List the jobs a search finds, newest first. The search is the window's: "
        "words inside a job's input, output and error, and fields such as status:failed, "
        "worker:ID, profile:NAME, endpoint:ID, template:NAME, id:PREFIX, release:V.",
    )
    listing.add_argument("search", nargs="*", metavar="SEARCH", help="words and field:value parts")
    listing.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N jobs (default 50; 0: all)"
    )
    listing.add_argument(
        "--sort",
        default="submitted",
        choices=_SORTS,
        help="the column to sort by (default: submitted)",
    )
    listing.add_argument("--oldest-first", action="store_true", help="ascending order")
    listing.add_argument("--json", action="store_true", help="one JSON object per job and line")
    listing.add_argument(
        "--cost",
        action="store_true",
        help="show each job's estimated cost, and the sum over every job the search finds",
    )

    cost = actions.add_parser(
        "cost",
        help="the estimated cost of the jobs a search finds, per endpoint, beside the bill",
        description="The sum of the estimated costs of the jobs a search finds, per endpoint, "
        "and beside it what RunPod billed the endpoint over the same hours, where the "
        "management API's billing can be read (the profile's key and URL, or RUNPOD_API_KEY "
        "and RUNPOD_API_URL).",
    )
    cost.add_argument("search", nargs="*", metavar="SEARCH", help="words and field:value parts")
    cost.add_argument("--json", action="store_true", help="one JSON object")

    show = actions.add_parser("show", help="print one job, whole, as JSON (no secret)")
    show.add_argument("job", metavar="JOB_ID", help="its local id or its RunPod job id")

    follow = actions.add_parser(
        "follow",
        help="add a job sent elsewhere (curl, the SDK) to the history and follow it to its end",
    )
    follow.add_argument("job", metavar="JOB_ID", help="its RunPod job id (or a job of the history)")
    follow.add_argument(
        "--profile",
        metavar="NAME",
        help="the profile of the job's endpoint (needed for a job not in the history)",
    )
    follow.add_argument(
        "--no-wait",
        action="store_true",
        help="add the job, print its status and exit (the window or `job-console resume` "
        "follows it later)",
    )
    follow.add_argument(
        "--timeout",
        type=seconds,
        metavar="S",
        help="stop following after S seconds (the job goes on; exit 1)",
    )

    export = actions.add_parser("export", help="write every job to a JSON or JSONL file")
    export.add_argument("file", metavar="FILE", help="the file to write; - for standard output")
    export.add_argument(
        "--format",
        choices=("json", "jsonl"),
        help="a JSON array, or one job per line (default: jsonl for a .jsonl FILE, else json)",
    )

    imports = actions.add_parser("import", help="add the jobs of an exported JSON or JSONL file")
    imports.add_argument("file", metavar="FILE", help="a file written by export (or the window)")
    imports.add_argument("--json", action="store_true", help="report as one JSON object")


def run(args: argparse.Namespace) -> int:
    from gui.core.errors import ConsoleError
    from gui.core.paths import resolve_data_dir

    data_dir = resolve_data_dir(getattr(args, "data_dir", None))
    if args.history_action == "follow":
        return _follow(args, data_dir)
    if args.history_action in ("list", "cost"):
        from gui.core.errors import SearchInvalid

        try:
            return (_list if args.history_action == "list" else _cost)(args, data_dir)
        except SearchInvalid as exc:
            return _fail(f"{exc} Nothing was listed.", EXIT_USAGE)
        except ConsoleError as exc:  # a history of a newer release
            return _fail(str(exc), EXIT_FAILED)
    try:
        conn = _open(data_dir)
    except ConsoleError as exc:  # written by a newer release: left as it is
        return _fail(str(exc), EXIT_FAILED)
    try:
        if args.history_action == "show":
            return _show(conn, args.job, data_dir)
        if args.history_action == "export":
            return _export(conn, args.file, args.format)
        return _import(conn, Path(args.file), as_json=args.json)
    finally:
        conn.close()


def _open(data_dir: Path) -> sqlite3.Connection:
    from gui.core.storage.transfer import open_history

    return open_history(data_dir)


def _fail(message: str, code: int) -> int:
    print(f"job-console history: {message}", file=sys.stderr)
    return code


# -- list ----------------------------------------------------------------------------------------


def _list(args: argparse.Namespace, data_dir: Path) -> int:
    from gui.core.storage.history import HistoryReader, SortKey, parse_search
    from gui.core.storage.store import DB_FILENAME

    if args.limit < 0:
        return _fail("--limit must be 0 (all) or more.", EXIT_USAGE)
    query = parse_search(" ".join(args.search))
    sort, descending = SortKey(args.sort), not args.oldest_first
    wanted = args.limit or None
    shown = 0
    with HistoryReader(data_dir / DB_FILENAME) as reader:
        total = reader.count(query)
        while wanted is None or shown < wanted:
            size = _PAGE if wanted is None else min(_PAGE, wanted - shown)
            rows = reader.page(query, sort, descending, shown, size, total=total)
            for record in rows:
                print(json.dumps(_summary(record, args.cost), ensure_ascii=False) if args.json
                      else _line(record, args.cost))  # fmt: skip
            shown += len(rows)
            if len(rows) < size:
                break
        if args.cost:
            from gui.core.account.cost import LEAVES_OUT, total_cost

            summed = total_cost(_estimates(_every(reader, query)))
            print(f"job-console history: estimated cost of the {total} job(s) found: "
                  f"{summed.text}. {LEAVES_OUT}", file=sys.stderr)  # fmt: skip
    if not args.json:
        more = f" of {total}" if shown < total else ""
        print(f"job-console history: {shown}{more} job(s).", file=sys.stderr)
    return EXIT_OK


def _every(reader: HistoryReader, query: JobQuery) -> Iterator[JobRecord]:
    """Every job ``query`` finds, a page at a time (the table's light rows, with their facts)."""
    offset = 0
    while True:
        rows = reader.page(query, offset=offset, limit=_PAGE)
        yield from rows
        offset += len(rows)
        if len(rows) < _PAGE:
            return


def _estimates(records: Iterable[JobRecord]) -> Iterator[CostEstimate]:
    """The estimates kept with the ended jobs (those without one are counted as unpriced)."""
    from gui.core.account.cost import CostEstimate
    from gui.core.account.job_facts import stored_cost

    for record in records:
        if record.terminal:
            yield stored_cost(record) or CostEstimate(None, missing="no estimate was recorded")


# -- cost ----------------------------------------------------------------------------------------


def _cost(args: argparse.Namespace, data_dir: Path) -> int:
    """The estimates per endpoint, each beside the endpoint's bill for the hours its jobs ran."""
    from gui.core.account.cost import LEAVES_OUT, total_cost
    from gui.core.storage.history import HistoryReader, parse_search
    from gui.core.storage.store import DB_FILENAME

    query = parse_search(" ".join(args.search))
    groups: dict[tuple[str, str], list[JobRecord]] = {}
    with HistoryReader(data_dir / DB_FILENAME) as reader:
        for record in _every(reader, query):
            if record.terminal:
                groups.setdefault((record.profile, record.endpoint_id), []).append(record)
    results = []
    for (profile, endpoint_id), records in sorted(groups.items()):
        estimated = total_cost(_estimates(records))
        billed, why_not = _bill(args, data_dir, profile, endpoint_id, records, estimated)
        results.append({"profile": profile, "endpointId": endpoint_id, "jobs": len(records),
                        "estimatedUsd": estimated.usd, "unpriced": estimated.unpriced,
                        "billedUsd": None if billed is None else billed.billed_usd,
                        "text": (billed.text if billed is not None
                                 else f"Estimated {estimated.text}; {why_not}")})  # fmt: skip
    everything = total_cost(_estimates(r for group in groups.values() for r in group))
    if args.json:
        print(json.dumps({"endpoints": results, "estimatedUsd": everything.usd,
                          "priced": everything.priced, "unpriced": everything.unpriced,
                          "leavesOut": LEAVES_OUT}, indent=2))  # fmt: skip
        return EXIT_OK
    for result in results:
        print(f"{result['profile']} (endpoint {result['endpointId']}): {result['text']}")
    print(f"In all: {everything.text}. {LEAVES_OUT}")
    return EXIT_OK


def _bill(
    args: argparse.Namespace,
    data_dir: Path,
    profile: str,
    endpoint_id: str,
    records: list[JobRecord],
    estimated: CostTotal,
) -> tuple[BilledComparison | None, str]:
    """The endpoint's bill for the hours its jobs ran beside ``estimated``, or why not."""
    import asyncio
    from datetime import UTC, datetime

    from gui.commands.endpoints import resolve_access
    from gui.core.account.client import ManagementClient
    from gui.core.account.cost import compare_with_bill
    from gui.core.errors import ConsoleError

    start = datetime.fromtimestamp(min(r.submitted_at for r in records), UTC)
    end = datetime.fromtimestamp(max(r.finished_at or r.submitted_at for r in records) + 1, UTC)
    where = argparse.Namespace(profile=profile, data_dir=data_dir)

    async def read() -> BilledComparison:
        from gui.core.errors import ProfileNotFound

        try:
            access = resolve_access(where)
        except ProfileNotFound:  # sent with run --endpoint: the environment's account
            access = resolve_access(argparse.Namespace(profile=None, data_dir=data_dir))
        async with ManagementClient(access) as client:
            report = await client.billing(endpoint_id=endpoint_id, bucket_size="hour",
                                          start=start, end=end)  # fmt: skip
        return compare_with_bill(endpoint_id, estimated, report)

    try:
        return asyncio.run(read()), ""
    except ConsoleError as exc:
        return None, f"the bill can't be read: {exc}"


def _summary(record: JobRecord, with_cost: bool = False) -> dict[str, object]:
    """A listed job: what the job table shows (``show`` prints the whole record)."""
    cost = (record.facts or {}).get("cost") if with_cost else None
    extra: dict[str, object] = {"cost": cost} if with_cost else {}
    return {
        "local_id": record.local_id,
        "job_id": record.job_id,
        "state": str(record.state),
        "profile": record.profile,
        "endpoint_id": record.endpoint_id,
        "operation": record.operation,
        "submitted_at": record.submitted_at,
        "finished_at": record.finished_at,
        "delay_time_ms": record.delay_time_ms,
        "execution_time_ms": record.execution_time_ms,
        "worker_id": record.worker_id,
        "template": record.template,
        "error": record.error,
        "release": record.release,
        **extra,
    }


def _line(record: JobRecord, with_cost: bool = False) -> str:
    submitted = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.submitted_at))
    parts = [record.job_id or record.local_id, str(record.state), submitted, record.profile,
             record.worker_id or "-", record.template or "-"]  # fmt: skip
    if with_cost:
        from gui.core.account.cost import format_usd
        from gui.core.account.job_facts import stored_cost

        estimate = stored_cost(record)
        usd = None if estimate is None else estimate.usd
        parts.append("-" if usd is None else format_usd(usd))
    return "  ".join(parts)


# -- show ----------------------------------------------------------------------------------------


def _show(conn: sqlite3.Connection, job_ref: str, data_dir: Path) -> int:
    from gui.core.storage.export import record_to_dict
    from gui.core.storage.job_logs import read_job_logs
    from gui.core.storage.transfer import find_jobs

    found = find_jobs(conn, job_ref)
    if not found:
        return _fail(
            f"no job {job_ref} in the history ({data_dir}). `job-console history follow "
            f"{job_ref} --profile NAME` adds a job that was sent elsewhere.",
            EXIT_FAILED,
        )
    first, *others = found
    shown = record_to_dict(first.record)
    cost = (first.record.facts or {}).get("cost")
    if isinstance(cost, dict):  # as run prints it, with what the estimate leaves out
        from gui.commands.run import cost_json

        shown["cost"] = cost_json(cost)
    # The worker log lines kept with it (gui.core.storage.job_logs); an export leaves them out.
    shown["logs"] = [line.to_json() for line in read_job_logs(conn, first.record.local_id)]
    print(json.dumps(shown, indent=2, ensure_ascii=False, default=str))
    if others:
        named = ", ".join(f"{job.record.local_id} (endpoint {job.record.endpoint_id})"
                          for job in others)  # fmt: skip
        print(f"job-console history: {len(others)} more job(s) have the id {job_ref}: {named}; "
              "show one by its local id.", file=sys.stderr)  # fmt: skip
    return EXIT_OK


# -- export and import ---------------------------------------------------------------------------


def _export(conn: sqlite3.Connection, file: str, kind: str | None) -> int:
    from gui.core.files import open_atomic
    from gui.core.storage.transfer import iter_records, write_export

    lines = (kind or ("jsonl" if file.lower().endswith(".jsonl") else "json")) == "jsonl"
    if file == "-":
        count = write_export(iter_records(conn), sys.stdout, lines=lines)
        where = "standard output"
    else:
        try:
            with open_atomic(Path(file)) as out:
                count = write_export(iter_records(conn), out, lines=lines)
        except OSError as exc:
            return _fail(f"cannot write {file}: {exc.strerror or exc}. Nothing was written.",
                         EXIT_USAGE)  # fmt: skip
        where = file
    print(f"job-console history: exported {count} job(s) to {where}.", file=sys.stderr)
    return EXIT_OK


def _import(conn: sqlite3.Connection, path: Path, *, as_json: bool) -> int:
    from gui.core.errors import HistoryFileInvalid
    from gui.core.storage.transfer import import_history

    try:
        report = import_history(conn, path)
    except HistoryFileInvalid as exc:
        return _fail(str(exc), EXIT_USAGE)
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc.strerror or exc}. Nothing was imported.",
                     EXIT_USAGE)  # fmt: skip
    if as_json:
        print(json.dumps({"file": str(path), "read": report.read, "added": report.added,
                          "already_there": report.already_there,
                          "unfinished": report.unfinished}))  # fmt: skip
        return EXIT_OK
    print(f"Imported {report.added} job(s) from {path}; {report.already_there} of its "
          f"{report.read} were in the history already.")  # fmt: skip
    if report.unfinished:
        shown = ", ".join(report.unfinished[:_LISTED])
        more = (
            f" and {len(report.unfinished) - _LISTED} more"
            if len(report.unfinished) > _LISTED
            else ""
        )
        print(
            f"{len(report.unfinished)} of them had not ended when they were exported. They are "
            "not followed (here, by the window or by `job-console resume`): `job-console "
            f"history follow LOCAL_ID --profile NAME` follows one. Their local ids: {shown}{more}."
        )
    return EXIT_OK


# -- follow --------------------------------------------------------------------------------------


def _follow(args: argparse.Namespace, data_dir: Path) -> int:
    from gui.commands.run import Interrupted, StopSignals
    from gui.core.errors import ConsoleError
    from gui.core.storage.transfer import find_jobs

    try:
        conn = _open(data_dir)
        try:
            known = bool(find_jobs(conn, args.job))
        finally:
            conn.close()
        target = _target(args.profile, data_dir, known)
    except ConsoleError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if target is None and not known:
        return _fail(
            f"no job {args.job} in the history ({data_dir}). To follow a job sent elsewhere, "
            "name the profile of its endpoint: --profile NAME (`job-console profile add` makes "
            "one).",
            EXIT_USAGE,
        )
    try:
        with StopSignals() as signals, ExitStack() as cleanups:
            with signals.held():  # an engine half started would not be closed
                engine = _start_engine(data_dir)
                cleanups.callback(engine.close)
            return _follow_and_report(args, engine, target)
    except Interrupted as stop:
        print(f"\njob-console history follow: {stop.reason}; the job goes on on its endpoint, "
              f"and `job-console history follow {args.job}` follows it again.",
              file=sys.stderr)  # fmt: skip
        return stop.exit_code


def _target(profile: str | None, data_dir: Path, known: bool) -> Target | None:
    """The target of ``profile`` (None without one); ``ConsoleError`` when it can't be used."""
    from gui.core.errors import ConsoleError
    from gui.core.profiles.profiles import resolve_profile

    if profile is None:
        return None
    target, _ = resolve_profile(data_dir, profile)
    if target.kind == "sandbox" and not known:
        raise ConsoleError(
            f"profile {profile!r} is the built-in sandbox, which lives inside each console: a "
            "job sent elsewhere is not there. For a `job-console sandbox` of its own, add a "
            "profile with its address: `job-console profile add NAME --endpoint ID --base-url "
            "http://HOST:PORT/v2`."
        )
    return target


def _start_engine(data_dir: Path) -> Engine:
    from gui.commands.run import builtin_sandbox
    from gui.core.engine.engine import Engine
    from gui.core.profiles.profiles import ProfileStore, make_key_provider
    from gui.core.profiles.secrets import SecretStore

    secrets = SecretStore()
    engine = Engine(
        data_dir,
        key_provider=make_key_provider(ProfileStore(data_dir, secrets), secrets),
        sandbox=builtin_sandbox,
        kind="run",  # takes over no other job than this one
    )
    engine.start()
    return engine


def _follow_and_report(args: argparse.Namespace, engine: Engine, target: Target | None) -> int:
    from gui.commands.run import Progress, exit_code, follow, print_statuses
    from gui.core.errors import AuthRefused, ConsoleError, JobNotFound, TransportError

    try:
        record = engine.follow(args.job, target).result()
    except (AuthRefused, TransportError) as exc:
        return _fail(str(exc), EXIT_TRANSPORT)
    except JobNotFound as exc:
        return _fail(str(exc), EXIT_FAILED)
    except ConsoleError as exc:
        return _fail(str(exc), EXIT_FAILED)
    if record.terminal:
        print(f"job-console history: job {args.job} has ended ({record.state}).", file=sys.stderr)
        records = [record]
    else:
        print(f"job-console history: following job {record.job_id} (local id "
              f"{record.local_id}, {record.state}).", file=sys.stderr)  # fmt: skip
        records = [record]
        if not args.no_wait:
            deadline = None if args.timeout is None else time.monotonic() + args.timeout
            progress = Progress(1)
            engine.subscribe(lambda event: progress.touch())
            records = follow(engine, {record.local_id}, deadline, progress)
            progress.finish()
    engine.flush().result(timeout=30)
    print_statuses(records, single=True)
    return exit_code(records, {}, waited=not args.no_wait)
