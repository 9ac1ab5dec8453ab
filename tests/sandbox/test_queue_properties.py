"""Property: whatever mix of submits, cancels, retries, purges and expiries happens, the health
counters match the jobs' states, and every job ends up in a state RunPod defines."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.sandbox.config import SandboxConfig
from gui.sandbox.endpoint import SandboxEndpoint
from gui.sandbox.jobs import IN_PROGRESS, IN_QUEUE, TERMINAL, SandboxJob, new_job_id
from gui.sandbox.webhooks import WebhookSender

# (operation, argument): submit a job of some kind, or act on the n-th job submitted so far.
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.sampled_from(["quick", "slow", "fail", "timeout", "ttl"])),
        st.tuples(st.sampled_from(["cancel", "retry", "lookup"]), st.integers(0, 30)),
        st.tuples(st.sampled_from(["purge", "yield", "sweep"]), st.just(0)),
    ),
    max_size=40,
)

INPUTS = {
    "quick": ({}, 600.0, 86_400.0),
    "slow": ({"sandbox": {"duration": 60}}, 600.0, 86_400.0),
    "fail": ({"sandbox": {"fail": True}}, 600.0, 86_400.0),
    "timeout": ({"sandbox": {"duration": 60}}, 0.01, 86_400.0),
    "ttl": ({"sandbox": {"duration": 60}}, 600.0, 0.01),
}


def _counts_match(endpoint: SandboxEndpoint, jobs: list[SandboxJob]) -> None:
    health = endpoint.health()["jobs"]
    assert health["inQueue"] == sum(job.status == IN_QUEUE for job in jobs)
    assert health["inProgress"] == sum(job.status == IN_PROGRESS for job in jobs)


async def _play(operations: list[tuple[str, object]]) -> None:
    config = SandboxConfig(workers=2, default_duration_s=0.001, retention_run_s=60)
    webhooks = WebhookSender(0.01)
    endpoint = SandboxEndpoint("prop", config, webhooks)
    endpoint.start()
    jobs: list[SandboxJob] = []
    try:
        for name, argument in operations:
            if name == "submit":
                job_input, timeout_s, ttl_s = INPUTS[str(argument)]
                job = SandboxJob(
                    id=new_job_id(sync=False),
                    input=dict(job_input),
                    sync=False,
                    execution_timeout_s=timeout_s,
                    ttl_s=ttl_s,
                )
                jobs.append(job)
                endpoint.submit(job)
            elif name in ("cancel", "retry", "lookup") and jobs:
                job = jobs[int(str(argument)) % len(jobs)]
                if endpoint.lookup(job.id) is job:
                    getattr(endpoint, name, lambda _: None)(job)
            elif name == "purge":
                endpoint.purge_queue()
            elif name == "sweep":
                endpoint.sweep()
            # Let workers pick jobs up and timers fire between operations.
            for _ in range(10):
                await asyncio.sleep(0)
            _counts_match(endpoint, jobs)
        await asyncio.sleep(0.05)  # timeouts and TTLs (10 ms) have passed
        endpoint.sweep()
        _counts_match(endpoint, jobs)
        for job in jobs:
            assert job.status in TERMINAL | {IN_QUEUE, IN_PROGRESS, "REMOVED"}
            if job.status == IN_QUEUE:
                assert endpoint.lookup(job.id) is job  # a waiting job is still reachable
    finally:
        await endpoint.close()
        await webhooks.close()


@settings(max_examples=60, deadline=None)
@given(OPERATIONS)
@pytest.mark.slow
def test_health_counters_always_match_job_states(operations: list[tuple[str, object]]) -> None:
    asyncio.run(_play(operations))
