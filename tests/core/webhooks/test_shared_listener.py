"""One webhook listener for the consoles of a data folder: a second console uses the first one's
listener (same token, same store) and merges the deliveries of its own jobs, once. Two real
engines, a real listener and the sandbox over loopback, one SQLite file; polls are an hour apart,
so only the delivery can end the job."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gui.core.engine.engine import Engine
from gui.core.engine.tracker import PollPolicy
from gui.core.records import JobState
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import Target
from gui.core.webhooks.deliveries import DeliveryStore
from gui.core.webhooks.listener import WebhookListener
from gui.sandbox import SandboxConfig, SandboxServer, SandboxThread
from tests.support.listener_helpers import TOKEN
from tests.support.waiting import wait_until

HOUR = 3600.0


def test_a_second_console_uses_the_first_ones_listener_and_merges_its_own_jobs_deliveries(
    data_dir: Path,
) -> None:
    polls = PollPolicy(first_s=HOUR, min_s=HOUR, max_s=HOUR)
    first = Engine(data_dir, sandbox=SandboxServer, rate_limits=None, poll_policy=polls)
    second = Engine(data_dir, sandbox=SandboxServer, rate_limits=None, poll_policy=polls)
    first.start()
    second.start()
    store = DeliveryStore(data_dir / DB_FILENAME)
    listener = WebhookListener(store, TOKEN, port=0, on_stored=first.merge_delivery)
    try:
        with SandboxThread(SandboxConfig(workers=1, default_duration_s=0.05)) as server:
            target = Target(name="cloud", kind="cloud", base_url=server.base_url, endpoint_id="e")
            first.submit_coroutine(listener.start()).result(timeout=10)
            first.serve_listener(listener.port)
            wait_until(lambda: second.listener_elsewhere(listener.port).result(10) is not None)
            assert "window" in (second.listener_elsewhere(listener.port).result(10) or "")
            assert first.listener_elsewhere(listener.port).result(10) is None  # its own
            sent = second.submit(target, {"input": {}, "webhook": listener.url}).result(30)

            def ended_in_second() -> bool:
                (job,) = [j for j in second.jobs() if j.local_id == sent.local_id]
                return job.state == JobState.COMPLETED

            wait_until(ended_in_second)
            # The first console shows it (another console's job), as the second recorded it.
            wait_until(lambda: any(j.local_id == sent.local_id and j.terminal
                                   for j in first.jobs()))  # fmt: skip
            (job,) = [j for j in second.jobs() if j.local_id == sent.local_id]
    finally:
        first.submit_coroutine(listener.stop()).result(timeout=10)
        second.flush().result(timeout=10)
        first.close()
        second.close()
        store.close()
    assert job.webhook_deliveries == 1
    with sqlite3.connect(data_dir / DB_FILENAME) as conn:
        matched = conn.execute("SELECT matched_local_id FROM deliveries").fetchall()
        stored = conn.execute(
            "SELECT state, webhook_deliveries FROM jobs WHERE local_id = ?", (sent.local_id,)
        ).fetchall()
    assert matched == [(sent.local_id,)]
    assert stored == [("COMPLETED", 1)]
