"""``job-console sandbox`` as a subprocess: URL line, key line, request log lines, clean stops."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.integration

URL_PREFIX = "Sandbox listening on "


def _environment() -> dict[str, str]:
    """This process's environment without a sandbox key the person running the tests may have."""
    return {k: v for k, v in os.environ.items() if k != "JOB_CONSOLE_SANDBOX_KEY"}


def _start(*options: str, key: str | None = None) -> subprocess.Popen[str]:
    """The sandbox with ``options``; ``key`` is handed in through JOB_CONSOLE_SANDBOX_KEY."""
    variable = {} if key is None else {"JOB_CONSOLE_SANDBOX_KEY": key}
    return subprocess.Popen(
        [sys.executable, "-m", "gui", "sandbox", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**_environment(), "PYTHONUNBUFFERED": "1", **variable},
    )


def _first_line(process: subprocess.Popen[str], timeout: float = 60.0) -> str:
    """The first stdout line, failing (not hanging) if none comes within ``timeout``."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the sandbox printed nothing"
    return process.stdout.readline().rstrip("\n")


@pytest.fixture
def sandbox_process() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_first_line_is_the_url_then_the_key_then_request_lines(
    sandbox_process: list[subprocess.Popen[str]],
) -> None:
    process = _start("--api-key", "k-123", "--workers", "3")
    sandbox_process.append(process)
    assert process.stdout is not None
    first = _first_line(process)
    assert first.startswith(URL_PREFIX)
    base_url = first.removeprefix(URL_PREFIX)
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v2")
    assert process.stdout.readline() == (
        "API key: required, the key given with --api-key (send it as 'Authorization: Bearer KEY')\n"
    )
    headers = {"Authorization": "Bearer k-123"}
    answer = httpx.post(f"{base_url}/ep/runsync", json={"input": {"x": 1}}, headers=headers)
    assert answer.json()["output"] == {"x": 1}
    assert httpx.get(f"{base_url}/ep/health", headers=headers).json()["workers"]["idle"] == 3
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "Sandbox stopped." in out
    request_lines = [line for line in err.splitlines() if "/v2/ep/" in line]
    assert len(request_lines) == 2 and '"POST /v2/ep/runsync HTTP/1.1" 200' in request_lines[0]
    assert "k-123" not in err


def test_sigterm_stops_it_and_quiet_logs_nothing(
    sandbox_process: list[subprocess.Popen[str]],
) -> None:
    process = _start("--quiet")
    sandbox_process.append(process)
    assert process.stdout is not None
    base_url = _first_line(process).removeprefix(URL_PREFIX)
    assert "none required" in process.stdout.readline()
    assert httpx.get(f"{base_url}/any/health").status_code == 200
    process.terminate()
    _, err = process.communicate(timeout=15)
    assert process.returncode == 0 and "/v2/any" not in err


def test_a_key_from_the_environment_is_required_and_never_printed(
    sandbox_process: list[subprocess.Popen[str]],
) -> None:
    process = _start(key="env-secret-41")
    sandbox_process.append(process)
    assert process.stdout is not None
    base_url = _first_line(process).removeprefix(URL_PREFIX)
    assert process.stdout.readline() == (
        "API key: required, the key from JOB_CONSOLE_SANDBOX_KEY (send it as 'Authorization: "
        "Bearer KEY')\n"
    )
    assert httpx.get(f"{base_url}/ep/health").status_code == 401
    headers = {"Authorization": "Bearer env-secret-41"}
    assert httpx.get(f"{base_url}/ep/health", headers=headers).status_code == 200
    process.terminate()
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "env-secret-41" not in out + err


def test_a_reader_gone_away_ends_it_quietly(sandbox_process: list[subprocess.Popen[str]]) -> None:
    # job-console sandbox | head -2: head reads the URL and the key line, and goes away. (With
    # head -1 the key line itself may find no reader, which stops the sandbox at once: a race
    # that failed this test about once in three runs. Reading both keeps it serving until told.)
    process = _start("--quiet")
    sandbox_process.append(process)
    assert process.stdout is not None and process.stderr is not None
    base_url = _first_line(process).removeprefix(URL_PREFIX)
    # Printed right after the URL, and often already read with it: readline, not select.
    assert process.stdout.readline().startswith("API key: none required")
    process.stdout.close()
    assert httpx.get(f"{base_url}/ep/health").status_code == 200  # still serving until told
    process.send_signal(signal.SIGINT)  # its last line, "Sandbox stopped.", finds no reader
    assert process.wait(timeout=15) == 1
    assert process.stderr.read() == ""  # no BrokenPipeError traceback
    process.stderr.close()


def test_fault_options_reach_the_server(sandbox_process: list[subprocess.Popen[str]]) -> None:
    process = _start("--quiet", "--fail-429", "1", "--retry-after", "7")
    sandbox_process.append(process)
    assert process.stdout is not None
    base_url = _first_line(process).removeprefix(URL_PREFIX)
    answer = httpx.get(f"{base_url}/ep/health")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"


def test_endpoint_options_give_the_management_api_its_endpoints_and_scenarios(
    sandbox_process: list[subprocess.Popen[str]],
) -> None:
    process = _start(
        "--quiet",
        "--endpoint",
        "ep",
        "--endpoint",
        "stuck=crash-loop",
        "--endpoint",
        "idle=scaled-to-zero",
        "--endpoint",
        "busy=throttled",
        "--endpoint",
        "new=rolling",
        "--endpoint",
        "cold=starting",
        "--endpoint",
        "web=load-balancer",
    )
    sandbox_process.append(process)
    base_url = _first_line(process).removeprefix(URL_PREFIX)
    endpoints = httpx.get(f"{base_url}/serverless").json()["endpoints"]
    assert [e["id"] for e in endpoints] == ["ep", "stuck", "idle", "busy", "new", "cold", "web"]
    assert [e["workers"]["max"] for e in endpoints] == [2, 2, 0, 2, 2, 2, 2]
    assert [e["type"] for e in endpoints][-2:] == ["QUEUE", "LOAD_BALANCER"]

    def statuses(endpoint_id: str) -> list[tuple[str, bool]]:
        workers = httpx.get(f"{base_url}/serverless/{endpoint_id}/workers").json()["workers"]
        return sorted((worker["status"], worker["isStale"]) for worker in workers)

    assert statuses("ep") == [("IDLE", False), ("IDLE", False)]
    assert statuses("stuck") == [("UNHEALTHY", False), ("UNHEALTHY", False)]
    assert statuses("idle") == []
    assert statuses("busy") == [("THROTTLED", False), ("THROTTLED", False)]
    assert statuses("new") == [("IDLE", False), ("IDLE", True)]
    assert statuses("cold") == [("INITIALIZING", False), ("INITIALIZING", False)]


def test_port_in_use_is_explained() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "gui", "sandbox", "--port", str(port), "--quiet"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_environment(),
        )
    assert result.returncode == 1
    assert "--port" in result.stderr and str(port) in result.stderr
    assert "Sandbox listening" not in result.stdout


@pytest.mark.parametrize(
    "option",
    [
        ["--fail-5xx", "2"],
        ["--latency", "9-3"],
        ["--port", "x"],
        ["--endpoint", "ep=melting"],
        ["--endpoint", "=crash-loop"],
    ],
)
def test_bad_options_are_usage_errors(option: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gui", "sandbox", *option],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "error" in result.stderr


def test_options_parse_into_the_servers_settings() -> None:
    from gui.cli import build_parser

    args = build_parser().parse_args(
        ["sandbox", "--latency", "20-200", "--drop", "0.1", "--rate-limits", "--workers", "8"]
    )
    assert args.latency == (20.0, 200.0) and args.drop == 0.1
    assert args.rate_limits and args.workers == 8 and args.port == 8000
    assert build_parser().parse_args(["sandbox", "--latency", "50"]).latency == (50.0, 50.0)


def test_api_key_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from gui.cli import build_parser

    monkeypatch.setenv("JOB_CONSOLE_SANDBOX_KEY", "from-env")
    assert build_parser().parse_args(["sandbox"]).api_key == "from-env"
    assert build_parser().parse_args(["sandbox", "--api-key", "flag"]).api_key == "flag"
