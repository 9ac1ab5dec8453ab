"""``job-console listen``: the URL first, one JSON line per delivery, a clean stop on Ctrl+C.

The command runs as a real subprocess (signals and stdout as a script sees them). Subprocesses get
keyring's fail backend from conftest, so there the token lasts for one run; the keyring path is
tested in-process with the in-memory keyring.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gui.cli import main
from gui.commands.listen import listener_token
from gui.core.webhooks.deliveries import DeliveryStore
from tests.support.memory_keyring import MemoryKeyring

URL_LINE = re.compile(r"^http://127\.0\.0\.1:(\d+)/webhook/([A-Za-z0-9_-]{43})$")


class Listening:
    """``job-console listen`` running in a subprocess, its stdout read line by line."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gui", "--data-dir", str(data_dir), "listen", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self, timeout: float = 20.0) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            _out, err = self.process.communicate()
            raise AssertionError(f"no line from job-console listen; stderr: {err}") from None

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        try:
            _out, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return self.process.returncode, err


@pytest.fixture
def listening(data_dir: Path) -> Iterator[Listening]:
    running = Listening(data_dir, "--port", "0")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.communicate()


def test_prints_the_url_then_one_json_line_per_delivery_and_stops_cleanly_on_ctrl_c(
    listening: Listening, data_dir: Path
) -> None:
    url = listening.next_line()
    match = URL_LINE.match(url)
    assert match, url
    token = match.group(2)
    payload = {"id": "job-9", "status": "COMPLETED", "output": {"text": "done"}}
    for _ in range(2):  # RunPod's retry: the second is a repeat
        assert httpx.post(url, json=payload, timeout=10).status_code == 200
    wrong = url.rsplit("/", 1)[0] + "/not-the-token"
    assert httpx.post(wrong, json=payload, timeout=10).status_code == 404

    first, second = json.loads(listening.next_line()), json.loads(listening.next_line())
    assert first["payload"] == payload and first["job_id"] == "job-9"
    assert first["status"] == "COMPLETED" and first["repeat_of"] is None
    assert first["path"] == "/webhook/<token>"
    assert second["repeat_of"] == first["id"]

    code, err = listening.interrupt()
    assert code == 0, err
    assert "Stopped after 2 deliveries" in err
    assert token not in err
    assert listening.lines.empty()  # nothing was printed for the 404

    store = DeliveryStore(data_dir / "jobs.sqlite3")
    assert [d.job_id for d in store.list()] == ["job-9", "job-9"]
    store.close()
    for path in data_dir.glob("jobs.sqlite3*"):
        assert token.encode() not in path.read_bytes()


def test_without_a_secure_keyring_it_says_the_url_lasts_this_run_only(
    listening: Listening,
) -> None:
    listening.next_line()
    _code, err = listening.interrupt()
    assert "for this run only" in err


def test_a_taken_port_exits_1_and_names_a_free_one(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        code = main(["--data-dir", str(data_dir), "listen", "--port", str(taken)])
    assert code == 1
    err = capsys.readouterr().err
    assert f"Port {taken} on 127.0.0.1 is already in use" in err
    suggested = int(re.search(r"for example (\d+)", err).group(1))  # type: ignore[union-attr]
    assert suggested != taken


def test_the_token_is_kept_in_the_keyring_and_can_be_replaced(
    memory_keyring: MemoryKeyring,
) -> None:
    token, warning = listener_token()
    assert warning == ""
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    assert memory_keyring.entries[("runpod-job-console", "listener-token")] == token
    assert listener_token()[0] == token  # the same URL from run to run
    fresh, _ = listener_token(regenerate=True)
    assert fresh != token
    assert memory_keyring.entries[("runpod-job-console", "listener-token")] == fresh


def test_the_parser_offers_host_port_and_new_token() -> None:
    from gui.commands import listen

    parser = argparse.ArgumentParser()
    listen.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.new_token) == ("127.0.0.1", 8787, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["--port", "70000"])


def test_listening_beyond_loopback_is_allowed_with_a_warning(data_dir: Path) -> None:
    running = Listening(data_dir, "--host", "0.0.0.0", "--port", "0")
    try:
        url = running.next_line()
        assert url.startswith("http://127.0.0.1:")  # a wildcard bind is reachable on loopback
        assert (
            httpx.post(url, json={"id": "j", "status": "COMPLETED"}, timeout=10).status_code == 200
        )
        json.loads(running.next_line())
        code, err = running.interrupt()
    finally:
        if running.process.poll() is None:
            running.process.kill()
    assert code == 0
    assert "not to loopback" in err
    token = url.rsplit("/", 1)[1]
    assert token not in err


def test_a_history_that_is_not_a_database_exits_2_with_a_message(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (data_dir / "jobs.sqlite3").write_bytes(b"this is not SQLite" * 100)
    assert main(["--data-dir", str(data_dir), "listen", "--port", "0"]) == 2
    assert "cannot open the history" in capsys.readouterr().err


def test_a_port_served_by_a_console_of_the_same_folder_is_refused_naming_it(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gui.core.engine.leases import ConsoleLease

    window = ConsoleLease(data_dir / "jobs.sqlite3", "window")  # a window serving port 8799
    window.register()
    window.serve_listener(8799)
    try:
        code = main(["--data-dir", str(data_dir), "listen", "--port", "8799"])
    finally:
        window.release()
    assert code == 1
    err = capsys.readouterr().err
    assert f"a window (pid {os.getpid()}) already serves the webhook listener" in err
    with socket.socket() as probe:  # it never bound the port
        assert probe.connect_ex(("127.0.0.1", 8799)) != 0
