"""The bridge against a real Engine and its sandbox: coalesced batches, results on the Qt thread."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QThread, QTimer
from pytestqt.qtbot import QtBot

from gui.core.engine.engine import Engine
from gui.core.records import JobRecord, JobState
from gui.core.targets import Target
from gui.ui.bridge import EngineBridge
from tests.support import engine_fixtures
from tests.support.waiting import wait_until

engine = engine_fixtures.engine
sandbox = engine_fixtures.sandbox


def _latest(batches: list[list[JobRecord]]) -> dict[str, JobRecord]:
    latest: dict[str, JobRecord] = {}
    for batch in batches:
        for record in batch:
            latest[record.local_id] = record
    return latest


def test_many_jobs_arrive_in_few_batches_on_the_qt_thread(
    qtbot: QtBot, engine: Engine, sandbox: Target
) -> None:
    bridge = EngineBridge(engine)
    batches: list[list[JobRecord]] = []
    threads: list[bool] = []

    def on_changed(records: list[JobRecord]) -> None:
        threads.append(QThread.currentThread() is bridge.thread())
        batches.append(records)

    bridge.sig_jobs_changed.connect(on_changed)
    futures = [
        engine.submit(sandbox, {"input": {"n": n, "sandbox": {"duration": 0.02}}})
        for n in range(60)
    ]
    local_ids = {future.result(timeout=30).local_id for future in futures}

    def all_completed() -> bool:
        latest = _latest(batches)
        return set(latest) == local_ids and all(
            r.state == JobState.COMPLETED for r in latest.values()
        )

    qtbot.waitUntil(all_completed, timeout=20_000)
    # 60 jobs x 4 states = 240 events; the bridge delivers them in far fewer, de-duplicated batches.
    assert len(batches) < 60
    assert all(len({r.local_id for r in batch}) == len(batch) for batch in batches)
    assert all(threads)
    bridge.close()


def test_pending_events_never_send_a_model_back_in_time(
    qtbot: QtBot, engine: Engine, sandbox: Target
) -> None:
    bridge = EngineBridge(engine)
    batches: list[list[JobRecord]] = []
    bridge.sig_jobs_changed.connect(batches.append)
    # No Qt event is processed while the job runs: its events wait in the bridge, unflushed.
    record = engine.submit(sandbox, {"input": {"x": 1}}).result(timeout=30)
    wait_until(
        lambda: any(r.local_id == record.local_id and r.terminal for r in engine.jobs()),
        "the sandbox job finished",
    )
    snapshot = {r.local_id: r for r in bridge.snapshot()}
    assert snapshot[record.local_id].state == JobState.COMPLETED
    # What was pending is as old as (or older than) the snapshot: a model filled from the snapshot
    # must not be sent back to SUBMITTING or IN_QUEUE by it.
    qtbot.wait(150)
    states = [r.state for batch in batches for r in batch if r.local_id == record.local_id]
    assert all(state == JobState.COMPLETED for state in states), states
    bridge.close()


def test_actions_report_failures_as_readable_messages(
    qtbot: QtBot, engine: Engine, sandbox: Target
) -> None:
    bridge = EngineBridge(engine)
    with qtbot.waitSignal(bridge.sig_action_failed, timeout=10_000) as blocker:
        bridge.request_retry("no-such-local-id")
    message = blocker.args[0]
    assert message.startswith("Could not retry the job: ")
    assert "Traceback" not in message
    bridge.close()


def test_cancel_and_health_round_trip(qtbot: QtBot, engine: Engine, sandbox: Target) -> None:
    bridge = EngineBridge(engine)
    batches: list[list[JobRecord]] = []
    bridge.sig_jobs_changed.connect(batches.append)
    record = engine.submit(sandbox, {"input": {"sandbox": {"duration": 30}}}).result(timeout=30)
    assert record.job_id is not None  # /run answered before submit's future ended
    qtbot.waitUntil(lambda: record.local_id in _latest(batches), timeout=10_000)
    with qtbot.waitSignal(bridge.sig_health_changed, timeout=10_000) as health:
        bridge.request_health(sandbox)
    assert health.args[0] == sandbox.name
    assert "jobs" in health.args[1] and "workers" in health.args[1]
    bridge.request_cancel(record.local_id)
    qtbot.waitUntil(
        lambda: _latest(batches)[record.local_id].state == JobState.CANCELLED, timeout=10_000
    )
    with qtbot.waitSignal(bridge.sig_jobs_removed, timeout=10_000) as removed:
        bridge.request_remove([record.local_id])
    assert removed.args[0] == [record.local_id]
    bridge.close()


def test_a_closed_bridge_starts_no_timer_for_events_that_came_before(
    qtbot: QtBot, engine: Engine, sandbox: Target
) -> None:
    """A flush asked for before ``close`` is still queued after it: it must not start the flush
    timer of a bridge that may next be let go off the Qt thread (see the test below)."""
    bridge = EngineBridge(engine)
    engine.submit(sandbox, {"input": {"x": 1}}).result(timeout=30)  # JobAdded asked for a flush
    bridge.close()
    QCoreApplication.processEvents()  # delivers the queued request
    assert [timer for timer in bridge.findChildren(QTimer) if timer.isActive()] == []


def test_a_submit_answers_its_record_and_a_closed_bridge_sends_nothing(
    qtbot: QtBot, engine: Engine, sandbox: Target
) -> None:
    bridge = EngineBridge(engine)
    answers: list[JobRecord] = []
    bridge.deliver(bridge.submit(sandbox, {"input": {"x": 1}}), answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=20_000)
    assert [record.request for record in answers] == [{"input": {"x": 1}}]
    bridge.close()
    unsent = bridge.submit(sandbox, {"input": {"x": 2}})
    assert unsent.cancelled()
    assert [record.request for record in engine.jobs()] == [{"input": {"x": 1}}]


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_what_lives_to_a_flush_is_frozen(qtbot: QtBot, engine: Engine, sandbox: Target) -> None:
    import gc
    import weakref

    bridge = EngineBridge(engine)
    cycle = _Cycle()
    alive = weakref.ref(cycle)
    gc.unfreeze()
    flushed: list[int] = []
    bridge.sig_jobs_changed.connect(lambda records: flushed.append(len(records)))
    engine.submit(sandbox, {"input": {"n": 1}}).result(timeout=30)
    qtbot.waitUntil(lambda: bool(flushed), timeout=10_000)
    assert gc.get_freeze_count() > 0  # the flush froze what lived to it, the cycle too
    del cycle
    gc.collect()
    assert alive() is not None  # frozen: the ordinary passes don't see it
    bridge.close()


IDLE_PASS = """
import gc, weakref
from gui.ui.runtime import CollectorPolicy
class Cycle:
    def __init__(self):
        self.me = self
policy = CollectorPolicy()
cycle = Cycle()
alive = weakref.ref(cycle)
policy.after_flush()
del cycle
gc.collect()
assert alive() is not None, "not frozen"
assert not policy.maintain(), "a full pass right after a flush"
policy._last_flush -= policy.IDLE_S
policy._last_full_pass -= policy.EVERY_S
assert policy.maintain(), "no full pass once idle"
assert alive() is None, "the frozen cycle outlived the idle pass"
assert gc.get_freeze_count() > 0, "survivors not frozen again"
print("ok")
"""


def test_the_idle_full_pass_collects_cycles_that_died_frozen() -> None:
    """In a process of its own: the pass collects everything, whatever earlier tests left."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", IDLE_PASS], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.stdout.strip() == "ok", done.stderr
