"""Taking over a history (which jobs, by profile), sending NOT_SENT jobs again as themselves, and
stopping in the middle of a batch: against the sandbox over loopback, with a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.core.engine.engine import Engine
from gui.core.engine.tracker import PollPolicy
from gui.core.errors import ConsoleError
from gui.core.records import JobRecord, JobState, NoteKind
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.core.targets import Target
from gui.sandbox import FaultConfig, SandboxConfig, SandboxServer, SandboxThread
from tests.support.waiting import wait_until

FAST_POLLS = PollPolicy(first_s=0.05, min_s=0.05, max_s=0.2)


def by_id(engine: Engine) -> dict[str, JobRecord]:
    return {r.local_id: r for r in engine.jobs()}


@pytest.mark.slow
def test_an_engine_takes_over_only_the_unfinished_jobs_of_the_profiles_it_is_given(
    data_dir: Path,
) -> None:
    with SandboxThread(SandboxConfig(workers=4, default_duration_s=0.05)) as server:
        first, second = (Target(name=name, kind="cloud", base_url=server.base_url,
                                endpoint_id="ep") for name in ("first", "second"))  # fmt: skip
        engine = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS)
        engine.start()
        try:
            slow = {"input": {"sandbox": {"duration": 1.5}}}
            ours = [engine.submit(first, slow).result(timeout=30).local_id for _ in range(2)]
            theirs = engine.submit(second, slow).result(timeout=30).local_id
        finally:
            engine.close()  # the jobs go on in the sandbox, unfinished in the history

        later = Engine(
            data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS, resume_profiles={"first"}
        )
        later.start()
        try:
            assert set(later.resumed) == set(ours)
            wait_until(lambda: all(by_id(later)[i].terminal for i in ours))
            sandbox_jobs = server.server.routes.endpoints["ep"]
            wait_until(
                lambda: sandbox_jobs.health()["jobs"]["completed"] == 3,
                "the other profile's job ended in the sandbox too",
            )
            assert not later.service.tracker.is_tracked(theirs)
            jobs = by_id(later)
        finally:
            later.close()
    assert all(jobs[i].state == JobState.COMPLETED for i in ours)
    assert jobs[theirs].state == JobState.IN_QUEUE  # not followed by this engine


def test_a_not_sent_job_is_sent_again_as_itself(data_dir: Path) -> None:
    keys = {"key": "wrong"}
    with SandboxThread(SandboxConfig(api_key="sesame", default_duration_s=0.05)) as server:
        target = Target(name="cloud", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        engine = Engine(
            data_dir,
            sandbox=SandboxServer,
            poll_policy=FAST_POLLS,
            key_provider=lambda t: keys["key"],
        )
        engine.start()
        try:
            refused = engine.submit(target, {"input": {"n": 7}}).result(timeout=30)
            assert refused.state == JobState.NOT_SENT and "401" in (refused.note or "")
            keys["key"] = "sesame"
            again = engine.resend(refused.local_id).result(timeout=30)
            assert again.local_id == refused.local_id and again.job_id and again.note is None
            wait_until(lambda: by_id(engine)[refused.local_id].terminal)
            done = by_id(engine)[refused.local_id]
            with pytest.raises(ConsoleError, match="Only NOT_SENT"):
                engine.resend(refused.local_id).result(timeout=30)
        finally:
            engine.close()
        queued = server.server.routes.endpoints["ep"].job_count
    assert done.state == JobState.COMPLETED and done.output == {"n": 7}
    states = [state for _, state in done.history]
    assert states[:3] == ["SUBMITTING", "NOT_SENT", "SUBMITTING"] and states[-1] == "COMPLETED"
    assert queued == 1
    assert len(engine.jobs()) == 1  # the same row, not a new job


def test_a_status_failure_note_is_cleared_by_the_next_answer_even_after_a_restart(
    data_dir: Path,
) -> None:
    keys = {"key": "sesame"}
    with SandboxThread(SandboxConfig(api_key="sesame", default_duration_s=0.05)) as server:
        target = Target(name="cloud", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        engine = Engine(data_dir, poll_policy=FAST_POLLS, key_provider=lambda t: keys["key"])
        engine.start()
        try:
            sent = engine.submit(target, {"input": {"sandbox": {"duration": 2.0}}})
            local_id = sent.result(timeout=30).local_id
            keys["key"] = "wrong"  # the status requests are refused (401) from now on
            wait_until(lambda: by_id(engine)[local_id].note is not None)
            failing = by_id(engine)[local_id]
        finally:
            engine.close()
        history = JobStore(data_dir / DB_FILENAME)
        try:
            kept = next(j.record for j in history.load() if j.record.local_id == local_id)
        finally:
            history.close()
        keys["key"] = "sesame"
        later = Engine(data_dir, poll_policy=FAST_POLLS, key_provider=lambda t: keys["key"])
        later.start()
        try:
            wait_until(lambda: by_id(later)[local_id].terminal)
            done = by_id(later)[local_id]
        finally:
            later.close()
    assert failing.note_kind is NoteKind.STATUS_UNREACHABLE and not failing.terminal
    assert "401" in (failing.note or "") and "keeps trying" in (failing.note or "")
    assert kept.note == failing.note and kept.note_kind is NoteKind.STATUS_UNREACHABLE
    assert done.state == JobState.COMPLETED and done.note is None and done.note_kind is None


def test_a_request_that_held_a_secret_is_not_sent_again_from_the_history(data_dir: Path) -> None:
    target = Target(name="down", kind="cloud", base_url="http://127.0.0.1:9/v2", endpoint_id="e")
    s3 = {"accessId": "a", "accessSecret": "TOPSECRET", "bucketName": "b",
          "endpointUrl": "https://s3.test"}  # fmt: skip
    body = {"input": {}, "s3Config": s3}
    engine = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS)
    engine.start()
    try:
        record = engine.submit(target, body).result(timeout=60)
        assert record.state == JobState.NOT_SENT
        with pytest.raises(ConsoleError, match="redacted"):
            engine.resend(record.local_id).result(timeout=30)
    finally:
        engine.close()


def test_stop_sending_says_which_requests_had_left(data_dir: Path) -> None:
    # One request at a time, each answered after 3 s: one is on the wire, the others wait.
    faults = FaultConfig(latency_ms=(3000, 3000))
    with SandboxThread(SandboxConfig(default_duration_s=0.05, faults=faults)) as server:
        target = Target(name="slow", kind="cloud", base_url=server.base_url, endpoint_id="ep")
        engine = Engine(
            data_dir, sandbox=SandboxServer, rate_limits={"run": (1000, 1)}, poll_policy=FAST_POLLS
        )
        engine.start()
        try:
            futures = [engine.submit(target, {"input": {"n": n}}) for n in range(4)]
            client = engine.service.client_for(target)
            wait_until(lambda: client.request_counts["run"] == 1)
            reason = "the console was interrupted (SIGTERM)"
            assert engine.stop_sending(reason).result(timeout=30) == 4
            records = [f.result(timeout=30) for f in futures]
            late = engine.submit(target, {"input": {"n": 4}}).result(timeout=30)
        finally:
            engine.close()
    assert all(r.state == JobState.NOT_SENT and r.job_id is None for r in [*records, late])
    notes = [r.note or "" for r in records]
    on_the_wire = [n for n in notes if "on its way" in n and "may have queued it" in n]
    never_left = [n for n in notes if "never saw it" in n]
    assert len(on_the_wire) == 1 and len(never_left) == 3
    assert all("interrupted (SIGTERM)" in n and "closed the connection" not in n for n in notes)
    assert "never saw it" in (late.note or "")
