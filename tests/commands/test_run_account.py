"""`job-console run` and the account: each job's cost (from the sandbox's GPU catalog) in the
final JSON with what it leaves out, and why a job waits on stderr while it waits IN_QUEUE (the
built-in sandbox scaled to zero; an endpoint whose workers crash-loop, through RUNPOD_API_URL)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from gui.cli import main
from gui.commands import run as run_command
from gui.core.account.cost import LEAVES_OUT
from gui.core.targets import SANDBOX_ENDPOINT_ID
from gui.sandbox import EndpointSpec, SandboxConfig, SandboxServer, SandboxThread

PER_SECOND_4090 = 0.00031  # the sandbox catalog's serverless price of an RTX 4090


def write(tmp_path: Path, body: object) -> Path:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_the_final_json_carries_the_jobs_cost_from_the_catalog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, {"input": {"sandbox": {"duration": 0.3}}})
    assert main(["run", str(path)]) == 0
    status = json.loads(capsys.readouterr().out)
    cost = status["cost"]
    seconds = -(-status["executionTime"] // 1000)
    assert cost["seconds"] == seconds and cost["gpu"] == "NVIDIA GeForce RTX 4090"
    assert cost["gpuCount"] == 1
    assert cost["usd"] == pytest.approx(seconds * PER_SECOND_4090)
    assert cost["leavesOut"] == LEAVES_OUT and "cold starts" in cost["leavesOut"]


def test_a_job_waiting_on_the_built_in_sandbox_scaled_to_zero_is_diagnosed_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scaled_to_zero = SandboxConfig(endpoints=[EndpointSpec(SANDBOX_ENDPOINT_ID, workers_max=0)])
    monkeypatch.setattr(run_command, "builtin_sandbox", partial(SandboxServer, scaled_to_zero))
    monkeypatch.setattr(run_command, "WAIT_DIAGNOSIS_AFTER_S", 0.3)
    path = write(tmp_path, {"input": {}})
    assert main(["run", str(path), "--timeout", "4"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "IN_QUEUE"
    (line,) = [line for line in err.splitlines() if "IN_QUEUE for" in line]
    assert line.startswith("job-console: IN_QUEUE for ")
    assert "has max workers 0, so no worker can start" in line
    assert "Raise max workers" in line


def test_a_crash_looping_endpoint_is_diagnosed_through_runpod_api_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SandboxConfig(endpoints=[EndpointSpec("stuck", scenario="crash_loop")])
    monkeypatch.setattr(run_command, "WAIT_DIAGNOSIS_AFTER_S", 0.3)
    with SandboxThread(config) as sandbox:
        monkeypatch.setenv("RUNPOD_API_URL", sandbox.base_url)
        monkeypatch.setenv("RUNPOD_API_KEY", "any-key")
        path = write(tmp_path, {"input": {}})
        args = ["run", str(path), "--endpoint", "stuck", "--base-url", sandbox.base_url]
        assert main([*args, "--timeout", "4"]) == 1
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "IN_QUEUE for" in line]
    assert "unhealthy and none is ready: a crash loop" in line
