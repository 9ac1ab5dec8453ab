"""`job-console history`: show, follow (against a sandbox over loopback), export and import, on a
real history file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gui.cli import main
from gui.sandbox import SandboxConfig, SandboxThread
from tests.support import cli_fixtures
from tests.support.cli_fixtures import send

remote = cli_fixtures.remote

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY"
API_KEY = "rpa_" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # split: no credential-shaped literal


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(SandboxConfig(default_duration_s=0.3)) as server:
        yield server


def job(local_id: str, **fields: Any) -> dict[str, Any]:
    """One job in the export shape."""
    item: dict[str, Any] = {
        "format": 1,
        "local_id": local_id,
        "job_id": f"rp-{local_id}",
        "profile": "prod",
        "endpoint_id": "e1",
        "operation": "run",
        "state": "COMPLETED",
        "template": None,
        "submitted_at": "2025-03-01T10:00:00.000+00:00",
        "started_at": "2025-03-01T10:00:01.000+00:00",
        "finished_at": "2025-03-01T10:00:03.000+00:00",
        "delay_time_ms": 1000,
        "execution_time_ms": 2000,
        "worker_id": "w1",
        "request": {"input": {"prompt": f"a cat {local_id}"}},
        "output": {"text": "meow"},
        "error": None,
        "progress": None,
        "stream": [],
        "history": [
            {"at": "2025-03-01T10:00:00.000+00:00", "state": "IN_QUEUE"},
            {"at": "2025-03-01T10:00:03.000+00:00", "state": "COMPLETED"},
        ],
        "webhook_deliveries": 0,
        "note": None,
    }
    item.update(fields)
    return item


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def stored_ids(data_dir: Path) -> list[str]:
    path = data_dir / "jobs.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT local_id FROM jobs ORDER BY rowid")]


def show(job_ref: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["history", "show", job_ref]) == 0
    shown: dict[str, Any] = json.loads(capsys.readouterr().out)
    return shown


# -- follow -------------------------------------------------------------------------------------


def test_follow_adds_a_job_sent_elsewhere_and_follows_it_to_its_end(
    sandbox: SandboxThread, remote: str, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = send(sandbox, {"word": "hello", "sandbox": {"duration": 0.5}})
    assert main(["history", "follow", job_id, "--profile", remote]) == 0
    out, err = capsys.readouterr()
    status = json.loads(out)
    assert status["id"] == job_id and status["status"] == "COMPLETED"
    assert status["output"]["word"] == "hello"
    assert f"following job {job_id}" in err
    record = show(job_id, capsys)
    assert record["job_id"] == job_id and record["profile"] == "remote"
    assert record["endpoint_id"] == "ep" and record["state"] == "COMPLETED"
    assert record["output"]["word"] == "hello"
    assert [step["state"] for step in record["history"]][-1] == "COMPLETED"


def test_follow_a_job_the_runpod_sdk_sent(
    sandbox: SandboxThread, remote: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import runpod

    monkeypatch.setattr(runpod, "endpoint_url_base", sandbox.base_url)
    monkeypatch.setattr(runpod, "api_key", "any-key")
    sent = runpod.Endpoint("ep").run({"n": 7, "sandbox": {"duration": 0.3}})
    assert main(["history", "follow", sent.job_id, "--profile", remote]) == 0
    assert json.loads(capsys.readouterr().out)["output"]["n"] == 7
    assert show(sent.job_id, capsys)["state"] == "COMPLETED"


def test_follow_a_job_that_fails_exits_1_with_its_error(
    sandbox: SandboxThread, remote: str, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = send(sandbox, {"sandbox": {"fail": "out of memory", "duration": 0.2}})
    assert main(["history", "follow", job_id, "--profile", remote]) == 1
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "FAILED" and "out of memory" in status["error"]


def test_follow_no_wait_adds_the_job_and_returns_at_once(
    sandbox: SandboxThread, remote: str, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    job_id = send(sandbox, {"sandbox": {"duration": 30}})
    assert main(["history", "follow", job_id, "--profile", remote, "--no-wait"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["id"] == job_id and status["status"] in ("IN_QUEUE", "IN_PROGRESS")
    assert len(stored_ids(data_dir)) == 1
    assert show(job_id, capsys)["state"] in ("IN_QUEUE", "IN_PROGRESS")


def test_follow_of_an_id_the_endpoint_does_not_know_exits_1_and_adds_nothing(
    remote: str, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    assert main(["history", "follow", "no-such-job", "--profile", remote]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "does not know job no-such-job (404)" in err
    assert stored_ids(data_dir) == []


def test_follow_needs_a_profile_for_a_job_not_in_the_history(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    assert main(["history", "follow", "abc-123"]) == 2
    assert "--profile NAME" in capsys.readouterr().err
    assert main(["history", "follow", "abc-123", "--profile", "nobody"]) == 2
    assert "nobody" in capsys.readouterr().err
    assert main(["history", "follow", "abc-123", "--profile", "Sandbox"]) == 2
    assert "built-in sandbox" in capsys.readouterr().err
    assert stored_ids(data_dir) == []


def test_follow_of_an_unreachable_endpoint_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    add = ["profile", "add", "gone", "--endpoint", "ep", "--base-url", "http://127.0.0.1:9/v2"]
    assert main(add) == 0
    assert main(["history", "follow", "abc-123", "--profile", "gone"]) == 3
    assert "reach" in capsys.readouterr().err


def test_an_imported_unfinished_job_is_followed_only_when_asked(
    sandbox: SandboxThread, remote: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job_id = send(sandbox, {"word": "later", "sandbox": {"duration": 0.5}})
    queued = [{"at": "2025-03-01T10:00:00Z", "state": "IN_QUEUE"}]
    running = job("imp1", job_id=job_id, endpoint_id="ep", state="IN_QUEUE", output=None,
                  finished_at=None, history=queued)  # fmt: skip
    assert main(["history", "import", str(write_jsonl(tmp_path / "h.jsonl", [running]))]) == 0
    out = capsys.readouterr().out
    assert "not followed" in out and "imp1" in out
    # Neither resume nor a run takes it over on its own ...
    assert main(["resume"]) == 0
    assert "nothing to follow" in capsys.readouterr().err
    assert show("imp1", capsys)["state"] == "IN_QUEUE"
    # ... history follow does, by its local id, on the endpoint the profile names.
    assert main(["history", "follow", "imp1", "--profile", remote]) == 0
    assert json.loads(capsys.readouterr().out)["output"]["word"] == "later"
    assert show("imp1", capsys)["state"] == "COMPLETED"


# -- show ---------------------------------------------------------------------------------------


def test_show_of_an_unknown_id_exits_1_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "show", "nothing-here"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "no job nothing-here in the history" in err


def test_show_finds_a_job_by_local_or_runpod_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["history", "import", str(write_jsonl(tmp_path / "h.jsonl", [job("L1")]))]) == 0
    by_local, by_runpod = show("L1", capsys), show("rp-L1", capsys)
    assert by_local == by_runpod
    assert by_local["request"] == {"input": {"prompt": "a cat L1"}}
    assert by_local["history"][0] == {"at": "2025-03-01T10:00:00.000+00:00", "state": "IN_QUEUE"}


# -- export and import --------------------------------------------------------------------------


def test_export_then_import_into_another_history_gives_the_same_jobs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = tmp_path / "jobs.jsonl"
    body.write_text('{"input": {"n": 1}}\n{"input": {"n": 2, "sandbox": {"fail": "no"}}}\n')
    assert main(["run", str(body)]) == 1
    capsys.readouterr()
    for kind in ("json", "jsonl"):
        assert main(["history", "export", str(tmp_path / f"out.{kind}")]) == 0
    assert main(["history", "export", "-", "--format", "jsonl"]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [item["request"]["input"]["n"] for item in exported] == [1, 2]
    assert json.loads((tmp_path / "out.json").read_text()) == exported
    for kind in ("json", "jsonl"):
        other = tmp_path / f"other-{kind}"
        monkeypatch.setenv("JOB_CONSOLE_HOME", str(other))
        assert main(["history", "import", str(tmp_path / f"out.{kind}"), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["added"] == 2 and report["unfinished"] == []
        assert main(["history", "export", "-"]) == 0
        assert json.loads(capsys.readouterr().out) == exported


def test_importing_a_file_twice_adds_nothing_the_second_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data_dir: Path
) -> None:
    path = write_jsonl(tmp_path / "h.jsonl", [job("A"), job("B"), job("A")])
    assert main(["history", "import", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == 2
    assert main(["history", "import", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) | {"file": ""} == {
        "file": "", "read": 3, "added": 0, "already_there": 3, "unfinished": []
    }  # fmt: skip
    # Another console's record of the same RunPod job (same endpoint) is the same job; the same
    # RunPod id on another endpoint is another job.
    same, other = job("C", job_id="rp-A"), job("D", job_id="rp-A", endpoint_id="e2")
    again = write_jsonl(tmp_path / "again.jsonl", [same, other])
    assert main(["history", "import", str(again)]) == 0
    assert stored_ids(data_dir) == ["A", "B", "D"]


def test_secrets_in_an_imported_request_are_redacted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data_dir: Path
) -> None:
    request = {
        "input": {"prompt": "x", "api_key": API_KEY},
        "s3Config": {"accessId": "AKIA", "accessSecret": SECRET, "bucketName": "b",
                     "endpointUrl": "https://s3.example.com"},
    }  # fmt: skip
    path = write_jsonl(tmp_path / "h.jsonl", [job("S", request=request)])
    assert main(["history", "import", str(path)]) == 0
    shown = show("S", capsys)
    assert shown["request"]["s3Config"]["accessSecret"] == "<redacted>"
    assert shown["request"]["input"]["api_key"] == "<redacted>"
    assert shown["request"]["s3Config"]["accessId"] == "AKIA"
    raw = (data_dir / "jobs.sqlite3").read_bytes()
    assert SECRET.encode() not in raw and API_KEY.encode() not in raw
    assert main(["history", "export", "-"]) == 0
    exported = capsys.readouterr().out
    assert SECRET not in exported and API_KEY not in exported


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            json.dumps(job("A")) + "\n{not json\n", "h.jsonl:2:2: line 2 is not JSON", id="jsonl"
        ),
        pytest.param("hello\n", "h.jsonl:1: this is not a history export", id="text"),
        pytest.param("", "holds no job", id="empty"),
        pytest.param(
            json.dumps(job("A"))
            + "\n"
            + json.dumps({k: v for k, v in job("B").items() if k != "state"}),
            "h.jsonl:2: field 'state' is missing",
            id="missing-field",
        ),
        pytest.param(
            json.dumps(job("A", submitted_at="yesterday")),
            "h.jsonl:1: field 'submitted_at' is a string; it should be an ISO 8601 time",
            id="bad-time",
        ),
        pytest.param(
            json.dumps(job("A", delay_time_ms="5")),
            "field 'delay_time_ms' is a string; it should be a whole number",
            id="wrong-type",
        ),
        pytest.param(
            json.dumps(job("A", history=[{"at": "2025-03-01T10:00:00Z", "state": "DONE"}])),
            "field 'history[0].state' is a string; it should be one of",
            id="bad-history",
        ),
        pytest.param(
            "[1, 2]", "h.jsonl:1: item 0 of the array is not a JSON object", id="not-jobs"
        ),
        pytest.param(json.dumps(job("A", format=2)), "exported by a newer release", id="newer"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line_and_nothing_is_imported(
    text: str, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, data_dir: Path
) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(text, encoding="utf-8")
    assert main(["history", "import", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and "Nothing was imported." in err
    assert stored_ids(data_dir) == []


def test_a_bad_item_of_an_array_is_named_by_its_line_and_index(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data_dir: Path
) -> None:
    # Items larger than the reader's buffer (64 KiB), so the array is read in several pieces.
    items = [job(f"J{i}", output={"blob": "x" * 100_000}) for i in range(3)]
    items.append(job("J3", operation="runfast"))
    text = json.dumps(items, indent=2)
    path = tmp_path / "h.json"
    path.write_text(text, encoding="utf-8")
    brace = text.rindex("{", 0, text.index('"local_id": "J3"'))
    line = text[:brace].count("\n") + 1
    assert main(["history", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"h.json:{line} (item 3 of the array): field 'operation'" in err
    assert stored_ids(data_dir) == []
    path.write_text(json.dumps(items[:3], indent=2), encoding="utf-8")
    assert main(["history", "import", str(path)]) == 0
    assert stored_ids(data_dir) == ["J0", "J1", "J2"]
    assert show("J2", capsys)["output"] == {"blob": "x" * 100_000}


def test_a_truncated_array_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data_dir: Path
) -> None:
    text = json.dumps([job("A"), job("B")], indent=2)
    path = tmp_path / "h.json"
    path.write_text(text[:-40], encoding="utf-8")
    assert main(["history", "import", str(path)]) == 2
    assert "item 1 of the array is not JSON" in capsys.readouterr().err
    assert stored_ids(data_dir) == []


def test_a_history_of_a_newer_release_is_refused_and_left_as_it_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data_dir: Path
) -> None:
    assert main(["history", "import", str(write_jsonl(tmp_path / "h.jsonl", [job("A")]))]) == 0
    db = data_dir / "jobs.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'jobs'")
    capsys.readouterr()
    for argv in (["show", "A"], ["export", "-"], ["import", str(tmp_path / "h.jsonl")]):
        assert main(["history", *argv]) == 1
        out, err = capsys.readouterr()
        assert out == "" and "newer version of the console" in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version FROM schema_versions WHERE component = 'jobs'"
                            ).fetchone() == (99,)  # fmt: skip
        assert [row[0] for row in conn.execute("SELECT local_id FROM jobs")] == ["A"]


def test_files_that_cannot_be_read_or_written_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["history", "import", str(tmp_path / "missing.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "binary.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    assert main(["history", "import", str(tmp_path / "binary.jsonl")]) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("")
    assert main(["history", "export", str(tmp_path / "a-file" / "out.json")]) == 2
    assert "cannot write" in capsys.readouterr().err
