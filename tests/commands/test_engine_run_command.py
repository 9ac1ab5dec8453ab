"""`job-console run`: exit codes, stdout JSON, stderr progress and diagnostics, batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui.cli import main
from gui.sandbox import SandboxConfig, SandboxThread


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_completed_job_prints_its_status_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"input": {"word": "hi", "sandbox": {"duration": 0.3, "progress": 2}}}
    path = write(tmp_path, "job.json", json.dumps(body))
    assert main(["run", str(path)]) == 0
    out, err = capsys.readouterr()
    status = json.loads(out)
    assert status["status"] == "COMPLETED" and status["output"]["word"] == "hi"
    assert status["id"] and "executionTime" in status
    assert "COMPLETED" in err and "queue" in err


def test_failed_job_exits_1_with_its_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "job.json", '{"input": {"sandbox": {"fail": "broken"}}}')
    assert main(["run", str(path), "--sync"]) == 1
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "FAILED" and "broken" in status["error"]
    assert status["id"].startswith("sync-")


def test_invalid_request_prints_diagnostics_and_exits_2_without_sending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad.json", '{\n  "input": [1]\n}')
    assert main(["run", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{path}:2:" in err and "error:" in err and "nothing was sent" in err


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "job.json", '{"input": {}}')
    assert main(["run", str(path), "--profile", "x", "--endpoint", "y"]) == 2
    assert main(["run", str(path), "--profile", "no-such-profile"]) == 2
    assert "no-such-profile" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.json")]) == 2


def test_unreachable_endpoint_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "job.json", '{"input": {}}')
    code = main(["run", str(path), "--endpoint", "e", "--base-url", "http://127.0.0.1:9/v2"])
    assert code == 3
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "NOT_SENT" and "Could not reach" in status["note"]


def test_refused_key_exits_3_and_the_key_comes_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "job.json", '{"input": {"k": 1}}')
    with SandboxThread(SandboxConfig(api_key="sesame", default_duration_s=0.05)) as server:
        args = ["run", str(path), "--endpoint", "ep", "--base-url", server.base_url]
        monkeypatch.setenv("RUNPOD_API_KEY", "wrong")
        assert main(args) == 3
        assert "401" in capsys.readouterr().out
        monkeypatch.setenv("RUNPOD_API_KEY", "sesame")
        assert main(args) == 0
        assert json.loads(capsys.readouterr().out)["output"] == {"k": 1}


def test_batch_prints_one_line_per_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [json.dumps({"input": {"n": n, "sandbox": {"duration": 0.05}}}) for n in range(6)]
    path = write(tmp_path, "batch.jsonl", "\n".join(lines) + "\n\n")
    assert main(["run", str(path)]) == 0
    out, err = capsys.readouterr()
    statuses = [json.loads(line) for line in out.splitlines()]
    assert sorted(s["output"]["n"] for s in statuses) == list(range(6))
    assert "6/6 finished" in err


def test_batch_lines_end_at_newlines_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # U+2028, U+2029 and U+0085 may stand as they are in JSON strings: not line ends.
    words = ["a\u2028b", "c\u2029d", "e\x85f", "g\x0bh\x1ci"]
    lines = [
        json.dumps({"input": {"word": w, "sandbox": {"duration": 0.05}}}, ensure_ascii=False)
        for w in words
    ]
    path = write(tmp_path, "batch.jsonl", "\r\n".join(lines) + "\r\n")
    assert main(["run", str(path)]) == 0
    out, err = capsys.readouterr()
    statuses = [json.loads(line) for line in out.split("\n") if line]
    assert sorted(s["output"]["word"] for s in statuses) == sorted(words)
    assert "4/4 finished" in err


def test_batch_with_one_invalid_line_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "batch.jsonl", '{"input": {}}\n{"input": 5}\n')
    assert main(["run", str(path)]) == 2
    assert f"{path}:2:" in capsys.readouterr().err


def test_no_wait_prints_the_queued_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "job.json", '{"input": {"sandbox": {"duration": 5}}}')
    with SandboxThread(SandboxConfig()) as server:
        args = ["run", str(path), "--no-wait", "--endpoint", "e", "--base-url", server.base_url]
        assert main(args) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["status"] == "IN_QUEUE" and status["id"]


def test_timeout_leaves_the_job_running_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "job.json", '{"input": {"sandbox": {"duration": 30}}}')
    assert main(["run", str(path), "--timeout", "0.5"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] in ("IN_QUEUE", "IN_PROGRESS")
    assert "--timeout passed" in err


@pytest.mark.integration
@pytest.mark.slow
def test_a_local_worker_profile_is_started_for_the_run_and_its_result_kept(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    from gui.core.profiles.profiles import Profile, ProfileStore

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Path(__file__).parents[1] / "integration" / "workers" / "handler.py"
    ProfileStore(data_dir).add(Profile("worker", "local", handler=str(handler), port=port))
    path = write(tmp_path, "job.json", '{"input": {"prompt": "hi", "numbers": [1, 2]}}')
    assert main(["run", str(path), "--profile", "worker"]) == 0
    out, err = capsys.readouterr()
    status = json.loads(out)
    # The handler's answer, not the local server's later "Job ID not found".
    assert status["status"] == "COMPLETED"
    assert status["output"] == {"echo": "hi", "sum": 3, "worker": "local-test"}
    assert "starting the local worker" in err
    with socket.socket() as probe:  # the worker was stopped with the run
        assert probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow
def test_sync_with_a_timeout_still_reports_the_job_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "job.json", '{"input": {"sandbox": {"duration": 3}}}')
    assert main(["run", str(path), "--sync", "--timeout", "1.5"]) == 1
    status = json.loads(capsys.readouterr().out)
    assert status["id"].startswith("sync-") and status["status"] == "IN_PROGRESS"


def test_a_batch_where_some_jobs_were_not_sent_but_others_ran_exits_1_and_counts_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second line refers to an S3 secret the keyring does not hold: it is not sent, the two
    others run. Exit 1 (not 2 or 3: the endpoint was reached), and the NOT_SENT line carries its
    line in the batch and its request, so a script can send it again."""
    s3 = {"accessId": "a", "accessSecret": "keyring:s3/missing", "bucketName": "b",
          "endpointUrl": "https://s3.test"}  # fmt: skip
    bodies = [{"input": {"n": 1}}, {"input": {"n": 2}, "s3Config": s3}, {"input": {"n": 3}}]
    path = write(tmp_path, "batch.jsonl", "\n".join(json.dumps(b) for b in bodies) + "\n")
    assert main(["run", str(path), "--profile", "Sandbox"]) == 1
    out, err = capsys.readouterr()
    statuses = [json.loads(line) for line in out.splitlines()]
    (not_sent,) = [s for s in statuses if s["status"] == "NOT_SENT"]
    assert not_sent["line"] == 2 and not_sent["request"] == bodies[1]
    assert "missing" in not_sent["note"]
    assert sorted(s["output"]["n"] for s in statuses if s["status"] == "COMPLETED") == [1, 3]
    assert "3 job(s): 2 reached the endpoint (2 COMPLETED), 1 not sent." in err


