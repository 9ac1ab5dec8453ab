"""The listener plugged into the real Engine: a sandbox job finishes from its webhook delivery.

Polls are set an hour apart, so only the delivery can move the job to COMPLETED; afterwards the
tracker no longer follows it (no status poll after the delivery). The listener and the engine's
JobStore share ``jobs.sqlite3``, each with its own connection.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

from gui.core.engine.engine import Engine
from gui.core.engine.tracker import PollPolicy
from gui.core.records import JobState
from gui.core.storage.store import DB_FILENAME, JobStore
from gui.core.webhooks.deliveries import Delivery, DeliveryStore
from gui.core.webhooks.listener import WebhookListener
from gui.sandbox import SandboxConfig, SandboxServer
from tests.support.listener_helpers import TOKEN
from tests.support.waiting import wait_until

HOUR = 3600.0


def test_a_sandbox_job_is_completed_by_its_webhook_and_no_longer_polled(data_dir: Path) -> None:
    engine = Engine(
        data_dir,
        rate_limits=None,
        poll_policy=PollPolicy(first_s=HOUR, min_s=HOUR, max_s=HOUR),
        sandbox=partial(SandboxServer, SandboxConfig(workers=1, default_duration_s=0.05)),
    )
    engine.start()
    store = DeliveryStore(data_dir / "jobs.sqlite3")
    seen: list[Delivery] = []
    arrived = threading.Event()
    listener = WebhookListener(store, TOKEN, port=0, on_stored=engine.merge_delivery)
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


def test_a_streaming_job_ended_by_its_webhook_keeps_every_chunk(data_dir: Path) -> None:
    """The end arrives by webhook before the last ``/stream`` read (polls are an hour apart, so
    no poll reads the stream or the end): the job is followed until its stream is drained, and
    the stored record holds all 8 chunks, as the CLI and a request with its own webhook get."""
    engine = Engine(
        data_dir,
        rate_limits=None,
        poll_policy=PollPolicy(first_s=HOUR, min_s=HOUR, max_s=HOUR),
        sandbox=partial(SandboxServer, SandboxConfig(workers=1, default_duration_s=0.05)),
    )
    engine.start()
    store = DeliveryStore(data_dir / "jobs.sqlite3")
    arrived = threading.Event()
    listener = WebhookListener(store, TOKEN, port=0, on_stored=engine.merge_delivery)
    listener.subscribe(lambda delivery: arrived.set())
    chunks = [f"chunk {i}" for i in range(1, 9)]
    try:
        target = engine.sandbox_target().result(timeout=30)
        engine.submit_coroutine(listener.start()).result(timeout=10)
        body = {"input": {"sandbox": {"duration": 0.2, "stream": 8}}, "webhook": listener.url}
        submitted = engine.submit(target, body).result(30)
        assert arrived.wait(timeout=15), "no delivery arrived"
        wait_for_terminal(engine, submitted.local_id)
    finally:
        if listener.running:
            engine.submit_coroutine(listener.stop()).result(timeout=10)
        engine.close()
        store.close()

    history = JobStore(data_dir / DB_FILENAME)
    try:
        (stored,) = [j.record for j in history.load() if j.record.local_id == submitted.local_id]
    finally:
        history.close()
    assert stored.state == JobState.COMPLETED
    assert stored.webhook_deliveries == 1
    assert stored.output == chunks
    assert stored.stream == chunks


def wait_for_terminal(engine: Any, local_id: str) -> None:
    """Until the job is terminal (its end comes with its last stream read, just after the
    delivery); fails after 15 s without asserting anything about the time it took."""
    wait_until(
        lambda: next(j for j in engine.jobs() if j.local_id == local_id).terminal,
        "the job ended",
    )
