"""WebhookListener over real loopback HTTP: deliveries stored, answered, applied once, shown.

Hostile requests (wrong token, wrong method, bad bodies, oversized or stalled bodies) live in
``test_listener_hostile.py``; fuzzing in ``test_listener_fuzz.py``. The helpers are in
``tests/support/listener_helpers.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gui.core.errors import ListenerPortTaken
from gui.core.redact import REDACTED
from gui.core.webhooks.deliveries import Delivery, DeliveryStore
from gui.core.webhooks.listener import WebhookListener, find_free_port
from tests.support.listener_helpers import COMPLETED, TOKEN, post, run, serving


def test_a_delivery_is_stored_before_the_200_then_applied_and_shown(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, {COMPLETED["id"]: "local-1"}) as served:
            status, answer = await post(served.url, COMPLETED)
            assert status == 200
            assert served.store.count() == 1  # stored by the time the 200 arrived
            await served.wait_seen(1)
            assert served.applied == [COMPLETED]
            shown = served.seen[0]
            assert shown.id == answer["delivery"]
            assert (shown.job_id, shown.status) == (COMPLETED["id"], "COMPLETED")
            assert shown.matched_local_id == "local-1" and shown.repeat_of is None
            stored = served.store.get(shown.id)
            assert stored is not None
            assert stored.payload == COMPLETED
            assert stored.matched_local_id == "local-1"
            assert stored.remote == "127.0.0.1"
            assert stored.headers["Content-Type"] == "application/json"
            assert stored.size > 100
            assert served.listener.received == 1

    run(scenario())
    # The token is a secret: no byte of the history holds it (path stored as /webhook/<token>).
    for path in tmp_path.glob("jobs.sqlite3*"):
        assert TOKEN.encode() not in path.read_bytes()


def test_three_tries_are_one_delivery_and_two_repeats_applied_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, {COMPLETED["id"]: "local-1"}) as served:
            for _ in range(3):
                status, _answer = await post(served.url, COMPLETED)
                assert status == 200
            await served.wait_seen(3)
            rows = sorted(served.store.list(), key=lambda d: d.id)
            assert [d.repeat_of for d in rows] == [None, rows[0].id, rows[0].id]
            assert len(served.applied) == 1  # the tracker hears of it once
            assert served.listener.received == 3

    run(scenario())


def test_an_unknown_job_is_kept_and_shown_unmatched(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, {}) as served:
            unknown = {**COMPLETED, "id": "never-submitted-here"}
            assert (await post(served.url, unknown))[0] == 200
            await served.wait_seen(1)
            assert served.applied == [unknown]
            assert served.seen[0].matched_local_id is None
            assert served.store.count() == 1

    run(scenario())


def test_the_local_workers_output_shape_is_recognised(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, {"": "local-worker-job"}) as served:
            local = {"output": {"text": "done"}}
            assert (await post(served.url, local))[0] == 200
            await served.wait_seen(1)
            assert served.applied == [local]
            assert served.seen[0].job_id is None
            assert served.seen[0].matched_local_id == "local-worker-job"

    run(scenario())


@pytest.mark.parametrize(
    "payload",
    [{"hello": "world"}, {"id": 5, "status": "COMPLETED"}, {"id": "", "output": 1}, {}],
    ids=["no-id-no-output", "numeric-id", "empty-id", "empty-object"],
)
def test_an_object_the_tracker_cannot_use_is_kept_but_never_applied(
    tmp_path: Path, payload: dict[str, Any]
) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, {"": "would-match"}) as served:
            assert (await post(served.url, payload))[0] == 200
            await served.wait_seen(1)
            assert served.applied == []
            assert served.seen[0].matched_local_id is None
            assert served.seen[0].job_id is None

    run(scenario())


def test_a_failing_tracker_still_leaves_the_delivery_stored_and_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:

            async def broken(payload: dict[str, Any]) -> str | None:
                raise RuntimeError("tracker exploded")

            served.listener.on_delivery = broken
            assert (await post(served.url, COMPLETED))[0] == 200
            await served.wait_seen(1)
            assert served.seen[0].matched_local_id is None
            assert served.store.count() == 1

    run(scenario())
    assert "could not be applied" in caplog.text


def test_unsubscribed_callbacks_hear_nothing_more(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            late: list[Delivery] = []
            unsubscribe = served.listener.subscribe(late.append)
            await post(served.url, {**COMPLETED, "id": "a"})
            await served.wait_seen(1)
            unsubscribe()
            await post(served.url, {**COMPLETED, "id": "b"})
            await served.wait_seen(2)
            assert [d.job_id for d in late] == ["a"]

    run(scenario())


def test_a_new_token_replaces_the_old_one_at_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            old_url = served.url
            served.listener.replace_token("fresh-" + "z" * 40)
            assert (await post(old_url, COMPLETED))[0] == 404
            assert served.listener.url.endswith("/webhook/fresh-" + "z" * 40)
            assert (await post(served.listener.url, COMPLETED))[0] == 200
            assert served.store.count() == 1

    run(scenario())


def test_a_taken_port_is_reported_with_a_free_one_to_use(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            taken = served.listener.port
            second = WebhookListener(served.store, TOKEN, port=taken)
            with pytest.raises(ListenerPortTaken) as caught:
                await second.start()
            assert not second.running
            error = caught.value
            assert error.port == taken and error.suggested_port != taken
            assert f"Port {taken}" in str(error) and str(error.suggested_port) in str(error)
            assert TOKEN not in str(error)
            # The suggestion is real: a listener starts there.
            third = WebhookListener(served.store, TOKEN, port=error.suggested_port)
            await third.start()
            assert third.port == error.suggested_port
            await third.stop()

    run(scenario())


def test_find_free_port_skips_a_taken_port(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            taken = served.listener.port
            assert find_free_port("127.0.0.1", taken - 1, span=1) != taken

    run(scenario())


def test_stop_releases_the_port_and_start_again_works(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = DeliveryStore(tmp_path / "jobs.sqlite3")
        listener = WebhookListener(store, TOKEN, port=0)
        async with listener:
            port = listener.port
            assert listener.url == f"http://127.0.0.1:{port}/webhook/{TOKEN}"
        assert not listener.running
        again = WebhookListener(store, TOKEN, port=port)
        async with again:
            assert (await post(again.url, COMPLETED))[0] == 200
        with pytest.raises(aiohttp.ClientConnectionError):
            await post(again.url, COMPLETED)
        store.close()

    run(scenario())


def test_the_token_never_reaches_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> None:
        async with serving(tmp_path) as served:
            await post(served.url, COMPLETED)
            await post(served.url, data=b"not json")
            await post(served.url + "x", COMPLETED)
            await served.wait_seen(1)

    run(scenario())
    assert TOKEN not in caplog.text


def test_concurrent_senders_are_all_stored_and_concurrent_retries_still_repeat(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        jobs = {f"job-{i}": f"local-{i}" for i in range(60)}
        async with serving(tmp_path, jobs) as served, aiohttp.ClientSession() as session:

            async def send(job_id: str) -> int:
                payload = {**COMPLETED, "id": job_id}
                async with session.post(served.url, json=payload) as response:
                    return response.status

            # 60 jobs, each delivered three times at once: bodies share transactions.
            statuses = await asyncio.gather(*(send(job) for job in jobs for _ in range(3)))
            assert statuses == [200] * 180
            await served.wait_seen(180)
            rows = served.store.list(limit=1000)
            assert len(rows) == 180
            for job_id in jobs:
                tries = sorted((d for d in rows if d.job_id == job_id), key=lambda d: d.id)
                assert [d.repeat_of for d in tries] == [None, tries[0].id, tries[0].id]
            assert sorted(p["id"] for p in served.applied) == sorted(jobs)

    run(scenario())


def test_a_delivery_that_cannot_be_stored_gets_503_so_runpod_tries_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            served.store.close()  # the database is gone from under the listener
            status, _text = await post(served.url, COMPLETED)
            assert status == 503
            assert served.applied == [] and served.seen == []
            assert served.listener.received == 0

    run(scenario())
    assert "could not be stored" in caplog.text


@pytest.mark.parametrize(
    ("body", "kept_as_sent"),
    [
        (b'{ "status" : "COMPLETED",\n  "id": "j-1", "output": "caf\xc3\xa9" }', True),
        (b'\xef\xbb\xbf{"id": "j-1", "output": 1}', False),  # a BOM: stored without it
        ('{"id": "j-1", "output": 1}'.encode("utf-16"), False),  # UTF-16: stored re-serialised
    ],
    ids=["utf-8", "utf-8-bom", "utf-16"],
)
def test_the_raw_body_is_kept_as_sent_when_it_is_utf8(
    tmp_path: Path, body: bytes, kept_as_sent: bool
) -> None:
    async def scenario() -> None:
        async with serving(tmp_path) as served:
            status, answer = await post(served.url, data=body)
            assert status == 200
            raw = served.store.get_raw(answer["delivery"])
            assert raw is not None
            assert json.loads(raw) == json.loads(body)
            if kept_as_sent:
                assert raw == body.decode("utf-8")

    run(scenario())


def test_the_token_sent_back_inside_a_delivery_is_never_stored(tmp_path: Path) -> None:
    """RunPod's delivery repeats the request's ``webhook``: our own URL, token included."""

    async def scenario() -> None:
        async with serving(tmp_path, {"job-t": "local-t"}) as served:
            escaped = "".join(f"\\u{ord(c):04x}" for c in TOKEN)  # the same string, JSON-escaped
            bodies = [
                json.dumps({**COMPLETED, "id": "job-t", "webhook": served.url}).encode(),
                json.dumps(
                    {"id": "job-u", "output": {"nested": [f"x{TOKEN}y"], TOKEN: 1}}
                ).encode(),
                ('{"id": "job-v", "output": "a\\n", "webhook": "' + escaped + '"}').encode(),
            ]
            for body in bodies:
                assert (await post(served.url, data=body, headers={"Referer": served.url}))[
                    0
                ] == 200
            await served.wait_seen(3)
            first = served.store.get(served.seen[0].id)
            assert first is not None
            assert first.payload["webhook"] == served.url.replace(TOKEN, REDACTED)
            assert served.applied[0]["webhook"] == first.payload["webhook"]
            assert first.headers["Referer"] == served.url.replace(TOKEN, REDACTED)
            assert served.store.get(served.seen[1].id).payload["output"] == {  # type: ignore[union-attr]
                "nested": [f"x{REDACTED}y"],
                REDACTED: 1,
            }
            third = served.store.get(served.seen[2].id)
            assert third is not None and third.payload["webhook"] == REDACTED
            for delivery in served.seen:
                assert TOKEN not in (served.store.get_raw(delivery.id) or "")

    run(scenario())
    for path in tmp_path.glob("jobs.sqlite3*"):
        assert TOKEN.encode() not in path.read_bytes()


def test_localhost_means_one_loopback_address(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with serving(tmp_path, host="localhost") as served:
            assert served.url.startswith(f"http://127.0.0.1:{served.listener.port}/webhook/")
            assert not served.listener.exposed
            assert (await post(served.url, COMPLETED))[0] == 200

    run(scenario())


@pytest.fixture
def idle_listener(tmp_path: Path) -> Iterator[WebhookListener]:
    """A listener that is never started (for what needs no socket)."""
    store = DeliveryStore(tmp_path / "jobs.sqlite3")
    yield WebhookListener(store, TOKEN)
    store.close()


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://abc.trycloudflare.com", "https://abc.trycloudflare.com/webhook/"),
        ("https://abc.ngrok.app/", "https://abc.ngrok.app/webhook/"),
        (" https://proxy.example/prefix/ ", "https://proxy.example/prefix/webhook/"),
        ("http://10.0.0.5:8787", "http://10.0.0.5:8787/webhook/"),
    ],
)
def test_the_public_url_is_the_tunnel_plus_the_token_path(
    idle_listener: WebhookListener, base: str, expected: str
) -> None:
    assert idle_listener.public_url(base) == expected + TOKEN


@pytest.mark.parametrize("base", ["", "abc.trycloudflare.com", "ftp://x.example", "https://"])
def test_a_public_url_that_is_not_http_is_refused(
    idle_listener: WebhookListener, base: str
) -> None:
    with pytest.raises(ValueError, match="must start with https://"):
        idle_listener.public_url(base)
