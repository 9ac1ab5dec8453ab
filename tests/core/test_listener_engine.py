"""The listener plugged into the real Engine: a sandbox job finishes from its webhook delivery.

Polls are set an hour apart, so only the delivery can move the job to COMPLETED; afterwards the
tracker no longer follows it (no status poll after the delivery). The listener and the engine's
JobStore share ``jobs.sqlite3``, each with its own connection.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gui.core.deliveries import Delivery, DeliveryStore
from gui.core.listener import WebhookListener, tracker_callback
from gui.core.records import JobState
from tests.core.test_listener import TOKEN

engine_module = pytest.importorskip("gui.core.engine")
tracker_module = pytest.importorskip("gui.core.tracker")
sandbox = pytest.importorskip("gui.sandbox")

HOUR = 3600.0


def test_a_sandbox_job_is_completed_by_its_webhook_and_no_longer_polled(data_dir: Path) -> None:
    engine = engine_module.Engine(
        data_dir,
        rate_limits=None,
        poll_policy=tracker_module.PollPolicy(first_s=HOUR, min_s=HOUR, max_s=HOUR),
        sandbox_config=sandbox.SandboxConfig(workers=1, default_duration_s=0.05),
    )
    engine.start()
    store = DeliveryStore(data_dir / "jobs.sqlite3")
    seen: list[Delivery] = []
    arrived = threading.Event()
    listener = WebhookListener(
        store, TOKEN, port=0, on_delivery=tracker_callback(engine.apply_external_update)
    )
    listener.subscribe(lambda delivery: (seen.append(delivery), arrived.set()))
    try:
        target = engine.sandbox_target().result(timeout=30)
        engine.submit_coroutine(listener.start()).result(timeout=10)
        submitted = engine.submit(target, {"input": {"x": 1}, "webhook": listener.url}).result(30)
        assert submitted.state == JobState.IN_QUEUE

        assert arrived.wait(timeout=15), "no delivery arrived"
        (job,) = [j for j in engine.jobs() if j.local_id == submitted.local_id]
        assert job.state == JobState.COMPLETED
        assert job.output == {"x": 1}
        assert job.webhook_deliveries == 1
        assert not engine.service.tracker.is_tracked(job.local_id)
        (delivery,) = seen
        assert delivery.job_id == job.job_id
        assert delivery.matched_local_id == job.local_id
        assert store.get(delivery.id).matched_local_id == job.local_id  # type: ignore[union-attr]
    finally:
        if listener.running:
            engine.submit_coroutine(listener.stop()).result(timeout=10)
        engine.close()
        store.close()
