"""The engine records the release and GPU of the worker that ran each job, and its cost estimate
once it ended (gui.core.engine.job_facts): against the sandbox over loopback (its management API,
its GPU catalog), with a real SQLite file; the management API is the profile's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from gui.core.engine.engine import Engine
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.records import JobRecord, JobState
from gui.core.storage.history import HistoryReader, parse_search
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import SANDBOX_ENDPOINT_ID, Target
from gui.sandbox import EndpointSpec, SandboxConfig, SandboxServer, SandboxThread
from tests.support.engine_fixtures import FAST_POLLS
from tests.support.waiting import wait_until

PER_SECOND_4090 = 0.00031  # the sandbox catalog's serverless price of an RTX 4090
NEW, OLD = "v2 runpod/sandbox-worker:1.1.0", "v1 runpod/sandbox-worker:0.9.0"


@contextmanager
def engine_with(data_dir: Path, config: SandboxConfig, **options: Any) -> Iterator[Engine]:
    engine = Engine(data_dir, rate_limits=None, poll_policy=FAST_POLLS,
                    sandbox=partial(SandboxServer, config), **options)  # fmt: skip
    engine.start()
    try:
        yield engine
    finally:
        engine.close()


def settled(engine: Engine, local_ids: list[str]) -> list[JobRecord]:
    """The jobs once ended and their facts recorded, as the history file keeps them."""

    def ended() -> bool:
        records = [r for r in engine.jobs() if r.local_id in local_ids]
        return len(records) == len(local_ids) and all(r.terminal for r in records)

    wait_until(ended, "the jobs ended")
    engine.facts_settled().result(timeout=30)
    engine.flush().result(timeout=10)
    with HistoryReader(engine.data_dir / DB_FILENAME) as reader:
        found = [reader.get(local_id) for local_id in local_ids]
    assert all(record is not None for record in found)
    return [record for record in found if record is not None]


def test_each_job_keeps_its_workers_release_gpu_and_cost_during_a_rolling_release(
    data_dir: Path,
) -> None:
    rolling = EndpointSpec(SANDBOX_ENDPOINT_ID, version=2, image="runpod/sandbox-worker:1.1.0",
                           outdated_workers=1)  # fmt: skip
    config = SandboxConfig(workers=2, default_duration_s=0.05, endpoints=[rolling])
    with engine_with(data_dir, config) as engine:
        sandbox = engine.sandbox_target().result(timeout=10)
        body = {"input": {"sandbox": {"duration": 0.4}}}
        sent = [engine.submit(sandbox, body) for _ in range(6)]
        records = settled(engine, [future.result(timeout=10).local_id for future in sent])

    releases = {}
    for record in records:
        assert record.state is JobState.COMPLETED and record.facts is not None
        facts = record.facts
        assert facts["worker"] == record.worker_id
        assert facts["gpu"] == "NVIDIA GeForce RTX 4090" and facts["gpu_count"] == 1
        releases.setdefault(record.worker_id, set()).add(record.release)
        cost = facts["cost"]
        seconds = -(-(record.execution_time_ms or 0) // 1000)
        assert cost["seconds"] == seconds >= 1
        assert cost["usd"] == pytest.approx(seconds * PER_SECOND_4090)
    assert sorted(r for (r,) in releases.values()) == [OLD, NEW]  # one release per worker
    with HistoryReader(data_dir / DB_FILENAME) as reader:
        on_old = reader.page(parse_search("release:v1"))
    assert {r.worker_id for r in on_old} == {w for w, (r,) in releases.items() if r == OLD}


def test_a_job_that_never_ran_gets_a_cost_that_says_why_and_no_worker(data_dir: Path) -> None:
    scaled_down = EndpointSpec(SANDBOX_ENDPOINT_ID, workers_max=0)
    config = SandboxConfig(workers=1, endpoints=[scaled_down])
    with engine_with(data_dir, config) as engine:
        sandbox = engine.sandbox_target().result(timeout=10)
        local_id = engine.submit(sandbox, {"input": {}}).result(timeout=10).local_id
        wait_until(lambda: any(r.job_id for r in engine.jobs()), "the job queued")
        engine.cancel(local_id).result(timeout=10)
        (record,) = settled(engine, [local_id])

    assert record.state is JobState.CANCELLED
    assert record.facts == {"cost": {"usd": None, "missing": "the job has no execution time "
                                     "(it never ran)"}}  # fmt: skip


def test_a_cloud_profiles_management_url_serves_its_facts_and_worker_logs(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNPOD_API_URL", raising=False)
    with SandboxThread(SandboxConfig(workers=1, default_duration_s=0.05)) as remote:
        profile = Profile("remote", "cloud", endpoint_id="ep1", base_url=remote.base_url,
                          management_url=remote.base_url)  # fmt: skip
        ProfileStore(data_dir).add(profile)
        target: Target = profile.to_target()
        with engine_with(data_dir, SandboxConfig(), key_provider=lambda t: "a-key") as engine:
            body = {"input": {"sandbox": {"log": ["hello"], "duration": 0.3}}}
            local_id = engine.submit(target, body).result(timeout=10).local_id
            (record,) = settled(engine, [local_id])
            follow = engine.log_follow
            assert follow is not None
            wait_until(lambda: follow.kept.get(local_id, 0) >= 3, "the job's log lines kept")

    assert record.state is JobState.COMPLETED and record.facts is not None
    assert record.facts["gpu"] == "NVIDIA GeForce RTX 4090"
    assert record.facts["cost"]["usd"] == pytest.approx(PER_SECOND_4090)


def test_local_workers_get_no_facts(data_dir: Path) -> None:
    # A local worker is reached like the sandbox's queue API, but it has no management API.
    with SandboxThread(SandboxConfig(workers=1, default_duration_s=0.05)) as worker:
        target = Target("gpu-box", "local", f"{worker.base_url}/local", "")
        with engine_with(data_dir, SandboxConfig()) as engine:
            local_id = engine.submit(target, {"input": {}}).result(timeout=10).local_id
            (record,) = settled(engine, [local_id])

    assert record.state is JobState.COMPLETED and record.facts is None
