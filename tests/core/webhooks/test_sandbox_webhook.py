"""One rule for every way of sending: the built-in sandbox reports to the console's listener.

The rule lives in ``Engine.submit`` (the editor, a batch and Send again all come through it). A real
Engine (built-in sandbox over loopback, real SQLite file) and a real WebhookListener; polls are an
hour apart, so only the delivery can end the job.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

from gui.core.engine.engine import Engine, with_sandbox_webhook
from gui.core.engine.tracker import PollPolicy
from gui.core.records import JobState
from gui.core.targets import Target
from gui.core.webhooks.deliveries import DeliveryStore
from gui.core.webhooks.listener import WebhookListener
from gui.sandbox import SandboxConfig, SandboxServer
from tests.support.listener_helpers import TOKEN

HOUR = 3600.0
CLOUD = Target(name="prod", kind="cloud", base_url="https://api.example.test/v2", endpoint_id="e")


def test_a_sandbox_request_without_a_webhook_is_completed_by_the_listener(data_dir: Path) -> None:
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
    listener.subscribe(lambda _delivery: arrived.set())
    try:
        target = engine.sandbox_target().result(timeout=30)
        engine.submit_coroutine(listener.start()).result(timeout=10)
        engine.send_sandbox_webhooks_to(listener.url)
        submitted = engine.submit(target, {"input": {"x": 1}}).result(timeout=30)
        assert arrived.wait(timeout=15), "no delivery arrived"
        (job,) = [j for j in engine.jobs() if j.local_id == submitted.local_id]
        assert job.state == JobState.COMPLETED and job.webhook_deliveries == 1
        assert job.request["webhook"].endswith("/webhook/keyring:listener-token")

        engine.send_sandbox_webhooks_to(None)  # the listener stopped: nothing is added
        plain = engine.submit(target, {"input": {"x": 2}}).result(timeout=30)
        assert "webhook" not in plain.request
    finally:
        if listener.running:
            engine.submit_coroutine(listener.stop()).result(timeout=10)
        engine.close()
        store.close()


def test_the_rule_adds_a_webhook_only_for_the_sandbox_and_keeps_a_request_s_own() -> None:
    sandbox = Target(name="sandbox", kind="sandbox", base_url="http://127.0.0.1:1", endpoint_id="s")
    url = "http://127.0.0.1:8787/webhook/abc"
    own = {"input": {}, "webhook": "https://example.test/hook"}
    assert with_sandbox_webhook(sandbox, {"input": {}}, url) == {"input": {}, "webhook": url}
    assert with_sandbox_webhook(sandbox, own, url) == own
    assert with_sandbox_webhook(sandbox, {"input": {}}, None) == {"input": {}}
    assert with_sandbox_webhook(CLOUD, {"input": {}}, url) == {"input": {}}
