"""A real Engine with its built-in sandbox, for the jobs side's tests (no fakes); and a real engine
process (``remote``) for the window's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from gui.core.engine.engine import Engine
from gui.core.engine.process.remote import RemoteEngine
from gui.core.engine.tracker import PollPolicy
from gui.core.targets import Target
from gui.sandbox import SandboxConfig, SandboxServer

FAST_POLLS = PollPolicy(first_s=0.03, min_s=0.03, max_s=0.1)
REMOTE_STARTED_S = 60.0
"""How long an engine process may take to start: a cold interpreter on a loaded machine imports
the HTTP stack slowly."""


@contextmanager
def running_engine(data_dir: Path, **options: Any) -> Iterator[Engine]:
    """A started Engine with fast polls and a quick built-in sandbox (``options`` added), closed
    after the block."""
    started = Engine(
        data_dir,
        rate_limits=None,
        poll_policy=FAST_POLLS,
        sandbox=partial(SandboxServer, SandboxConfig(workers=2, default_duration_s=0.05)),
        **options,
    )
    started.start()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def remote(data_dir: Path) -> Iterator[RemoteEngine]:
    """A started engine process (``job-console engine``) on the test's data folder, closed after."""
    started = RemoteEngine(data_dir)
    started.start().result(timeout=REMOTE_STARTED_S)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    with running_engine(data_dir) as started:
        yield started


@pytest.fixture
def sandbox(engine: Engine) -> Target:
    return engine.sandbox_target().result(timeout=30)


class HeldJobs:
    """The most jobs any engine started meanwhile held (``Engine.jobs()``), counted at each of
    its events: what a command line's batch keeps in memory, by count, not by timing."""

    def __init__(self) -> None:
        self.peak = 0
        self.events = 0

    def watch(self, engine: Engine) -> None:
        def count(event: object) -> None:
            self.events += 1
            self.peak = max(self.peak, len(engine.jobs()))

        engine.subscribe(count)


def watch_held_jobs(monkeypatch: pytest.MonkeyPatch) -> HeldJobs:
    """Watch every Engine started from now on in the test (``HeldJobs``)."""
    held = HeldJobs()
    start = Engine.start

    def watched_start(self: Engine, *, wait: bool = True) -> Any:
        held.watch(self)
        return start(self, wait=wait)

    monkeypatch.setattr(Engine, "start", watched_start)
    return held


def submit_sandbox_job(engine: Engine, target: Target, **sandbox_options: object) -> str:
    """Submit a job whose ``input.sandbox`` is ``sandbox_options``; its local id once recorded."""
    body = {"input": {"prompt": "hi", "sandbox": sandbox_options}}
    return engine.submit(target, body).result(timeout=30).local_id
