"""The engine in a process of its own: a real ``job-console engine`` subprocess on a temporary
data folder with the built-in sandbox, driven by ``RemoteEngine``."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gui.core.engine.leases import ConsoleLease
from gui.core.engine.process.remote import RemoteEngine
from gui.core.errors import ConsoleError, OperationUnsupported
from gui.core.events import JobAdded, JobChanged
from gui.core.records import JobRecord, JobState
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import Target
from gui.core.webhooks.address import ListenerSettings
from gui.sandbox import SandboxConfig, SandboxThread
from tests.support import engine_fixtures
from tests.support.sandbox_helpers import SandboxRequests
from tests.support.waiting import wait_until

STARTED_S = engine_fixtures.REMOTE_STARTED_S


class Seen:
    """The records a RemoteEngine's subscriber was told, by local id."""

    def __init__(self, engine: RemoteEngine) -> None:
        self.records: dict[str, JobRecord] = {}
        self.added: list[str] = []
        self._lock = threading.Lock()
        engine.subscribe(self._on_event)

    def _on_event(self, event: object) -> None:
        with self._lock:
            if isinstance(event, JobAdded):
                self.added.append(event.record.local_id)
            if isinstance(event, JobAdded | JobChanged):
                self.records[event.record.local_id] = event.record

    def state(self, local_id: str) -> JobState | None:
        with self._lock:
            record = self.records.get(local_id)
        return None if record is None else record.state


remote = engine_fixtures.remote


def stored(data_dir: Path, local_id: str) -> tuple[str, str | None] | None:
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        row = conn.execute("SELECT state, job_id FROM jobs WHERE local_id = ?", (local_id,))
        found = row.fetchone()
    return None if found is None else (found[0], found[1])


@pytest.mark.slow
def test_a_job_sent_through_the_engine_process_completes_and_is_in_the_store(
    remote: RemoteEngine, data_dir: Path
) -> None:
    seen = Seen(remote)
    target = remote.sandbox_target().result(timeout=30)
    assert target.kind == "sandbox" and target.base_url.startswith("http://127.0.0.1:")
    sent = remote.submit(target, {"input": {"prompt": "hi"}}).result(timeout=30)
    assert sent.job_id and sent.request == {"input": {"prompt": "hi"}}
    wait_until(lambda: seen.state(sent.local_id) is JobState.COMPLETED, "the job COMPLETED")
    assert seen.added.count(sent.local_id) == 1
    remote.flush().result(timeout=30)
    assert stored(data_dir, sent.local_id) == ("COMPLETED", sent.job_id)
    assert seen.records[sent.local_id].output is None  # light: the output is read from the store
    assert sent.local_id not in {record.local_id for record in remote.jobs()}  # ended: stored


@pytest.mark.slow
def test_a_job_is_cancelled_through_the_engine_process(remote: RemoteEngine) -> None:
    seen = Seen(remote)
    target = remote.sandbox_target().result(timeout=30)
    sent = remote.submit(target, {"input": {"sandbox": {"duration": 60}}}).result(timeout=30)
    wait_until(lambda: sent.local_id in {record.local_id for record in remote.jobs()}, "told")
    remote.cancel(sent.local_id).result(timeout=30)
    wait_until(lambda: seen.state(sent.local_id) is JobState.CANCELLED, "the job CANCELLED")


@pytest.mark.slow
def test_an_engine_error_comes_back_in_words(remote: RemoteEngine) -> None:
    with pytest.raises(ConsoleError, match="There is no job no-such-job in the history"):
        remote.cancel("no-such-job").result(timeout=30)
    local = Target(name="worker", kind="local", base_url="http://127.0.0.1:9", endpoint_id="")
    with pytest.raises(OperationUnsupported):
        remote.health(local).result(timeout=30)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP and SIGKILL are POSIX signals")
def test_a_killed_engine_process_fails_its_waiting_commands_in_words(
    remote: RemoteEngine,
) -> None:
    pid = remote.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # it reads nothing more: the flush below waits for sure
    waiting = remote.flush()
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ConsoleError, match=r"ended unexpectedly \(killed by signal 9\)"):
        waiting.result(timeout=30)
    with pytest.raises(ConsoleError, match="ended unexpectedly"):
        remote.sandbox_target().result(timeout=1)  # failed at once, not sent


