"""`job-console history list`: the window's search, from the command line, on a real history file
filled by `history import`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gui.cli import main


def job(n: int, **fields: Any) -> dict[str, Any]:
    """Job ``n`` in the export shape, submitted ``n`` minutes after 10:00."""
    at = f"2025-03-01T10:{n:02d}:00.000+00:00"
    item: dict[str, Any] = {
        "format": 1,
        "local_id": f"job-{n}",
        "job_id": f"rp-{n}",
        "profile": "prod",
        "endpoint_id": "e1",
        "operation": "run",
        "state": "COMPLETED",
        "template": None,
        "submitted_at": at,
        "started_at": at,
        "finished_at": at,
        "delay_time_ms": 10,
        "execution_time_ms": 20,
        "worker_id": f"worker-{n % 3}",
        "request": {"input": {"prompt": f"a picture of a cat number {n}"}},
        "output": {"text": "meow"},
        "error": None,
        "progress": None,
        "stream": [],
        "history": [{"at": at, "state": "COMPLETED"}],
        "webhook_deliveries": 0,
        "note": None,
    }
    item.update(fields)
    return item


@pytest.fixture
def history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jobs = [job(n) for n in range(1, 7)]
    jobs[2] = job(3, request={"input": {"prompt": "an astronaut riding a horse"}})
    jobs[4] = job(5, state="FAILED", error="CUDA out of memory", output=None)
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in jobs), encoding="utf-8")
    assert main(["history", "import", str(path)]) == 0
    capsys.readouterr()


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["history", "list", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_list_shows_the_newest_first_and_stops_at_the_limit(
    history: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert [row["local_id"] for row in listed(capsys)] == [f"job-{n}" for n in range(6, 0, -1)]
    assert [row["local_id"] for row in listed(capsys, "--limit", "2")] == ["job-6", "job-5"]
    oldest = listed(capsys, "--limit", "2", "--oldest-first")
    assert [row["local_id"] for row in oldest] == ["job-1", "job-2"]


def test_a_word_inside_one_jobs_input_finds_that_job_alone(
    history: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (row,) = listed(capsys, "astronaut")
    assert row["local_id"] == "job-3" and row["job_id"] == "rp-3"
    assert "request" not in row and "output" not in row  # `show` prints a whole job


def test_fields_narrow_the_list_and_words_find_errors(
    history: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (failed,) = listed(capsys, "status:failed")
    assert (failed["local_id"], failed["state"], failed["error"]) == (
        "job-5",
        "FAILED",
        "CUDA out of memory",
    )
    assert [row["local_id"] for row in listed(capsys, "memory")] == ["job-5"]
    by_worker = listed(capsys, "worker:worker-0", "--sort", "submitted", "--oldest-first")
    assert [row["local_id"] for row in by_worker] == ["job-3", "job-6"]


def test_the_plain_listing_has_one_line_per_job_and_a_count(
    history: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "list", "cat", "--limit", "3"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("rp-6  COMPLETED  ")
    assert "3 of 5 job(s)" in err  # five jobs say "cat"; the astronaut does not


def test_a_search_it_cannot_read_exits_2_and_says_what_is_wrong(
    history: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "list", "colour:red"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "colour" in err and "Nothing was listed." in err
    assert main(["history", "list", "status:sleeping"]) == 2
    assert "sleeping" in capsys.readouterr().err


def test_an_empty_history_lists_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert listed(capsys) == []
    assert main(["history", "list"]) == 0
    assert "0 job(s)" in capsys.readouterr().err
