"""The engine owns the console's webhook listener (``Engine.start_listener``), and
``job-console listen`` serves with the same ``ConsoleListener``; the engine also replays deliveries
and tests connections (the window's pools never reach the network). Real engines, the built-in
sandbox and the listener over loopback, one SQLite file, the in-memory keyring."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from gui.core.engine.engine import Engine
from gui.core.engine.leases import ConsoleLease
from gui.core.engine.tracker import PollPolicy
from gui.core.errors import ConsoleError, ListenerPortTaken, ListenerServedElsewhere
from gui.core.profiles.profiles import Profile
from gui.core.profiles.secrets import SecretStore
from gui.core.records import JobState
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import SANDBOX_PROFILE
from gui.core.webhooks.address import ListenerSettings
from gui.core.webhooks.console_listener import ConsoleListener
from gui.core.webhooks.listener import find_free_port
from gui.sandbox import SandboxConfig, SandboxServer
from tests.support.memory_keyring import MemoryKeyring
from tests.support.waiting import wait_until

HOUR = 3600.0
SLOW_POLLS = PollPolicy(first_s=HOUR, min_s=HOUR, max_s=HOUR)  # only a delivery ends a job


def make_engine(data_dir: Path) -> Engine:
    return Engine(
        data_dir,
        rate_limits=None,
        poll_policy=SLOW_POLLS,
        sandbox=partial(SandboxServer, SandboxConfig(workers=1, default_duration_s=0.05)),
    )


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    made = make_engine(data_dir)
    made.start()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port held by a socket that is no console's."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", find_free_port("127.0.0.1", 20000)))
        holder.listen()
        yield holder.getsockname()[1]


def test_the_engine_serves_the_listener_and_a_sandbox_job_ends_by_its_delivery(
    engine: Engine, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    info = engine.start_listener(ListenerSettings(port=0), SecretStore()).result(timeout=30)
    token = memory_keyring.entries[("runpod-job-console", "listener-token")]
    assert info.url.endswith(f"/webhook/{token}") and info.webhook_url == info.url
    assert token not in repr(info)
    target = engine.sandbox_target().result(timeout=30)
    # No webhook named: the built-in sandbox reports to the engine's listener.
    sent = engine.submit(target, {"input": {"n": 1}}).result(timeout=30)

    def ended() -> bool:
        (job,) = [j for j in engine.jobs() if j.local_id == sent.local_id]
        return job.state == JobState.COMPLETED and job.webhook_deliveries == 1

    listener = engine.listener
    assert listener is not None
    wait_until(ended, "the job ended by its delivery")
    assert listener.received == 1
    assert [d.matched_local_id for d in listener.store.list()] == [sent.local_id]
    engine.flush().result(timeout=30)
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"the token was written to {path}"


def test_a_sandbox_job_sent_while_the_listener_starts_still_reports_to_it(
    engine: Engine, memory_keyring: MemoryKeyring
) -> None:
    """The window asks for the listener and may send at once (its first job): the request waits
    for the start instead of leaving without the listener's webhook."""
    target = engine.sandbox_target().result(timeout=30)
    starting = engine.start_listener(ListenerSettings(port=0), SecretStore())
    sent = engine.submit(target, {"input": {"n": 1}}).result(timeout=30)  # asked right after
    info = starting.result(timeout=30)
    assert sent.request.get("webhook") is not None
    token = memory_keyring.entries[("runpod-job-console", "listener-token")]
    assert info.url.endswith(token)
    assert token not in str(sent.request)  # the record keeps the keyring reference only

    def ended() -> bool:
        (job,) = [j for j in engine.jobs() if j.local_id == sent.local_id]
        return job.state == JobState.COMPLETED and job.webhook_deliveries == 1

    wait_until(ended, "the job ended by its delivery")


def test_closing_the_engine_stops_its_listener_and_frees_the_port(data_dir: Path) -> None:
    engine = make_engine(data_dir)
    engine.start()
    info = engine.start_listener(ListenerSettings(port=0), SecretStore()).result(timeout=30)
    lease = ConsoleLease(data_dir / DB_FILENAME, "listen")
    lease.register()
    try:
        assert lease.listener_on(info.port) is not None
        engine.close()
        assert lease.listener_on(info.port) is None
        with pytest.raises(httpx.ConnectError):
            httpx.post(info.url, json={"id": "late", "status": "COMPLETED"}, timeout=5)
    finally:
        lease.release()


def test_a_taken_port_moves_at_the_first_start_and_is_kept_when_chosen(
    engine: Engine, taken_port: int
) -> None:
    first = engine.start_listener(ListenerSettings(port=taken_port), SecretStore())
    info = first.result(timeout=30)
    assert info.moved and info.requested_port == taken_port and info.port != taken_port
    assert (
        httpx.post(info.url, json={"id": "j", "status": "COMPLETED"}, timeout=10).status_code == 200
    )
    chosen = engine.reconfigure_listener(ListenerSettings(port=taken_port))
    with pytest.raises(ListenerPortTaken) as refused:
        chosen.result(timeout=30)
    assert refused.value.suggested_port != taken_port


def test_a_public_url_alone_keeps_the_listener_and_a_new_token_changes_the_url(
    engine: Engine,
) -> None:
    info = engine.start_listener(ListenerSettings(port=0), SecretStore()).result(timeout=30)
    behind = ListenerSettings(port=info.port, public_url="https://abc.example")
    tunnelled = engine.reconfigure_listener(behind).result(timeout=30)
    assert tunnelled.url == info.url and tunnelled.port == info.port
    assert tunnelled.webhook_url == "https://abc.example" + info.url.split(str(info.port), 1)[1]
    renewed = engine.renew_listener_token().result(timeout=30)
    assert renewed is not None and renewed.url != info.url and renewed.port == info.port
    assert httpx.post(info.url, json={"id": "j"}, timeout=10).status_code == 404
    assert httpx.post(renewed.url, json={"id": "j"}, timeout=10).status_code == 200


