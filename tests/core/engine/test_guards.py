"""The engine applies each profile's spend guards while it follows a job (gui.core.engine.guards):
against the built-in sandbox over loopback, with a real SQLite file. A guard cancels the job (it
stays in the history, unlike RunPod's ttl), and the history says which guard acted and why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from gui.core.account.guards import SpendGuards
from gui.core.engine.engine import Engine
from gui.core.profiles.profiles import ProfileStore
from gui.core.records import GUARD_STEP, JobRecord, JobState
from gui.core.storage.history import HistoryReader
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import SANDBOX_ENDPOINT_ID, SANDBOX_PROFILE
from gui.sandbox import EndpointSpec, SandboxConfig, SandboxServer
from tests.support.engine_fixtures import FAST_POLLS
from tests.support.waiting import wait_until


@contextmanager
def guarded_engine(data_dir: Path, guards: SpendGuards, **config: Any) -> Iterator[Engine]:
    ProfileStore(data_dir).set_guards(SANDBOX_PROFILE, guards)
    sandbox = SandboxConfig(**{"workers": 1, "default_duration_s": 0.05, **config})
    engine = Engine(data_dir, rate_limits=None, poll_policy=FAST_POLLS,
                    sandbox=partial(SandboxServer, sandbox))  # fmt: skip
    engine.start()
    try:
        yield engine
    finally:
        engine.close()


def ended(engine: Engine, local_id: str, timeout: float = 30.0) -> JobRecord:
    def done() -> JobRecord | None:
        record = next(r for r in engine.jobs() if r.local_id == local_id)
        return record if record.terminal else None

    return wait_until(done, f"job {local_id} ended", timeout=timeout)


def on_disk(engine: Engine, data_dir: Path, local_id: str) -> JobRecord:
    engine.flush().result(timeout=10)
    with HistoryReader(data_dir / DB_FILENAME) as reader:
        record = reader.get(local_id)
    assert record is not None
    return record


def steps(record: JobRecord) -> list[str]:
    return [step for _, step in record.history]


def test_the_retry_guard_cancels_a_job_whose_worker_always_crashes(data_dir: Path) -> None:
    with guarded_engine(data_dir, SpendGuards(max_retries=2)) as engine:
        sandbox = engine.sandbox_target().result(timeout=10)
        body = {"input": {"sandbox": {"worker_crash": True, "duration": 0.2}}}
        local_id = engine.submit(sandbox, body).result(timeout=10).local_id
        record = ended(engine, local_id)
        stored = on_disk(engine, data_dir, local_id)
        assert engine.guards is not None and engine.guards.cancelled == [(local_id, "max_retries")]

    assert record.state is JobState.CANCELLED
    for seen in (record, stored):
        assert seen.note is not None and "RunPod retried the job 3 times" in seen.note
        assert "more than the limit of 2" in seen.note
        guard_steps = [s for s in steps(seen) if s.startswith(GUARD_STEP)]
        assert guard_steps == ["GUARD: cancelling: retried 3 times (limit 2)"]
        assert steps(seen).index(guard_steps[0]) == len(seen.history) - 2
        assert steps(seen)[-1] == "CANCELLED"
        assert seen.facts is not None and seen.facts["guard"]["kind"] == "max_retries"


def test_a_job_that_does_not_start_in_time_is_cancelled_and_kept(data_dir: Path) -> None:
    scaled_down = EndpointSpec(SANDBOX_ENDPOINT_ID, workers_max=0)  # jobs stay IN_QUEUE
    guards = SpendGuards(start_within_s=0.5)
    with guarded_engine(data_dir, guards, endpoints=[scaled_down]) as engine:
        sandbox = engine.sandbox_target().result(timeout=10)
        local_id = engine.submit(sandbox, {"input": {}}).result(timeout=10).local_id
        record = ended(engine, local_id)
        stored = on_disk(engine, data_dir, local_id)

    assert record.state is JobState.CANCELLED and record.started_at is None
    assert steps(stored)[-2:] == ["GUARD: cancelling: not started within 0 s", "CANCELLED"]
    assert stored.note is not None and "still waiting in the queue" in stored.note
    assert stored.facts is not None and stored.facts["guard"]["kind"] == "start_within"


def test_a_job_that_does_not_end_in_time_is_cancelled_while_it_runs(data_dir: Path) -> None:
    with guarded_engine(data_dir, SpendGuards(finish_within_s=1.0)) as engine:
        sandbox = engine.sandbox_target().result(timeout=10)
        body = {"input": {"sandbox": {"duration": 60}}}
        local_id = engine.submit(sandbox, body).result(timeout=10).local_id
        record = ended(engine, local_id)

    assert record.state is JobState.CANCELLED
    assert "IN_PROGRESS" in steps(record)  # it ran, and was stopped
    assert "GUARD: cancelling: not ended within 1 s" in steps(record)
    assert record.facts is not None and record.facts["guard"]["kind"] == "finish_within"


def test_without_guards_nothing_is_cancelled(data_dir: Path) -> None:
    with guarded_engine(data_dir, SpendGuards()) as engine:
        sandbox = engine.sandbox_target().result(timeout=10)
        body = {"input": {"sandbox": {"worker_crash": 3, "duration": 0.1}}}
        record = ended(engine, engine.submit(sandbox, body).result(timeout=10).local_id)
        assert engine.guards is not None and engine.guards.cancelled == []

    assert record.state is JobState.COMPLETED
    assert not any(step.startswith(GUARD_STEP) for step in steps(record))