@pytest.mark.slow
def test_nothing_reached_exits_3_and_resume_sends_it_again_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lines = [json.dumps({"input": {"n": n, "sandbox": {"duration": 0.05}}}) for n in range(3)]
    path = write(tmp_path, "batch.jsonl", "\n".join(lines) + "\n")
    url = f"http://127.0.0.1:{port}/v2"
    assert main(["run", str(path), "--endpoint", "ep", "--base-url", url]) == 3  # nobody there
    out, err = capsys.readouterr()
    # A batch prints each job as it ends (here as each gives up), with its line in the file.
    assert sorted(json.loads(line)["line"] for line in out.splitlines()) == [1, 2, 3]
    assert "3 job(s): 0 reached the endpoint, 3 not sent." in err

    assert main(["resume"]) == 0  # nothing unfinished: the three are NOT_SENT, and stay so
    out, err = capsys.readouterr()
    assert out == "" and "nothing to follow" in err
    with SandboxThread(SandboxConfig(default_duration_s=0.05), port=port):
        assert main(["resume", "--resend-not-sent"]) == 0
    out, err = capsys.readouterr()
    statuses = [json.loads(line) for line in out.splitlines()]
    assert sorted(s["output"]["n"] for s in statuses) == [0, 1, 2]
    assert {s["status"] for s in statuses} == {"COMPLETED"}
    assert "sending 3 NOT_SENT job(s) again" in err and "may already be queued" in err
    assert main(["resume", "--resend-not-sent"]) == 0  # nothing left to send: none twice
    assert "nothing to follow" in capsys.readouterr().err


def test_resume_of_a_profile_with_no_unfinished_job_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["resume", "--profile", "nobody"]) == 0
    assert "no unfinished job of profile 'nobody'" in capsys.readouterr().err
