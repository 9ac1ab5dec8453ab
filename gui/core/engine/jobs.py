"""The loop-side half of the engine: every job's record, and what happens to it.

``JobService`` runs only on the engine loop. It records a job before sending it, sends it through
the target's ``EndpointClient``, follows it with the ``JobTracker``, folds every answer in with the
rules of ``gui.core.engine.merge``, saves each change to the ``JobStore`` and then announces it.

Streaming: a job streams when its input asks for it (``input.stream`` is true, the convention of
RunPod's LLM workers, or the sandbox's ``input.sandbox.stream``) or ``submit(stream=True)`` said
so. Each poll of such a job asks ``/status`` (state, progress, final output) and, once the job has
started, drains ``/stream``, so chunks are kept in order while it runs and none is lost at the end.

RunPod keeps a job's chunks until they are read, so a streaming job is followed until its stream is
drained, whatever told the console it ended: a poll reads ``/stream`` after ``/status`` answered
the end; an end heard from a webhook is held and folded in by a poll at once, which reads
``/stream`` once more first (without asking ``/status``); a cancel or a runsync answered with the
end reads it before the end is folded in. Until then the record is not terminal, so a console that
stops in between resumes the job and drains it on the next start.

Purging: ``purge_queue`` notes which of the console's jobs were waiting (IN_QUEUE) in that queue and
asks about them at once; the first answer for each decides: 404 means the purge removed it
(PURGED), anything else that it had left the queue before. A 404 for any other job means it
expired. Jobs of the built-in sandbox end when the engine closes (``end_sandbox_jobs``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gui.core.endpoint.answers import JobStatus
from gui.core.endpoint.client import EndpointClient, RetryPolicy
from gui.core.engine.commit_gate import CommitGate
from gui.core.engine.merge import (
    append_stream,
    mark_ended_by_quit,
    mark_expired,
    mark_not_sent,
    mark_purged,
    merge_status,
    set_state,
)
from gui.core.engine.tracker import JobTracker, PollPolicy
from gui.core.engine.webhook_watch import WebhookWatch
from gui.core.errors import ConsoleError, JobNotFound, RequestInvalid, SubmissionUncertain
from gui.core.events import EngineEvent, JobAdded, JobChanged, JobsRemoved
from gui.core.limits import MAX_BODY_BYTES, RATE_LIMITS, WEBHOOK_GRACE_S, Operation, is_operation
from gui.core.records import GUARD_STEP, JobRecord, JobState, NoteKind, status_unreachable_note
from gui.core.redact import holds_redacted, redact_body
from gui.core.request.validation import serialize_body
from gui.core.storage.store import JobStore, StoredJob
from gui.core.targets import Target

if TYPE_CHECKING:
    from gui.core.account.guards import GuardVerdict
    from gui.core.engine.leases import ConsoleLease

__all__ = ["JobService", "jobs_to_resume", "wants_stream"]

log = logging.getLogger(__name__)

KeyProvider = Callable[[Target], str | None]
BodyResolver = Callable[[dict[str, Any]], dict[str, Any]]

_RETRYABLE_STATES = frozenset({JobState.FAILED, JobState.TIMED_OUT})
_INTERRUPTED_NOTE = (
    "The console stopped while this job was being sent, so its id was never received. The "
    "endpoint may or may not have queued it; check the endpoint, and resubmit if it is missing."
)


def jobs_to_resume(
    stored: Iterable[StoredJob], profiles: Collection[str] | None = None, owner: str | None = None
) -> list[StoredJob]:
    """The unfinished jobs a starting engine takes over: every one, or those of ``profiles``.

    The one place that decides which jobs a process adopts: it follows each one that has an id,
    and records as NOT_SENT each one whose sending was cut off. With several consoles on the data
    folder (``core.engine.leases``) a console first claims the jobs no live console follows; with
    ``owner`` only those it claimed are taken: never a job another console is still sending or
    following.
    """
    return [
        job
        for job in stored
        if not job.record.terminal
        and (profiles is None or job.record.profile in profiles)
        and (owner is None or job.owner == owner)
    ]


def _stopped_note(reason: str, left: bool) -> str:
    """Why a job cut off by ``JobService.stop_sending`` has no id, truthfully."""
    if left:
        return (
            f"{reason[:1].upper()}{reason[1:]} while this request was on its way, before the "
            "endpoint answered. The endpoint may have queued it or not; check its queue before "
            "you send it again."
        )
    return f"Not sent: {reason} before this request left; the endpoint never saw it."


def wants_stream(body: Mapping[str, Any]) -> bool:
    """Does this request ask its worker to stream (see the module docstring)?"""
    job_input = body.get("input")
    if not isinstance(job_input, dict):
        return False
    if job_input.get("stream") is True:
        return True
    sandbox = job_input.get("sandbox")
    return isinstance(sandbox, dict) and bool(sandbox.get("stream"))


_SENT_ELSEWHERE_NOTE = (
    "Sent outside the console and followed from the moment its id was given "
    "(`job-console history follow`): its request is not known, and its submission time is when "
    "the following began."
)


def _new_local_id() -> str:
    """A random 128-bit id. Not a secret: the random module is enough, and much cheaper than
    ``uuid4`` (a system call per id) when a batch of 10,000 jobs is recorded."""
    return f"{random.getrandbits(128):032x}"


def snapshot(record: JobRecord) -> JobRecord:
    """A copy that is never mutated afterwards (the request and output are never mutated)."""
    return dataclasses.replace(record, stream=list(record.stream), history=list(record.history))


class JobService:
    """Submits, follows, cancels and retries jobs. Every method runs on the engine loop."""

    def __init__(
        self,
        store: JobStore,
        emit: Callable[[EngineEvent], None],
        *,
        key_provider: KeyProvider,
        rate_limits: Mapping[str, tuple[int, int | None]] | None = RATE_LIMITS,
        poll_policy: PollPolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        body_resolver: BodyResolver | None = None,
        webhook_grace_s: float = WEBHOOK_GRACE_S,
    ) -> None:
        self._store = store
        self._emit = emit
        self._key_provider = key_provider
        self._rate_limits = rate_limits
        self._retry_policy = retry_policy
        self._body_resolver = body_resolver
        self.tracker = JobTracker(self.poll, poll_policy)
        self.webhooks = WebhookWatch(self._webhook_overdue, webhook_grace_s)
        self.clients: dict[Target, EndpointClient] = {}
        self.sandbox: Target | None = None  # the built-in sandbox's current address
        self.start_sandbox: Callable[[], Awaitable[Target]] | None = None  # set by the engine
        self._records: dict[str, JobRecord] = {}
        self._targets: dict[str, Target] = {}
        self._by_job_id: dict[str, str] = {}
        self._streaming: set[str] = set()
        # Ends heard from outside (webhooks) for streaming jobs, folded in after the last read.
        self._held_ends: dict[str, JobStatus] = {}
        # One /stream read at a time per job, so chunks are appended in the order RunPod gave them.
        self._stream_locks: dict[str, asyncio.Lock] = {}
        # Jobs that were IN_QUEUE when this console purged their queue, until their next answer.
        self._purge_candidates: set[str] = set()
        self._snapshots: dict[str, JobRecord] = {}
        # Why a job of this session was not sent (the command line maps it to its exit code).
        self.send_errors: dict[str, ConsoleError] = {}
        self.resumed: tuple[str, ...] = ()  # the jobs taken over by ``resume``
        self._sending: dict[str, asyncio.Task[Any]] = {}  # submissions waiting for an answer
        self._stopped: str | None = None  # why nothing more is sent (``stop_sending``)
        self._snapshots_lock = threading.Lock()
        self._commit_gate = CommitGate(store)
        # Several consoles on one data folder (core.engine.leases): this one saves and follows only
        # the jobs it owns; the others' are shown as they read from the store.
        self.owned: set[str] = set()
        self._changes: dict[str, int] = {}  # change number each other console's job was read at
        self.lease: ConsoleLease | None = None  # set by the engine
        self.show_others = True  # announce other consoles' jobs (the window), or ignore them
        self.job_id_learned: Callable[[str], None] | None = None  # set by the engine
        # Told of every change of a job this console owns, with its target (the log follower).
        self.job_published: Callable[[JobRecord, Target], None] | None = None
        self.forget_ended_after: float | None = None
        """Seconds after a job ends before it is let go from memory (it lives in the store and is
        read back when an action needs it); None keeps every job (the command line's batches)."""
        # Told of every poll of a job still open, with its answer (None when it got none): the
        # spend guards (gui.core.engine.guards).
        self.status_seen: Callable[[JobRecord, JobStatus | None], None] | None = None

    # -- reading (any thread) ------------------------------------------------------------------

    def snapshots(self) -> list[JobRecord]:
        with self._snapshots_lock:
            return list(self._snapshots.values())

    def open_sandbox_jobs(self) -> list[JobRecord]:
        """Jobs of the built-in sandbox not ended yet: they end when the engine closes."""
        return [
            record
            for record in self.snapshots()
            if not record.terminal and self.is_sandbox_job(record.local_id)
        ]

    def is_sandbox_job(self, local_id: str) -> bool:
        """Was this job, held here, sent to the built-in sandbox (which ends with the engine)?"""
        return _kind(self._targets.get(local_id)) == "sandbox"

    # -- lifecycle -----------------------------------------------------------------------------

    def resume(self, stored: list[StoredJob], adopt: Sequence[StoredJob] | None = None) -> None:
        """Take over the history; follow the unfinished jobs of ``adopt`` (by default, those
        ``jobs_to_resume`` picks)."""
        for job in stored:
            self._adopt(job.record, job.target)
            self._changes[job.record.local_id] = job.change_seq
            with self._snapshots_lock:
                self._snapshots[job.record.local_id] = snapshot(job.record)
        chosen = [job for job in (jobs_to_resume(stored) if adopt is None else adopt)
                  if not job.record.terminal]  # fmt: skip
        self._follow_taken(chosen)
        self.resumed = tuple(job.record.local_id for job in chosen)
        self.tracker.start()

    def _follow_taken(self, taken: Iterable[StoredJob]) -> None:
        """Follow jobs this console now owns: those with an id; the others were cut off."""
        for job in taken:
            record = job.record
            self.owned.add(record.local_id)
            if record.job_id is None:
                mark_not_sent(record, time.time(), _INTERRUPTED_NOTE)
                self._publish(record)
            else:
                self.tracker.track(record.local_id, streaming=record.local_id in self._streaming)

    def take_over(self, claimed: Sequence[StoredJob]) -> None:
        """Jobs claimed from a console that stopped (read back after the claim): follow them."""
        for job in claimed:
            self._adopt(job.record, job.target)
            self._changes.pop(job.record.local_id, None)
        self._store.remember(claimed)
        self._follow_taken(claimed)
        for job in claimed:
            if job.record.job_id is not None:
                self._publish(job.record)  # shown as this console's from now on

    def observe(self, jobs: Sequence[StoredJob], removed: Sequence[str]) -> None:
        """Rows other consoles wrote and jobs removed by any console (``core.engine.shared_view``).

        A job of this console that another one wrote was taken over (this console's lease
        lapsed): it is no longer followed here."""
        for job in jobs:
            local_id = job.record.local_id
            if local_id in self.owned:
                self.owned.discard(local_id)
                self.tracker.untrack(local_id)
                self.webhooks.forget(local_id)
            if not self.show_others:
                continue
            added = local_id not in self._records
            self._adopt(job.record, job.target)
            self._changes[local_id] = job.change_seq
            snap = snapshot(job.record)
            with self._snapshots_lock:
                self._snapshots[local_id] = snap
            self._emit(JobAdded(snap) if added else JobChanged(snap))
        self.remove(tuple(removed), stored=False)

    def end_sandbox_jobs(self) -> int:
        """The built-in sandbox stops with the engine: mark its open jobs as ended by the quit
        (saved and announced); returns how many. Call it once nothing else runs on the loop."""
        ended = 0
        for local_id, record in self._records.items():
            if local_id not in self.owned:
                continue  # another console's sandbox runs its jobs
            if self._targets[local_id].kind == "sandbox" and not record.terminal:
                self.tracker.untrack(local_id)
                mark_ended_by_quit(record, time.time())
                self._publish(record)
                ended += 1
        return ended

    async def stop_sending(self, reason: str) -> int:
        """Send nothing more. Each job still waiting for its answer, or for its turn to leave,
        becomes NOT_SENT with a note built from ``reason`` ("the console was interrupted")
        saying whether its request had left; later submissions are recorded NOT_SENT at once.
        Returns how many were cut off."""
        self._stopped = self._stopped or reason
        tasks = list(self._sending.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        return len(tasks)

    async def aclose(self) -> None:
        # Submissions first: closing the clients under them would read as a broken connection.
        await self.stop_sending("the console was closed")
        await self.tracker.stop()
        self.webhooks.close()
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()

    def _adopt(self, record: JobRecord, target: Target) -> None:
        self._records[record.local_id] = record
        self._targets[record.local_id] = target
        if record.job_id:
            self._by_job_id[record.job_id] = record.local_id
        if wants_stream(record.request) and target.kind != "local":
            self._streaming.add(record.local_id)

    def owner_of(self, job_id: str | None) -> str | None:
        """The local id of the job with RunPod id ``job_id`` when this console owns it."""
        local_id = self._by_job_id.get(job_id) if job_id else None
        return local_id if local_id in self.owned else None

    def _publish(self, record: JobRecord, *, added: bool = False) -> JobRecord:
        """Save the change (a job this console owns), then announce it."""
        snap = snapshot(record)
        with self._snapshots_lock:
            self._snapshots[record.local_id] = snap
        if record.local_id in self.owned:
            self._store.save(snap, self._targets[record.local_id])
            if self.job_published is not None:
                self.job_published(snap, self._where(self._targets[record.local_id]))
        if record.terminal and self.forget_ended_after is not None:
            loop = asyncio.get_running_loop()
            loop.call_later(self.forget_ended_after, self._forget_if_ended, record.local_id)
        self._emit(JobAdded(snap) if added else JobChanged(snap))
        return snap

    def client_for(self, target: Target) -> EndpointClient:
        target = self._where(target)
        client = self.clients.get(target)
        if client is None:
            client = EndpointClient(
                target,
                key_provider=lambda: self._key_provider(target),
                limits=self._rate_limits,
                retry=self._retry_policy,
            )
            self.clients[target] = client
        return client

    async def resolve(self, target: Target) -> Target:
        """The target as it is now: a sandbox target gets the running sandbox's address (the
        sandbox is started if it is not running yet)."""
        if target.kind == "sandbox" and self.sandbox is None and self.start_sandbox is not None:
            await self.start_sandbox()
        return self._where(target)

    def _where(self, target: Target) -> Target:
        """The one place a sandbox target becomes the running sandbox's address: the built-in
        sandbox moves to a new port on every start, and the window and stored jobs name it
        without one."""
        if target.kind == "sandbox" and self.sandbox is not None:
            return self.sandbox
        return target

    def _record(self, local_id: str) -> JobRecord:
        record = self._records.get(local_id)
        if record is None:
            raise ConsoleError(f"There is no job {local_id} in the history (it was removed).")
        return record

    async def _held(self, local_id: str) -> JobRecord:
        """The job's record; an ended job this engine let go is read back from the store."""
        if local_id not in self._records:
            await self._read_back(local_id)
        return self._record(local_id)

    async def _read_back(self, job_ref: str) -> list[str]:
        """Hold again the stored jobs named ``job_ref`` (local or RunPod id) that this engine
        does not hold (ended and let go, or from an earlier session); their local ids."""
        lease = self.lease
        if lease is None:
            return []
        found = await asyncio.get_running_loop().run_in_executor(None, lease.find, job_ref)
        fresh = [job for job in found if job.record.local_id not in self._records]
        for job in fresh:
            self._adopt(job.record, job.target)
            self._changes[job.record.local_id] = job.change_seq
            with self._snapshots_lock:
                self._snapshots[job.record.local_id] = snapshot(job.record)
        self._store.remember(fresh)  # saved again later: only what is new is written
        return [job.record.local_id for job in found]

    def _forget_if_ended(self, local_id: str) -> None:
        """Let an ended job go from memory (``forget_ended_after``), unless something still
        works on it; the store holds it."""
        record = self._records.get(local_id)
        busy = (local_id in self._sending or local_id in self._held_ends
                or self.tracker.is_tracked(local_id))  # fmt: skip
        if record is None or not record.terminal or busy:
            return
        self._drop(local_id)

    def let_go(self, local_ids: Iterable[str]) -> int:
        """Let these jobs go from memory now if they have ended (the store holds them and they
        are read back when an action names one): a command line's batch, once it has printed
        each job's final line, keeps only its unfinished jobs. Returns how many were let go."""
        gone = 0
        for local_id in local_ids:
            record = self._records.get(local_id)
            if record is not None and record.terminal and local_id not in self._sending:
                self._drop(local_id)
                gone += 1
        return gone

    def _drop(self, local_id: str) -> JobRecord | None:
        self.tracker.untrack(local_id)
        self.send_errors.pop(local_id, None)
        self.webhooks.forget(local_id)
        self._held_ends.pop(local_id, None)
        self._stream_locks.pop(local_id, None)
        self._purge_candidates.discard(local_id)
        record = self._records.pop(local_id, None)
        self._targets.pop(local_id, None)
        self.owned.discard(local_id)
        self._changes.pop(local_id, None)
        self._streaming.discard(local_id)
        self._store.forget(local_id)
        if record is not None and record.job_id and self._by_job_id.get(record.job_id) == local_id:
            del self._by_job_id[record.job_id]
        with self._snapshots_lock:
            self._snapshots.pop(local_id, None)
        return record

    # -- submitting ----------------------------------------------------------------------------

    async def submit(
        self,
        target: Target,
        body: dict[str, Any],
        operation: str = "run",
        *,
        template: str | None = None,
        wait_ms: int | None = None,
        stream: bool | None = None,
        origin: dict[str, Any] | None = None,
    ) -> JobRecord:
        """Record the job (SUBMITTING), send it, and follow it unless the answer was final.

        ``origin`` (see ``JobRecord.origin``) is kept as given: the caller redacts it."""
        if not is_operation(operation):
            raise RequestInvalid(f"Unknown operation {operation!r}: use 'run' or 'runsync'.")
        target = await self.resolve(target)
        now = time.time()
        record = JobRecord(
            local_id=_new_local_id(),
            profile=target.name,
            endpoint_id=target.endpoint_id,
            operation=operation,
            request=redact_body(body),
            submitted_at=now,
            template=template,
            history=[(now, str(JobState.SUBMITTING))],
            origin=origin,
        )
        self._adopt(record, target)
        self.owned.add(record.local_id)
        if stream is not None:
            (self._streaming.add if stream else self._streaming.discard)(record.local_id)
        self._publish(record, added=True)
        return await self._send_recorded(record, target, body, wait_ms)

    async def follow(self, job_ref: str, target: Target | None) -> JobRecord:
        """Follow a job this console did not send, to its end.

        ``job_ref`` names a job of the history (its local id, or its RunPod id on ``target``'s
        endpoint): an imported one, or one a stopped console left; ``target``, when given, is
        where it is now. Otherwise it is a job sent elsewhere (curl, the SDK) that ``target``
        knows by that id: it is recorded once its first ``/status`` answered (a 404 raises
        ``JobNotFound`` and records nothing). A job that has ended is returned as it is.
        """
        local_id = self._find(job_ref, target)
        if local_id is None and await self._read_back(job_ref):
            local_id = self._find(job_ref, target)
        if local_id is not None:
            return await self._follow_stored(local_id, target)
        if target is None:
            raise ConsoleError(
                f"There is no job {job_ref} in the history. To follow a job sent elsewhere, "
                "name the profile of its endpoint."
            )
        return await self._follow_sent_elsewhere(job_ref, target)

    def _find(self, job_ref: str, target: Target | None) -> str | None:
        if job_ref in self._records:
            return job_ref
        named = [
            (record.submitted_at, local_id)
            for local_id, record in self._records.items()
            if record.job_id == job_ref
            and (target is None or record.endpoint_id == target.endpoint_id)
        ]
        return max(named)[1] if named else None

    async def _follow_stored(self, local_id: str, target: Target | None) -> JobRecord:
        record = self._records[local_id]
        if record.terminal:
            return snapshot(record)
        if record.job_id is None:
            raise ConsoleError(
                "This job has no RunPod id: its sending was cut off, so there is nothing to "
                "follow. `job-console resume --resend-not-sent` sends it again."
            )
        where = None if target is None else await self.resolve(target)
        if local_id not in self.owned and not await self._take_if_free(local_id):
            raise ConsoleError(
                "Another console follows this job now; it records the job's end in the history."
            )
        record = self._records[local_id]  # read back by the claim
        if where is not None:
            self._targets[local_id] = where
            record.profile = where.name
        if not self.tracker.is_tracked(local_id):
            self.tracker.track(local_id, streaming=local_id in self._streaming)
        return self._publish(record)

    async def _follow_sent_elsewhere(self, job_id: str, target: Target) -> JobRecord:
        target = await self.resolve(target)
        try:
            status = await self.client_for(target).status(job_id)
        except JobNotFound as exc:
            raise JobNotFound(
                f"The endpoint {target.endpoint_url} does not know job {job_id} (404): check the "
                "id and the profile. RunPod forgets a /run job 30 minutes after it ends.",
                status_code=exc.status_code,
            ) from None
        now = time.time()
        record = JobRecord(
            local_id=_new_local_id(),
            profile=target.name,
            endpoint_id=target.endpoint_id,
            operation="run",
            request={},
            submitted_at=now,
            state=JobState.IN_QUEUE,
            job_id=job_id,
            history=[(now, str(JobState.IN_QUEUE))],
            note=_SENT_ELSEWHERE_NOTE,
        )
        merge_status(record, status, now)
        self._adopt(record, target)
        self.owned.add(record.local_id)
        if not record.terminal:
            self.tracker.track(record.local_id, streaming=False)
        return self._publish(record, added=True)

    async def resend(self, local_id: str) -> JobRecord:
        """Send a NOT_SENT job again as itself (same row, same target) and follow it.

        Whoever asks warns first: a job whose note says it may have been queued can run twice.
        """
        record = await self._held(local_id)
        if record.state != JobState.NOT_SENT:
            raise ConsoleError(
                f"Only NOT_SENT jobs are sent again as themselves; this one is {record.state}. "
                "Resubmit its request instead."
            )
        if holds_redacted(redact_body(record.request)):
            raise RequestInvalid(
                "This job's request held a secret, which the history keeps redacted, so it "
                "cannot be sent again from there. Put it into the editor (Resubmit in editor), "
                "fill in the secret and send it."
            )
        await self._take_for_action(local_id, "sent again")
        target = await self.resolve(self._targets[local_id])
        self._targets[local_id] = target
        self.send_errors.pop(local_id, None)
        record.note = record.started_at = record.finished_at = None
        set_state(record, JobState.SUBMITTING, time.time())
        self._publish(record)
        return await self._send_recorded(record, target, record.request, None)

    async def _send_recorded(
        self, record: JobRecord, target: Target, body: dict[str, Any], wait_ms: int | None
    ) -> JobRecord:
        """Send a recorded (SUBMITTING) job and fold in the answer; NOT_SENT, saying why, when
        it could not be sent or its answer never came."""
        if self._stopped is not None:
            mark_not_sent(record, time.time(), _stopped_note(self._stopped, left=False))
            return self._publish(record)
        left = False

        def leaving() -> None:
            nonlocal left
            left = True

        task = asyncio.current_task()
        if task is not None:
            self._sending[record.local_id] = task
        try:
            # On disk before it leaves: a crash from here on leaves a SUBMITTING row, never a job
            # the endpoint runs and the history does not know. Submissions made together share a
            # commit.
            await self._commit_gate.committed()
            status = await self._send(target, body, record.operation, wait_ms, leaving)
        except asyncio.CancelledError:
            if self._stopped is None:
                raise
            mark_not_sent(record, time.time(), _stopped_note(self._stopped, left))
        except SubmissionUncertain as exc:
            self.send_errors[record.local_id] = exc
            mark_not_sent(record, time.time(), str(exc))
        except ConsoleError as exc:
            self.send_errors[record.local_id] = exc
            mark_not_sent(record, time.time(), f"Not sent: {exc}")
        except Exception as exc:  # a bug (or a broken key provider): never leave it SUBMITTING
            log.exception("sending job %s failed", record.local_id)
            mark_not_sent(
                record, time.time(), f"Not sent: the console failed while sending it ({exc!r})."
            )
        else:
            if status.job_id and status.state is not None and status.state.terminal:
                await self._read_last_chunks(record, status.job_id)  # a runsync that ended
            self._take_submit_answer(record, status)
        finally:
            self._sending.pop(record.local_id, None)
        return self._publish(record)

    async def _send(
        self,
        target: Target,
        body: dict[str, Any],
        operation: Operation,
        wait_ms: int | None,
        on_send: Callable[[], None] | None = None,
    ) -> JobStatus:
        resolved = self._body_resolver(body) if self._body_resolver else body
        try:
            wire = serialize_body(resolved)
        except (TypeError, ValueError) as exc:
            raise RequestInvalid(f"The body cannot be written as JSON ({exc}).") from exc
        limit = MAX_BODY_BYTES[operation]
        if len(wire) > limit:
            raise RequestInvalid(
                f"The body is {len(wire) / 1e6:.1f} MB; RunPod accepts at most "
                f"{limit / 1024 / 1024:.0f} MB for /{operation}. Upload large inputs to storage "
                "and send their URL instead."
            )
        client = self.client_for(target)
        if operation == "runsync":
            return await client.runsync(wire, wait_ms, on_send=on_send)
        return await client.run(wire, on_send=on_send)

    def _take_submit_answer(self, record: JobRecord, status: JobStatus) -> None:
        if not status.job_id:
            mark_not_sent(
                record,
                time.time(),
                "The endpoint accepted the request but answered without a job id, so the job "
                "cannot be followed. Is the base URL a RunPod endpoint?",
            )
            return
        self._by_job_id[status.job_id] = record.local_id
        if "webhook" in record.request and self.job_id_learned is not None:
            # Its delivery may have come before this answer (a short job): look for it.
            self.job_id_learned(status.job_id)
        if status.state is None:
            status = dataclasses.replace(status, state=JobState.IN_QUEUE)
        merge_status(record, status, time.time())
        if record.terminal:
            self.webhooks.job_ended(record.local_id, record.state, record.request)
        else:
            # runsync that outlived its wait goes on like a /run job.
            self.tracker.track(record.local_id, streaming=record.local_id in self._streaming)

    # -- following -----------------------------------------------------------------------------

    async def poll(self, local_id: str) -> bool:
        """Ask the endpoint about one job; ``True`` while it still needs following.

        An end held from a webhook stands in for the ``/status`` answer (module docstring).
        """
        held = self._held_ends.pop(local_id, None)
        record = self._records.get(local_id)
        if record is None or record.terminal or record.job_id is None:
            return False
        client = self.client_for(self._targets[local_id])
        streaming = local_id in self._streaming
        changed = False
        answer: JobStatus | None = None
        try:
            answer = held if held is not None else await client.status(record.job_id)
            self._purge_candidates.discard(local_id)  # still known: the purge did not take it
            if streaming and answer.state not in (None, JobState.IN_QUEUE):
                # Drain before folding in a terminal state: chunks after it would be ignored.
                changed = await self._read_stream(record, client, record.job_id)
            changed |= merge_status(record, answer, time.time())
            if record.note_kind is NoteKind.STATUS_UNREACHABLE:
                record.note, changed = None, True
        except JobNotFound:
            changed = self._mark_gone(record)
        except ConsoleError as exc:
            note = status_unreachable_note(str(exc))
            changed, record.note = record.note != note, note
        if changed and local_id in self._records:
            if record.terminal and not record.webhook_deliveries:
                self.webhooks.job_ended(local_id, record.state, record.request)
            self._publish(record)
        if record.terminal:
            self._stream_locks.pop(local_id, None)
        elif self.status_seen is not None and local_id in self._records:
            self.status_seen(record, answer)
        return not record.terminal

    def _mark_gone(self, record: JobRecord) -> bool:
        """The endpoint answered 404: purged by this console, or expired (module docstring)."""
        if record.local_id in self._purge_candidates:
            self._purge_candidates.discard(record.local_id)
            return mark_purged(record, time.time())
        return mark_expired(record, time.time())

    async def _read_stream(self, record: JobRecord, client: EndpointClient, job_id: str) -> bool:
        """Append the chunks buffered since the last read; ``True`` when there were any."""
        lock = self._stream_locks.setdefault(record.local_id, asyncio.Lock())
        async with lock:  # two reads at once (a poll and a webhook's) could swap their chunks
            return append_stream(record, await self._drain(client, job_id))

    async def _read_last_chunks(self, record: JobRecord, job_id: str) -> None:
        """Before a streaming job's end is folded in outside a poll: the chunks still buffered."""
        if record.local_id in self._streaming and not record.terminal:
            client = self.client_for(self._targets[record.local_id])
            await self._read_stream(record, client, job_id)

    async def _drain(self, client: EndpointClient, job_id: str) -> tuple[Any, ...]:
        """Chunks still buffered when a streaming job ended between two polls."""
        try:
            return (await client.stream(job_id)).stream
        except ConsoleError:
            return ()

    async def apply_external_update(self, payload: dict[str, Any], source: str) -> JobRecord | None:
        """News of a job from outside (a webhook delivery): the same rules as a poll result.

        Returns the updated snapshot, or ``None`` when no job in the history has that id.
        """
        job_id = payload.get("id")
        local_id = self._by_job_id.get(job_id) if isinstance(job_id, str) else None
        if local_id is None or local_id not in self.owned:
            return None  # another console's job: its owner merges the stored delivery
        record = self._records[local_id]
        if source == "webhook":
            record.webhook_deliveries += 1
            record.webhook_missing = False  # late, but it came
            self.webhooks.delivered(local_id)
        status = JobStatus.from_payload(payload)
        ends = status.state is not None and status.state.terminal
        if ends and local_id in self._streaming and not record.terminal:
            # Its last chunks may still be buffered: a poll reads them, then folds this end in.
            self._held_ends[local_id] = status
            if self.tracker.is_tracked(local_id):
                self.tracker.poll_soon(local_id)
            else:
                self.tracker.track(local_id, streaming=True, delay=0)
            return self._publish(record)
        merge_status(record, status, time.time())
        if record.terminal:
            self.tracker.untrack(local_id)
        return self._publish(record)

    def _webhook_overdue(self, local_id: str) -> None:
        record = self._records.get(local_id)
        if record is not None and not record.webhook_deliveries:
            record.webhook_missing = True
            self._publish(record)

    # -- actions -------------------------------------------------------------------------------

    async def cancel(self, local_id: str, *, guard: GuardVerdict | None = None) -> JobRecord:
        """Cancel the job; a spend ``guard`` that asks for it is recorded: a step in its history
        first, then (once cancelled) its reason in the note and ``facts["guard"]``."""
        record = await self._held(local_id)
        if record.terminal:
            raise ConsoleError(f"This job is already {record.state}: there is nothing to cancel.")
        if record.job_id is None:
            raise ConsoleError("This job has no id yet (it is being sent); cancel it once queued.")
        if local_id not in self.owned and not await self._take_if_free(local_id):
            # Another console follows it: ask the endpoint, and that console records the end.
            await self.client_for(self._targets[local_id]).cancel(record.job_id)
            return self._snapshots[local_id]
        if guard is not None:
            record.history.append((time.time(), f"{GUARD_STEP}cancelling: {guard.step}"))
        try:
            answer = await self.client_for(self._targets[local_id]).cancel(record.job_id)
        except JobNotFound:
            self._mark_gone(record)
        else:
            if answer.state is None:
                answer = dataclasses.replace(answer, state=JobState.CANCELLED)
            if answer.state is not None and answer.state.terminal:
                await self._read_last_chunks(record, record.job_id)
            merge_status(record, answer, time.time())
        if guard is not None and record.state is JobState.CANCELLED:
            record.note = guard.reason
            guarded = {"kind": guard.kind, "reason": guard.reason}
            record.facts = {**(record.facts or {}), "guard": guarded}
        if record.terminal:
            self.tracker.untrack(local_id)
        else:
            self.tracker.poll_soon(local_id)
        return self._publish(record)

    def add_facts(self, local_id: str, facts: Mapping[str, Any]) -> None:
        """Merge what was learned around a job this console owns (its worker's release and GPU,
        its cost: ``JobRecord.facts``) into it; saved and announced when it changed anything."""
        record = self._records.get(local_id)
        if record is None or local_id not in self.owned:
            return
        merged = {**(record.facts or {}), **facts}
        if merged != record.facts:
            record.facts = merged  # a new dict: snapshots keep the one they were made with
            self._publish(record)

    async def retry(self, local_id: str) -> JobRecord:
        """Requeue a FAILED or TIMED_OUT job under the same id, and follow it again."""
        record = await self._held(local_id)
        if record.state not in _RETRYABLE_STATES or record.job_id is None:
            raise ConsoleError(
                f"Only FAILED or TIMED_OUT jobs can be retried; this one is {record.state}. "
                "Resubmit it instead."
            )
        await self._take_for_action(local_id, "retried")
        answer = await self.client_for(self._targets[local_id]).retry(record.job_id)
        for name in ("output", "error", "progress", "started_at", "finished_at", "note"):
            setattr(record, name, None)
        record.delay_time_ms = record.execution_time_ms = record.worker_id = None
        set_state(record, answer.state or JobState.IN_QUEUE, time.time())
        merge_status(record, answer, time.time())
        self.tracker.track(local_id, streaming=local_id in self._streaming)
        return self._publish(record)

    async def purge_queue(self, target: Target) -> dict[str, Any]:
        """Remove the endpoint's queued jobs; the console's jobs that waited there become PURGED
        once the endpoint says it no longer knows them (module docstring)."""
        target = await self.resolve(target)
        waiting = {
            local_id
            for local_id, record in self._records.items()
            if record.state == JobState.IN_QUEUE and _same_endpoint(self._targets[local_id], target)
        }
        self._purge_candidates |= waiting
        try:
            answer = await self.client_for(target).purge_queue()
        except BaseException:
            self._purge_candidates -= waiting
            raise
        for local_id in waiting:
            self.tracker.poll_soon(local_id)
        return answer

    async def _take_if_free(self, local_id: str) -> bool:
        """Claim another console's unfinished job if that console is gone; True when taken."""
        lease = self.lease
        if lease is None:
            return False
        loop = asyncio.get_running_loop()
        claimed = await loop.run_in_executor(None, lease.claim, [local_id])
        if local_id not in claimed:
            return False
        fresh = await loop.run_in_executor(None, lease.read, [local_id])
        self.take_over(fresh)
        return local_id in self.owned

    async def _take_for_action(self, local_id: str, action: str) -> None:
        """Own another console's job before acting on it, or say why it can't be."""
        if local_id in self.owned or self.lease is None:
            self.owned.add(local_id)
            return
        loop = asyncio.get_running_loop()
        seen = self._changes.get(local_id, 0)
        refused = await loop.run_in_executor(None, self.lease.claim_for_action, local_id, seen)
        if refused is not None:
            raise ConsoleError(f"This job was not {action}: {refused}. Look again in a moment.")
        self._changes.pop(local_id, None)
        self.owned.add(local_id)

    def remove(self, local_ids: tuple[str, ...], *, stored: bool = True) -> None:
        """Forget these jobs and (``stored``) delete them from the history: a job another console
        follows is then dropped by it too (the removal's tombstone). Jobs this engine let go
        (ended) are removed from the store all the same."""
        removed = tuple(dict.fromkeys(local_ids))
        for local_id in removed:
            self._drop(local_id)
            self.send_errors.pop(local_id, None)
        if removed:
            if stored:
                self._store.delete(removed)
            self._emit(JobsRemoved(removed))


def _kind(target: Target | None) -> str | None:
    return None if target is None else target.kind


def _same_endpoint(a: Target, b: Target) -> bool:
    """Do ``a`` and ``b`` name one queue? Every built-in sandbox target does (its port changes)."""
    if a.kind == "sandbox" or b.kind == "sandbox":
        return a.kind == b.kind
    return a.endpoint_url == b.endpoint_url