def test_a_second_engine_on_the_folder_uses_the_first_ones_listener(data_dir: Path) -> None:
    port = find_free_port("127.0.0.1", 21000)
    first, second = make_engine(data_dir), make_engine(data_dir)
    first.start()
    second.start()
    try:
        served = first.start_listener(ListenerSettings(port=port), SecretStore()).result(30)
        shared = second.start_listener(ListenerSettings(port=port), SecretStore()).result(30)
        assert shared.served_by is not None and "window" in shared.served_by
        assert (shared.url, shared.port) == (served.url, port)
        second.stop_listener().result(timeout=30)  # not its listener to stop
        assert httpx.post(served.url, json={"id": "j"}, timeout=10).status_code == 200
    finally:
        second.close()
        first.close()


def test_listen_refuses_a_port_another_console_serves_before_binding_it(data_dir: Path) -> None:
    """``job-console listen``'s way of using the starter (``share=False``)."""
    port = find_free_port("127.0.0.1", 22000)
    window = ConsoleLease(data_dir / DB_FILENAME, "window")
    window.register()
    window.serve_listener(port)  # says so, but binds nothing

    async def look_up(asked: int) -> str | None:
        listen_lease = ConsoleLease(data_dir / DB_FILENAME, "listen")
        listen_lease.register()
        try:
            other = listen_lease.listener_on(asked)
        finally:
            listen_lease.release()
        return None if other is None else other.describe()

    async def serve() -> None:
        console = ConsoleListener(data_dir, SecretStore(), look_up=look_up)
        try:
            with pytest.raises(ListenerServedElsewhere, match="already serves"):
                await console.start(ListenerSettings(port=port), share=False)
            assert console.info is None
        finally:
            await console.close()

    try:
        asyncio.run(serve())
    finally:
        window.release()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_replay_goes_through_the_engine_to_its_own_listener(engine: Engine) -> None:
    """The webhook log's Replay: the engine posts a stored payload with its client; here to its
    own listener, which stores it as a repeat of the first delivery."""
    info = engine.start_listener(ListenerSettings(port=0), SecretStore()).result(timeout=30)
    first = {"id": "replayed-1", "status": "COMPLETED", "output": {"é": 1}}
    assert httpx.post(info.url, json=first, timeout=10).status_code == 200
    listener = engine.listener
    assert listener is not None
    wait_until(lambda: listener.received == 1, "the first delivery")
    (stored,) = listener.store.list()
    raw = listener.store.get_raw(stored.id)
    assert raw is not None
    line = engine.replay_delivery(info.url, raw).result(timeout=30)
    assert line.startswith(f"Replayed to {info.url}: HTTP 200 in ")
    wait_until(lambda: listener.received == 2, "the second delivery")
    assert [d.repeat_of for d in listener.store.list()] == [stored.id, None]


def test_a_replay_to_nothing_says_no_answer_came(engine: Engine) -> None:
    port = find_free_port("127.0.0.1", 23000)  # nothing listens there
    with pytest.raises(ConsoleError, match=r"No answer from .* Check that the receiver is running"):
        engine.replay_delivery(f"http://127.0.0.1:{port}/hook", "{}").result(timeout=30)


def test_the_engine_checks_the_built_in_sandbox_where_it_runs(engine: Engine) -> None:
    target = Profile(SANDBOX_PROFILE, "sandbox").to_target()  # no URL: the engine knows it
    assert target.base_url == ""
    result = engine.check_connection(target, lambda: None).result(timeout=30)
    assert result.ok, result.message
    assert result.message.startswith("Connected: workers ")


def test_a_console_serves_the_port_itself_once_the_console_whose_listener_it_used_left(
    data_dir: Path,
) -> None:
    """``serve_if_left``: while the other console serves, nothing changes; once it left, this
    console binds the port (and says so), unless another program took it meanwhile."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", find_free_port("127.0.0.1", 23000)))
    holder.listen()
    port = int(holder.getsockname()[1])
    serving: list[str | None] = ["a window (pid 42)"]  # what the other consoles' leases say
    recorded: list[int | None] = []

    async def look_up(asked: int) -> str | None:
        return serving[0] if asked == port else None

    async def record(served: int | None) -> None:
        recorded.append(served)

    async def use_then_serve() -> None:
        console = ConsoleListener(data_dir, SecretStore(), look_up=look_up, record=record)
        try:
            used = await console.start(ListenerSettings(port=port))
            assert used.served_by == "a window (pid 42)"
            assert await console.serve_if_left() is None  # it still serves

            serving[0] = None  # it left, but a program outside the folder holds the port
            with pytest.raises(ListenerPortTaken):
                await console.serve_if_left()
            assert console.info == used  # still using the other's, tried again next time

            holder.close()
            served = await console.serve_if_left()
            assert served is not None and served.served_by is None and served.port == port
            assert recorded == [port]  # told the other consoles
            async with httpx.AsyncClient() as client:
                answer = await client.post(served.url, json={"id": "j"}, timeout=10)
            assert answer.status_code == 200
        finally:
            await console.close()

    try:
        asyncio.run(use_then_serve())
    finally:
        holder.close()
