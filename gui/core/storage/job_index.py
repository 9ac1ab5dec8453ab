"""Schema 3 of the job tables: what makes a history of a million jobs quick to sort, filter and
search.

``store.MIGRATIONS[3]`` is ``SCHEMA_3``. It

- rebuilds ``jobs`` with an explicit ``row_no INTEGER PRIMARY KEY`` (``local_id`` stays unique):
  the search index names rows by it, and SQLite's ``VACUUM`` may renumber an implicit rowid, which
  would point the index at the wrong jobs. It is also the tie-break that makes every sort stable;
- adds one index per column the job table sorts by (``SORT_EXPRESSIONS``: the same expressions
  ``gui.core.storage.history`` orders by, so SQLite walks an index instead of sorting) and per
  filter (endpoint, finished time);
- adds ``job_search``, an FTS5 index over the text inside each job (``TEXT_COLUMNS``): its ids and
  names (``meta``), its request's ``input``, its ``output`` and its ``error``;
- adds ``job_state_counts``, the number of jobs in each state, so the status toggles' counts and
  the unfiltered row count cost one tiny read however long the history is;
- adds ``saved_views``: named searches with their sort (``gui.core.storage.history``).

The search index and the counts are kept by SQL triggers on ``jobs`` (insert, update, delete), so
every writer keeps them right with no code of its own: the store's writer thread, a bulk import,
another console. An ``INSERT OR REPLACE`` fires the delete triggers only with
``recursive_triggers`` on, which ``sqlite_file.open_database`` sets: open the file there.

What is indexed: the string and number values inside ``input``, ``output`` and ``error`` (not the
JSON keys, and unescaped, so a prompt's second line is found like its first), at most
``MAX_VALUES`` values and ``MAX_INDEXED_CHARS`` (64 K) characters per column and job, and without
space-less strings of ``LONG_TOKEN`` characters or more (base64 images, hashes: megabytes of
tokens nobody types). A word past the first 64 K characters of a big output is not found. An error
that is not JSON is indexed as it is.
"""

from __future__ import annotations

from gui.core.records import JobState

__all__ = [
    "LONG_TOKEN",
    "MAX_INDEXED_CHARS",
    "MAX_VALUES",
    "SCHEMA_3",
    "SORT_EXPRESSIONS",
    "STATE_RANK",
    "TEXT_COLUMNS",
]

MAX_INDEXED_CHARS = 65_536
MAX_VALUES = 4_096
LONG_TOKEN = 512

# The order a job lives through (JobState's order), as the job table sorts its status column.
STATE_RANK = (
    "(CASE state "
    + " ".join(f"WHEN '{state.value}' THEN {rank}" for rank, state in enumerate(JobState))
    + " ELSE -1 END)"
)
QUEUE_MS = "COALESCE(delay_time_ms, MAX(0.0, (started_at - submitted_at) * 1000.0), -1.0)"
RUN_MS = "COALESCE(execution_time_ms, MAX(0.0, (finished_at - started_at) * 1000.0), -1.0)"
WEBHOOK = "(webhook_deliveries - 0.5 * webhook_missing)"

SORT_EXPRESSIONS: dict[str, str] = {
    "submitted": "submitted_at",
    "job_id": "job_id",
    "target": "profile COLLATE NOCASE",
    "status": STATE_RANK,
    "queue_time": QUEUE_MS,
    "run_time": RUN_MS,
    "worker": "worker_id COLLATE NOCASE",
    "webhook": WEBHOOK,
    "template": "template COLLATE NOCASE",
    "finished": "finished_at",
}
"""Sort key name -> the SQL it orders by; each has an index of its own (``jobs_by_<name>``)."""

TEXT_COLUMNS = ("meta", "input", "output", "error")


def _values(json_text: str, path: str = "$") -> str:
    """SQL: the string and number values inside ``json_text`` (at ``path``), space separated and
    capped; the text itself when it is not JSON."""
    return (
        f"CASE WHEN json_valid({json_text}) THEN (SELECT substr(group_concat(value, ' '), 1, "
        f"{MAX_INDEXED_CHARS}) FROM (SELECT value FROM json_tree({json_text}, '{path}') "
        f"WHERE type IN ('text', 'integer', 'real') AND (length(value) < {LONG_TOKEN} "
        f"OR instr(value, ' ') > 0) LIMIT {MAX_VALUES})) "
        f"ELSE substr({json_text}, 1, {MAX_INDEXED_CHARS}) END"
    )


def _text(row: str) -> tuple[str, str, str, str]:
    """SQL for the four indexed columns of the job row ``row`` ("NEW.", "OLD." or "")."""
    meta = (
        f"COALESCE({row}job_id, '') || ' ' || {row}local_id || ' ' || {row}profile || ' ' || "
        f"COALESCE({row}worker_id, '') || ' ' || COALESCE({row}template, '')"
    )
    request = f"{row}request"
    return (
        meta,
        f"CASE WHEN json_valid({request}) THEN ({_values(request, '$.input')}) END",
        _values(f"{row}output"),
        _values(f"{row}error"),
    )


def _index_row(row: str) -> str:
    return (
        f"INSERT INTO job_search (rowid, {', '.join(TEXT_COLUMNS)}) "
        f"VALUES ({row}row_no, {', '.join(_text(row))});"
    )


