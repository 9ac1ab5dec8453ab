"""The history's search, pages and saved views (gui.core.storage.history), and schema 3: real
SQLite files in a temporary folder."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from gui.core.engine.leases import ConsoleLease
from gui.core.errors import HistoryError, SearchInvalid
from gui.core.records import JobRecord, JobState
from gui.core.storage import job_index
from gui.core.storage.history import (
    HistoryReader,
    JobQuery,
    SavedView,
    SortKey,
    TextTerm,
    parse_search,
    search_with_states,
)
from gui.core.storage.sqlite_file import open_database
from gui.core.storage.store import (
    _UPSERT,
    DB_FILENAME,
    JOB_COLUMNS,
    MIGRATIONS,
    SCHEMA_VERSION,
    JobStore,
    _row,
)
from gui.core.targets import Target

TARGET = Target(name="prod", kind="cloud", base_url="https://api.example.test/v2", endpoint_id="ep")


def job(local_id: str, submitted_at: float, **changes: object) -> JobRecord:
    record = JobRecord(
        local_id=local_id, profile="prod", endpoint_id="ep", operation="run",
        request={"input": {"prompt": f"prompt of {local_id}"}}, submitted_at=submitted_at,
        history=[(submitted_at, "SUBMITTING")],
    )  # fmt: skip
    for key, value in changes.items():
        setattr(record, key, value)
    return record


def stored(path: Path, *records: JobRecord, target: Target = TARGET) -> None:
    store = JobStore(path)
    store.load()
    for record in records:
        store.save(record, target)
    store.flush().result(timeout=10)
    store.close()


def found(reader: HistoryReader, search: str) -> list[str]:
    """The local ids ``search`` shows, oldest first."""
    query = parse_search(search)
    return [r.local_id for r in reader.page(query, SortKey.SUBMITTED, False, 0, 1000)]


# -- the search syntax -----------------------------------------------------------------------------


def test_the_search_syntax_reads_fields_states_phrases_and_the_last_word_as_a_prefix() -> None:
    query = parse_search(
        "status:failed,Cancelled status:running worker:abc profile:Prod endpoint:ep1 "
        'template:"my template" id:3f2a error:CUDA "red fox" seed 42 sunn'
    )
    assert query.states == {JobState.FAILED, JobState.CANCELLED, JobState.IN_PROGRESS}
    assert (query.workers, query.profiles, query.endpoints) == (("abc",), ("Prod",), ("ep1",))
    assert (query.templates, query.ids) == (("my template",), ("3f2a",))
    assert query.terms == (
        TextTerm("red fox"), TextTerm("seed"), TextTerm("42"), TextTerm("sunn", prefix=True),
        TextTerm("CUDA", column="error"),
    )  # fmt: skip
    assert parse_search("sunny ").terms == (TextTerm("sunny"),)  # typed a space: a whole word
    assert parse_search('"red fo').terms == (TextTerm("red fo", prefix=True),)
    assert parse_search("status:queued status:timed_out").states == {
        JobState.IN_QUEUE, JobState.TIMED_OUT}  # fmt: skip
    assert parse_search("") == parse_search("  -- ") == JobQuery()


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("status:done", 'Unknown status "done": use one of submitting, queued'),
        ("colour:red", 'Unknown field "colour:". Fields: status:, worker:'),
        ("http://example.test", 'put it in quotes: "http://example.test"'),
        ("cat status:", '"status:" needs a value, for example status:failed'),
        ('template:""', '"template:" needs a value'),
    ],
)
def test_a_bad_field_or_value_is_named_with_what_to_do(search: str, message: str) -> None:
    with pytest.raises(SearchInvalid) as raised:
        parse_search(search)
    assert message in str(raised.value)
    assert raised.value.problems


@pytest.mark.parametrize(
    ("search", "states"),
    [
        ("", {JobState.FAILED}),
        ("cat", {JobState.FAILED, JobState.IN_QUEUE}),
        ("cat ", {JobState.IN_PROGRESS}),
        ('status:failed,cancelled worker:abc "red fo', {JobState.FAILED, JobState.COMPLETED}),
        ("sunn status:running STATUS:queued", {JobState.IN_QUEUE, JobState.IN_PROGRESS}),
        ("status:failed sunn", {JobState.FAILED}),
        ("status:timed_out sunn", None),
    ],
)
def test_a_search_with_the_status_toggles_is_one_search_that_shows_the_same_jobs(
    search: str, states: set[JobState] | None
) -> None:
    written = search_with_states(search, states)
    assert parse_search(written) == parse_search(search).with_states(states)
    if states is not None:
        assert written.startswith("status:")


def test_a_search_and_toggles_that_exclude_each_other_are_refused_with_what_to_do() -> None:
    with pytest.raises(SearchInvalid, match="leave no state to show: choose a status"):
        search_with_states("status:failed cat", {JobState.COMPLETED})
    with pytest.raises(SearchInvalid, match="Unknown field"):
        search_with_states("colour:red", {JobState.COMPLETED})


def test_no_search_text_reaches_sqlite_as_an_error(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    stored(path, job("a", 1.0, request={"input": {"prompt": 'say "AND" OR NOT near(x) * ^'}}))
    nasty = ['"', '""', "AND", "OR NOT", "NEAR(", "a*", "*", "^a", "x:", '"a" "', "(", ")",
             "'", "-", "a -b", "NOT", "{input}", "input : x", "col:", "\\", "é", "日本", "😀",
             "id:'", 'id:"', "worker:%", "template:_"]  # fmt: skip
    with HistoryReader(path) as reader:
        for text in nasty:
            try:
                query = parse_search(text)
            except SearchInvalid:
                continue
            reader.count(query)
            reader.page(query, SortKey.STATUS, True, 0, 10)
            reader.state_counts(query)
        assert found(reader, '"AND" "OR"') == ["a"]
        assert found(reader, "near") == ["a"]


# -- schema 3 and its migration --------------------------------------------------------------------


SCHEMA_2_COLUMNS = JOB_COLUMNS[: JOB_COLUMNS.index("note") + 1]


def schema_2_file(path: Path, records: list[JobRecord]) -> None:
    """A history as the previous release (schema 2) wrote it: its statements, its rows."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER)")
        for version in (1, 2):
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
        conn.execute("INSERT INTO schema_versions VALUES ('jobs', 2)")
        conn.execute("INSERT INTO schema_versions VALUES ('deliveries', 3)")
        for change, record in enumerate(records, start=1):
            row = _row(record, TARGET)[: len(SCHEMA_2_COLUMNS)]
            conn.execute(
                f"INSERT INTO jobs ({', '.join(SCHEMA_2_COLUMNS)}, owner, change_seq) "
                f"VALUES ({', '.join('?' for _ in SCHEMA_2_COLUMNS)}, ?, ?)",
                (*row, None, change),
            )
            conn.executemany(
                "INSERT INTO job_history (local_id, position, at, state) VALUES (?, ?, ?, ?)",
                [(record.local_id, i, at, state) for i, (at, state) in enumerate(record.history)],
            )
            conn.executemany(
                "INSERT INTO job_stream (local_id, position, chunk) VALUES (?, ?, ?)",
                [(record.local_id, i, json.dumps(c)) for i, c in enumerate(record.stream)],
            )
        conn.execute("UPDATE change_counter SET value = ?", (len(records),))
    conn.close()


