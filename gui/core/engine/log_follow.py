"""Following the log streams of the workers that run this console's jobs, and keeping each job's
lines with it (``JobStore.save_logs``), so they outlive the worker.

``JobService`` tells ``LogFollow.observe`` of every change of a job it owns. Once a job's status
names its worker (``workerId``, from IN_PROGRESS on; a short job may show it first when it has
ended), the job is attached to that worker's stream: one ``WorkerLogStream`` per worker, shared
by every job it runs (a hundred jobs on twenty workers make twenty streams). Each line read is
offered to the jobs attached to its worker:

- a line tagged with a job's RunPod id (``requestId``) is that job's;
- an untagged line (a handler's own print, the host's ``start container``) is kept, marked
  untagged, for each job whose run is open on that worker: from the job's first tagged line (the
  SDK's ``Started.``) to its ``Finished.`` line, its end, or its move to another worker (a worker
  lost under it). A worker's backlog comes in as the stream starts, so the time a job was
  attached says nothing about which lines are its own: only the tagged lines do.

A worker's stream keeps its last ``REPLAY_LINES`` lines in memory, replayed to a job attached
after they came (its status was read after its first lines). A job that ended stays attached for
``grace_s``, for its last lines still on the way; a stream with no job attached stops after
``idle_s`` and remembers its cursor, so a later stream of the same worker resumes after it.
Targets without a management API (local workers, a cloud profile with no key) have no streams,
silently: ``access_for`` raises ``AccountUnavailable`` for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from gui.core.account.access import AccountAccess, AccountUnavailable
from gui.core.account.logs import DEFAULT_TAIL, LogBackoff, LogLine, WorkerLogStream
from gui.core.errors import ConsoleError
from gui.core.records import JobRecord, JobState
from gui.core.storage.job_logs import JobLogLine
from gui.core.targets import Target

__all__ = ["REPLAY_LINES", "LogFollow"]

log = logging.getLogger(__name__)

REPLAY_LINES = 2_000
MAX_MESSAGE_CHARS = 16_384  # the SDK cuts at 4,096; raw prints can be longer
FINISHED_LINES = frozenset({"Finished.", "Finished Job"})
_CURSORS_KEPT = 1_000

WorkerKey = tuple[str, str, str]  # (management base URL, endpoint id, worker id)
StoreLines = Callable[[str, Sequence[JobLogLine]], None]


@dataclass(slots=True)
class _Window:
    """One job on one worker: whether untagged lines are the job's now."""

    local_id: str
    job_id: str
    open: bool = False


@dataclass(slots=True)
class _WorkerFollow:
    key: WorkerKey
    access: AccountAccess
    task: asyncio.Task[None] | None = None
    buffer: deque[LogLine] = field(default_factory=lambda: deque(maxlen=REPLAY_LINES))
    windows: dict[str, _Window] = field(default_factory=dict)
    idle: asyncio.TimerHandle | None = None
    last_event_id: str = ""


