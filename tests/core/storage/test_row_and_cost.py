"""The history by a data run's row (``row:N``, ``row:NAME``) and the estimated cost of the jobs
a search finds, summed in SQL (``HistoryReader.cost_total``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gui.core.errors import SearchInvalid
from gui.core.records import JobRecord, JobState
from gui.core.storage.history import HistoryReader, parse_search
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.core.targets import Target

TARGET = Target(name="prod", kind="cloud", base_url="https://api.example.test/v2", endpoint_id="ep")


def _job(local_id: str, *, row: int | None = None, name: str | None = None,
         usd: float | str | None = "none", template: str | None = None,
         state: JobState = JobState.COMPLETED) -> JobRecord:  # fmt: skip
    origin = None
    if row is not None:
        origin = {"data": "/tmp/rows.csv", "row": row, **({"name": name} if name else {})}
    facts = None
    if usd != "none":
        facts = {"cost": {"usd": usd, **({"missing": "the worker is gone"} if usd is None else {})}}
    return JobRecord(
        local_id=local_id, profile="prod", endpoint_id="ep", operation="run",
        request={"input": {}}, submitted_at=1000.0 + len(local_id), state=state,
        template=template, origin=origin, facts=facts,
    )  # fmt: skip


@pytest.fixture
def reader(data_dir: Path) -> Iterator[HistoryReader]:
    path = data_dir / DB_FILENAME
    store = JobStore(path)
    store.load()
    for record in (
        _job("a", row=1, name="first", usd=0.25, template="echo"),
        _job("b", row=2, name="Second", usd=0.5, template="echo"),
        _job("c", row=3, usd=None, template="echo", state=JobState.FAILED),
        _job("d", usd=1.0, template="other"),
        _job("e", state=JobState.IN_QUEUE),
    ):
        store.save(record, TARGET)
    store.flush().result(timeout=5)
    store.close()
    with HistoryReader(path) as opened:
        yield opened


def _ids(reader: HistoryReader, search: str) -> list[str]:
    return sorted(record.local_id for record in reader.page(parse_search(search)))


def test_row_finds_a_data_runs_row_by_number_or_by_name(reader: HistoryReader) -> None:
    assert _ids(reader, "row:2") == ["b"]
    assert _ids(reader, "row:second") == ["b"]  # any case
    assert _ids(reader, "row:1,3") == ["a", "c"]
    assert _ids(reader, 'row:"first"') == ["a"]
    assert _ids(reader, "row:9") == []
    assert reader.count(parse_search("row:3 status:failed")) == 1


def test_row_without_a_value_says_what_to_write() -> None:
    with pytest.raises(SearchInvalid) as raised:
        parse_search("row:")
    assert '"row:" needs a value, for example row:3 or row:third.' in str(raised.value)


def test_the_cost_of_what_a_search_finds_is_summed_with_the_jobs_left_unpriced(
    reader: HistoryReader,
) -> None:
    total = reader.cost_total(parse_search(""))
    assert total.usd == pytest.approx(1.75)
    assert (total.priced, total.unpriced) == (3, 1)  # "c" has no estimate; "e" has not ended
    per_template = reader.cost_total(parse_search("template:echo"))
    assert per_template.usd == pytest.approx(0.75) and per_template.priced == 2
    assert per_template.unpriced == 1
    assert reader.cost_total(parse_search("row:1,2")).usd == pytest.approx(0.75)
    only_failed = reader.cost_total(parse_search("").with_states({JobState.FAILED}))
    assert (only_failed.usd, only_failed.priced, only_failed.unpriced) == (0.0, 0, 1)