def test_a_schema_2_history_keeps_every_job_and_is_searchable_after_the_migration(
    data_dir: Path,
) -> None:
    path = data_dir / DB_FILENAME
    records = [
        job(f"j{i:03d}", 1000.0 + i, state=JobState.COMPLETED, job_id=f"rp-{i:03d}",
            request={"input": {"prompt": f"a watercolour of lighthouse number {i}", "seed": i}},
            output={"caption": f"caption {i}"}, worker_id=f"w{i % 3}", finished_at=1100.0 + i,
            stream=[{"chunk": i}], history=[(1000.0 + i, "SUBMITTING"), (1001.0 + i, "COMPLETED")])
        for i in range(50)
    ]  # fmt: skip
    records[7].state = JobState.FAILED
    records[7].error = json.dumps({"error_message": "CUDA out of memory on the tugboat"})
    records.reverse()  # stored newest first: row numbers still follow submission
    schema_2_file(path, records)

    store = JobStore(path)
    loaded = store.load()
    store.close()
    with sqlite3.connect(path) as conn:
        versions = dict(conn.execute("SELECT component, version FROM schema_versions"))
    assert versions == {"jobs": SCHEMA_VERSION, "deliveries": 3}
    assert [s.record for s in loaded] == sorted(records, key=lambda r: r.submitted_at)
    assert {s.change_seq for s in loaded} == set(range(1, 51))
    with HistoryReader(path) as reader:
        assert reader.count() == 50
        assert reader.state_counts() == {JobState.COMPLETED: 49, JobState.FAILED: 1}
        assert found(reader, "lighthouse 7") == ["j007"]
        assert found(reader, "tugboat") == found(reader, "error:cuda") == ["j007"]
        assert found(reader, "caption 12") == ["j012"]
        assert found(reader, "id:rp-04") == [f"j{i:03d}" for i in range(40, 50)]
        assert len(found(reader, "worker:w1 lighthouse")) == 17
        full = reader.get("rp-007")
        assert full == next(r for r in records if r.local_id == "j007")


