"""Searching and paging the job history in SQLite, however long it is: the reader behind the job
table, ``job-console history`` and saved views.

Search syntax (``parse_search``): words and ``field:value`` parts, separated by spaces; every part
must match (AND), several values of one field match any of them (OR).

=====================  =====================================================================
``status:failed``      jobs in that state. Several: ``status:failed,cancelled`` or the field
                       twice. States: submitting, queued (in_queue), running (in_progress),
                       completed, failed, cancelled, timed_out, expired, purged, not_sent.
``worker:ID``          jobs run by a worker whose id starts with ID (any case).
``profile:NAME``       jobs sent with that profile (the Target column; any case).
``endpoint:ID``        jobs sent to that endpoint id.
``template:NAME``      jobs sent from that template (any case).
``id:PREFIX``          jobs whose RunPod job id or local id starts with PREFIX.
``release:V``          jobs run by a worker on that release: its version (``v4``), its image
                       (``me/worker:1.2``) or both as recorded (any case).
``row:N``, ``row:NAME``  jobs made from that row of a data run: its number, or the value of its
                       ``name`` column (any case).
``input:WORD``,        the word inside the request's ``input``, the output or the error only.
``output:WORD``,
``error:WORD``
``word``               jobs with the word in their ids, profile, worker, template, request
                       ``input``, output or error (whole words, any case, accents ignored; the
                       last word also matches as the start of a word, as the person types).
``"two words"``        the words next to each other, in that order (a phrase).
=====================  =====================================================================

A value with spaces goes in quotes (``template:"my template"``). A part the syntax can't use (an
unknown field, an unknown state, a field with no value) raises ``SearchInvalid`` naming it; put
text in quotes to search for it as it is (``"http://example"``). What the text search sees of a
job, and its 64 K limit per column, is said in ``gui.core.storage.job_index``.

``HistoryReader`` reads on a connection of its own (one thread at a time; it never writes a job):
counts, pages of rows in any sort, one job in full, the counts per state, where one job is in a
sort, and the last job of each row of a data run (``failed_rows``, ``row_jobs``: the CLI's
``--rerun-failed`` and ``--results`` and the window's *Rerun failed rows* share them).
Sort and filters are SQL on indexed columns; every sort is stable (ties go by the order the jobs
were stored in).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from gui.core.account.cost import CostTotal
from gui.core.errors import HistoryError, SearchInvalid
from gui.core.records import TERMINAL_STATES, JobRecord, JobState
from gui.core.storage.job_index import SORT_EXPRESSIONS, STATE_RANK
from gui.core.storage.job_logs import JobLogLine, read_job_logs
from gui.core.storage.sqlite_file import open_database
from gui.core.storage.store import StoredJob, migrate, read_jobs

__all__ = [
    "FIELDS",
    "RERUN_STATES",
    "HistoryReader",
    "JobQuery",
    "RowJob",
    "SavedView",
    "SortKey",
    "TextTerm",
    "parse_search",
    "search_with_states",
]


# The states of a data row's last job that *Rerun failed rows* (``--rerun-failed``) sends again.
RERUN_STATES = (JobState.FAILED.value, JobState.TIMED_OUT.value)


@dataclass(frozen=True, slots=True)
class RowJob:
    """The last job (by submission time) made from one row of a data run."""

    row: int
    local_id: str
    state: str
    job_id: str | None
    output: Any
    error: str | None
    note: str | None


class SortKey(StrEnum):
    """What the history can be sorted by: the job table's columns, and the finish time."""

    SUBMITTED = "submitted"
    JOB_ID = "job_id"
    TARGET = "target"
    STATUS = "status"
    QUEUE_TIME = "queue_time"
    RUN_TIME = "run_time"  # a running job's growing run time is unknown to SQL: it sorts first
    WORKER = "worker"
    WEBHOOK = "webhook"
    TEMPLATE = "template"
    FINISHED = "finished"


