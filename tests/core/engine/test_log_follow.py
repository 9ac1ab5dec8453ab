"""The engine follows the log streams of its jobs' workers and keeps each job's lines with it
(gui.core.engine.log_follow): against the built-in sandbox over loopback, a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from gui.core.account.access import AccountAccess, account_access
from gui.core.account.logs import LogBackoff
from gui.core.engine.engine import Engine
from gui.core.engine.log_follow import LogFollow
from gui.core.records import JobRecord, JobState
from gui.core.storage.history import HistoryReader
from gui.core.storage.job_logs import JobLogLine
from gui.core.storage.store import DB_FILENAME
from gui.core.targets import Target
from gui.sandbox import SandboxConfig, SandboxServer, SandboxThread
from tests.support.engine_fixtures import FAST_POLLS
from tests.support.sandbox_helpers import wait_status
from tests.support.waiting import wait_until

# Built from two parts so the repository holds no key-shaped literal for secret scanners.
FAKE_KEY = "rpa_" + "Z9Y8X7W6V5U4T3S2R1Q0" * 2


@pytest.fixture
def engine(data_dir: Path) -> Iterator[Engine]:
    started = Engine(
        data_dir,
        rate_limits=None,
        poll_policy=FAST_POLLS,
        sandbox=partial(SandboxServer, SandboxConfig(workers=1, default_duration_s=0.05)),
    )
    started.start()
    yield started
    started.close()


def ended(engine: Engine, local_id: str) -> JobRecord:
    def done() -> JobRecord | None:
        record = next(r for r in engine.jobs() if r.local_id == local_id)
        return record if record.terminal else None

    return wait_until(done, f"job {local_id} ended")


def kept(data_dir: Path, local_id: str) -> list[JobLogLine]:
    with HistoryReader(data_dir / DB_FILENAME) as reader:
        return reader.logs(local_id)


def wait_kept(engine: Engine, data_dir: Path, local_id: str, last: str) -> list[JobLogLine]:
    """The job's kept lines once the line ``last`` is among them (on disk)."""

    def arrived() -> list[JobLogLine] | None:
        engine.flush().result(timeout=10)
        lines = kept(data_dir, local_id)
        return lines if any(line.message == last for line in lines) else None

    return wait_until(arrived, f"line {last!r} kept for {local_id}")


def test_a_jobs_tagged_lines_and_its_workers_untagged_lines_during_its_run_are_kept(
    engine: Engine, data_dir: Path
) -> None:
    sandbox = engine.sandbox_target().result(timeout=10)
    first = engine.submit(sandbox, {"input": {"sandbox": {"log": ["a1", "a2"], "duration": 0.3}}})
    a = ended(engine, first.result(timeout=10).local_id)
    second = engine.submit(sandbox, {"input": {"sandbox": {"log": ["b1"], "duration": 0.3}}})
    b = ended(engine, second.result(timeout=10).local_id)

    lines_a = wait_kept(engine, data_dir, a.local_id, "Finished.")
    lines_b = wait_kept(engine, data_dir, b.local_id, "Finished.")

    assert a.worker_id == b.worker_id  # one worker: one stream, shared
    tagged_a = [line.message for line in lines_a if not line.untagged]
    assert tagged_a[:3] == ["Started.", "a1", "a2"] and tagged_a[-1] == "Finished."
    assert {line.request_id for line in lines_a if not line.untagged} == {a.job_id}
    untagged_a = [line.message for line in lines_a if line.untagged]
    assert untagged_a == ["sandbox handler: working for 0.3 s"]
    assert "b1" not in {line.message for line in lines_a}  # the next job's lines are not its own
    assert [line.message for line in lines_b if not line.untagged][:2] == ["Started.", "b1"]
    assert all(line.worker_id == a.worker_id for line in lines_a + lines_b)


def test_lines_outlive_a_crashed_worker_and_the_sandbox_and_keys_are_redacted(
    data_dir: Path,
) -> None:
    with _engine(data_dir) as engine:
        sandbox = engine.sandbox_target().result(timeout=10)
        body = {"input": {"sandbox": {"log": [f"token {FAKE_KEY}"], "worker_crash": 1,
                                      "duration": 0.4}}}  # fmt: skip
        record = ended(engine, engine.submit(sandbox, body).result(timeout=10).local_id)
        wait_kept(engine, data_dir, record.local_id, "Finished.")
    # The engine and its sandbox (and the worker with its log) are gone; the history keeps it.
    lines = kept(data_dir, record.local_id)

    assert record.state is JobState.COMPLETED
    messages = [(line.message, line.untagged) for line in lines]
    assert ("container exited with code 137", True) in messages  # the crash, untagged
    assert [m for m, untagged in messages if not untagged].count("Started.") == 2  # both runs
    assert ("token <redacted>", False) in messages
    assert FAKE_KEY not in json.dumps([line.to_json() for line in lines])


def _engine(data_dir: Path) -> Any:
    from tests.support.engine_fixtures import running_engine

    return running_engine(data_dir)


