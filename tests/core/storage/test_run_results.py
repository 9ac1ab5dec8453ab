"""A data run in the history: each row's last job, the rows to rerun, and the results per row
(``HistoryReader.failed_rows``/``row_jobs``, ``gui.core.storage.run_results``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from gui.core.errors import RequestFileError
from gui.core.records import JobRecord, JobState
from gui.core.request.datarun import RunTemplate
from gui.core.storage.history import HistoryReader
from gui.core.storage.run_results import RowResults, export_run_results
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.core.targets import Target

TARGET = Target(name="Sandbox", kind="sandbox", base_url="", endpoint_id="sandbox")


def job(local_id: str, row: int, state: JobState, at: float, data: str, file: str | None,
        output: object = None) -> JobRecord:  # fmt: skip
    origin = {"body": {"input": {"p": "{{p}}"}}, "data": data, "row": row}
    if file is not None:
        origin["file"] = file
    return JobRecord(
        local_id=local_id, profile="Sandbox", endpoint_id="sandbox", operation="run",
        request={"input": {"p": row}}, submitted_at=at, state=state, origin=origin,
        output=output, error="boom" if state == JobState.FAILED else None,
    )  # fmt: skip


@pytest.fixture
def history(data_dir: Path) -> Path:
    store = JobStore(data_dir / DB_FILENAME)
    store.load()
    jobs = [
        job("a1", 1, JobState.COMPLETED, 1.0, "/d/rows.csv", "/t.json", {"ok": 1}),
        job("a2", 2, JobState.FAILED, 2.0, "/d/rows.csv", "/t.json"),
        job("a3", 3, JobState.TIMED_OUT, 3.0, "/d/rows.csv", "/t.json"),
        job("b2", 2, JobState.COMPLETED, 4.0, "/d/rows.csv", "/t.json", {"ok": 2}),  # rerun
        job("c1", 1, JobState.FAILED, 5.0, "/d/rows.csv", "/other.json"),  # another template
        job("d1", 1, JobState.FAILED, 6.0, "/d/rows.csv", None),  # a template never saved
    ]
    for record in jobs:
        store.save(record, TARGET)
    store.flush().result(timeout=5)
    store.close()
    return data_dir / DB_FILENAME


def test_failed_rows_are_those_whose_last_job_failed_in_that_run(history: Path) -> None:
    with HistoryReader(history) as reader:
        assert reader.failed_rows("/t.json", "/d/rows.csv") == {3}
        assert reader.failed_rows("/other.json", "/d/rows.csv") == {1}
        assert reader.failed_rows(None, "/d/rows.csv") == {1}
        assert reader.failed_rows("/t.json", "/d/else.csv") is None
        last = [(j.row, j.local_id, j.state) for j in reader.row_jobs("/t.json", "/d/rows.csv")]
    assert last == [(1, "a1", "COMPLETED"), (2, "b2", "COMPLETED"), (3, "a3", "TIMED_OUT")]


def test_export_merges_the_data_file_with_the_history(tmp_path: Path, data_dir: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("name,p\nfirst,1\nsecond,2\nragged\nfourth,4\n", "utf-8")
    store = JobStore(data_dir / DB_FILENAME)
    store.load()
    store.save(job("x1", 1, JobState.COMPLETED, 1.0, str(rows), "/t.json", {"p": 1}), TARGET)
    store.save(job("x2", 2, JobState.FAILED, 2.0, str(rows), "/t.json"), TARGET)
    store.flush().result(timeout=5)
    store.close()
    template = RunTemplate('{"input": {"p": "{{p}}"}}', Path("/t.json"), "run", data=rows)
    for suffix in (".csv", ".jsonl"):
        out = tmp_path / f"results{suffix}"
        with HistoryReader(data_dir / DB_FILENAME) as reader, RowResults.open(out) as results:
            counts = export_run_results(reader, template, rows, results)
        assert counts == {"COMPLETED": 1, "FAILED": 1, "INVALID": 1, "NOT_RUN": 1}
        if suffix == ".csv":
            with out.open(encoding="utf-8", newline="") as handle:
                lines = list(csv.DictReader(handle))
            for line in lines:
                line["variables"] = json.loads(line["variables"]) if line["variables"] else {}
                line["output"] = json.loads(line["output"]) if line["output"] else None
        else:
            lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
        by_row = {int(line["row"]): line for line in lines}
        assert [by_row[n]["status"] for n in (1, 2, 3, 4)] == [
            "COMPLETED", "FAILED", "INVALID", "NOT_RUN"
        ]  # fmt: skip
        assert by_row[1]["variables"] == {"name": "first", "p": "1"}
        assert by_row[1]["output"] == {"p": 1}
        assert by_row[2]["error"] == "boom"
        assert "header has 2 columns" in by_row[3]["error"]


def test_results_go_to_a_csv_or_jsonl_file_only(tmp_path: Path) -> None:
    with pytest.raises(RequestFileError, match=r"a \.csv or \.jsonl file"):
        RowResults.open(tmp_path / "results.txt")
