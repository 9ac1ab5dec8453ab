"""The history's costs from the command line: ``history show`` prints a job's estimate with what
it leaves out, ``history list --cost`` each job's and the sum over every job found, and
``history cost`` the sum per endpoint beside what the endpoint's billing says for the same hours
(a sandbox over loopback: its billing buckets count the jobs it ran)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui.cli import main
from gui.core.account.cost import LEAVES_OUT
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.sandbox import SandboxConfig, SandboxThread

PER_SECOND_4090 = 0.00031


def test_show_list_and_cost_beside_the_bill(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"input": {"sandbox": {"duration": 0.2}}}), encoding="utf-8")
    with SandboxThread(SandboxConfig(workers=1, default_duration_s=0.05)) as remote:
        monkeypatch.setenv("RUNPOD_API_KEY", "any-key")
        monkeypatch.delenv("RUNPOD_API_URL", raising=False)
        ProfileStore(data_dir).add(Profile("remote", "cloud", endpoint_id="ep1",
                                           base_url=remote.base_url,
                                           management_url=remote.base_url))  # fmt: skip
        for _ in range(2):
            assert main(["run", str(job), "--profile", "remote"]) == 0
        capsys.readouterr()

        assert main(["history", "list", "--cost", "profile:remote"]) == 0
        out, err = capsys.readouterr()
        assert [line.split("  ")[-1] for line in out.splitlines()] == ["$0.00031"] * 2
        assert (f"estimated cost of the 2 job(s) found: $0.00062 for 2 jobs. {LEAVES_OUT}"
                in err)  # fmt: skip

        assert main(["history", "cost", "profile:remote"]) == 0
        out = capsys.readouterr().out
        assert "remote (endpoint ep1): Estimated $0.00062 for 2 jobs; RunPod billed " in out
        assert "endpoint ep1 $" in out and "which also counts cold starts" in out
        assert main(["history", "cost", "profile:remote", "--json"]) == 0
        (endpoint,) = json.loads(capsys.readouterr().out)["endpoints"]
        assert endpoint["estimatedUsd"] == pytest.approx(2 * PER_SECOND_4090)
        assert endpoint["billedUsd"] >= endpoint["estimatedUsd"] - 1e-12 > 0

    assert main(["history", "list", "--json", "--limit", "1"]) == 0
    (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["history", "show", listed["local_id"]]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["cost"]["usd"] == pytest.approx(PER_SECOND_4090)
    assert shown["cost"]["leavesOut"] == LEAVES_OUT
    assert shown["facts"]["gpu"] == "NVIDIA GeForce RTX 4090"


def test_cost_says_why_the_bill_cant_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_API_URL", raising=False)
    job = tmp_path / "job.json"
    job.write_text('{"input": {}}', encoding="utf-8")
    assert main(["run", str(job)]) == 0  # the run's own sandbox: gone with the run
    capsys.readouterr()
    assert main(["history", "cost"]) == 0
    out = capsys.readouterr().out
    assert "Sandbox (endpoint " in out and "the bill can't be read: Sandbox is the window's" in out
    assert "In all: $0.00031 for 1 job." in out