def test_twenty_jobs_on_two_workers_share_two_streams(data_dir: Path) -> None:
    with _engine(data_dir) as engine:
        sandbox = engine.sandbox_target().result(timeout=10)
        sent = [
            engine.submit(sandbox, {"input": {"n": n, "sandbox": {"log": 2, "duration": 0.1}}})
            for n in range(20)
        ]
        records = [ended(engine, future.result(timeout=10).local_id) for future in sent]
        follow = engine.log_follow
        assert follow is not None
        wait_until(lambda: all(follow.kept.get(r.local_id, 0) >= 5 for r in records), "lines")

        assert len({r.worker_id for r in records}) == 2
        assert follow.streams <= 2


def test_local_workers_and_keyless_profiles_have_no_streams_and_no_error() -> None:
    stored: list[tuple[str, Any]] = []

    async def main() -> int:
        follow = LogFollow(lambda i, lines: stored.append((i, lines)),
                           lambda t: account_access(t, None, environ={}))  # fmt: skip
        for target in (Target("gpu-box", "local", "http://127.0.0.1:9"),
                       Target("prod", "cloud", endpoint_id="ep1")):  # fmt: skip
            record = JobRecord("l1", target.name, "ep1", "run", {}, 1.0,
                               state=JobState.IN_PROGRESS, job_id="j1", worker_id="w1")  # fmt: skip
            follow.observe(record, target)
        streams = follow.streams
        await follow.aclose()
        return streams

    assert asyncio.run(main()) == 0
    assert stored == []


def test_a_closed_follower_starts_no_stream_for_jobs_that_change_after() -> None:
    """The engine ends the sandbox's jobs after closing the follower: no stream may start then,
    or its task outlives the loop (and fails noisily when the interpreter collects it)."""
    target = Target("Sandbox", "sandbox", "http://127.0.0.1:9/v2", "sandbox")
    record = JobRecord("l1", "Sandbox", "sandbox", "run", {}, 1.0,
                       state=JobState.IN_PROGRESS, job_id="j1", worker_id="w1")  # fmt: skip

    async def main() -> tuple[int, int]:
        follow = LogFollow(lambda i, lines: None, lambda t: account_access(t, None, environ={}))
        await follow.aclose()
        follow.observe(record, target)
        streams = follow.streams
        await follow.aclose()
        return streams, len(asyncio.all_tasks()) - 1

    assert asyncio.run(main()) == (0, 0)


class Dropping(httpx.AsyncBaseTransport):
    """The real transport; each log stream breaks after ``cut`` bytes (mid-event)."""

    def __init__(self, cut: int) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._cut = cut
        self.drops = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not request.url.path.endswith("/logs"):
            return response
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_Cut(self, response))  # fmt: skip

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Cut(httpx.AsyncByteStream):
    def __init__(self, owner: Dropping, response: httpx.Response) -> None:
        self._owner, self._response = owner, response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._response.aiter_raw():
            room = self._owner._cut - sent
            if len(chunk) >= room:
                yield chunk[:room]
                self._owner.drops += 1
                raise httpx.ReadError("connection dropped (test)")
            sent += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


def test_a_dropped_stream_resumes_and_no_job_line_is_lost_or_doubled() -> None:
    config = SandboxConfig(workers=1, default_duration_s=0.05)
    with SandboxThread(config) as sandbox, httpx.Client(base_url=f"{sandbox.base_url}/ep") as http:
        job_id = http.post(
            "/run", json={"input": {"sandbox": {"log": 30, "duration": 1.0}}}
        ).json()["id"]
        status = wait_status(http, job_id, "IN_PROGRESS", "COMPLETED")
        target = Target("Sandbox", "sandbox", sandbox.base_url, "ep")
        stored: list[JobLogLine] = []

        async def main() -> int:
            transport = Dropping(cut=900)
            async with httpx.AsyncClient(transport=transport) as client:
                follow = LogFollow(
                    lambda _id, lines: stored.extend(lines),
                    lambda t: AccountAccess(t.base_url, "", t.endpoint_id),
                    backoff=LogBackoff(0.01, 0.05), client=client, grace_s=30,
                )  # fmt: skip
                record = JobRecord("l1", "Sandbox", "ep", "run", {}, 1.0,
                                   state=JobState.IN_PROGRESS, job_id=job_id,
                                   worker_id=status["workerId"])  # fmt: skip
                follow.observe(record, target)
                for _ in range(2000):
                    if any(line.message == "Finished." for line in stored):
                        break
                    await asyncio.sleep(0.01)
                await follow.aclose()
            return transport.drops

        drops = asyncio.run(main())
        worker = sandbox.server.routes.endpoints["ep"].worker(status["workerId"])
        assert worker is not None
        entries = worker.log.entries()
        expected = [e.event_id for e in entries if job_id in e.line or "working" in e.line]

    assert drops > 3
    assert [line.event_id for line in stored] == expected
    assert [line.message for line in stored if line.message.startswith("log line")] == [
        f"log line {n}" for n in range(1, 31)
    ]