class LogFollow:
    """Follows worker logs for the jobs ``observe`` is told of; runs on the engine loop.

    ``store_lines(local_id, lines)`` keeps a job's lines (the store's writer); ``access_for``
    gives a target's management API or raises ``AccountUnavailable``. ``kept`` counts the lines
    kept per job since this console started (tests and the benchmark read it).
    """

    def __init__(
        self,
        store_lines: StoreLines,
        access_for: Callable[[Target], AccountAccess],
        *,
        grace_s: float = 3.0,
        idle_s: float = 10.0,
        tail: int = DEFAULT_TAIL,
        backoff: LogBackoff | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._store_lines = store_lines
        self._access_for = access_for
        self._grace_s = grace_s
        self._idle_s = idle_s
        self._tail = tail
        self._backoff = backoff
        self._client = client
        self._own_client = client is None
        self._accesses: dict[Target, AccountAccess | None] = {}
        self._workers: dict[WorkerKey, _WorkerFollow] = {}
        self._jobs: dict[str, set[WorkerKey]] = {}  # local id -> the workers it is attached to
        self._ending: dict[str, asyncio.TimerHandle] = {}
        self._closed = False
        self._cursors: OrderedDict[WorkerKey, str] = OrderedDict()
        self.kept: dict[str, int] = {}

    # -- what the job service tells ------------------------------------------------------------

    def observe(self, record: JobRecord, target: Target) -> None:
        """A job of this console changed: attach it to its worker's stream, or let it go."""
        local_id, job_id, worker_id = record.local_id, record.job_id, record.worker_id
        if self._closed or job_id is None or target.kind == "local":
            return
        attached = self._jobs.get(local_id)
        if worker_id and (record.state is JobState.IN_PROGRESS or record.terminal):
            access = self._access(target)
            if access is not None:
                key = (access.base_url, access.endpoint_id, worker_id)
                if attached is None or key not in attached:
                    self._attach(local_id, job_id, key, access)
        elif record.state is JobState.IN_QUEUE and attached:
            self._close_windows(local_id)  # requeued (its worker was lost): not its lines now
        if record.terminal and local_id in self._jobs and local_id not in self._ending:
            self._close_windows(local_id)
            loop = asyncio.get_running_loop()
            self._ending[local_id] = loop.call_later(self._grace_s, self._detach, local_id)

    def _access(self, target: Target) -> AccountAccess | None:
        if target not in self._accesses:
            try:
                self._accesses[target] = self._access_for(target)
            except AccountUnavailable:
                self._accesses[target] = None  # no management API here: no logs, silently
        return self._accesses[target]

    # -- attaching -----------------------------------------------------------------------------

    def _attach(self, local_id: str, job_id: str, key: WorkerKey, access: AccountAccess) -> None:
        keys = self._jobs.setdefault(local_id, set())
        for other in keys:  # it moved: untagged lines of its old worker are not its own now
            window = self._workers[other].windows.get(local_id)
            if window is not None:
                window.open = False
        keys.add(key)
        follow = self._workers.get(key)
        if follow is None:
            follow = _WorkerFollow(key, access, last_event_id=self._cursors.pop(key, ""))
            self._workers[key] = follow
        if follow.idle is not None:
            follow.idle.cancel()
            follow.idle = None
        window = _Window(local_id, job_id)
        follow.windows[local_id] = window
        worker_id = key[2]
        replay = [k for line in follow.buffer if (k := self._take(window, line, worker_id))]
        self._keep({local_id: replay} if replay else {})
        if follow.task is None or follow.task.done():
            follow.task = asyncio.get_running_loop().create_task(
                self._read(follow), name=f"worker-log-{key[2]}"
            )

    def _close_windows(self, local_id: str) -> None:
        for key in self._jobs.get(local_id, ()):
            window = self._workers[key].windows.get(local_id)
            if window is not None:
                window.open = False

    def _detach(self, local_id: str) -> None:
        self._ending.pop(local_id, None)
        for key in self._jobs.pop(local_id, set()):
            follow = self._workers.get(key)
            if follow is None:
                continue
            follow.windows.pop(local_id, None)
            if not follow.windows and follow.idle is None:
                loop = asyncio.get_running_loop()
                follow.idle = loop.call_later(self._idle_s, self._stop_worker, key)

    def _stop_worker(self, key: WorkerKey) -> None:
        follow = self._workers.get(key)
        if follow is None or follow.windows:
            return
        del self._workers[key]
        if follow.task is not None:
            follow.task.cancel()
        if follow.last_event_id:
            self._cursors[key] = follow.last_event_id
            while len(self._cursors) > _CURSORS_KEPT:
                self._cursors.popitem(last=False)

    # -- reading and routing -------------------------------------------------------------------

    async def _read(self, follow: _WorkerFollow) -> None:
        stream = WorkerLogStream(
            self._http(),
            follow.access,
            follow.key[2],
            tail=self._tail,
            backoff=self._backoff,
            last_event_id=follow.last_event_id,
        )
        try:
            async with contextlib.aclosing(stream.lines()) as lines:
                async for line in lines:
                    follow.last_event_id = stream.last_event_id
                    follow.buffer.append(line)
                    kept: dict[str, list[JobLogLine]] = {}
                    for window in list(follow.windows.values()):
                        taken = self._take(window, line, follow.key[2])
                        if taken is not None:
                            kept[window.local_id] = [taken]
                    self._keep(kept)
        except ConsoleError as exc:
            log.warning("stopped following the log of worker %s: %s", follow.key[2], exc)
        except Exception:
            log.exception("following the log of worker %s failed", follow.key[2])

    @staticmethod
    def _take(window: _Window, line: LogLine, worker_id: str) -> JobLogLine | None:
        """``line`` as ``window``'s job keeps it, or None when it is not the job's."""
        if line.request_id == window.job_id:
            window.open = line.message not in FINISHED_LINES
            request_id: str | None = window.job_id
        elif line.request_id is None and window.open:
            request_id = None
        else:
            return None
        message = line.message
        if len(message) > MAX_MESSAGE_CHARS:
            cut = len(message) - MAX_MESSAGE_CHARS
            message = f"{message[:MAX_MESSAGE_CHARS]}\n...CUT {cut} CHARACTERS (the console)..."
        return JobLogLine(
            worker_id=worker_id,
            event_id=line.event_id,
            at=line.time,
            source=line.source,
            level=line.level,
            message=message,
            request_id=request_id,
        )

    def _keep(self, kept: dict[str, list[JobLogLine]]) -> None:
        for local_id, lines in kept.items():
            self.kept[local_id] = self.kept.get(local_id, 0) + len(lines)
            self._store_lines(local_id, lines)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def streams(self) -> int:
        """Worker streams being read now."""
        return sum(1 for f in self._workers.values() if f.task is not None and not f.task.done())

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # One stream per worker stays open: no pool limit below what the workers need.
            self._client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=20)
            )
        return self._client

    async def aclose(self) -> None:
        # Jobs still change after this (the engine ends the sandbox's jobs as it closes): no
        # stream may start then, or its task outlives the loop.
        self._closed = True
        for handle in self._ending.values():
            handle.cancel()
        self._ending.clear()
        tasks = []
        for follow in self._workers.values():
            if follow.idle is not None:
                follow.idle.cancel()
            if follow.task is not None:
                follow.task.cancel()
                tasks.append(follow.task)
        self._workers.clear()
        self._jobs.clear()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None
