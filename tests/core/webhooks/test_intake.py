"""webhook_intake: what the listener makes of a body and its headers, without HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gui.core.redact import REDACTED
from gui.core.webhooks.intake import (
    Arrival,
    clean_headers,
    is_applicable,
    new_delivery,
    parse_delivery_body,
)

TOKEN = "k" * 43


def arrival(body: bytes) -> Arrival:
    return Arrival(body=body, remote="127.0.0.1", headers={}, received_at=1.0)


@pytest.mark.parametrize(
    ("payload", "applicable"),
    [
        ({"id": "job-1", "status": "COMPLETED"}, True),
        ({"id": "job-1"}, True),
        ({"output": None}, True),  # the local worker's shape
        ({"id": None, "output": 1}, False),  # an id that is there but unusable
        ({"id": "", "output": 1}, False),
        ({"id": "x" * 513}, False),
        ({"id": "\ud800"}, False),
        ({"status": "COMPLETED"}, False),
        ([{"id": "job-1"}], False),
        ("job-1", False),
    ],
)
def test_which_payloads_the_tracker_may_apply(payload: Any, applicable: bool) -> None:
    assert is_applicable(payload) is applicable


def test_headers_are_joined_and_cleaned() -> None:
    headers = clean_headers(
        [
            ("X-Trace", "a"),
            ("X-Trace", "b"),
            ("Authorization", "Bearer secret-key"),
            ("Cookie", "session=1"),
            ("Referer", f"http://127.0.0.1:8787/webhook/{TOKEN}"),
        ],
        TOKEN,
    )
    assert headers == {
        "X-Trace": "a, b",
        "Authorization": REDACTED,
        "Cookie": REDACTED,
        "Referer": f"http://127.0.0.1:8787/webhook/{REDACTED}",
    }


def test_a_utf8_body_is_kept_as_sent_and_classified() -> None:
    body = b'{"id": "j", "status": "FAILED",  "error": "caf\xc3\xa9"}'
    entry = new_delivery(arrival(body), TOKEN)
    assert entry.raw == body.decode()
    assert (entry.job_id, entry.status, entry.size) == ("j", "FAILED", len(body))
    assert entry.path == "/webhook/<token>"


def test_a_utf16_body_is_read_and_stored_re_serialised() -> None:
    body = json.dumps({"id": "j", "output": "é"}).encode("utf-16")
    entry = new_delivery(arrival(body), TOKEN)
    assert entry.payload == {"id": "j", "output": "é"}
    assert entry.raw is None  # the store serialises it as UTF-8 JSON


def test_the_token_goes_wherever_it_hides() -> None:
    url = f"https://tunnel.example/webhook/{TOKEN}"
    body = json.dumps({"id": "j", "webhook": url, "output": {TOKEN: [url]}}).encode()
    entry = new_delivery(arrival(body), TOKEN)
    assert TOKEN not in json.dumps(entry.payload) and TOKEN not in (entry.raw or "")
    assert entry.payload["webhook"] == f"https://tunnel.example/webhook/{REDACTED}"
    assert json.loads(entry.raw or "") == entry.payload


@pytest.mark.parametrize(
    "body", [b"NaN", b'{"a": -Infinity}', b"[]", b'{"a": 1} x', b"\xff", b""], ids=repr
)
def test_what_is_not_a_json_object_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_delivery_body(body)
    with pytest.raises(ValueError):
        new_delivery(arrival(body), TOKEN)
