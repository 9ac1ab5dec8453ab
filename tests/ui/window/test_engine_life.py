"""The window's engine in a process of its own, through its life: a command before it is ready, a
Submit that waits for it, a crash and a restart that adopts the unfinished job, a hang, a window
that closes while a job runs elsewhere, and two windows on one data folder (one follows a job,
both show it; the one left open adopts it when the other closes). Real engine processes
(``job-console engine``) on the test's data folder; an external sandbox over loopback as the
job's target."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gui.app import create_window
from gui.core.engine.process import remote as remote_module
from gui.core.engine.process.remote import RemoteEngine
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import Target
from gui.sandbox import SandboxConfig, SandboxThread
from gui.ui.bridge import (
    ENGINE_NOT_ANSWERING,
    ENGINE_READY,
    ENGINE_STARTING,
    ENGINE_STOPPED,
    EngineBridge,
)
from gui.ui.window.engine_bar import EngineBar
from gui.ui.window.main_window import ENGINE_WAIT_TEXT, MainWindow
from tests.support.request_helpers import settle
from tests.support.sandbox_helpers import SandboxRequests

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and SIGSTOP are POSIX signals"),
]

STARTED_MS = 60_000  # a cold interpreter on a loaded machine imports the HTTP stack slowly
SLOW_JOB = {"input": {"sandbox": {"duration": 3}}}


@pytest.fixture
def external() -> Iterator[tuple[SandboxThread, Target]]:
    """A sandbox outside the console: its jobs outlive any engine process."""
    with SandboxThread(SandboxConfig(workers=2, default_duration_s=0.05)) as server:
        yield server, Target(name="cloud", kind="cloud", base_url=server.base_url, endpoint_id="ep")


def runs_received(server: SandboxThread) -> int:
    """How many jobs the sandbox was sent (it keeps every job until its retention ends)."""
    return int(server.server.routes.endpoints["ep"].job_count)


def stored_state(data_dir: Path, local_id: str) -> str | None:
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        found = conn.execute("SELECT state FROM jobs WHERE local_id = ?", (local_id,)).fetchone()
    return None if found is None else str(found[0])


def wait_followed_to_completed(
    qtbot: QtBot, data_dir: Path, window: MainWindow, local_id: str
) -> None:
    """The job is COMPLETED in the history, and ``window``'s table shows it ended."""
    qtbot.waitUntil(lambda: stored_state(data_dir, local_id) == "COMPLETED", timeout=STARTED_MS)
    panel = window.jobs_panel
    qtbot.waitUntil(
        lambda: (r := panel.latest_record(local_id)) is not None and r.terminal, timeout=30_000
    )


def follower_pid(data_dir: Path, local_id: str) -> int | None:
    """The process of the console that follows the job (its row's owner, in ``consoles``)."""
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        found = conn.execute(
            "SELECT consoles.pid FROM jobs JOIN consoles ON consoles.owner = jobs.owner "
            "WHERE jobs.local_id = ?",
            (local_id,),
        ).fetchone()
    return None if found is None else int(found[0])


def process_window(qtbot: QtBot, data_dir: Path) -> MainWindow:
    window = create_window(data_dir)  # the default: the engine in a process of its own
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window.request)
    return window


def engine_of(window: MainWindow) -> RemoteEngine:
    engine = window.engine
    assert isinstance(engine, RemoteEngine)
    return engine


def pid_of(engine: RemoteEngine) -> int:
    pid = engine.pid
    assert pid is not None
    return pid


def test_a_command_before_the_engine_is_ready_is_answered_after_it(
    qtbot: QtBot, data_dir: Path
) -> None:
    engine = RemoteEngine(data_dir)
    engine.start()
    os.kill(pid_of(engine), signal.SIGSTOP)  # not ready yet, for sure
    bridge = EngineBridge(engine)
    try:
        assert bridge.engine_state == ENGINE_STARTING
        asked = bridge.sandbox_target()
        assert not asked.done()
        with qtbot.waitSignal(bridge.sig_engine_state_changed, timeout=STARTED_MS) as told:
            os.kill(pid_of(engine), signal.SIGCONT)
        assert told.args is not None and told.args[0] == ENGINE_READY
        assert asked.result(timeout=30).kind == "sandbox"
    finally:
        bridge.close()
        engine.close()