FIELDS = ("status", "worker", "profile", "endpoint", "template", "id", "release", "row", "input",
          "output", "error")  # fmt: skip
"""The ``field:`` names ``parse_search`` knows."""

_STATE_NAMES: dict[str, JobState] = {
    **{state.value.replace("_", "").lower(): state for state in JobState},
    "queued": JobState.IN_QUEUE,
    "running": JobState.IN_PROGRESS,
    "canceled": JobState.CANCELLED,
}
_STATE_LIST = ("submitting, queued, running, completed, failed, cancelled, timed_out, expired, "
               "purged, not_sent")  # fmt: skip
_RANK = {state: rank for rank, state in enumerate(JobState)}
# field:value (value quoted or bare), a quoted phrase (closed or still being typed), or a word.
_PART = re.compile(
    r'(?P<field>[A-Za-z_]+):(?:"(?P<quoted>[^"]*)"?|(?P<value>[^\s"]*))'
    r'|"(?P<phrase>[^"]*)(?P<closed>"?)'
    r'|(?P<word>[^\s"]+)'
)
_HIGHEST = "\U0010ffff"  # after every character: "abc" <= anything starting with it < "abc" + this


@dataclass(frozen=True, slots=True)
class TextTerm:
    """One word or phrase to find in the search index, in one column or all of them."""

    text: str
    column: str | None = None  # "input", "output" or "error"; None: anywhere
    prefix: bool = False  # the last word as typed: matches the start of a word too

    def fts(self) -> str:
        """The term in FTS5's query syntax: always a quoted string, so no word is an operator."""
        phrase = '"' + self.text.replace('"', '""') + '"' + ("*" if self.prefix else "")
        return f"{self.column} : {phrase}" if self.column else phrase


@dataclass(frozen=True, slots=True)
class JobQuery:
    """Which jobs to show: what ``parse_search`` read, plus the status toggles (``with_states``).
    The empty query shows every job."""

    states: frozenset[JobState] | None = None  # None: every state
    workers: tuple[str, ...] = ()  # id prefixes
    profiles: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # job id or local id prefixes
    releases: tuple[str, ...] = ()  # a release's version, image, or both (``JobRecord.release``)
    rows: tuple[str, ...] = ()  # a data run's row: its number or its name (``JobRecord.origin``)
    terms: tuple[TextTerm, ...] = ()

    def with_states(self, states: Iterable[JobState] | None) -> JobQuery:
        """This query, kept to ``states`` too (the toggles and a ``status:`` both apply)."""
        if states is None:
            return self
        chosen = frozenset(states)
        return replace(self, states=chosen if self.states is None else self.states & chosen)

    def without_states(self) -> JobQuery:
        return replace(self, states=None)

    @property
    def only_states(self) -> bool:
        """Nothing but (maybe) states: the counts table answers, no row is read."""
        return not (
            self.workers or self.profiles or self.endpoints or self.templates or self.ids
            or self.releases or self.rows or self.terms
        )  # fmt: skip

    def fts_query(self) -> str | None:
        return " ".join(term.fts() for term in self.terms) or None

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition on ``jobs`` and its parameters ("1" for every job)."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.states is not None:
            ranks = sorted(_RANK[state] for state in self.states)
            clauses.append(f"{STATE_RANK} IN ({', '.join(str(rank) for rank in ranks)})")
        if self.workers:
            worker = "worker_id COLLATE NOCASE"
            clauses.append(" OR ".join(f"({worker} >= ? AND {worker} < ?)" for _ in self.workers))
            params += [bound for p in self.workers for bound in (p, p + _HIGHEST)]
        for column, values in (("profile", self.profiles), ("template", self.templates)):
            if values:
                clauses.append(f"{column} COLLATE NOCASE IN ({', '.join('?' for _ in values)})")
                params += values
        if self.endpoints:
            clauses.append(f"endpoint_id IN ({', '.join('?' for _ in self.endpoints)})")
            params += self.endpoints
        if self.ids:
            clauses.append(" OR ".join(
                "(job_id >= ? AND job_id < ?) OR (local_id >= ? AND local_id < ?)"
                for _ in self.ids))  # fmt: skip
            params += [bound for p in self.ids for bound in (p, p + _HIGHEST) * 2]
        if self.releases:
            # The release column reads "v4 image" (or one of them): a value matches whole words.
            word = "instr(' ' || lower(release) || ' ', ' ' || lower(?) || ' ') > 0"
            clauses.append(" OR ".join(word for _ in self.releases))
            params += self.releases
        if self.rows:
            clauses.append(" OR ".join(_ROW_MATCH for _ in self.rows))
            params += [bound for value in self.rows for bound in (_row_number(value), value)]
        match = self.fts_query()
        if match is not None:
            clauses.append("row_no IN (SELECT rowid FROM job_search WHERE job_search MATCH ?)")
            params.append(match)
        return " AND ".join(f"({c})" for c in clauses) or "1", params


