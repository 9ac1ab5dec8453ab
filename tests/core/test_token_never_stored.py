"""The listener's token stands inside the ``webhook`` URL a job carries; it must never be stored.

A real Engine (built-in sandbox over loopback, real SQLite file) and a real WebhookListener: the job
goes out with the token in its webhook URL and completes by its delivery; afterwards no file under
the data folder holds the token, while the job's stored request still shows where the URL pointed.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from gui.core.deliveries import DeliveryStore
from gui.core.engine import Engine
from gui.core.listener import WebhookListener, tracker_callback
from gui.core.records import JobState
from gui.core.redact import REDACTED, redact_body, redact_text
from gui.sandbox import SandboxConfig


def test_listener_token_in_a_webhook_url_never_reaches_a_file(data_dir: Path) -> None:
    token = secrets.token_urlsafe(32)
    engine = Engine(data_dir, sandbox_config=SandboxConfig(workers=1, default_duration_s=0.05))
    engine.start()
    store = DeliveryStore(data_dir / "jobs.sqlite3")
    listener = WebhookListener(
        store, token, port=0, on_delivery=tracker_callback(engine.apply_external_update)
    )
    arrived = threading.Event()
    listener.subscribe(lambda _delivery: arrived.set())
    try:
        target = engine.sandbox_target().result(timeout=30)
        engine.submit_coroutine(listener.start()).result(timeout=10)
        assert token in listener.url
        body = {"input": {"note": f"see {listener.url}"}, "webhook": listener.url}
        submitted = engine.submit(target, body).result(timeout=30)
        assert arrived.wait(timeout=15), "no delivery arrived"
        (job,) = [j for j in engine.jobs() if j.local_id == submitted.local_id]
        assert job.state == JobState.COMPLETED
        assert job.request["webhook"] == listener.url.replace(token, REDACTED)
        assert token not in repr(job.request) and token not in repr(job.output)
    finally:
        if listener.running:
            engine.submit_coroutine(listener.stop()).result(timeout=10)
        engine.close()
        store.close()
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.name.startswith("jobs.sqlite3") for path in files)
    for path in files:
        assert token.encode() not in path.read_bytes(), f"the token was written to {path.name}"


def test_a_registered_secret_is_redacted_inside_any_string() -> None:
    token = secrets.token_urlsafe(32)
    WebhookListener(DeliveryStore.__new__(DeliveryStore), token)  # registers it
    body = {"webhook": f"https://x.test/webhook/{token}", "input": {"list": [f"a{token}b", 3]}}
    clean = redact_body(body)
    assert clean == {
        "webhook": f"https://x.test/webhook/{REDACTED}",
        "input": {"list": [f"a{REDACTED}b", 3]},
    }
    assert body["webhook"].endswith(token)  # the body that is sent keeps it
    assert redact_text(f"POST /webhook/{token} 200") == f"POST /webhook/{REDACTED} 200"
