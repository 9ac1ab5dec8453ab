"""The merge rules and the tracker's scheduling."""

from __future__ import annotations

import asyncio
import itertools
import time

from gui.core.endpoint.answers import JobStatus
from gui.core.engine.merge import mark_expired, merge_status
from gui.core.engine.tracker import JobTracker, PollPolicy
from gui.core.records import JobRecord, JobState
from tests.support.waiting import wait_until_async


def fresh() -> JobRecord:
    return JobRecord(local_id="l", profile="p", endpoint_id="e", operation="run", request={},
                     submitted_at=100.0, state=JobState.IN_QUEUE, job_id="j")  # fmt: skip


def status(**payload: object) -> JobStatus:
    return JobStatus.from_payload({"id": "j", **payload})


def test_progress_while_in_progress_is_not_the_result() -> None:
    record = fresh()
    assert merge_status(record, status(status="IN_PROGRESS", output="2/5"), 101.0)
    assert record.progress == "2/5" and record.output is None and record.started_at == 101.0
    assert merge_status(record, status(status="COMPLETED", output={"r": 1}, executionTime=9), 102)
    assert record.output == {"r": 1} and record.progress == "2/5"
    assert record.finished_at == 102 and record.execution_time_ms == 9


def test_the_first_terminal_state_is_final() -> None:
    record = fresh()
    merge_status(record, status(status="COMPLETED", output=1), 101.0)
    assert not merge_status(record, status(status="FAILED", error="Job ID not found"), 102.0)
    assert not merge_status(record, status(status="IN_PROGRESS"), 103.0)
    assert not mark_expired(record, 104.0)
    assert record.state == JobState.COMPLETED and record.output == 1 and record.error is None
    assert [s for _, s in record.history] == ["COMPLETED"]


def test_expired_is_never_failed() -> None:
    record = fresh()
    assert mark_expired(record, 101.0)
    assert record.state == JobState.EXPIRED and record.error is None and "expired" in record.note


def test_a_failed_job_keeps_output_and_error() -> None:
    record = fresh()
    error = '{"error_type": "E", "error_message": "m"}'
    merge_status(record, status(status="FAILED", output={"partial": 1}, error=error), 101.0)
    assert record.output == {"partial": 1}
    assert record.parsed_error is not None and record.parsed_error.type == "E"


def test_unknown_status_changes_nothing_but_known_fields() -> None:
    record = fresh()
    assert not merge_status(record, status(status="WEIRD"), 101.0)
    assert record.state == JobState.IN_QUEUE


def test_polls_slow_down_with_age_and_stop_when_told() -> None:
    policy = PollPolicy(first_s=0.01, min_s=0.01, max_s=0.2, growth=0.5)
    assert policy.interval(0) == 0.01 and policy.interval(100) == 0.2
    assert policy.interval(100, streaming=True) == 0.2  # stream cap 1 s is above max_s here

    async def main() -> tuple[list[float], int]:
        polls: list[float] = []

        async def poll(local_id: str) -> bool:
            polls.append(time.monotonic())
            return len(polls) < 8

        tracker = JobTracker(poll, policy)
        tracker.start()
        tracker.track("a")
        for _ in range(300):
            if len(polls) >= 8 and not tracker.is_tracked("a"):
                break
            await asyncio.sleep(0.01)
        await tracker.stop()
        assert tracker.polls == len(polls)  # none started beyond those that asked
        return polls, len(tracker)

    polls, left = asyncio.run(main())
    assert len(polls) == 8 and left == 0
    # Lower bounds only (a loaded machine makes sleeps longer, never shorter): each wait is at least
    # the policy's share of the job's age, so the late waits are longer than the first ones.
    for i, (a, b) in enumerate(itertools.pairwise(polls)):
        assert b - a >= policy.interval(a - polls[0]) - 0.002, (i, b - a)
    assert policy.interval(polls[-2] - polls[0]) > policy.min_s


def test_untrack_stops_polling_and_many_jobs_share_one_scheduler() -> None:
    async def main() -> tuple[dict[str, int], int]:
        counts: dict[str, int] = {}

        async def poll(local_id: str) -> bool:
            counts[local_id] = counts.get(local_id, 0) + 1
            return True

        tracker = JobTracker(poll, PollPolicy(first_s=0.0, min_s=0.02, max_s=0.02))
        tracker.start()
        for i in range(5000):
            tracker.track(f"j{i}")
        tracker.track("stop-me")
        await asyncio.sleep(0.05)
        tracker.untrack("stop-me")
        seen = counts.get("stop-me", 0)
        deadline = time.monotonic() + 30  # a slow machine gets there later, not never
        tasks = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            tasks = max(tasks, len(asyncio.all_tasks()))
            if all(counts.get(f"j{i}", 0) >= 2 for i in range(5000)):
                break
        await tracker.stop()
        assert counts.get("stop-me", 0) == seen
        return counts, tasks

    counts, tasks = asyncio.run(main())
    assert all(counts.get(f"j{i}", 0) >= 2 for i in range(5000))
    assert tasks < 300  # one scheduler and bounded polls in flight, not a task per job


STATES = ["IN_QUEUE", "IN_PROGRESS", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT",
          "WEIRD", None]  # fmt: skip


def test_nothing_after_the_first_terminal_answer_changes_the_record() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    answer = st.fixed_dictionaries(
        {"status": st.sampled_from(STATES)},
        optional={"output": st.integers(), "error": st.text(max_size=5),
                  "executionTime": st.integers(0, 10**6), "workerId": st.text(max_size=3)},
    )  # fmt: skip

    @given(st.lists(answer, max_size=12))
    def check(answers: list[dict[str, object]]) -> None:
        record = fresh()
        frozen = None
        for n, payload in enumerate(answers):
            changed = merge_status(record, status(**payload), 100.0 + n)
            if frozen is not None:
                assert not changed and repr(record) == frozen
            elif record.terminal:
                frozen = repr(record)
        states = [s for _, s in record.history]
        assert sum(1 for s in states if JobState(s).terminal) <= 1

    check()


def test_a_poll_started_after_its_job_was_untracked_does_not_ask() -> None:
    """Both jobs come due together, so both poll tasks exist before either runs; the first untracks
    the second, whose task must then end without polling (one wasted request per cancel, before)."""

    async def main() -> list[str]:
        asked: list[str] = []
        tracker: JobTracker

        async def poll(local_id: str) -> bool:
            asked.append(local_id)
            if local_id == "a":
                tracker.untrack("b")
            return False

        tracker = JobTracker(poll, PollPolicy(first_s=0.0))
        tracker.track("a")
        tracker.track("b")
        tracker.track("c")  # due last: its poll task runs after b's
        tracker.start()
        await wait_until_async(lambda: "c" in asked, "c was asked about")
        await tracker.stop()
        assert tracker.polls == 2
        return asked

    assert asyncio.run(main()) == ["a", "c"]
