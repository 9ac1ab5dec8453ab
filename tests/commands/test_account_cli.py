"""``job-console endpoints`` and ``workers`` against the sandbox's management API over loopback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gui.cli import main
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.profiles.secrets import SecretStore, api_key_name
from gui.sandbox import SandboxConfig, SandboxThread
from gui.sandbox.config import EndpointSpec

KEY = "rpa_" + "cli-test-key"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def sandbox() -> Iterator[Callable[..., SandboxThread]]:
    started: list[SandboxThread] = []

    def start(*specs: EndpointSpec, **fields: Any) -> SandboxThread:
        thread = SandboxThread(SandboxConfig(endpoints=list(specs), **fields))
        thread.start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread.stop()


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def scenarios(
    sandbox: Callable[..., SandboxThread], monkeypatch: pytest.MonkeyPatch
) -> SandboxThread:
    """A sandbox with one endpoint per scenario, reached through RUNPOD_API_URL, no key."""
    server = sandbox(
        EndpointSpec("ep", name="image-generator", gpu_type_id="NVIDIA L40S", gpu_count=2),
        EndpointSpec("web", name="web-api", type="LOAD_BALANCER"),
        EndpointSpec("idle", workers_max=0),
        EndpointSpec("stuck", scenario="crash_loop"),
        EndpointSpec("busy", scenario="throttled"),
        EndpointSpec("cold", scenario="starting"),
        EndpointSpec("new", version=2, image="runpod/sandbox-worker:1.1.0", outdated_workers=1),
        workers=2,
    )
    monkeypatch.setenv("RUNPOD_API_URL", server.base_url)
    return server


def test_endpoints_are_listed_with_load_balancers_marked(scenarios: Any, run: Run) -> None:
    code, out, err = run("endpoints")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "ID", "TYPE", "GPU", "WORKERS"]
    assert lines[1].split() == ["image-generator", "ep", "queue", "2", "x", "ADA_48_PRO", "0-2"]
    assert lines[2].split()[:2] == ["web-api", "web"]
    assert lines[2].endswith("load balancer  ADA_24          0-2      not supported for jobs")
    assert lines[3].split()[-1] == "0-0"
    assert len(lines) == 8


def test_endpoints_as_json(scenarios: Any, run: Run) -> None:
    code, out, _ = run("endpoints", "--json")
    listed = json.loads(out)["endpoints"]
    assert code == 0 and [e["id"] for e in listed][:3] == ["ep", "web", "idle"]
    assert listed[0]["gpu"] == {"pools": ["ADA_48_PRO"], "count": 2}
    assert listed[0]["workers"]["max"] == 2 and listed[0]["supportsJobs"] is True
    assert listed[1]["type"] == "LOAD_BALANCER" and listed[1]["supportsJobs"] is False
    assert listed[2]["workers"]["max"] == 0


@pytest.mark.parametrize(
    ("endpoint", "states", "diagnosis"),
    [
        ("ep", ["IDLE", "IDLE"], "Nothing wrong found with image-generator: 2 ready workers"),
        ("idle", [], "sandbox-idle has max workers 0, so no worker can start"),
        ("stuck", ["UNHEALTHY", "UNHEALTHY"], "2 workers of sandbox-stuck are unhealthy"),
        ("busy", ["THROTTLED", "THROTTLED"], "2 workers of sandbox-busy are throttled"),
        ("cold", ["INITIALIZING", "INITIALIZING"], "2 workers of sandbox-cold are starting"),
        ("new", ["IDLE", "IDLE"], "A release of sandbox-new is rolling out: 1 of 2 workers"),
        ("web", ["IDLE", "IDLE"], "web-api is a load-balancing endpoint"),
    ],
)
def test_workers_of_each_scenario_and_why_jobs_would_wait(
    scenarios: Any, run: Run, endpoint: str, states: list[str], diagnosis: str
) -> None:
    code, out, err = run("workers", endpoint)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert f" ({endpoint})" in lines[0]
    rows = lines[2:-1] if states else []
    assert sorted(row.split()[1] for row in rows) == sorted(states)
    assert lines[-1].startswith(diagnosis)


def test_workers_show_gpu_data_center_uptime_release_and_outdated(scenarios: Any, run: Run) -> None:
    _, out, _ = run("workers", "new")
    lines = out.splitlines()
    assert lines[0] == "sandbox-new (new): 2 active workers, release v2"
    assert lines[1].split() == ["ID", "STATE", "GPU", "DATA", "CENTER", "UPTIME", "RELEASE"]
    rows = sorted(lines[2:4], key=lambda row: "outdated" in row)
    assert "NVIDIA GeForce RTX 4090  US-KS-2" in rows[0]
    assert rows[0].endswith("v2 runpod/sandbox-worker:1.1.0")
    assert rows[1].endswith("v1 runpod/sandbox-worker:0.9.0  outdated")
    code, out, _ = run("workers", "cold")
    assert code == 0 and " s " in out.splitlines()[2]  # placed: an uptime


def test_workers_as_json(scenarios: Any, run: Run) -> None:
    code, out, _ = run("workers", "stuck", "--json")
    document = json.loads(out)
    assert code == 0 and document["endpoint"]["id"] == "stuck"
    assert document["counts"]["unhealthy"] == 2 and len(document["workers"]) == 2
    assert {w["status"] for w in document["workers"]} == {"UNHEALTHY"}
    assert document["diagnosis"]["kind"] == "unhealthy" and document["diagnosis"]["found"]


def test_an_unknown_endpoint_is_a_404_in_words(scenarios: Any, run: Run) -> None:
    code, out, err = run("workers", "nope")
    assert code == 1 and out == ""
    assert err.startswith("job-console workers: Endpoint nope was not found (Not Found, 404: ")
    assert err.rstrip().endswith("'job-console endpoints' lists the endpoints this key can see.")


def test_no_key_says_where_one_comes_from(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNPOD_API_URL", raising=False)
    code, out, err = run("endpoints")
    assert code == 1 and out == ""
    assert err == (
        "job-console endpoints: no API key: set RUNPOD_API_KEY to a key with read access to "
        "Serverless, or give --profile NAME of a profile whose key is in the keyring "
        "(job-console profile list).\n"
    )


def test_an_unreachable_host_is_said(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    monkeypatch.setenv("RUNPOD_API_URL", "http://127.0.0.1:9/v2")
    code, _, err = run("workers", "ep")
    assert code == 1
    assert err.startswith(
        "job-console workers: Could not reach the management API at "
        "http://127.0.0.1:9/v2/serverless/ep ("
    )
    assert KEY not in err


def test_a_refused_key_is_a_401_in_words(
    sandbox: Any, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sandbox(EndpointSpec("ep"), api_key=KEY)
    monkeypatch.setenv("RUNPOD_API_URL", server.base_url)
    monkeypatch.setenv("RUNPOD_API_KEY", "rpa_" + "not-the-key")
    code, _, err = run("endpoints")
    assert code == 1
    assert "refused the API key (Unauthorized, 401: invalid bearer token)" in err
    assert "not-the-key" not in err and KEY not in err
    monkeypatch.setenv("RUNPOD_API_KEY", KEY)
    assert run("endpoints")[0] == 0


def test_a_profile_brings_its_keyring_key_its_url_and_its_endpoint(
    sandbox: Any, run: Run, data_dir: Any
) -> None:
    server = sandbox(EndpointSpec("ep", name="prod-ep"), api_key=KEY)
    secrets = SecretStore()
    profile = Profile("prod", "cloud", endpoint_id="ep", management_url=server.base_url)
    ProfileStore(data_dir, secrets).add(profile)
    secrets.set(api_key_name("prod"), KEY)

    code, out, err = run("workers", "--profile", "prod")
    assert (code, err) == (0, "")
    assert out.startswith("prod-ep (ep): 2 active workers")
    code, out, _ = run("endpoints", "--profile", "prod")
    assert code == 0 and "prod-ep" in out


def test_the_sandbox_profile_needs_a_running_sandbox_url(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_API_URL", raising=False)
    code, _, err = run("endpoints", "--profile", "Sandbox")
    assert code == 1
    assert "runs only while the window is open" in err
    assert "RUNPOD_API_URL=http://127.0.0.1:8000/v2" in err


def test_a_profile_that_does_not_exist(run: Run) -> None:
    code, _, err = run("workers", "ep", "--profile", "nobody")
    assert code == 1 and err.startswith("job-console workers: ") and "nobody" in err


def test_workers_without_an_endpoint_is_a_usage_error(scenarios: Any, run: Run) -> None:
    code, _, err = run("workers")
    assert code == 2 and "name the endpoint: job-console workers ENDPOINT" in err