def test_an_engine_killed_mid_run_is_told_and_its_restart_adopts_the_job(
    qtbot: QtBot, data_dir: Path, external: tuple[SandboxThread, Target]
) -> None:
    server, target = external
    window = process_window(qtbot, data_dir)
    bridge = window.bridge
    assert bridge is not None
    first = engine_of(window)
    sent = bridge.submit(target, SLOW_JOB).result(timeout=60)
    assert sent.job_id and not sent.terminal
    qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_READY, timeout=STARTED_MS)

    os.kill(pid_of(first), signal.SIGKILL)
    bar = window.engine_bar
    qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_STOPPED, timeout=30_000)
    assert bar.isVisible() and "killed by signal 9" in bar.label.text()
    assert window.statusBar().currentMessage() == bar.label.text()
    assert bar.restart_button.isVisible()
    assert stored_state(data_dir, sent.local_id) in ("IN_QUEUE", "IN_PROGRESS")

    bar.restart_button.click()
    second = engine_of(window)
    assert second is not first and second.pid != first.pid
    qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_READY, timeout=STARTED_MS)
    assert not bar.isVisible()
    # The new engine follows the old one's job to its end; the table shows it.
    wait_followed_to_completed(qtbot, data_dir, window, sent.local_id)
    assert runs_received(server) == 1  # sent once, never again
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (1,)
    window.close()


def test_submit_waits_visibly_for_a_restarting_engine(qtbot: QtBot, data_dir: Path) -> None:
    window = process_window(qtbot, data_dir)
    bridge = window.bridge
    assert bridge is not None
    qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_READY, timeout=STARTED_MS)
    os.kill(pid_of(engine_of(window)), signal.SIGKILL)
    qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_STOPPED, timeout=30_000)
    bridge.restart_engine()
    os.kill(pid_of(engine_of(window)), signal.SIGSTOP)  # still starting, for sure
    button = window.request.submit_button
    assert button.isEnabled()
    try:
        window.request.request_submit()
        assert not button.isEnabled() and button.text() == ENGINE_WAIT_TEXT
    finally:
        os.kill(pid_of(engine_of(window)), signal.SIGCONT)
    qtbot.waitUntil(lambda: button.isEnabled() and button.text() == "Submit", timeout=STARTED_MS)
    qtbot.waitUntil(lambda: window.jobs_panel.model.rowCount() == 1, timeout=30_000)
    window.close()


def test_a_submit_to_an_engine_that_cannot_start_fails_in_words_and_submit_comes_back(
    qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = process_window(qtbot, data_dir)
    bridge = window.bridge
    assert bridge is not None
    qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_READY, timeout=STARTED_MS)
    os.kill(pid_of(engine_of(window)), signal.SIGKILL)
    qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_STOPPED, timeout=30_000)
    broken: Callable[[Path], list[str]] = lambda _folder: [  # noqa: E731
        sys.executable,
        "-c",
        "import sys; sys.stdin.readline(); sys.exit(3)",
    ]
    monkeypatch.setattr(remote_module, "engine_command", broken)
    bridge.restart_engine()
    button = window.request.submit_button
    window.request.request_submit()
    assert button.text() == ENGINE_WAIT_TEXT
    qtbot.waitUntil(lambda: button.isEnabled() and button.text() == "Submit", timeout=30_000)
    banner = window.request.banner
    assert banner.isVisible() and "exit status 3" in banner.label.text()
    # Its start's failure is told after the failed command's (both fail as the process ends).
    qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_STOPPED, timeout=30_000)
    assert "exit status 3" in window.engine_bar.label.text()
    assert window.engine_bar.restart_button.isVisible()
    window.close()


