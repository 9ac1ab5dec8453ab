"""Fuzzing delivery bodies (hypothesis): always a plain HTTP answer, never a 500, never a crash;
only JSON objects are stored, and only usable ones reach the tracker, once.

One listener serves the whole module from a background thread (as it runs in the engine), and the
examples are sent over a real keep-alive HTTP connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.listener_helpers import ThreadedListener

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedListener, Any]]:
    with (
        ThreadedListener(tmp_path_factory.mktemp("fuzz") / "jobs.sqlite3") as served,
        httpx.Client(timeout=10.0) as client,
    ):
        yield served, client


def tracker_may_apply(value: Any) -> bool:
    """The rule, written independently of the listener: an object with a usable string id, or
    the local worker's shape (``output`` and no ``id``)."""
    if not isinstance(value, dict):
        return False
    if "id" not in value:
        return "output" in value
    job_id = value["id"]
    if not isinstance(job_id, str) or not 0 < len(job_id) <= 512:
        return False
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in job_id)


# Text including lone surrogates (json.dumps escapes them as \udXXX).
any_text = st.text(st.characters(exclude_categories=()), max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)
id_values = st.sampled_from(["job-1", "sync-2-u1", "", "\ud800"]) | any_text | scalars
deliveries = st.builds(
    lambda base, job_id, status, output: {
        **base,
        **({} if job_id is None else {"id": job_id}),
        "status": status,
        **({} if output is None else {"output": output}),
    },
    st.dictionaries(any_text, json_values, max_size=3),
    st.none() | id_values,
    st.sampled_from(["COMPLETED", "FAILED", "TIMED_OUT", "IN_PROGRESS"]) | scalars,
    st.none() | json_values,
)


def send(served: ThreadedListener, client: Any, body: bytes) -> httpx.Response:
    return client.post(
        served.listener.url, content=body, headers={"Content-Type": "application/json"}
    )


def check_answer(served: ThreadedListener, client: Any, body: bytes) -> None:
    before_count = served.store.count()
    before_applied = len(served.applied)
    response = send(served, client, body)
    assert response.status_code in (200, 400), response.text
    try:
        expected: Any = json.loads(body)
        parsed = True
    except (ValueError, RecursionError):
        parsed = False
    if response.status_code == 400:
        assert served.store.count() == before_count  # refused: nothing stored
        assert len(served.applied) == before_applied
        return
    assert parsed and isinstance(expected, dict)
    delivery = served.wait_seen(response.json()["delivery"])
    stored = served.store.get(delivery.id)
    assert stored is not None and stored.payload == expected
    assert stored.size == len(body)
    applied_now = served.applied[before_applied:]
    if tracker_may_apply(expected) and delivery.repeat_of is None:
        assert applied_now == [expected]
        assert delivery.matched_local_id == (
            "local-" + expected["id"] if isinstance(expected.get("id"), str) else None
        )
    else:
        assert applied_now == []
    assert all(tracker_may_apply(payload) for payload in served.applied)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(value=json_values | deliveries)
@example(value={"id": "\ud800", "output": 1})
@example(value={"output": None})
@example(value=[{"id": "job-1"}])
def test_any_json_value_gets_an_answer_and_only_usable_objects_are_applied(
    fuzzed: tuple[ThreadedListener, Any], value: Any
) -> None:
    served, client = fuzzed
    check_answer(served, client, json.dumps(value).encode())


def mangle(value: Any, cut: float, flip: int) -> bytes:
    text = json.dumps(value).encode()
    text = text[: max(0, int(len(text) * cut))] if cut < 1 else text
    if text and flip:
        position = flip % len(text)
        text = text[:position] + bytes([text[position] ^ 0x5A]) + text[position + 1 :]
    return text


@FUZZ
@given(
    body=st.binary(max_size=300)
    | st.builds(mangle, deliveries, st.floats(0, 1.2), st.integers(0, 500))
)
@example(body=b'{"id": "x", "delayTime": NaN}')
@example(body=b"\xef\xbb\xbf{}")
@example(body=b'{"id": "a", "id": 5, "output": 1}')
def test_any_bytes_get_an_answer_and_nothing_invalid_is_applied(
    fuzzed: tuple[ThreadedListener, Any], body: bytes
) -> None:
    served, client = fuzzed
    check_answer(served, client, body)


def test_the_listener_kept_serving_through_the_fuzzing(
    fuzzed: tuple[ThreadedListener, Any],
) -> None:
    served, client = fuzzed
    response = send(served, client, b'{"id": "after-fuzz", "status": "COMPLETED", "output": 1}')
    assert response.status_code == 200
    assert served.wait_seen(response.json()["delivery"]).matched_local_id == "local-after-fuzz"
