"""``job-console run`` with placeholders: ``--var``, ``--data`` rows against the run's own sandbox
(preview, dry run, results, the history's origin, rerun of failed rows), and bad data files."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pytest

from gui.cli import main
from gui.core.storage.transfer import iter_records, open_history
from tests.support.engine_fixtures import watch_held_jobs

TEMPLATE = {
    "input": {
        "prompt": "a {{animal}} on a mat",
        "seed": "{{seed}}",
        "sandbox": {"duration": 0.05, "fail": "{{fail ?? false}}"},
    }
}


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def template(folder: Path, body: object = TEMPLATE) -> Path:
    return write(folder, "t.json", json.dumps(body))


def statuses(out: str) -> dict[int, dict[str, object]]:
    found = {}
    for line in out.splitlines():
        item = json.loads(line)
        found[item["row"]] = item
    return found


def test_var_fills_a_single_request_and_the_history_keeps_the_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    write(tmp_path, "cat.bin", b"\x00\x01\x02meow")
    body = {"input": {"prompt": "{{p}}", "n": "{{n}}", "image": "{{file:cat.bin}}"}}
    path = template(tmp_path, body)
    assert main(["run", str(path), "--var", "p=a cat", "--var", "n=3"]) == 0
    output = json.loads(capsys.readouterr().out)["output"]
    expected_image = base64.b64encode(b"\x00\x01\x02meow").decode()
    assert output == {"prompt": "a cat", "n": 3, "image": expected_image}
    conn = open_history(data_dir)
    (record,) = iter_records(conn)
    conn.close()
    assert record.request["input"]["image"] == expected_image
    assert record.source_body == body
    assert record.origin is not None and record.origin["variables"] == {"p": "a cat", "n": "3"}


def test_an_unknown_variable_is_an_error_at_its_line_and_nothing_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    path = write(tmp_path, "t.json", '{\n  "input": {"prompt": "{{p}}"}\n}')
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2:24: error: No value for {{{{p}}}}" in err
    assert not (data_dir / "jobs.sqlite3").exists() or not list(
        iter_records(open_history(data_dir))
    )


def test_a_data_run_previews_sends_valid_rows_reports_each_and_writes_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    path = template(tmp_path)
    rows = write(
        tmp_path,
        "rows.csv",
        "name,animal,seed,fail\nfirst,cat,1,\nsecond,dog,2,boom\nragged,x\nfourth,owl,4,\n",
    )
    assert main(["run", str(path), "--data", str(rows), "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "rows.csv row 3 (line 4): it has 2 cells, the header has 4 columns" in err
    assert "4 row(s): 3 valid, 1 invalid" in err
    assert (
        "row 1 'first' (line 2): "
        '{"input": {"prompt": "a cat on a mat", "seed": 1, "sandbox": {"duration": 0.05, '
        '"fail": false}}}' in err
    )

    results = tmp_path / "results.csv"
    code = main(["run", str(path), "--data", str(rows), "--results", str(results)])
    assert code == 1
    out, err = capsys.readouterr()
    ended = statuses(out)
    assert {row: item["status"] for row, item in ended.items()} == {
        1: "COMPLETED", 2: "FAILED", 4: "COMPLETED"
    }  # fmt: skip
    assert ended[1]["name"] == "first"
    assert ended[4]["output"] == {"prompt": "a owl on a mat", "seed": 4,
                                  "sandbox": {"duration": 0.05, "fail": False}}  # fmt: skip
    assert "3 row(s) run (2 COMPLETED, 1 FAILED); 1 invalid row(s) not sent" in err
    with results.open(encoding="utf-8", newline="") as handle:
        lines = {int(line["row"]): line for line in csv.DictReader(handle)}
    assert {row: line["status"] for row, line in lines.items()} == {
        1: "COMPLETED", 2: "FAILED", 3: "INVALID", 4: "COMPLETED"
    }  # fmt: skip
    assert json.loads(lines[2]["variables"]) == {"name": "second", "animal": "dog", "seed": "2",
                                                 "fail": "boom"}  # fmt: skip
    assert "header has 4 columns" in lines[3]["error"]

    conn = open_history(data_dir)
    origins = {r.origin["row"]: r.origin for r in iter_records(conn) if r.origin}
    conn.close()
    assert set(origins) == {1, 2, 4}
    assert origins[2]["name"] == "second" and origins[2]["data"] == str(rows)
    assert origins[2]["body"] == TEMPLATE


def test_rerun_failed_sends_again_only_the_rows_whose_last_job_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = template(tmp_path)
    rows = write(tmp_path, "rows.jsonl", "\n".join(json.dumps(row) for row in [
        {"name": "a", "animal": "cat", "seed": 1},
        {"name": "b", "animal": "dog", "seed": 2, "fail": "out of memory"},
        {"name": "c", "animal": "owl", "seed": 3, "fail": "disk full"},
    ]) + "\n")  # fmt: skip
    assert main(["run", str(path), "--data", str(rows)]) == 1
    first = statuses(capsys.readouterr().out)
    assert {row: item["status"] for row, item in first.items()} == {
        1: "COMPLETED", 2: "FAILED", 3: "FAILED"
    }  # fmt: skip
    # The cause is fixed for row 2 only; the rerun sends rows 2 and 3, with the data as it is now.
    rows.write_text("\n".join(json.dumps(row) for row in [
        {"name": "a", "animal": "cat", "seed": 1},
        {"name": "b", "animal": "dog", "seed": 2},
        {"name": "c", "animal": "owl", "seed": 3, "fail": "disk full"},
    ]) + "\n")  # fmt: skip
    assert main(["run", str(path), "--data", str(rows), "--rerun-failed"]) == 1
    out, err = capsys.readouterr()
    second = statuses(out)
    assert {row: item["status"] for row, item in second.items()} == {2: "COMPLETED", 3: "FAILED"}
    assert "2 row(s) (rows to run again): 2 valid, 0 invalid" in err
    rows.write_text(rows.read_text().replace(', "fail": "disk full"', ""))
    assert main(["run", str(path), "--data", str(rows), "--rerun-failed"]) == 0
    assert set(statuses(capsys.readouterr().out)) == {3}
    assert main(["run", str(path), "--data", str(rows), "--rerun-failed"]) == 0
    assert "nothing to send" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.jsonl", b'{"animal": "cat", "seed": 1}\n[1, 2]\n', "row 2 (line 2): it is an array"),
        ("rows.jsonl", b'{"animal": "cat", "seed": 1}\n{"animal": "\xff"}\n',
         "row 2 (line 2): byte 0xFF is not UTF-8"),
        ("rows.jsonl", b'{"animal": "cat", "seed": 1}\n{"animal": \n',
         "row 2 (line 2): it is not JSON"),
        ("rows.csv", b"animal,seed\ncat,1\ndog\n", "row 2 (line 3): it has 1 cells"),
        ("rows.csv", b"animal,seed\ncat,1\nd\xe9g,2\n", "row 2 (line 3): byte 0xE9 is not UTF-8"),
        ("rows.json", b'[{"animal": "cat", "seed": 1}, "dog"]', "row 2 (line 1): it is a string"),
        ("rows.csv", b"animal\ncat,1\n", "row 1 (line 2): it has 2 cells"),
    ],
)  # fmt: skip
def test_a_bad_row_is_named_and_skipped_and_the_valid_rows_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, message: str
) -> None:
    path = template(tmp_path, {"input": {"a": "{{animal}}", "s": "{{seed ?? 0}}",
                                         "sandbox": {"duration": 0.05}}})  # fmt: skip
    rows = write(tmp_path, name, content)
    code = main(["run", str(path), "--data", str(rows)])
    out, err = capsys.readouterr()
    assert message in err
    sent = statuses(out)
    if name == "rows.csv" and content.startswith(b"animal\n"):
        assert code == 2 and sent == {}
    else:
        assert code == 1 and list(sent) == [1] and sent[1]["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("rows.csv", b"", "is empty: a CSV data file starts with a header row"),
        ("rows.csv", b"a,,b\n1,2,3\n", "the header row has an empty column name"),
        ("rows.csv", b"a,a\n1,2\n", "the header names a more than once"),
        ("rows.json", b'{"a": 1}', "a .json data file is an array of objects"),
        ("rows.json", b'[{"a": 1},\n{"a": ]', "rows.json:2: item 2 of the array is not JSON"),
        ("rows.txt", b"a\n", "a data file is .csv"),
    ],
)
def test_a_bad_data_file_sends_nothing_and_says_what_to_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path, name: str, content: bytes,
    message: str,
) -> None:  # fmt: skip
    rows = write(tmp_path, name, content)
    assert main(["run", str(template(tmp_path)), "--data", str(rows)]) == 2
    out, err = capsys.readouterr()
    assert message in err and out == ""
    assert not (data_dir / "jobs.sqlite3").exists()


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = template(tmp_path)
    assert main(["run", str(path), "--var", "novalue"]) == 2
    assert "write it as NAME=VALUE" in capsys.readouterr().err
    assert main(["run", str(path), "--dry-run"]) == 2
    assert "go with --data ROWS" in capsys.readouterr().err
    rows = write(tmp_path, "rows.csv", "animal,seed\ncat,1\n")
    assert main(["run", str(path), "--data", str(rows), "--results", str(tmp_path / "r.txt")]) == 2
    assert "a .csv or .jsonl file" in capsys.readouterr().err


def test_a_long_data_run_holds_at_most_its_in_flight_window_of_jobs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    held = watch_held_jobs(monkeypatch)
    path = template(tmp_path, {"input": {"seed": "{{seed}}", "sandbox": {"duration": 0}}})
    rows = write(tmp_path, "rows.jsonl", "".join(f'{{"seed": {n}}}\n' for n in range(120)))
    assert main(["run", str(path), "--data", str(rows), "--in-flight", "8"]) == 0
    ended = statuses(capsys.readouterr().out)
    assert sorted(ended) == list(range(1, 121))
    assert {item["status"] for item in ended.values()} == {"COMPLETED"}
    assert held.events > 120 and 1 <= held.peak <= 8  # ended jobs were let go once printed
    conn = open_history(data_dir)
    assert sum(1 for r in iter_records(conn) if r.state == "COMPLETED") == 120  # the store has all
    conn.close()