@pytest.mark.slow
def test_a_closed_engine_process_releases_its_jobs_to_the_next_one(data_dir: Path) -> None:
    with SandboxThread(SandboxConfig(workers=2, default_duration_s=0.05)) as server:
        target = Target(name="cloud", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        first = RemoteEngine(data_dir)
        first.start().result(timeout=STARTED_S)
        try:
            slow = {"input": {"sandbox": {"duration": 4}}}
            sent = first.submit(target, slow).result(timeout=30)
            first_pid = first.pid
        finally:
            first.close()
        assert first._process is not None and first._process.returncode == 0
        lease = ConsoleLease(data_dir / DB_FILENAME, "window")
        try:
            assert [c for c in lease.consoles() if c.pid == first_pid] == []
        finally:
            lease.release()
        state = stored(data_dir, sent.local_id)
        assert state is not None and state[0] in ("IN_QUEUE", "IN_PROGRESS")

        second = RemoteEngine(data_dir)
        seen = Seen(second)
        second.start().result(timeout=STARTED_S)
        try:
            assert [r.job_id for r in second.jobs() if r.local_id == sent.local_id] == [sent.job_id]
            wait_until(lambda: seen.state(sent.local_id) is JobState.COMPLETED, "adopted, done")
            second.flush().result(timeout=30)
        finally:
            second.close()
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        rows = conn.execute("SELECT local_id, state FROM jobs").fetchall()
    assert rows == [(sent.local_id, "COMPLETED")]  # one job, sent once, ended once


@pytest.mark.slow
def test_an_engine_process_that_cannot_read_its_history_says_why(data_dir: Path) -> None:
    (data_dir / DB_FILENAME).write_text("not a database, only text long enough for a header\n")
    engine = RemoteEngine(data_dir)
    try:
        with pytest.raises(ConsoleError, match="file is not a database"):
            engine.start().result(timeout=STARTED_S)
    finally:
        engine.close()
    assert engine._process is not None and engine._process.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP and SIGCONT are POSIX signals")
def test_a_ping_is_answered_by_the_engine_process_once_it_runs_again(
    remote: RemoteEngine,
) -> None:
    remote.ping().result(timeout=30)
    pid = remote.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # hung: it reads nothing, answers nothing
    try:
        waiting = remote.ping()
    finally:
        os.kill(pid, signal.SIGCONT)
    assert waiting.result(timeout=30) is None


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP is a POSIX signal")
def test_kill_ends_a_hung_engine_process_and_ended_tells_how(
    remote: RemoteEngine, data_dir: Path
) -> None:
    pid = remote.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    waiting = remote.flush()
    remote.kill()
    assert remote.ended.result(timeout=30) == -signal.SIGKILL
    assert not remote.closing  # it did not end by a close
    with pytest.raises(ConsoleError, match=r"killed by signal 9"):
        waiting.result(timeout=1)
    lease = ConsoleLease(data_dir / DB_FILENAME, "window")
    try:  # its pid is gone: its lease is not live, its jobs free at once
        assert [c for c in lease.consoles() if c.pid == pid and c.live(c.heartbeat)] == []
    finally:
        lease.release()


@pytest.mark.slow
def test_a_closed_engine_process_ended_with_status_0(data_dir: Path) -> None:
    engine = RemoteEngine(data_dir)
    engine.start().result(timeout=STARTED_S)
    engine.close()
    assert engine.closing
    assert engine.ended.result(timeout=1) == 0


# -- two engine processes on one data folder (the many-consoles leases) ------------------------

FIRST_KEY, SECOND_KEY = "key-of-the-first-engine", "key-of-the-second-engine"  # not secrets


def console_owner(data_dir: Path, engine: RemoteEngine) -> str:
    """The owner id the engine process registered under (its row in ``consoles``)."""
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        found = conn.execute("SELECT owner FROM consoles WHERE pid = ?", (engine.pid,)).fetchall()
    assert len(found) == 1, found
    return str(found[0][0])


def job_owner(data_dir: Path, local_id: str) -> str | None:
    """The console that follows the job, as its row says."""
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        found = conn.execute("SELECT owner FROM jobs WHERE local_id = ?", (local_id,)).fetchone()
    return None if found is None else found[0]


@pytest.fixture
def two_engines(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[RemoteEngine, RemoteEngine, Seen]]:
    """Two engine processes on one data folder, both started, each with its own API key; what
    the second was told."""
    first, second = RemoteEngine(data_dir), RemoteEngine(data_dir)
    seen = Seen(second)
    try:
        # Each process keeps the environment it was started with.
        monkeypatch.setenv("RUNPOD_API_KEY", FIRST_KEY)
        first.start()
        monkeypatch.setenv("RUNPOD_API_KEY", SECOND_KEY)
        second.start()
        first.started.result(timeout=STARTED_S)
        second.started.result(timeout=STARTED_S)
        yield first, second, seen
    finally:
        first.close()
        second.close()


@pytest.mark.slow
def test_a_job_sent_through_one_engine_process_is_shown_by_the_other_and_followed_once(
    data_dir: Path,
    two_engines: tuple[RemoteEngine, RemoteEngine, Seen],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, _second, seen = two_engines
    asked = SandboxRequests(monkeypatch)
    with SandboxThread(SandboxConfig(workers=2, default_duration_s=0.05)) as server:
        target = Target(name="cloud", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        sent = first.submit(target, {"input": {"sandbox": {"duration": 2}}}).result(timeout=30)
        wait_until(lambda: seen.state(sent.local_id) is not None, "the second engine shows it")
        wait_until(lambda: seen.state(sent.local_id) is JobState.COMPLETED, "shown COMPLETED")
        first.flush().result(timeout=30)
        assert server.server.routes.endpoints["ep"].job_count == 1
    assert seen.added.count(sent.local_id) == 1
    # The first engine sent it and followed it to its end; the second only showed what it wrote.
    assert asked.keys("/run") == [FIRST_KEY]
    polls = asked.keys(f"/{sent.job_id}")
    assert polls and set(polls) == {FIRST_KEY}
    assert job_owner(data_dir, sent.local_id) == console_owner(data_dir, first)
    assert stored(data_dir, sent.local_id) == ("COMPLETED", sent.job_id)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is a POSIX signal")
def test_a_killed_engine_process_s_job_is_taken_over_by_the_one_still_running(
    data_dir: Path,
    two_engines: tuple[RemoteEngine, RemoteEngine, Seen],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second, seen = two_engines
    asked = SandboxRequests(monkeypatch)
    with SandboxThread(SandboxConfig(workers=2, default_duration_s=0.05)) as server:
        target = Target(name="cloud", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        sent = first.submit(target, {"input": {"sandbox": {"duration": 3}}}).result(timeout=30)
        # The second knows it as the first's job: only its periodic take-over can adopt it.
        wait_until(lambda: seen.state(sent.local_id) is not None, "the second engine shows it")
        assert job_owner(data_dir, sent.local_id) == console_owner(data_dir, first)
        taker = console_owner(data_dir, second)

        os.kill(first.pid or 0, signal.SIGKILL)
        assert first.ended.result(timeout=30) == -signal.SIGKILL
        polled_before = len(asked.keys(f"/{sent.job_id}"))
        assert stored(data_dir, sent.local_id) in (
            ("IN_QUEUE", sent.job_id),
            ("IN_PROGRESS", sent.job_id),
        )
        wait_until(lambda: job_owner(data_dir, sent.local_id) == taker, "taken over", timeout=60)
        wait_until(lambda: seen.state(sent.local_id) is JobState.COMPLETED, "followed to its end")
        second.flush().result(timeout=30)
        assert server.server.routes.endpoints["ep"].job_count == 1
    assert asked.keys("/run") == [FIRST_KEY]  # sent once, never again
    polls = asked.keys(f"/{sent.job_id}")
    assert set(polls[:polled_before]) <= {FIRST_KEY}  # while the first lived, only it followed
    assert polls[polled_before:] and set(polls[polled_before:]) == {SECOND_KEY}
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        rows = conn.execute("SELECT local_id, state, job_id FROM jobs").fetchall()
    assert rows == [(sent.local_id, "COMPLETED", sent.job_id)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def served_port(data_dir: Path, engine: RemoteEngine) -> int | None:
    """The listener port the engine process says it serves (its row in ``consoles``)."""
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        found = conn.execute(
            "SELECT listener_port FROM consoles WHERE pid = ?", (engine.pid,)
        ).fetchone()
    return None if found is None else found[0]


@pytest.mark.slow
def test_the_listener_port_is_served_again_by_the_other_engine_when_the_serving_one_closes(
    data_dir: Path, two_engines: tuple[RemoteEngine, RemoteEngine, Seen]
) -> None:
    first, second, _seen = two_engines
    settings = ListenerSettings(port=free_port())
    assert first.start_listener(settings).result(timeout=30).served_by is None
    used = second.start_listener(settings).result(timeout=30)
    assert used.port == settings.port and "window" in (used.served_by or "")  # the first's
    assert served_port(data_dir, second) is None

    first.close()
    wait_until(
        lambda: served_port(data_dir, second) == settings.port, "the second serves it", timeout=60
    )
    socket.create_connection(("127.0.0.1", settings.port), timeout=10).close()  # it listens
