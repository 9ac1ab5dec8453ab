"""The listener's token stands inside the ``webhook`` URL a job carries; it must never be stored.

A real Engine (built-in sandbox over loopback, real SQLite file) and a real WebhookListener: the job
goes out with the token in its webhook URL and completes by its delivery. The history holds the URL
with a keyring reference where the token stood; that request still validates, and sent again (as
"Send again" and "Resubmit in editor" do) it reaches the listener. No file, export or copied
snippet holds the token.
"""

from __future__ import annotations

import json
import secrets
import threading
from functools import partial
from pathlib import Path

from gui.core.engine.engine import Engine
from gui.core.profiles.s3refs import make_body_resolver
from gui.core.profiles.secrets import LISTENER_TOKEN_REFERENCE, SecretStore
from gui.core.records import JobState
from gui.core.redact import redact_body, redact_text
from gui.core.request.validation import validate_text
from gui.core.storage.export import record_to_dict
from gui.core.storage.snippets import curl_snippet, python_snippet
from gui.core.webhooks.deliveries import DeliveryStore
from gui.core.webhooks.listener import WebhookListener, listener_token
from gui.sandbox import SandboxConfig, SandboxServer


def test_listener_token_in_a_webhook_url_never_reaches_a_file(data_dir: Path) -> None:
    keyring_store = SecretStore()
    token = listener_token(keyring_store)  # made and kept in the (test) keyring
    engine = Engine(
        data_dir,
        sandbox=partial(SandboxServer, SandboxConfig(workers=1, default_duration_s=0.05)),
        body_resolver=make_body_resolver(keyring_store),
    )
    engine.start()
    store = DeliveryStore(data_dir / "jobs.sqlite3")
    listener = WebhookListener(store, token, port=0, on_stored=engine.merge_delivery)
    arrivals: list[str | None] = []
    arrived = threading.Event()
    listener.subscribe(lambda delivery: (arrivals.append(delivery.job_id), arrived.set()))
    try:
        target = engine.sandbox_target().result(timeout=30)
        engine.submit_coroutine(listener.start()).result(timeout=10)
        assert token in listener.url
        body = {"input": {"note": f"see {listener.url}"}, "webhook": listener.url}
        submitted = engine.submit(target, body).result(timeout=30)
        assert arrived.wait(timeout=15), "no delivery arrived"
        (job,) = [j for j in engine.jobs() if j.local_id == submitted.local_id]
        assert job.state == JobState.COMPLETED
        assert job.request["webhook"] == listener.url.replace(token, LISTENER_TOKEN_REFERENCE)
        assert token not in repr(job.request) and token not in repr(job.output)
        # Copied snippets and exports hold the reference too, and the snippets say what it means.
        for snippet in (curl_snippet(job, target), python_snippet(job, target)):
            assert token not in snippet and LISTENER_TOKEN_REFERENCE in snippet
            assert "listener token: put in its URL" in snippet
        assert token not in json.dumps(record_to_dict(job))

        resent_body = redact_body(job.request)  # what the job table resubmits
        assert validate_text(json.dumps(resent_body)).ok
        arrived.clear()
        resent = engine.submit(target, resent_body).result(timeout=30)
        assert arrived.wait(timeout=15), "the resent job's delivery never arrived"
        assert arrivals == [job.job_id, resent.job_id]
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
    reference = LISTENER_TOKEN_REFERENCE
    assert clean == {
        "webhook": f"https://x.test/webhook/{reference}",
        "input": {"list": [f"a{reference}b", 3]},
    }
    assert body["webhook"].endswith(token)  # the body that is sent keeps it
    assert redact_text(f"POST /webhook/{token} 200") == f"POST /webhook/{reference} 200"
