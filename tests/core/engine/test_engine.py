"""The Engine against its built-in sandbox over real loopback HTTP, with a real SQLite file."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from gui.core.engine.engine import Engine, JobAdded, JobChanged, JobsRemoved
from gui.core.engine.merge import QUIT_NOTE
from gui.core.engine.tracker import PollPolicy
from gui.core.events import EngineEvent
from gui.core.records import JobRecord, JobState
from gui.core.storage.history import HistoryReader
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import Target
from gui.sandbox import SandboxConfig, SandboxServer, SandboxThread
from tests.support.waiting import wait_until

FAST_POLLS = PollPolicy(first_s=0.05, min_s=0.05, max_s=0.2)


def job(engine: Engine, local_id: str) -> JobRecord:
    return next(r for r in engine.jobs() if r.local_id == local_id)


def finished(engine: Engine, local_id: str, timeout: float = 10.0) -> JobRecord:
    wait_until(lambda: job(engine, local_id).terminal, timeout=timeout)
    return job(engine, local_id)


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    engine = Engine(
        data_dir,
        sandbox=partial(
            SandboxServer, SandboxConfig(workers=2, default_duration_s=0.1, retention_run_s=60)
        ),
        poll_policy=FAST_POLLS,
    )
    engine.start()
    yield engine
    engine.close()


@pytest.fixture
def sandbox(engine: Engine) -> Target:
    return engine.sandbox_target().result(timeout=10)


def test_run_is_recorded_first_then_followed_to_completed(engine: Engine, sandbox: Target) -> None:
    events: list[EngineEvent] = []
    engine.subscribe(events.append)
    body = {"input": {"prompt": "hi"}, "s3Config": {"accessId": "a", "accessSecret": "TOPSECRET",
            "bucketName": "b", "endpointUrl": "https://s3.test"}}  # fmt: skip
    sent = engine.submit(sandbox, body, template="greeting").result(timeout=10)
    assert sent.job_id and sent.state in (JobState.IN_QUEUE, JobState.IN_PROGRESS)
    done = finished(engine, sent.local_id)
    assert done.state == JobState.COMPLETED and done.output == {"prompt": "hi"}
    assert done.template == "greeting" and done.delay_time_ms is not None
    assert isinstance(events[0], JobAdded) and events[0].record.state == JobState.SUBMITTING
    assert all(isinstance(e, JobChanged) for e in events[1:])
    assert next(s for _, s in done.history) == "SUBMITTING"
    assert [s for _, s in done.history][-1] == "COMPLETED"
    engine.flush().result(timeout=5)
    raw = (engine.data_dir / DB_FILENAME).read_bytes()
    assert b"TOPSECRET" not in raw and done.request["s3Config"]["accessSecret"] != "TOPSECRET"


def test_failed_job_keeps_the_parsed_error(engine: Engine, sandbox: Target) -> None:
    sent = engine.submit(sandbox, {"input": {"sandbox": {"fail": "boom"}}}).result(timeout=10)
    done = finished(engine, sent.local_id)
    assert done.state == JobState.FAILED
    assert done.parsed_error is not None and "boom" in done.parsed_error.message


def test_runsync_answers_at_once_when_quick(engine: Engine, sandbox: Target) -> None:
    done = engine.submit(sandbox, {"input": {"q": 1}}, "runsync").result(timeout=10)
    assert done.state == JobState.COMPLETED and done.output == {"q": 1}
    assert not engine.service.tracker.is_tracked(done.local_id)


@pytest.mark.slow
def test_runsync_that_outlives_its_wait_goes_on_to_the_tracker(
    engine: Engine, sandbox: Target
) -> None:
    body = {"input": {"sandbox": {"duration": 1.6}}}
    sent = engine.submit(sandbox, body, "runsync", wait_ms=1000).result(timeout=10)
    assert not sent.terminal and sent.job_id
    assert engine.service.tracker.is_tracked(sent.local_id)
    assert finished(engine, sent.local_id).state == JobState.COMPLETED


def test_progress_and_stream(engine: Engine, sandbox: Target) -> None:
    body = {"input": {"sandbox": {"duration": 0.8, "progress": 4, "stream": 4}}}
    sent = engine.submit(sandbox, body).result(timeout=10)
    wait_until(lambda: job(engine, sent.local_id).progress is not None)
    done = finished(engine, sent.local_id)
    assert done.state == JobState.COMPLETED
    assert done.stream == ["chunk 1", "chunk 2", "chunk 3", "chunk 4"]


def test_a_streaming_runsync_that_ends_in_its_answer_keeps_its_chunks(
    engine: Engine, sandbox: Target
) -> None:
    body = {"input": {"sandbox": {"duration": 0.2, "stream": 4}}}
    done = engine.submit(sandbox, body, "runsync").result(timeout=10)
    assert done.state == JobState.COMPLETED
    assert done.stream == ["chunk 1", "chunk 2", "chunk 3", "chunk 4"] == done.output


def test_cancel_a_queued_and_a_running_job(engine: Engine, sandbox: Target) -> None:
    long = {"input": {"sandbox": {"duration": 30}}}
    running = [engine.submit(sandbox, long).result(timeout=10) for _ in range(2)]  # both workers
    queued = engine.submit(sandbox, long).result(timeout=10)
    wait_until(lambda: job(engine, running[0].local_id).state == JobState.IN_PROGRESS)
    assert engine.cancel(queued.local_id).result(timeout=10).state == JobState.CANCELLED
    assert engine.cancel(running[0].local_id).result(timeout=10).state == JobState.CANCELLED
    # Late polls must not overwrite the cancellation: wait for three more polls (of running[1],
    # each started after the one before was answered), so a poll of running[0] that was on the
    # wire at the cancel has had its answer merged by then.
    tracker = engine.service.tracker
    polls = tracker.polls
    wait_until(lambda: tracker.polls >= polls + 3, "three more polls")
    assert job(engine, running[0].local_id).state == JobState.CANCELLED
    with pytest.raises(Exception, match="nothing to cancel"):
        engine.cancel(queued.local_id).result(timeout=10)
    engine.cancel(running[1].local_id).result(timeout=10)


def test_retry_requeues_a_failed_job_under_the_same_id(engine: Engine, sandbox: Target) -> None:
    sent = engine.submit(sandbox, {"input": {"sandbox": {"fail": "again"}}}).result(timeout=10)
    failed = finished(engine, sent.local_id)
    retried = engine.retry(sent.local_id).result(timeout=10)
    assert retried.job_id == failed.job_id and not retried.terminal
    again = finished(engine, sent.local_id)
    assert again.state == JobState.FAILED
    assert [s for _, s in again.history].count("FAILED") == 2
    with pytest.raises(Exception, match="Only FAILED or TIMED_OUT"):
        done = engine.submit(sandbox, {"input": {}}, "runsync").result(timeout=10)
        engine.retry(done.local_id).result(timeout=10)


def test_health_purge_and_remove(engine: Engine, sandbox: Target) -> None:
    health = engine.health(sandbox).result(timeout=10)
    assert "jobs" in health and "workers" in health
    assert "removed" in engine.purge_queue(sandbox).result(timeout=10)
    removed: list[tuple[str, ...]] = []
    engine.subscribe(lambda e: removed.append(e.local_ids) if isinstance(e, JobsRemoved) else None)
    sent = engine.submit(sandbox, {"input": {}}, "runsync").result(timeout=10)
    engine.remove([sent.local_id]).result(timeout=10)
    assert removed == [(sent.local_id,)] and all(r.local_id != sent.local_id for r in engine.jobs())


def test_webhook_news_ends_a_job_and_stops_polling(engine: Engine, sandbox: Target) -> None:
    sent = engine.submit(sandbox, {"input": {"sandbox": {"duration": 30}}}).result(timeout=10)
    payload = {"id": sent.job_id, "status": "COMPLETED", "output": {"from": "webhook"},
               "executionTime": 5, "input": {}, "webhook": "https://x.test/h"}  # fmt: skip
    updated = engine.submit_coroutine(engine.apply_external_update(payload, "webhook")).result(5)
    assert updated is not None and updated.state == JobState.COMPLETED
    assert updated.webhook_deliveries == 1 and updated.output == {"from": "webhook"}
    assert not engine.service.tracker.is_tracked(sent.local_id)
    late = {"id": sent.job_id, "status": "FAILED", "error": "late"}
    again = engine.submit_coroutine(engine.apply_external_update(late, "webhook")).result(5)
    assert again is not None and again.state == JobState.COMPLETED and again.error is None
    unknown = {"id": "nobody", "status": "COMPLETED"}
    assert (
        engine.submit_coroutine(engine.apply_external_update(unknown, "webhook")).result(5) is None
    )


def test_failed_requests_leave_the_job_not_sent_with_a_note(engine: Engine) -> None:
    with SandboxThread(SandboxConfig(api_key="right-key")) as server:
        locked = Target(name="locked", kind="cloud", base_url=server.base_url, endpoint_id="e")
        refused = engine.submit(locked, {"input": {}}).result(timeout=10)
    assert refused.state == JobState.NOT_SENT and "401" in (refused.note or "")
    nowhere = Target(name="gone", kind="cloud", base_url="http://127.0.0.1:9/v2", endpoint_id="e")
    engine.service.client_for(nowhere).retry_policy = type(
        engine.service.client_for(nowhere).retry_policy)(attempts=2, base_delay_s=0.01)  # fmt: skip
    unreachable = engine.submit(nowhere, {"input": {}}).result(timeout=10)
    assert unreachable.state == JobState.NOT_SENT and "Could not reach" in (unreachable.note or "")


def test_the_key_comes_from_the_provider_at_the_last_moment(data_dir: Path) -> None:
    keys = {"value": "wrong"}
    engine = Engine(
        data_dir,
        sandbox=SandboxServer,
        key_provider=lambda target: keys["value"],
        poll_policy=FAST_POLLS,
    )
    engine.start()
    try:
        with SandboxThread(SandboxConfig(api_key="right", default_duration_s=0.05)) as server:
            target = Target(name="t", kind="cloud", base_url=server.base_url, endpoint_id="e")
            assert engine.submit(target, {"input": {}}).result(10).state == JobState.NOT_SENT
            keys["value"] = "right"
            sent = engine.submit(target, {"input": {}}).result(10)
            assert finished(engine, sent.local_id).state == JobState.COMPLETED
        engine.flush().result(5)
        assert b"right" not in (data_dir / DB_FILENAME).read_bytes()
    finally:
        engine.close()


def test_restart_resumes_open_jobs_and_sandbox_jobs_end_with_the_quit(data_dir: Path) -> None:
    with SandboxThread(SandboxConfig(workers=4, default_duration_s=0.1)) as server:
        target = Target(name="ext", kind="cloud", base_url=server.base_url, endpoint_id="e")
        first = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS)
        first.start()
        builtin = first.sandbox_target().result(10)
        slow = {"input": {"sandbox": {"duration": 1.0}}}
        external = [first.submit(target, slow).result(10).local_id for _ in range(3)]
        quit_on = first.submit(builtin, {"input": {"sandbox": {"duration": 30}}}).result(10)
        assert [r.local_id for r in first.open_sandbox_jobs()] == [quit_on.local_id]
        first.close()

        second = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS)
        second.start()
        try:
            for local_id in external:
                assert finished(second, local_id).state == JobState.COMPLETED
            # Ended before this start: in the store, not in the engine's memory.
            assert quit_on.local_id not in {r.local_id for r in second.jobs()}
            with HistoryReader(data_dir / DB_FILENAME) as reader:
                ended = reader.get(quit_on.local_id)  # as the first engine left it: not a 404
                assert reader.count() == 4
            assert ended is not None
            assert ended.state == JobState.CANCELLED and ended.note == QUIT_NOTE
            assert [s for _, s in ended.history][-1] == "CANCELLED"
            assert second.open_sandbox_jobs() == [] and len(second.jobs()) == 3
        finally:
            second.close()


def test_sandbox_jobs_left_open_by_a_crash_expire_on_the_next_start(data_dir: Path) -> None:
    from gui.core.storage.store import JobStore

    crashed = JobRecord(local_id="a" * 32, profile="Sandbox", endpoint_id="sandbox",
                        operation="run", request={"input": {}}, submitted_at=time.time(),
                        state=JobState.IN_PROGRESS, job_id="gone")  # fmt: skip
    store = JobStore(data_dir / DB_FILENAME)
    store.save(crashed, Target("Sandbox", "sandbox", "http://127.0.0.1:9/v2", "sandbox"))
    store.close()
    engine = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS)
    engine.start()
    try:
        expired = finished(engine, crashed.local_id)
        assert expired.state == JobState.EXPIRED and expired.error is None
    finally:
        engine.close()


def test_an_engine_built_without_a_sandbox_says_so_when_asked_for_one(data_dir: Path) -> None:
    engine = Engine(data_dir, poll_policy=FAST_POLLS)  # no SandboxFactory: gui.core imports none
    engine.start()
    try:
        with pytest.raises(RuntimeError, match="no built-in sandbox"):
            engine.sandbox_target().result(10)
    finally:
        engine.close()


def test_close_leaves_no_threads(data_dir: Path) -> None:
    before = set(threading.enumerate())
    engine = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS)
    engine.start()
    target = engine.sandbox_target().result(10)
    engine.submit(target, {"input": {"sandbox": {"duration": 5}}}).result(10)
    engine.close()
    engine.close()
    assert set(threading.enumerate()) <= before


def test_a_webhook_that_never_comes_is_flagged_missing(data_dir: Path) -> None:
    engine = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS, webhook_grace_s=0.3)
    engine.start()
    try:
        target = engine.sandbox_target().result(10)
        ours = "http://127.0.0.1:9/webhook/token"  # nobody listens: every try fails
        engine.expect_webhooks_at([ours])
        watched = engine.submit(target, {"input": {}, "webhook": ours}).result(10)
        elsewhere = engine.submit(target, {"input": {}, "webhook": "http://127.0.0.1:9/x"}).result(
            10
        )
        delivered = engine.submit(target, {"input": {}, "webhook": ours}).result(10)
        finished(engine, delivered.local_id)
        payload = {"id": delivered.job_id, "status": "COMPLETED", "output": {}}
        engine.submit_coroutine(engine.apply_external_update(payload, "webhook")).result(5)
        wait_until(lambda: job(engine, watched.local_id).webhook_missing)
        finished(engine, elsewhere.local_id)
        time.sleep(0.5)
        assert not job(engine, elsewhere.local_id).webhook_missing  # not the console's webhook
        assert not job(engine, delivered.local_id).webhook_missing
        assert job(engine, delivered.local_id).webhook_deliveries == 1
    finally:
        engine.close()


def test_timed_out_then_retried_and_ttl_expiry_while_followed(
    engine: Engine, sandbox: Target
) -> None:
    slow = {"input": {"sandbox": {"duration": 5}}, "policy": {"executionTimeout": 300}}
    timed_out = finished(engine, engine.submit(sandbox, slow).result(10).local_id)
    assert timed_out.state == JobState.TIMED_OUT
    assert not engine.retry(timed_out.local_id).result(10).terminal
    assert finished(engine, timed_out.local_id).state == JobState.TIMED_OUT

    blockers = [engine.submit(sandbox, {"input": {"sandbox": {"duration": 3}}}).result(10)
                for _ in range(2)]  # fmt: skip
    short_lived = {"input": {}, "policy": {"ttl": 400}}  # dies in the queue behind the blockers
    expired = finished(engine, engine.submit(sandbox, short_lived).result(10).local_id)
    assert expired.state == JobState.EXPIRED and "did not fail" in (expired.note or "")
    assert [s for _, s in expired.history][-2:] == ["IN_QUEUE", "EXPIRED"]
    for blocker in blockers:
        engine.cancel(blocker.local_id).result(10)


def _fill_both_workers(engine: Engine, sandbox: Target) -> list[JobRecord]:
    blockers = [engine.submit(sandbox, {"input": {"sandbox": {"duration": 3}}}).result(10)
                for _ in range(2)]  # fmt: skip
    for blocker in blockers:
        wait_until(lambda b=blocker: job(engine, b.local_id).state == JobState.IN_PROGRESS)
    return blockers


def test_jobs_the_console_purged_are_purged_not_expired(engine: Engine, sandbox: Target) -> None:
    blockers = _fill_both_workers(engine, sandbox)
    queued = [engine.submit(sandbox, {"input": {}}).result(10) for _ in range(3)]
    assert engine.purge_queue(sandbox).result(10)["removed"] == 3
    for record in queued:
        purged = finished(engine, record.local_id)
        assert purged.state == JobState.PURGED and purged.error is None
        assert (purged.note or "").startswith("Purged: removed from the endpoint's queue by")
        assert [s for _, s in purged.history][-2:] == ["IN_QUEUE", "PURGED"]
    for blocker in blockers:  # running, so the purge left them alone
        assert not job(engine, blocker.local_id).terminal
        engine.cancel(blocker.local_id).result(10)


def test_jobs_purged_by_another_client_expire(engine: Engine, sandbox: Target) -> None:
    blockers = _fill_both_workers(engine, sandbox)
    queued = [engine.submit(sandbox, {"input": {}}).result(10) for _ in range(2)]
    answer = httpx.post(f"{sandbox.endpoint_url}/purge-queue", timeout=10)  # not the console
    assert answer.json()["removed"] == 2
    for record in queued:
        expired = finished(engine, record.local_id)
        assert expired.state == JobState.EXPIRED and "did not fail" in (expired.note or "")
    for blocker in blockers:
        engine.cancel(blocker.local_id).result(10)


def test_a_sandbox_profile_target_without_address_starts_the_sandbox(engine: Engine) -> None:
    from gui.core.targets import SANDBOX_ENDPOINT_ID, SANDBOX_PROFILE

    unresolved = Target(SANDBOX_PROFILE, "sandbox", "", SANDBOX_ENDPOINT_ID)  # as profiles give it
    assert "workers" in engine.health(unresolved).result(10)
    sent = engine.submit(unresolved, {"input": {"x": 1}}, "runsync").result(10)
    assert sent.state == JobState.COMPLETED and sent.output == {"x": 1}


@pytest.mark.slow
def test_the_limiter_keeps_a_batch_free_of_429s(data_dir: Path) -> None:
    limits = {"run": (25, 5), "status": (60, 10)}  # per 10 s, on both sides
    config = SandboxConfig(workers=20, default_duration_s=0.05, rate_limits=True,
                           rate_limit_overrides=limits)  # fmt: skip
    with SandboxThread(config) as server:
        target = Target(name="limited", kind="cloud", base_url=server.base_url, endpoint_id="e")
        engine = Engine(data_dir, sandbox=SandboxServer, rate_limits=limits, poll_policy=FAST_POLLS)
        engine.start()
        try:
            sent = [engine.submit(target, {"input": {"n": n}}) for n in range(30)]
            ids = [future.result(30).local_id for future in sent]
            for local_id in ids:
                assert finished(engine, local_id, timeout=30).state == JobState.COMPLETED
            client = engine.service.clients[target]
            assert client.request_counts["run"] == 30  # more than one window's worth
            assert client.answer_counts[429] == 0
        finally:
            engine.close()


def test_a_failing_key_provider_leaves_the_job_not_sent(data_dir: Path) -> None:
    from gui.core.errors import SecretUnavailable

    def no_keyring(target: Target) -> str | None:
        raise SecretUnavailable("The keyring is locked. Unlock it and try again.")

    engine = Engine(
        data_dir, sandbox=SandboxServer, key_provider=no_keyring, poll_policy=FAST_POLLS
    )
    engine.start()
    try:
        target = engine.sandbox_target().result(10)
        sent = engine.submit(target, {"input": {}}).result(10)
        assert sent.state == JobState.NOT_SENT and "keyring is locked" in (sent.note or "")
    finally:
        engine.close()


def test_a_failed_runsync_answered_with_http_400_is_failed_not_refused(engine: Engine) -> None:
    with SandboxThread(SandboxConfig(runsync_failed_status=400, default_duration_s=0.05)) as s:
        target = Target(name="docs", kind="cloud", base_url=s.base_url, endpoint_id="e")
        body = {"input": {"sandbox": {"fail": "bad input"}}}
        done = engine.submit(target, body, "runsync").result(10)
    assert done.state == JobState.FAILED and done.job_id
    assert done.parsed_error is not None and "bad input" in done.parsed_error.message


def test_a_window_engine_holds_only_unfinished_jobs_and_reads_an_ended_one_back_to_act(
    data_dir: Path,
) -> None:
    with SandboxThread(SandboxConfig(workers=2, default_duration_s=0.05)) as server:
        target = Target(name="ext", kind="cloud", base_url=server.base_url, endpoint_id="e")
        first = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS)
        first.start()
        try:
            failed = first.submit(target, {"input": {"sandbox": {"fail": "flaky"}}}).result(10)
            assert finished(first, failed.local_id).state == JobState.FAILED
            first.service.forget_ended_after = 0.0  # the next ended job is let go at once
            done = first.submit(target, {"input": {}}).result(10).local_id
            wait_until(lambda: done not in {r.local_id for r in first.jobs()}, "let go")
        finally:
            first.close()

        second = Engine(data_dir, sandbox=SandboxServer, poll_policy=FAST_POLLS)
        second.start()
        try:
            assert second.jobs() == []  # both ended: the store holds them
            retried = second.retry(failed.local_id).result(10)  # read back for the action
            assert retried.local_id == failed.local_id and retried.job_id == failed.job_id
            again = finished(second, failed.local_id)
            assert [s for _, s in again.history].count("FAILED") == 2
            second.remove([done]).result(10)  # a job the engine does not hold is removed too
            second.flush().result(10)
            with HistoryReader(data_dir / DB_FILENAME) as reader:
                assert reader.get(done) is None and reader.count() == 1
        finally:
            second.close()


def test_a_command_line_engine_lets_an_ended_job_go_when_told_and_keeps_an_open_one(
    data_dir: Path,
) -> None:
    engine = Engine(
        data_dir,
        sandbox=partial(SandboxServer, SandboxConfig(workers=2, default_duration_s=0.05)),
        poll_policy=FAST_POLLS,
        kind="run",
    )
    engine.start()
    try:
        target = engine.sandbox_target().result(timeout=10)
        ended = engine.submit(target, {"input": {"n": 1}}).result(10).local_id
        finished(engine, ended)
        open_job = engine.submit(target, {"input": {"sandbox": {"duration": 30}}}).result(10)
        assert engine.let_go([ended, open_job.local_id]).result(10) == 1
        assert {r.local_id for r in engine.jobs()} == {open_job.local_id}
        store = engine.service._store
        assert ended not in store._history_written and ended not in store._stream_written
        engine.flush().result(10)
        with HistoryReader(data_dir / DB_FILENAME) as reader:
            kept = reader.get(ended)
            assert kept is not None and kept.state == JobState.COMPLETED  # the store holds it
        assert engine.retry(ended).exception(10) is not None  # read back: COMPLETED, not retried
    finally:
        engine.close()