def test_a_history_from_a_newer_console_is_refused_and_left_as_it_was(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    stored(path, job("a", 1.0))
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE schema_versions SET version = ? WHERE component = 'jobs'", (SCHEMA_VERSION + 1,)
        )
        conn.execute("CREATE TABLE from_the_future (x)")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for opening in (JobStore, lambda p: ConsoleLease(p, "run"), HistoryReader):
        newer = rf"newer version of the console \(job schema {SCHEMA_VERSION + 1}, "
        with pytest.raises(HistoryError, match=newer + rf"this one knows {SCHEMA_VERSION}\)"):
            opening(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def index_agrees_with_jobs(path: Path) -> None:
    """The search index and the state counts say what a fresh computation from ``jobs`` says."""
    with sqlite3.connect(path) as conn:
        counts = dict(conn.execute("SELECT state, jobs FROM job_state_counts WHERE jobs > 0"))
        assert counts == dict(conn.execute("SELECT state, count(*) FROM jobs GROUP BY state"))
        texts = conn.execute(f"SELECT row_no, {', '.join(job_index.TEXT_COLUMNS)} "
                             "FROM job_search_text").fetchall()  # fmt: skip
        fresh = "CREATE VIRTUAL TABLE temp.fresh USING fts5(meta, input, output, error)"
        conn.execute(fresh)
        conn.executemany("INSERT INTO temp.fresh (rowid, meta, input, output, error) "
                         "VALUES (?, ?, ?, ?, ?)", texts)  # fmt: skip
        vocabulary = "CREATE VIRTUAL TABLE temp.{0}_words USING fts5vocab({1}, instance)"
        conn.execute(vocabulary.format("fresh", "temp, fresh"))
        conn.execute(vocabulary.format("kept", "main, job_search"))
        words = "SELECT term, doc, col, offset FROM temp.{}_words ORDER BY 1, 2, 3, 4"
        assert conn.execute(words.format("kept")).fetchall() == conn.execute(
            words.format("fresh")).fetchall()  # fmt: skip
    conn.close()


def test_every_writer_keeps_the_search_index_and_counts_right(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    stored(path, job("a", 1.0), job("b", 2.0), job("c", 3.0))
    store = JobStore(path)
    store.load()
    store.save(job("a", 1.0, state=JobState.COMPLETED, output={"text": "a zebra"},
                   worker_id="wz"), TARGET)  # fmt: skip
    store.save(job("b", 2.0, state=JobState.IN_PROGRESS), TARGET)  # no text changes
    store.delete(["c"])
    store.flush().result(timeout=10)
    store.close()
    conn = open_database(path)  # another writer: a bulk import, another console
    conn.execute("BEGIN")
    conn.execute(_UPSERT, (*_row(job("d", 4.0, output="quokka"), TARGET), None, 9))
    conn.execute(  # REPLACE deletes, then inserts: the delete triggers must run too
        "INSERT OR REPLACE INTO jobs (local_id, profile, target_kind, base_url, endpoint_id, "
        "operation, state, request, submitted_at, error) VALUES ('b', 'prod', 'cloud', 'u', "
        "'ep', 'run', 'FAILED', '{\"input\": \"narwhal\"}', 2.0, 'plain text error')"
    )
    conn.execute("UPDATE jobs SET state = 'CANCELLED', output = '\"okapi\"' WHERE local_id = 'd'")
    conn.execute("COMMIT")
    conn.close()
    index_agrees_with_jobs(path)
    with HistoryReader(path) as reader:
        assert found(reader, "zebra") == found(reader, "wz") == ["a"]
        assert found(reader, "narwhal") == found(reader, "plain error") == ["b"]
        assert found(reader, "prompt of b") == found(reader, "c") == []
        assert found(reader, "okapi") == ["d"] and found(reader, "quokka") == []
        assert reader.state_counts() == {
            JobState.COMPLETED: 1, JobState.FAILED: 1, JobState.CANCELLED: 1}  # fmt: skip


def test_what_is_indexed_of_a_big_output_is_its_first_64k_characters(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    filler = " ".join(["lorem"] * 20_000)  # 120 K characters of words
    image = "iVBORw0KGgo" * 100  # a space-less blob, as base64 images are
    big = job("big", 1.0, output={"text": f"aardvark {filler} wombat", "image": image},
              request={"input": {"prompt": "line one\nline two", "seed": 987654}})  # fmt: skip
    stored(path, big)
    with HistoryReader(path) as reader:
        assert found(reader, "aardvark") == ["big"]
        assert found(reader, "wombat") == []  # past the first 64 K characters
        assert found(reader, "iVBORw0KGgo") == []
        assert found(reader, "two 987654") == found(reader, "input:line") == ["big"]
        assert found(reader, "input:aardvark") == []
        assert reader.get("big") == big  # the record itself keeps everything


# -- reading ---------------------------------------------------------------------------------------


def varied_jobs() -> list[JobRecord]:
    states = list(JobState)
    records = []
    for i in range(40):
        state = states[i % len(states)]
        records.append(job(
            f"l{i:02d}", 1000.0 + (i % 7), state=state,  # ties on the submitted time
            job_id=None if i % 5 == 0 else f"r{(i * 7) % 40:02d}",
            profile=["Prod", "prod", "staging"][i % 3],
            worker_id=None if i % 4 == 0 else f"W{i % 6}",
            template=None if i % 2 else ["Cat", "dog"][i % 4 // 2],
            delay_time_ms=None if i % 3 == 0 else i * 10,
            started_at=1000.0 + (i % 7) + 0.5 if i % 3 == 0 and i % 2 else None,
            execution_time_ms=None if i % 4 == 1 else (i % 5) * 100,
            finished_at=None if i % 6 == 0 else 2000.0 + i % 4,
            webhook_deliveries=i % 3, webhook_missing=i % 5 == 1,
        ))  # fmt: skip
    return records


@pytest.mark.parametrize(
    "search",
    [
        "",
        "prompt",  # a word in every job: pages walk the sort's index instead of sorting matches
        "prompt of l1",  # a rare one: its matches are sorted
    ],
)
def test_pages_in_every_sort_are_stable_and_agree_with_position_of(
    data_dir: Path, search: str
) -> None:
    path = data_dir / DB_FILENAME
    stored(path, *varied_jobs())
    query = parse_search(search).with_states(set(JobState) - {JobState.PURGED})
    with HistoryReader(path) as reader:
        total = reader.count(query)
        assert total == {"": 36, "prompt": 36, "prompt of l1": 9}[search]  # l18 is PURGED
        for sort in SortKey:
            for descending in (False, True):
                rows = reader.page(query, sort, descending, 0, 100)
                ids = [r.local_id for r in rows]
                assert len(set(ids)) == total
                again = [r.local_id for r in reader.page(query, sort, descending, 0, 100)]
                assert again == ids
                pieces = [
                    r.local_id
                    for offset in range(0, total, 7)
                    for r in reader.page(query, sort, descending, offset, 7, total=total)
                ]
                assert pieces == ids, (sort, descending)  # from the far end past the middle
                for position, local_id in enumerate(ids):
                    assert reader.position_of(local_id, query, sort, descending) == position
        assert reader.position_of("l08", query) is None  # PURGED: not shown
        assert reader.position_of("nope", query) is None


def test_a_sort_orders_by_the_columns_values_with_ties_in_stored_order(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    records = varied_jobs()
    stored(path, *records)
    order = {r.local_id: n for n, r in enumerate(records)}
    with HistoryReader(path) as reader:

        def ids(sort: SortKey, descending: bool = False) -> list[str]:
            return [r.local_id for r in reader.page(JobQuery(), sort, descending, 0, 100)]

        by_submitted = sorted(records, key=lambda r: (r.submitted_at, order[r.local_id]))
        assert ids(SortKey.SUBMITTED) == [r.local_id for r in by_submitted]
        assert ids(SortKey.SUBMITTED, True) == [r.local_id for r in reversed(by_submitted)]
        ranks = {state: n for n, state in enumerate(JobState)}
        by_status = sorted(records, key=lambda r: (ranks[r.state], order[r.local_id]))
        assert ids(SortKey.STATUS) == [r.local_id for r in by_status]
        by_target = sorted(records, key=lambda r: (r.profile.casefold(), order[r.local_id]))
        assert ids(SortKey.TARGET) == [r.local_id for r in by_target]
        by_worker = sorted(  # no worker (NULL) first, then by name in any case
            records, key=lambda r: (r.worker_id is not None, (r.worker_id or "").casefold(),
                                    order[r.local_id]))  # fmt: skip
        assert ids(SortKey.WORKER) == [r.local_id for r in by_worker]


def test_counts_filters_and_state_counts(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    stored(path, *varied_jobs())
    with HistoryReader(path) as reader:
        assert reader.count() == 40
        assert reader.count(parse_search("status:failed,completed")) == 8
        assert reader.count(parse_search("profile:PROD")) == 27  # Prod and prod
        assert reader.count(parse_search("profile:prod profile:staging")) == 40
        assert reader.count(parse_search("worker:w")) == 30
        assert reader.count(parse_search("worker:W1,w5")) == 13
        assert reader.count(parse_search("template:cat")) == 10
        assert reader.count(parse_search("endpoint:ep")) == 40
        assert reader.count(parse_search("endpoint:EP")) == 0
        assert reader.count(parse_search("id:r0")) == 8  # job ids r00-r09 that exist
        assert reader.count(parse_search("id:l1")) == 10  # local ids l10-l19
        query = parse_search("profile:staging status:failed")
        assert reader.count(query) == 1
        counts = reader.state_counts(query)  # the toggles' counts leave the states aside
        assert sum(counts.values()) == reader.count(parse_search("profile:staging")) == 13
        assert reader.state_counts() == {state: 4 for state in JobState}
        assert reader.count(query.with_states([JobState.COMPLETED])) == 0


def test_get_reads_one_job_in_full_by_either_id_and_pages_leave_the_big_fields_out(
    data_dir: Path,
) -> None:
    path = data_dir / DB_FILENAME
    full = job("loc", 5.0, job_id="rp-1", output={"x": 1}, stream=[1, 2],
               history=[(5.0, "SUBMITTING"), (6.0, "COMPLETED")],
               state=JobState.COMPLETED)  # fmt: skip
    stored(path, full)
    with HistoryReader(path) as reader:
        assert reader.get("loc") == reader.get("rp-1") == full
        assert reader.get("missing") is None
        stored_job = reader.stored("rp-1")
        assert stored_job is not None and stored_job.target == TARGET
        (row,) = reader.page()
        assert (row.local_id, row.job_id, row.state, row.request, row.output, row.stream) == (
            "loc", "rp-1", JobState.COMPLETED, {}, None, [])  # fmt: skip


def test_saved_views_are_kept_in_the_file(data_dir: Path) -> None:
    path = data_dir / DB_FILENAME
    stored(path, job("a", 1.0))
    with HistoryReader(path) as reader:
        reader.save_view(SavedView("Failures", "status:failed", SortKey.FINISHED, True))
        reader.save_view(SavedView("cats", "cat", SortKey.TARGET, False))
        reader.save_view(SavedView(" cats ", "cat status:running", SortKey.STATUS, True))
        with pytest.raises(SearchInvalid, match="Unknown field"):
            reader.save_view(SavedView("bad", "colour:red"))
        with pytest.raises(SearchInvalid, match="needs a name"):
            reader.save_view(SavedView("  ", "cat"))
        assert reader.delete_view("Failures") is True
        assert reader.delete_view("Failures") is False
    with HistoryReader(path) as reader:
        assert reader.views() == [SavedView("cats", "cat status:running", SortKey.STATUS, True)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._conn.execute("DELETE FROM jobs")  # it writes no job
