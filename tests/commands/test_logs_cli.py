"""`job-console logs JOB_ID [--follow]` and the lines in `history show`: against a `job-console
sandbox` over loopback (its management API at RUNPOD_API_URL), on a real history file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gui.cli import main
from gui.sandbox import SandboxConfig, SandboxThread
from tests.support import cli_fixtures
from tests.support.cli_fixtures import send

remote = cli_fixtures.remote


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxThread]:
    with SandboxThread(SandboxConfig(workers=1, default_duration_s=0.3)) as server:
        # As runpodctl reads them: the management API of this sandbox, with a key.
        monkeypatch.setenv("RUNPOD_API_URL", server.base_url)
        monkeypatch.setenv("RUNPOD_API_KEY", "sandbox-key")
        yield server


def test_logs_prints_the_kept_lines_and_history_show_holds_them(
    sandbox: SandboxThread, remote: str, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = send(sandbox, {"sandbox": {"log": ["loading weights"], "duration": 0.5}})
    assert main(["history", "follow", job_id, "--profile", remote]) == 0
    capsys.readouterr()

    assert main(["logs", job_id]) == 0
    text = capsys.readouterr().out.splitlines()
    assert main(["logs", job_id, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["history", "show", job_id]) == 0
    shown = json.loads(capsys.readouterr().out)

    assert any(line.endswith("INFO  " + line.split()[2] + "  loading weights") for line in text)
    assert any("(untagged) sandbox handler: working for 0.5 s" in line for line in text)
    tagged = [line["message"] for line in lines if not line["untagged"]]
    assert tagged[:2] == ["Started.", "loading weights"] and tagged[-1] == "Finished."
    assert {line["requestId"] for line in lines if not line["untagged"]} == {job_id}
    assert shown["logs"] == lines


def test_logs_follow_takes_over_a_job_no_console_follows_and_prints_until_its_end(
    sandbox: SandboxThread, remote: str, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id = send(sandbox, {"sandbox": {"log": 3, "duration": 2.0}})
    assert main(["history", "follow", job_id, "--profile", remote, "--no-wait"]) == 0
    capsys.readouterr()

    assert main(["logs", job_id, "--follow", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    messages = [line["message"] for line in lines if not line["untagged"]]
    assert messages[:4] == ["Started.", "log line 1", "log line 2", "log line 3"]
    assert messages[-1] == "Finished."
    assert len({line["position"] for line in lines}) == len(lines)  # none printed twice


def test_a_job_that_is_not_there_or_has_no_lines_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    assert main(["logs", "nothing-here"]) == 1
    assert "no job nothing-here in the history" in capsys.readouterr().err