def _unindex_row(row: str) -> str:
    # An external-content FTS5 table forgets a row when told the very text it indexed: the same
    # expressions over the old row give it.
    return (
        f"INSERT INTO job_search (job_search, rowid, {', '.join(TEXT_COLUMNS)}) "
        f"VALUES ('delete', {row}row_no, {', '.join(_text(row))});"
    )


_JOB_COLUMNS = """
    local_id TEXT NOT NULL UNIQUE,
    profile TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    base_url TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    job_id TEXT,
    state TEXT NOT NULL,
    request TEXT NOT NULL,
    template TEXT,
    submitted_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    delay_time_ms INTEGER,
    execution_time_ms INTEGER,
    worker_id TEXT,
    progress TEXT,
    output TEXT,
    error TEXT,
    webhook_deliveries INTEGER NOT NULL DEFAULT 0,
    webhook_missing INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    owner TEXT,
    change_seq INTEGER NOT NULL DEFAULT 0,
    row_no INTEGER PRIMARY KEY
"""
_COPIED = (
    "local_id, profile, target_kind, base_url, endpoint_id, operation, job_id, state, request, "
    "template, submitted_at, started_at, finished_at, delay_time_ms, execution_time_ms, "
    "worker_id, progress, output, error, webhook_deliveries, webhook_missing, note, owner, "
    "change_seq"
)
# A change to any of these re-indexes the job's text; the status changes that make most writes
# leave the index alone.
_INDEXED_SOURCES = ("request", "output", "error", "job_id", "local_id", "profile", "worker_id",
                    "template", "row_no")  # fmt: skip
_TEXT_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _INDEXED_SOURCES)
_SORT_INDEXES = tuple(
    f"CREATE INDEX jobs_by_{name} ON jobs({sql})"
    for name, sql in SORT_EXPRESSIONS.items()
    if name != "job_id"  # jobs_by_job_id is schema 1's
)
_COUNT_IN = (
    "INSERT INTO job_state_counts (state, jobs) VALUES ({row}state, 1) "
    "ON CONFLICT(state) DO UPDATE SET jobs = jobs + 1;"
)
_COUNT_OUT = "UPDATE job_state_counts SET jobs = jobs - 1 WHERE state = {row}state;"

SCHEMA_3: tuple[str, ...] = (
    # The table again, with a row number of its own, oldest job first.
    f"CREATE TABLE jobs_3 ({_JOB_COLUMNS})",
    f"INSERT INTO jobs_3 ({_COPIED}) SELECT {_COPIED} FROM jobs ORDER BY submitted_at, rowid",
    "DROP TABLE jobs",
    "ALTER TABLE jobs_3 RENAME TO jobs",
    "CREATE INDEX jobs_by_job_id ON jobs(job_id)",
    "CREATE INDEX jobs_by_change ON jobs(change_seq)",
    *_SORT_INDEXES,
    "CREATE INDEX jobs_by_endpoint ON jobs(endpoint_id)",
    # The search index: FTS5 over a view that computes each job's text, kept by triggers.
    "CREATE VIEW job_search_text AS SELECT row_no, "
    + ", ".join(f"{sql} AS {name}" for name, sql in zip(TEXT_COLUMNS, _text(""), strict=True))
    + " FROM jobs",
    f"CREATE VIRTUAL TABLE job_search USING fts5({', '.join(TEXT_COLUMNS)}, "
    "content='job_search_text', content_rowid='row_no', "
    "tokenize='unicode61 remove_diacritics 2')",
    # Not FTS5's 'rebuild' (nor 'integrity-check'): both fail on a view that calls json_tree.
    f"INSERT INTO job_search (rowid, {', '.join(TEXT_COLUMNS)}) "
    f"SELECT row_no, {', '.join(TEXT_COLUMNS)} FROM job_search_text",
    f"CREATE TRIGGER job_search_insert AFTER INSERT ON jobs BEGIN {_index_row('NEW.')} END",
    f"CREATE TRIGGER job_search_delete AFTER DELETE ON jobs BEGIN {_unindex_row('OLD.')} END",
    f"CREATE TRIGGER job_search_update AFTER UPDATE ON jobs WHEN {_TEXT_CHANGED} BEGIN "
    f"{_unindex_row('OLD.')} {_index_row('NEW.')} END",
    # How many jobs are in each state, kept by triggers too.
    "CREATE TABLE job_state_counts (state TEXT PRIMARY KEY, jobs INTEGER NOT NULL)",
    "INSERT INTO job_state_counts (state, jobs) SELECT state, count(*) FROM jobs GROUP BY state",
    f"CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN {_COUNT_IN.format(row='NEW.')} "
    "END",
    f"CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN {_COUNT_OUT.format(row='OLD.')} "
    "END",
    "CREATE TRIGGER job_counts_update AFTER UPDATE OF state ON jobs "
    f"WHEN OLD.state IS NOT NEW.state BEGIN {_COUNT_OUT.format(row='OLD.')} "
    f"{_COUNT_IN.format(row='NEW.')} END",
    """CREATE TABLE saved_views (
        name TEXT PRIMARY KEY,
        search TEXT NOT NULL,
        sort TEXT NOT NULL,
        descending INTEGER NOT NULL,
        saved_at REAL NOT NULL
    )""",
)