def test_a_hung_engine_is_not_answering_and_a_restart_kills_it(
    qtbot: QtBot, data_dir: Path
) -> None:
    def start() -> RemoteEngine:
        engine = RemoteEngine(data_dir)
        engine.start()
        return engine

    first = start()
    bridge = EngineBridge(first, restart=start, answer_timeout_s=0.5, ping_interval_ms=50)
    bar = EngineBar(bridge)
    qtbot.addWidget(bar)
    try:
        qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_READY, timeout=STARTED_MS)
        os.kill(pid_of(first), signal.SIGSTOP)
        qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_NOT_ANSWERING, timeout=30_000)
        assert "has not answered for" in bar.label.text()
        assert bar.restart_button.isVisibleTo(bar)
        bar.restart_button.click()
        assert first.ended.result(timeout=30) == -signal.SIGKILL  # killed, not waited for
        qtbot.waitUntil(lambda: bridge.engine_state == ENGINE_READY, timeout=STARTED_MS)
        assert bridge.engine is not first
    finally:
        bridge.close()
        bridge.engine.close()


def test_a_job_running_elsewhere_when_the_window_closes_is_ended_by_the_next_window(
    qtbot: QtBot, data_dir: Path, external: tuple[SandboxThread, Target]
) -> None:
    server, target = external
    first = process_window(qtbot, data_dir)
    assert first.bridge is not None
    sent = first.bridge.submit(target, SLOW_JOB).result(timeout=60)
    engine = engine_of(first)
    first.close()
    assert engine.ended.result(timeout=60) == 0  # closed: history written, lease released
    assert stored_state(data_dir, sent.local_id) in ("IN_QUEUE", "IN_PROGRESS")

    second = process_window(qtbot, data_dir)
    qtbot.waitUntil(
        lambda: stored_state(data_dir, sent.local_id) == "COMPLETED", timeout=STARTED_MS
    )
    assert runs_received(server) == 1
    second.close()


def test_two_windows_show_one_job_and_the_one_left_open_adopts_it_when_the_other_closes(
    qtbot: QtBot,
    data_dir: Path,
    external: tuple[SandboxThread, Target],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, target = external
    asked = SandboxRequests(monkeypatch)
    # Each engine process keeps the environment it was started with: its key tells its requests.
    monkeypatch.setenv("RUNPOD_API_KEY", "key-of-the-first-window")
    first = process_window(qtbot, data_dir)
    monkeypatch.setenv("RUNPOD_API_KEY", "key-of-the-second-window")
    second = process_window(qtbot, data_dir)
    assert first.bridge is not None and second.bridge is not None
    sent = first.bridge.submit(target, {"input": {"sandbox": {"duration": 6}}}).result(timeout=60)
    # The second window's table reads the store: it shows the job the first one follows.
    qtbot.waitUntil(
        lambda: second.jobs_panel.model.row_of(sent.local_id) is not None, timeout=30_000
    )
    assert follower_pid(data_dir, sent.local_id) == pid_of(engine_of(first))

    engine = engine_of(first)
    first.close()
    assert engine.ended.result(timeout=60) == 0  # its lease released: the job is free at once
    polled_before = len(asked.keys(f"/{sent.job_id}"))
    assert stored_state(data_dir, sent.local_id) in ("IN_QUEUE", "IN_PROGRESS")

    adopter = pid_of(engine_of(second))
    qtbot.waitUntil(lambda: follower_pid(data_dir, sent.local_id) == adopter, timeout=60_000)
    wait_followed_to_completed(qtbot, data_dir, second, sent.local_id)
    assert runs_received(server) == 1
    assert asked.keys("/run") == ["key-of-the-first-window"]  # sent once, by the first
    polls = asked.keys(f"/{sent.job_id}")
    assert set(polls[:polled_before]) <= {"key-of-the-first-window"}
    assert polls[polled_before:] and set(polls[polled_before:]) == {"key-of-the-second-window"}
    second.close()
