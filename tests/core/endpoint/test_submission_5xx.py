"""A ``/run`` answered by a 5xx, both sides of the rule (the client's docstring), against
the sandbox over loopback: a 503 queued nothing and is sent again; a gateway's 502 that came after
the job was queued is not, so the job never runs twice."""

from __future__ import annotations

from pathlib import Path

from gui.core.endpoint.client import RetryPolicy
from gui.core.engine.engine import Engine
from gui.core.engine.tracker import PollPolicy
from gui.core.records import JobState
from gui.core.targets import Target
from gui.sandbox import FaultConfig, SandboxConfig, SandboxServer, SandboxThread
from tests.support.waiting import wait_until

PATIENT = RetryPolicy(attempts=40, base_delay_s=0.01, max_delay_s=0.05, total_s=60)
FAST_POLLS = PollPolicy(first_s=0.05, min_s=0.05, max_s=0.2)


def _engine(data_dir: Path) -> Engine:
    engine = Engine(
        data_dir,
        sandbox=SandboxServer,
        poll_policy=FAST_POLLS,
        retry_policy=PATIENT,
        rate_limits=None,
    )
    engine.start()
    return engine


def test_a_run_answered_503_is_sent_again_and_runs_once(data_dir: Path) -> None:
    faults = FaultConfig(share_5xx=0.5, codes_5xx=(503,))
    with SandboxThread(SandboxConfig(default_duration_s=0.02, faults=faults)) as server:
        target = Target(name="flaky", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        engine = _engine(data_dir)
        try:
            futures = [engine.submit(target, {"input": {"n": n}}) for n in range(20)]
            ids = {f.result(timeout=60).local_id for f in futures}
            wait_until(
                lambda: all(r.terminal for r in engine.jobs() if r.local_id in ids),
                "every job ended",
                timeout=60,
            )
            records = [r for r in engine.jobs() if r.local_id in ids]
            answers = engine.service.client_for(target).answer_counts
        finally:
            engine.close()
        queued = server.server.routes.endpoints["ep"].job_count
    assert answers[503] > 0, "no 503 was injected: the test proves nothing"
    assert all(r.state == JobState.COMPLETED for r in records)
    assert sorted(r.output["n"] for r in records) == list(range(20))
    assert queued == 20  # every job queued once, none twice


def test_a_run_answered_502_after_it_was_queued_is_not_sent_again(data_dir: Path) -> None:
    faults = FaultConfig(share_answer_lost=1.0)
    with SandboxThread(SandboxConfig(default_duration_s=0.02, faults=faults)) as server:
        target = Target(name="gateway", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        engine = _engine(data_dir)
        try:
            records = [engine.submit(target, {"input": {"n": n}}).result(timeout=60)
                       for n in range(5)]  # fmt: skip
        finally:
            engine.close()
        queued = server.server.routes.endpoints["ep"].job_count
    assert queued == 5  # each request reached the sandbox once: none was sent again
    for record in records:
        assert record.state == JobState.NOT_SENT and record.job_id is None
        assert "(502)" in (record.note or "") and "may have queued" in (record.note or "")