# A data run's row by number (None for a name: matches no number) or by its name column.
_ROW_MATCH = (
    "origin IS NOT NULL AND (json_extract(origin, '$.row') = ? OR "
    "lower(json_extract(origin, '$.name')) = lower(?))"
)


def _row_number(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def parse_search(text: str) -> JobQuery:
    """Read the search syntax (module docstring) into a query; ``SearchInvalid`` lists what is
    wrong with it, each problem with what to do."""
    problems: list[str] = []
    values: dict[str, list[str]] = {name: [] for name in FIELDS}
    terms: list[TextTerm] = []
    parts = list(_PART.finditer(text))
    still_typing = bool(text) and not text[-1].isspace()
    for index, part in enumerate(parts):
        last = still_typing and index == len(parts) - 1
        if part["field"] is not None:
            _read_field(part, values, problems)
        elif part["phrase"] is not None:
            _add_term(terms, part["phrase"], None, prefix=last and not part["closed"])
        else:
            _add_term(terms, part["word"], None, prefix=last)
    for column in ("input", "output", "error"):
        for value in values[column]:
            _add_term(terms, value, column, prefix=False)
    states: set[JobState] = set()
    for name in values["status"]:
        state = _STATE_NAMES.get(re.sub(r"[\s_-]", "", name.lower()))
        if state is None:
            problems.append(f'Unknown status "{name}": use one of {_STATE_LIST}.')
        else:
            states.add(state)
    if problems:
        raise SearchInvalid(problems)
    return JobQuery(
        states=frozenset(states) or None,
        workers=tuple(values["worker"]),
        profiles=tuple(values["profile"]),
        endpoints=tuple(values["endpoint"]),
        templates=tuple(values["template"]),
        ids=tuple(values["id"]),
        releases=tuple(values["release"]),
        rows=tuple(values["row"]),
        terms=tuple(terms),
    )


def _read_field(part: re.Match[str], values: dict[str, list[str]], problems: list[str]) -> None:
    name = part["field"].lower()
    if name not in values:
        problems.append(
            f'Unknown field "{part["field"]}:". Fields: {", ".join(f + ":" for f in FIELDS)}. '
            f'To search for the text itself, put it in quotes: "{part.group(0)}".'
        )
        return
    raw = part["quoted"] if part["quoted"] is not None else part["value"]
    found = [v.strip() for v in raw.split(",")] if part["quoted"] is None else [raw.strip()]
    found = [v for v in found if v]
    if not found:
        problems.append(f'"{name}:" needs a value, for example {_EXAMPLES[name]}.')
    values[name] += found


_EXAMPLES = {
    "status": "status:failed", "worker": "worker:abc123", "profile": "profile:prod",
    "endpoint": "endpoint:abc123xyz", "template": 'template:"my template"', "id": "id:3f2a",
    "release": "release:v4", "row": "row:3 or row:third",
    "input": "input:cat", "output": "output:cat", "error": "error:CUDA",
}  # fmt: skip


def _add_term(terms: list[TextTerm], text: str, column: str | None, *, prefix: bool) -> None:
    text = text.strip()
    if any(ch.isalnum() for ch in text):  # punctuation alone is no word to find
        terms.append(TextTerm(text, column, prefix))


# The names a search writes for states (``parse_search`` reads these and JobState's values).
_STATE_WORDS = {JobState.IN_QUEUE: "queued", JobState.IN_PROGRESS: "running"}


def search_with_states(text: str, states: Iterable[JobState] | None) -> str:
    """``text`` kept to ``states`` too, written as one search: ``parse_search`` of the answer is
    ``parse_search(text).with_states(states)``. Its ``status:`` parts give way to one, first,
    naming the states both allow (how a saved view keeps the window's status toggles).
    ``SearchInvalid`` when ``text`` does not parse, or when no state is left to show."""
    if states is None:
        return text
    allowed = parse_search(text).with_states(states).states
    if not allowed:
        raise SearchInvalid([
            "The status toggles and the search's status: leave no state to show: choose a "
            "status the search allows, or remove its status: part."
        ])  # fmt: skip
    parts = list(_PART.finditer(text))
    rest = [part.group(0) for part in parts if (part["field"] or "").lower() != "status"]
    names = ",".join(_STATE_WORDS.get(state, state.value.lower()) for state in JobState
                     if state in allowed)  # fmt: skip
    # The last part typed without a space after it is read as the start of a word: keep that so.
    ended = bool(text) and (text[-1].isspace() or (parts[-1]["field"] or "").lower() == "status")
    return " ".join([f"status:{names}", *rest]) + (" " if ended else "")


# -- reading ---------------------------------------------------------------------------------------

# The columns a page of rows carries: everything the job table shows, not the big ones (request,
# output, stream, history), which ``get`` reads.
_ROW_COLUMNS = (
    "local_id", "profile", "endpoint_id", "operation", "job_id", "state", "template",
    "submitted_at", "started_at", "finished_at", "delay_time_ms", "execution_time_ms",
    "worker_id", "error", "webhook_deliveries", "webhook_missing", "note", "facts",
)  # fmt: skip
# Of a job's origin, a row carries only where its data run came from (the template body and the
# variables can be big): the data file, the row's number and name.
_ORIGIN_KEYS = ("data", "row", "name")
_ROW_SELECT = ", ".join(
    [*_ROW_COLUMNS, *(f"json_extract(origin, '$.{key}')" for key in _ORIGIN_KEYS)]
)


# A job's estimated cost (``gui.core.account.job_facts.cost_facts``) and whether it has one.
_USD = "json_extract(facts, '$.cost.usd')"
_PRICED = "coalesce(json_type(facts, '$.cost.usd') IN ('integer', 'real'), 0)"
# The states a cost estimate is made in (a job never sent cost nothing).
_ENDED = TERMINAL_STATES - {JobState.NOT_SENT}


def _row_record(row: tuple[Any, ...]) -> JobRecord:
    v = dict(zip(_ROW_COLUMNS, row[: len(_ROW_COLUMNS)], strict=True))
    origin = {
        key: value
        for key, value in zip(_ORIGIN_KEYS, row[len(_ROW_COLUMNS) :], strict=True)
        if value is not None
    }
    return JobRecord(
        local_id=v["local_id"], profile=v["profile"], endpoint_id=v["endpoint_id"],
        operation=v["operation"], request={}, submitted_at=v["submitted_at"],
        state=JobState(v["state"]), job_id=v["job_id"], template=v["template"],
        started_at=v["started_at"], finished_at=v["finished_at"],
        delay_time_ms=v["delay_time_ms"], execution_time_ms=v["execution_time_ms"],
        worker_id=v["worker_id"], error=v["error"], webhook_deliveries=v["webhook_deliveries"],
        webhook_missing=bool(v["webhook_missing"]), note=v["note"],
        facts=None if v["facts"] is None else json.loads(v["facts"]),
        origin=origin or None,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class SavedView:
    """A search the person named to pick again, with its sort."""

    name: str
    search: str
    sort: SortKey = SortKey.SUBMITTED
    descending: bool = True


class HistoryReader:
    """Reads the history in ``path`` (``<data_dir>/jobs.sqlite3``) on a connection of its own.

    Use it from one thread at a time (any thread). Each call reads the newest committed state;
    calls inside ``with reader.snapshot():`` all read the same one (a count and the page that goes
    with it). It writes nothing but saved views; it brings an older file up to date on opening,
    like any component, and refuses one from a newer console (``HistoryError``).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._conn = open_database(self.path)
        try:
            migrate(self._conn, self.path)
            self._conn.execute("PRAGMA query_only=ON")
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees the same committed state of the file."""
        with self._lock:
            if self._conn.in_transaction:  # nested: the outer snapshot holds
                yield
                return
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.OperationalError as exc:
                if "fts5" in str(exc):  # a query the parser let through: a bug, said plainly
                    raise HistoryError(f"The text search could not be run ({exc}).") from exc
                raise

    # -- counts ------------------------------------------------------------------------------------

    def count(self, query: JobQuery = JobQuery()) -> int:
        """How many jobs ``query`` shows."""
        if query.only_states:
            counts = self._stored_counts()
            chosen = query.states
            return sum(n for state, n in counts.items() if chosen is None or state in chosen)
        if replace(query, terms=()) == JobQuery():  # text alone: the index knows every job
            return self._text_matches(query)
        where, params = query.where()
        return int(self._all(f"SELECT count(*) FROM jobs WHERE {where}", params)[0][0])

    def state_counts(self, query: JobQuery = JobQuery()) -> dict[JobState, int]:
        """Jobs per state among those ``query`` shows, its own states aside (the toggles' counts:
        each toggle says how many it would add). States with no job are left out."""
        rest = query.without_states()
        if rest.only_states:
            return self._stored_counts()
        where, params = rest.where()
        rows = self._all(f"SELECT state, count(*) FROM jobs WHERE {where} GROUP BY state", params)
        return {JobState(state): int(n) for state, n in rows if n}

    def _text_matches(self, query: JobQuery) -> int:
        """How many jobs have the text ``query`` searches for (its other filters aside)."""
        sql = "SELECT count(*) FROM job_search WHERE job_search MATCH ?"
        return int(self._all(sql, [query.fts_query()])[0][0])

    def _stored_counts(self) -> dict[JobState, int]:
        rows = self._all("SELECT state, jobs FROM job_state_counts WHERE jobs > 0")
        return {JobState(state): int(n) for state, n in rows}

    def cost_total(self, query: JobQuery = JobQuery()) -> CostTotal:
        """The estimated cost of the jobs ``query`` shows (``facts.cost.usd``), summed in SQL;
        ``unpriced`` counts the ended jobs among them without an estimate (one that never ran,
        a worker gone before its GPU was known, a history older than estimates)."""
        where, params = query.where()
        ended = ", ".join(str(_RANK[state]) for state in sorted(_ENDED, key=_RANK.__getitem__))
        rows = self._all(
            f"SELECT sum(CASE WHEN {_PRICED} THEN {_USD} END), "
            f"count(CASE WHEN {_PRICED} THEN 1 END), "
            f"count(CASE WHEN NOT {_PRICED} AND {STATE_RANK} IN ({ended}) THEN 1 END) "
            f"FROM jobs WHERE {where}",
            params,
        )
        usd, priced, unpriced = rows[0]
        return CostTotal(float(usd or 0.0), int(priced), int(unpriced))

    # -- rows --------------------------------------------------------------------------------------

    def page(
        self,
        query: JobQuery = JobQuery(),
        sort: SortKey = SortKey.SUBMITTED,
        descending: bool = True,
        offset: int = 0,
        limit: int = 100,
        *,
        total: int | None = None,
    ) -> list[JobRecord]:
        """Rows ``offset`` to ``offset + limit`` of what ``query`` shows, in that sort; ties go by
        the order the jobs were stored in (in the same direction).

        The rows carry what the table shows: their ``request`` is ``{}``, ``output`` and
        ``progress`` None, ``stream`` and ``history`` empty; ``get`` reads a job in full. Pass the
        query's ``total`` (``count``) when known: a page past the middle is then read from the far
        end, so the last page of a million rows costs what the first does.
        """
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        reverse = total is not None and offset > total // 2
        if reverse:
            assert total is not None
            limit = max(0, min(limit, total - offset))
            offset = max(0, total - offset - limit)
            descending = not descending
        where, params = query.where()
        order = self._order(sort, descending)
        with self.snapshot():
            walk = self._walk(query, sort, offset + limit)
            rows = self._all(
                f"SELECT {_ROW_SELECT} FROM jobs{walk} WHERE {where} "
                f"ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        records = [_row_record(row) for row in rows]
        return records[::-1] if reverse else records

    def _walk(self, query: JobQuery, sort: SortKey, rows: int) -> str:
        """``INDEXED BY`` the sort's index when a text search matches many jobs.

        SQLite's plan for a text search reads every match, then sorts them: right for a rare word,
        slow for a common one (a word in a quarter of a million jobs). Walking the sort's index
        and keeping the matches reads about ``rows * jobs / matches`` rows instead; it is chosen
        when that is less than the matches themselves."""
        if not query.terms:
            return ""
        matches = self._text_matches(query)
        jobs = sum(self._stored_counts().values())
        if matches * matches <= rows * jobs:
            return ""
        return f" INDEXED BY jobs_by_{sort.value}"  # every sort has its index (job_index)

    @staticmethod
    def _order(sort: SortKey, descending: bool) -> str:
        direction = "DESC" if descending else "ASC"
        return f"{SORT_EXPRESSIONS[sort.value]} {direction}, row_no {direction}"

    def get(self, job: str) -> JobRecord | None:
        """One job in full (request, output, stream, history), by local id or RunPod job id."""
        stored = self.stored(job)
        return None if stored is None else stored.record

    def stored(self, job: str) -> StoredJob | None:
        """``get`` with the target the job was sent to and its owner."""
        with self.snapshot():
            found = read_jobs(self._conn, "local_id = ?", (job,))
            if not found:  # a RunPod id; sent twice (imported twice elsewhere): the newest
                found = read_jobs(self._conn, "job_id = ?", (job,))
        return found[-1] if found else None

    def logs(self, local_id: str, *, after: int = 0, last: int | None = None) -> list[JobLogLine]:
        """The job's kept worker log lines after position ``after`` (``job_logs``); the ``last``
        N of them when given."""
        with self._lock:
            return read_job_logs(self._conn, local_id, after=after, last=last)

    def position_of(
        self,
        local_id: str,
        query: JobQuery = JobQuery(),
        sort: SortKey = SortKey.SUBMITTED,
        descending: bool = True,
    ) -> int | None:
        """The row ``local_id`` is at in ``page``'s order, None when ``query`` does not show it."""
        where, params = query.where()
        key = f"({SORT_EXPRESSIONS[sort.value]})"
        with self.snapshot():
            found = self._all(
                f"SELECT {key}, row_no FROM jobs WHERE local_id = ? AND ({where})",
                [local_id, *params],
            )
            if not found:
                return None
            value, row_no = found[0]
            # SQLite sorts NULL first going up, last going down.
            after = ">" if descending else "<"
            if value is None:
                earlier = (f"({key} IS NOT NULL OR row_no {after} ?)" if descending
                           else f"({key} IS NULL AND row_no {after} ?)")  # fmt: skip
                extra: list[Any] = [row_no]
            else:
                nulls = "" if descending else f"{key} IS NULL OR "
                earlier = f"({nulls}{key} {after} ? OR ({key} = ? AND row_no {after} ?))"
                extra = [value, value, row_no]
            rows = self._all(
                f"SELECT count(*) FROM jobs WHERE ({where}) AND {earlier}", [*params, *extra]
            )
        return int(rows[0][0])

    # -- data runs ---------------------------------------------------------------------------------

    @staticmethod
    def _run_jobs(template: str | None, data: str) -> tuple[str, list[Any]]:
        """Each row's last job of the data run of ``template`` (its file; None: a template that
        was never saved) over ``data``: SQLite gives the other columns of the row that holds
        ``max()``."""
        sql = (
            "SELECT json_extract(origin, '$.row') AS row, local_id, state, job_id, output, "
            "error, note, max(submitted_at) FROM jobs WHERE origin IS NOT NULL AND "
            "json_valid(origin) AND json_extract(origin, '$.data') = ? AND "
            "json_extract(origin, '$.file') IS ? GROUP BY row"
        )
        return sql, [data, template]

    def failed_rows(self, template: str | None, data: str) -> set[int] | None:
        """The rows of the data run whose last job FAILED or TIMED_OUT (``RERUN_STATES``); None
        when the history holds no job of that run at all."""
        sql, params = self._run_jobs(template, data)
        rows = self._all(f"SELECT row, state FROM ({sql})", params)
        if not rows:
            return None
        return {int(row) for row, state in rows if state in RERUN_STATES and row is not None}

    def row_jobs(self, template: str | None, data: str) -> Generator[RowJob]:
        """Each row's last job of the data run, by row number, read as they are used (a run of a
        million rows is never in memory at once). Holds the reader while iterated."""
        sql, params = self._run_jobs(template, data)
        with self._lock:
            cursor = self._conn.execute(f"{sql} ORDER BY row", params)
            for row, local_id, state, job_id, output, error, note, _ in cursor:
                if isinstance(row, int):
                    value = None if output is None else json.loads(output)
                    yield RowJob(row, local_id, state, job_id, value, error, note)

    # -- saved views -------------------------------------------------------------------------------

    def views(self) -> list[SavedView]:
        """The saved views, by name."""
        rows = self._all("SELECT name, search, sort, descending FROM saved_views")
        found = [
            SavedView(name, search, SortKey(sort), bool(descending))
            for name, search, sort, descending in rows
            if sort in SortKey._value2member_map_
        ]
        return sorted(found, key=lambda view: view.name.casefold())

    def save_view(self, view: SavedView) -> None:
        """Save ``view`` (replacing the one of that name). Its search must parse."""
        name = view.name.strip()
        if not name:
            raise SearchInvalid(["A saved view needs a name."])
        parse_search(view.search)  # raises SearchInvalid with what is wrong
        self._write(
            "INSERT INTO saved_views (name, search, sort, descending, saved_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET search = excluded.search, "
            "sort = excluded.sort, descending = excluded.descending, saved_at = excluded.saved_at",
            (name, view.search, SortKey(view.sort).value, int(view.descending), time.time()),
        )

    def delete_view(self, name: str) -> bool:
        """Forget the view named ``name``; False when there was none."""
        return self._write("DELETE FROM saved_views WHERE name = ?", (name.strip(),)) > 0

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._lock:
            if self._conn.in_transaction:
                raise RuntimeError("Saved views are written outside snapshot().")
            self._conn.execute("PRAGMA query_only=OFF")
            try:
                return self._conn.execute(sql, params).rowcount
            finally:
                self._conn.execute("PRAGMA query_only=ON")
