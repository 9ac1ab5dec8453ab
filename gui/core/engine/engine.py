"""The engine: one asyncio loop on one background thread that owns everything that waits.

The window and the command line call its thread-safe methods, each returning a
``concurrent.futures.Future``, and hear back through ``subscribe``. The loop owns the HTTP clients,
the job tracker, the job history (SQLite, through its writer thread) and the built-in sandbox.

    engine = Engine(data_dir, sandbox=SandboxServer)   # gui.sandbox's, or any SandboxFactory
    engine.start()
    target = engine.sandbox_target().result()
    record = engine.submit(target, {"input": {"prompt": "hi"}}).result()
    ...
    engine.close()
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from gui.core.engine.loop_thread import LoopThread
from gui.core.events import (
    DeliveriesStored,
    EngineEvent,
    JobAdded,
    JobChanged,
    JobsRemoved,
    Subscribers,
)
from gui.core.limits import RATE_LIMITS, WEBHOOK_GRACE_S
from gui.core.records import JobRecord
from gui.core.targets import SANDBOX_ENDPOINT_ID, SANDBOX_PROFILE, Target

# asyncio, the store and the tracker are imported on the loop's own thread (``LoopThread``):
# not on the window's thread, whose start-up they would lengthen by some 30 ms.
if TYPE_CHECKING:
    import asyncio

    import httpx

    from gui.core.account.access import AccountAccess
    from gui.core.account.client import ManagementClient
    from gui.core.account.diagnosis import WaitDiagnosis
    from gui.core.account.models import Endpoint
    from gui.core.account.status import EndpointStatus
    from gui.core.endpoint.client import RetryPolicy
    from gui.core.endpoint.connection_check import ConnectionResult
    from gui.core.engine.account_clients import ManagementClients
    from gui.core.engine.guards import GuardKeeper
    from gui.core.engine.job_facts import FactRecorder
    from gui.core.engine.jobs import BodyResolver, JobService, KeyProvider
    from gui.core.engine.leases import ConsoleLease
    from gui.core.engine.log_follow import LogFollow
    from gui.core.engine.settings import ProfileSettings
    from gui.core.engine.shared_view import SharedView
    from gui.core.engine.tracker import PollPolicy
    from gui.core.profiles.secrets import SecretStore
    from gui.core.storage.store import JobStore
    from gui.core.webhooks.address import ListenerSettings
    from gui.core.webhooks.console_listener import ConsoleListener, ListenerInfo
    from gui.core.webhooks.deliveries import Delivery

__all__ = [
    "Engine",
    "EngineEvent",
    "JobAdded",
    "JobChanged",
    "JobsRemoved",
    "SandboxFactory",
    "SandboxLike",
    "env_key_provider",
    "with_sandbox_webhook",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

API_KEY_ENV = "RUNPOD_API_KEY"
WATCH_INTERVAL_S = 0.5  # how often the store is asked whether another console wrote
LISTENER_START_WAIT_S = 5.0  # the longest a sandbox request waits for the listener to start
# How long a window's engine keeps an ended job in memory past its webhook's grace (a late
# delivery, the window's last look at it); then the store alone holds it.
ENDED_KEPT_S = 30.0


class SandboxLike(Protocol):
    """What the engine needs of its built-in sandbox (``gui.sandbox.SandboxServer`` is one)."""

    @property
    def base_url(self) -> str: ...

    async def start(self, host: str, port: int) -> None: ...

    async def stop(self) -> None: ...


SandboxFactory = Callable[[], SandboxLike]
"""Makes the built-in sandbox, on the engine's thread, when it is first used. The engine does not
import ``gui.sandbox``: whoever builds the engine hands this in (``gui.app``, ``gui.commands``)."""


def env_key_provider(target: Target) -> str | None:
    """The default key provider: ``RUNPOD_API_KEY`` from the environment, read per request."""
    return os.environ.get(API_KEY_ENV) or None


def with_sandbox_webhook(target: Target, body: dict[str, Any], url: str | None) -> dict[str, Any]:
    """``body`` as sent to ``target``: with ``webhook`` set to ``url`` for the built-in sandbox when
    the request names none; other targets (and bodies with a webhook) get ``body`` unchanged."""
    if target.kind != "sandbox" or not url or "webhook" in body:
        return body
    return {**body, "webhook": url}


class Engine:
    """Submits and follows jobs; thread-safe. ``start`` before use, ``close`` when done.

    Optional tuning (all keyword-only): ``rate_limits`` (``None`` turns the client-side limiter
    off, e.g. against a sandbox that has no limits), ``poll_policy``, ``retry_policy``,
    ``body_resolver``: called on the loop just before a body is sent, to put secrets referenced by
    the body (S3 keys in the keyring) in place (the stored request never holds them),
    ``webhook_grace_s``: how long after a job's end its webhook may take (``expect_webhooks_at``),
    and ``resume_profiles``: follow at start only the unfinished jobs of these profiles (``None``:
    all of them; ``gui.core.engine.jobs.jobs_to_resume`` decides).

    ``sandbox`` makes the built-in sandbox (``SandboxFactory``; ``None``: this engine has none, and
    ``sandbox_target`` says so).

    ``kind`` says what this console is, for the other consoles on the data folder
    (``gui.core.engine.leases``): a ``"window"`` takes over, at start and at every heartbeat, the
    unfinished jobs no live console follows, and shows the jobs other consoles add and change; a
    ``"resume"`` takes them over at start; a ``"run"`` follows only the jobs it sends (its exit
    code is about its own batch) and leaves the others to ``job-console resume`` (``orphaned``).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        key_provider: KeyProvider | None = None,
        sandbox: SandboxFactory | None = None,
        rate_limits: Mapping[str, tuple[int, int | None]] | None = RATE_LIMITS,
        poll_policy: PollPolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        body_resolver: BodyResolver | None = None,
        webhook_grace_s: float = WEBHOOK_GRACE_S,
        resume_profiles: Collection[str] | None = None,
        kind: str = "window",
    ) -> None:
        self.data_dir = Path(data_dir)
        self.kind = kind
        self._lease: ConsoleLease | None = None
        self._view: SharedView | None = None
        self._background: list[asyncio.Task[None]] = []
        self.orphaned: tuple[str, ...] = ()
        """Unfinished jobs no live console followed once this one started (and did not take)."""
        self._resume_profiles = None if resume_profiles is None else frozenset(resume_profiles)
        self._key_provider = key_provider or env_key_provider
        self._make_sandbox = sandbox
        self._options: dict[str, Any] = {
            "rate_limits": rate_limits,
            "poll_policy": poll_policy,
            "retry_policy": retry_policy,
            "body_resolver": body_resolver,
            "webhook_grace_s": webhook_grace_s,
        }
        self._subscribers: Subscribers[EngineEvent] = Subscribers("an engine")
        self._runner = LoopThread("engine-loop")
        self._store: JobStore | None = None
        self._service: JobService | None = None
        self._sandbox: SandboxLike | None = None
        self._sandbox_lock: asyncio.Lock | None = None
        self._started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._sandbox_webhook: str | None = None
        # Listener starts in progress (tasks on the loop): a sandbox request that names no webhook
        # waits for them, so a job sent while the window starts still reports to the listener.
        self._listener_starts: set[asyncio.Future[Any]] = set()
        self._listener: ConsoleListener | None = None
        self._http: httpx.AsyncClient | None = None  # one-off requests: replays, checks
        self._logs: LogFollow | None = None  # the worker logs of the jobs it follows
        self._management: ManagementClients | None = None  # REST v2, made at first use
        self._settings: ProfileSettings | None = None  # profiles' guards and management URLs
        self._guards: GuardKeeper | None = None  # the profiles' spend guards, applied
        self._facts: FactRecorder | None = None  # each job's worker release, GPU and cost

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, *, wait: bool = True) -> concurrent.futures.Future[None]:
        """Start the loop thread, open the history, reload it and resume following open jobs.

        With ``wait=False`` it returns at once (the window shows while the history loads): the
        returned future (also ``started``) is set when the engine is ready. Work asked for before
        then waits for it; ``jobs`` and ``flush`` need it done (``jobs`` is empty until then).
        """
        if self._runner.running:
            raise RuntimeError("The engine is already started.")
        self._started = concurrent.futures.Future()
        self._runner.start()
        starting = self._call(self._astart())
        starting.add_done_callback(self._on_started)
        if wait:
            try:
                starting.result()
            except BaseException:
                self.close()
                raise
        return self._started

    @property
    def started(self) -> concurrent.futures.Future[None]:
        """Set once the history is loaded and open jobs are followed (or with start's error)."""
        return self._started

    def _on_started(self, starting: concurrent.futures.Future[None]) -> None:
        if self._started.done():
            return
        if starting.cancelled():
            self._started.set_exception(RuntimeError("The engine was closed while starting."))
        elif (error := starting.exception()) is not None:
            self._started.set_exception(error)
        else:
            self._started.set_result(None)

    async def _astart(self) -> None:
        import asyncio

        from gui.core.storage.store import DB_FILENAME, JobStore

        loop = asyncio.get_running_loop()
        path = self.data_dir / DB_FILENAME
        self._lease = await loop.run_in_executor(None, self._open_lease, path)
        self._store = store = JobStore(path, owner=self._lease.owner)
        # Only the jobs not ended: the ended ones live in the store (the window reads its table
        # there) and are read back when an action needs one.
        loading = loop.run_in_executor(None, lambda: store.load(unfinished_only=True))
        # Imported here, on the loop thread, while the history loads (SQLite reads let go of the
        # GIL): the HTTP client stack (httpx, aiohttp) takes a few hundred milliseconds to import,
        # and the window should not wait for it.
        from gui.core.engine.jobs import JobService, jobs_to_resume
        from gui.core.engine.log_follow import LogFollow

        stored = await loading
        adopt = jobs_to_resume(stored, self._resume_profiles, self._lease.owner)
        self._service = JobService(
            self._store, self._emit, key_provider=self._key_provider, **self._options
        )
        self._service.lease = self._lease
        self._service.show_others = self.kind == "window"
        if self.kind == "window":  # the command line's verbs report on their own jobs at the end
            self._service.forget_ended_after = self._options["webhook_grace_s"] + ENDED_KEPT_S
        self._service.job_id_learned = self._look_for_early_delivery
        self._service.start_sandbox = self._start_sandbox
        from gui.core.engine.guards import GuardKeeper
        from gui.core.engine.job_facts import FactRecorder
        from gui.core.engine.settings import ProfileSettings

        self._settings = ProfileSettings(self.data_dir)
        self._logs = LogFollow(self._store.save_logs, self._account_access)
        self._facts = FactRecorder(self._service.add_facts, self._account_access)
        self._service.job_published = self._job_published
        self._guards = GuardKeeper(self._service, self._settings.guards)
        self._service.status_seen = self._guards.observe
        if self._sandbox is not None:  # started by a sandbox_target() call while loading
            self._service.sandbox = self._sandbox_target(self._sandbox)
        if any(job.target.kind == "sandbox" for job in adopt):
            # Jobs sent to an earlier built-in sandbox: it forgot them, the new one says 404.
            await self._start_sandbox()
        self._service.resume(stored, adopt)
        self.orphaned = tuple(await loop.run_in_executor(None, self._lease.orphans))
        self._view = await loop.run_in_executor(None, self._open_view, path)
        self._background = [
            loop.create_task(self._keep_lease()),
            loop.create_task(self._watch_others()),
        ]

    def _open_lease(self, path: Path) -> ConsoleLease:
        """Register this console, and claim the jobs it is to take over (before reading them)."""
        from gui.core.engine.leases import ConsoleLease

        lease = ConsoleLease(path, self.kind)
        lease.register()
        if self.kind != "run":
            lease.claim(lease.orphans(self._resume_profiles))
        return lease

    def _open_view(self, path: Path) -> SharedView:
        from gui.core.engine.shared_view import SharedView

        assert self._lease is not None and self._store is not None
        return SharedView(path, self._lease.owner, self._store.loaded_change)

    async def _keep_lease(self) -> None:
        """Renew the lease; a window also takes over what consoles that stopped left."""
        import asyncio

        from gui.core.engine.leases import HEARTBEAT_S

        loop = asyncio.get_running_loop()
        lease, service = self._lease, self._require_service()
        assert lease is not None
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await loop.run_in_executor(None, lease.beat)
                if self.kind == "window":
                    await self._take_orphans(lease, service)
                    await self._serve_left_listener()
            except Exception:  # a locked or failing file: try again at the next beat
                log.exception("renewing this console's lease failed")

    async def _take_orphans(self, lease: ConsoleLease, service: JobService) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        orphans = await loop.run_in_executor(None, lease.orphans, self._resume_profiles)
        claimed = await loop.run_in_executor(None, lease.claim, orphans) if orphans else set()
        if claimed:
            fresh = await loop.run_in_executor(None, lease.read, claimed)
            service.take_over(fresh)
            await self._merge_left_deliveries([job.record.job_id for job in fresh])

    async def _serve_left_listener(self) -> None:
        """The console whose listener this one used stopped serving: serve its port here."""
        listener = self._listener
        if listener is None:
            return
        try:
            info = await listener.serve_if_left()
        except Exception as exc:  # taken by another program meanwhile: the next beat tries again
            log.warning("could not serve the listener's port another console left: %s", exc)
            return
        if info is not None:
            self._announce_listener(info)

    def _look_for_early_delivery(self, job_id: str) -> None:
        """A delivery that came before its /run answer was not merged then: merge it now."""
        import asyncio

        task = asyncio.get_running_loop().create_task(self._merge_left_deliveries([job_id]))
        self._background.append(task)
        task.add_done_callback(self._background.remove)

    async def _merge_left_deliveries(self, job_ids: Sequence[str | None]) -> None:
        """Deliveries a stopped console never merged, for jobs this one just took over."""
        import asyncio

        view = self._view
        if view is None:
            return
        wanted = [job_id for job_id in job_ids if job_id]
        left = await asyncio.get_running_loop().run_in_executor(None, view.unmatched_for, wanted)
        for delivery in left:
            await self.merge_delivery(delivery)

    async def _watch_others(self) -> None:
        """Every half second: what other consoles wrote (jobs, removals, deliveries)."""
        import asyncio

        loop = asyncio.get_running_loop()
        view, service = self._view, self._require_service()
        assert view is not None
        while True:
            try:
                changes = await loop.run_in_executor(None, view.poll)
                if changes is not None:
                    service.observe(changes.jobs, changes.removed)
                    for delivery in changes.deliveries:
                        await self.merge_delivery(delivery)
            except Exception:
                log.exception("reading other consoles' changes failed")
            await asyncio.sleep(WATCH_INTERVAL_S)

    async def merge_delivery(self, delivery: Delivery) -> str | None:
        """Merge a stored webhook delivery into its job when this console owns the job, once
        (the row is marked merged first, so no console, nor this one twice, merges it again).
        Runs on the loop; returns the job's local id, or None when it is not this console's."""
        import asyncio

        service = await self._ready_service()
        local_id = service.owner_of(delivery.job_id)
        if local_id is None:
            return None
        loop = asyncio.get_running_loop()
        view = self._view
        if view is not None:
            if not await loop.run_in_executor(None, view.take_delivery, delivery.id, local_id):
                return None
            payload = delivery.payload
            if payload is None:
                payload = await loop.run_in_executor(None, view.payload, delivery.id)
        else:
            payload = delivery.payload
        if not isinstance(payload, dict):
            return None
        record = await service.apply_external_update(payload, "webhook")
        return None if record is None else record.local_id

    def serve_listener(self, port: int | None) -> None:
        """Record (for the other consoles) that this one serves the webhook listener on ``port``
        (None: it stopped). Safe from any thread."""
        self._call(self._record_listener(port))

    async def _record_listener(self, port: int | None) -> None:
        import asyncio

        await asyncio.wrap_future(self._started)
        if self._lease is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._lease.serve_listener, port)

    def listener_elsewhere(self, port: int) -> concurrent.futures.Future[str | None]:
        """Another live console that serves the webhook listener on ``port``: its description
        ("a window (pid 42)"), or None when none does."""
        return self._call(self._listener_elsewhere(port))

    async def _listener_elsewhere(self, port: int) -> str | None:
        import asyncio

        await asyncio.wrap_future(self._started)
        lease = self._lease
        if lease is None:
            return None
        other = await asyncio.get_running_loop().run_in_executor(None, lease.listener_on, port)
        return None if other is None else other.describe()

    # -- the webhook listener ------------------------------------------------------------------

    @property
    def listener(self) -> ConsoleListener | None:
        """The console's webhook listener, once ``start_listener`` was asked (its ``info``,
        ``store``, ``received`` and ``subscribe`` are safe from any thread)."""
        return self._listener

    def start_listener(
        self, settings: ListenerSettings, secrets: SecretStore, *, fallback: bool = True
    ) -> concurrent.futures.Future[ListenerInfo]:
        """Serve the webhook listener as ``settings`` say, its token kept in ``secrets`` (the
        keyring, and nowhere else). A port taken by another console of the data folder is used
        through that console's URL; one taken otherwise moves to a free port with ``fallback``
        (the automatic first start), else fails with ``ListenerPortTaken`` (``suggested_port``).

        While it serves, the built-in sandbox reports to it when a request names no webhook, and
        jobs sent with its URLs are flagged when their delivery never comes. Each delivery it
        stores is told to subscribers as ``DeliveriesStored``."""
        if self._listener is None:
            from gui.core.webhooks.console_listener import ConsoleListener  # standard library only

            self._listener = ConsoleListener(
                self.data_dir,
                secrets,
                on_stored=self.merge_delivery,
                look_up=self._listener_elsewhere,
                record=self._record_listener,
            )
            # After its merge: whoever reads the row sees it matched to its job.
            self._listener.subscribe(lambda stored: self._emit(DeliveriesStored((stored.id,))))
        listener = self._listener
        return self._call(self._listening(listener.start(settings, fallback=fallback)))

    def reconfigure_listener(
        self, settings: ListenerSettings
    ) -> concurrent.futures.Future[ListenerInfo]:
        """Serve as ``settings`` say from now on: a new public URL alone keeps the listener, a new
        host or port restarts it there (never moved to another port: the person chose it)."""
        listener = self._require_listener()
        return self._call(self._listening(listener.reconfigure(settings)))

    def renew_listener_token(self) -> concurrent.futures.Future[ListenerInfo | None]:
        """A new token in the keyring; the serving listener takes it at once (the old URL then
        gets 404). The future holds the new state (None when nothing serves)."""
        listener = self._require_listener()

        async def renew() -> ListenerInfo | None:
            info = await listener.renew_token()
            self._announce_listener(info)
            return info

        return self._call(renew())

    def stop_listener(self) -> concurrent.futures.Future[None]:
        """Stop serving the webhook listener (``close`` does it too)."""
        listener = self._listener

        async def stop() -> None:
            self._announce_listener(None)
            if listener is not None:
                await listener.stop()

        return self._call(stop())

    async def _listening(self, starting: Coroutine[Any, Any, ListenerInfo]) -> ListenerInfo:
        import asyncio

        this = asyncio.current_task()
        assert this is not None
        self._listener_starts.add(this)
        try:
            self._announce_listener(None)
            info = await starting
            self._announce_listener(info)
            return info
        finally:
            self._listener_starts.discard(this)

    def _announce_listener(self, info: ListenerInfo | None) -> None:
        if info is None:
            self.send_sandbox_webhooks_to(None)
            return
        # Jobs sent with these webhooks and ended by polling get flagged when no delivery came.
        self.expect_webhooks_at([url for url in (info.url, info.webhook_url) if url])
        # The built-in sandbox reports here when a request names no webhook, however it is sent.
        self.send_sandbox_webhooks_to(info.url)

    def _require_listener(self) -> ConsoleListener:
        if self._listener is None:
            raise RuntimeError("The webhook listener was never started (start_listener).")
        return self._listener

    def close(self) -> None:
        """Finish writing the history, cancel the loop's work, join the thread. Idempotent."""
        runner = self._runner
        if not runner.running:
            return
        try:
            runner.loop()  # made (waiting for it if need be), or why not
        except RuntimeError:  # never made: its error went to every caller, nothing to finish
            runner.stop()
            return
        try:
            self._call(self._aclose()).result(timeout=30)
        except Exception:
            log.exception("closing the engine failed")
        runner.stop()

    async def _aclose(self) -> None:
        import asyncio

        for task in self._background:
            task.cancel()
        if self._listener is not None:
            self._sandbox_webhook = None
            await self._listener.close()  # before the lease goes: it says it stopped serving
        if self._guards is not None:
            await self._guards.aclose()
        if self._service is not None:
            await self._service.aclose()
        if self._logs is not None:
            await self._logs.aclose()
        if self._facts is not None:
            await self._facts.aclose()
        if self._sandbox is not None:
            await self._sandbox.stop()
            self._sandbox = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._management is not None:
            await self._management.aclose()
            self._management = None
        loop = asyncio.get_running_loop()
        tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._service is not None:
            # The sandbox is gone: its jobs ended with it (and the next start must not call them
            # expired). After the tasks: no submit or poll can change them any more.
            self._service.end_sandbox_jobs()
        if self._store is not None:
            await loop.run_in_executor(None, self._store.close)  # writes what is still queued
        if self._view is not None:
            await loop.run_in_executor(None, self._view.close)
        if self._lease is not None:
            # After the last write: this console's unfinished jobs are free for the next one.
            await loop.run_in_executor(None, self._lease.release)
        await loop.shutdown_default_executor()

    # -- the thread-safe API -------------------------------------------------------------------

    def submit_coroutine(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the engine loop (for components living there, e.g. the listener)."""
        return self._call(coro)

    def sandbox_target(self) -> concurrent.futures.Future[Target]:
        """The built-in sandbox as a target; started on first use."""
        return self._call(self._start_sandbox())

    async def _ready_service(self) -> JobService:
        """The job service, once ``start`` has made it (work asked for early waits here)."""
        if self._service is None:  # raises start's error if it failed
            import asyncio

            await asyncio.wrap_future(self._started)
        return self._require_service()

    def submit(
        self,
        target: Target,
        body: dict[str, Any],
        operation: str = "run",
        *,
        template: str | None = None,
        wait_ms: int | None = None,
        stream: bool | None = None,
        origin: dict[str, Any] | None = None,
    ) -> concurrent.futures.Future[JobRecord]:
        """Record the job first (SUBMITTING), then send it. A failed request leaves it NOT_SENT
        with ``note`` saying why; a runsync that outlives its wait goes on to the tracker.

        A request to the built-in sandbox that names no ``webhook`` gets the one set by
        ``send_sandbox_webhooks_to``: every way of sending (the editor, a batch, Send again) comes
        through here, so all follow the same rule."""

        async def submit() -> JobRecord:
            import asyncio

            service = await self._ready_service()
            starts = self._listener_starts
            if target.kind == "sandbox" and "webhook" not in body and starts:
                await asyncio.wait(set(starts), timeout=LISTENER_START_WAIT_S)
            sent = with_sandbox_webhook(target, body, self._sandbox_webhook)
            return await service.submit(
                target,
                sent,
                operation,
                template=template,
                wait_ms=wait_ms,
                stream=stream,
                origin=origin,
            )

        return self._call(submit())

    def cancel(self, local_id: str) -> concurrent.futures.Future[JobRecord]:
        async def cancel() -> JobRecord:
            return await (await self._ready_service()).cancel(local_id)

        return self._call(cancel())

    def retry(self, local_id: str) -> concurrent.futures.Future[JobRecord]:
        async def retry() -> JobRecord:
            return await (await self._ready_service()).retry(local_id)

        return self._call(retry())

    def resend(self, local_id: str) -> concurrent.futures.Future[JobRecord]:
        """Send a NOT_SENT job again as itself, to its own target, and follow it. Warn the person
        first: a job whose request may have left (its note says so) could run twice."""

        async def resend() -> JobRecord:
            return await (await self._ready_service()).resend(local_id)

        return self._call(resend())

    def follow(self, job_ref: str, target: Target | None) -> concurrent.futures.Future[JobRecord]:
        """Follow a job this console did not send (``JobService.follow``): one of the history
        (by local or RunPod id), or one sent elsewhere that ``target`` knows by ``job_ref``."""

        async def follow() -> JobRecord:
            return await (await self._ready_service()).follow(job_ref, target)

        return self._call(follow())

    def stop_sending(self, reason: str) -> concurrent.futures.Future[int]:
        """Send nothing more: jobs still on their way become NOT_SENT with a note built from
        ``reason`` (e.g. "the console was interrupted (SIGTERM)") saying whether each request had
        left. Jobs already queued go on and are still followed. The future holds how many."""

        async def stop() -> int:
            return await (await self._ready_service()).stop_sending(reason)

        return self._call(stop())

    @property
    def resumed(self) -> tuple[str, ...]:
        """Local ids of the unfinished jobs taken over at start (followed, or made NOT_SENT)."""
        return self._require_service().resumed

    def let_go(self, local_ids: Sequence[str]) -> concurrent.futures.Future[int]:
        """Let these jobs go from memory if they have ended (``JobService.let_go``): the command
        line's batches call it once each job's final line is printed, so they hold only the jobs
        still open. The future holds how many were let go."""
        wanted = tuple(local_ids)

        async def let_go() -> int:
            return (await self._ready_service()).let_go(wanted)

        return self._call(let_go())

    def remove(self, local_ids: Sequence[str]) -> concurrent.futures.Future[None]:
        async def remove() -> None:
            (await self._ready_service()).remove(tuple(local_ids))

        return self._call(remove())

    def health(self, target: Target) -> concurrent.futures.Future[dict[str, Any]]:
        """The endpoint's ``/health``: ``{"jobs": {...}, "workers": {...}}``."""

        async def health() -> dict[str, Any]:
            service = await self._ready_service()
            return await service.client_for(await service.resolve(target)).health()

        return self._call(health())

    def purge_queue(self, target: Target) -> concurrent.futures.Future[dict[str, Any]]:
        """Remove the endpoint's queued jobs: ``{"removed": N, "status": ...}``. The console's
        jobs that waited there become PURGED."""

        async def purge() -> dict[str, Any]:
            return await (await self._ready_service()).purge_queue(target)

        return self._call(purge())

    def check_connection(
        self, target: Target, key: Callable[[], str | None] | None = None
    ) -> concurrent.futures.Future[ConnectionResult]:
        """Ask ``target`` one harmless question (``gui.core.endpoint.connection_check``) with the
        key ``key()`` gives, or the key provider's when ``key`` is None (called off the loop: it
        may read the keyring). A built-in sandbox target is sent to the running sandbox (started
        if need be)."""

        async def check() -> ConnectionResult:
            import asyncio

            from gui.core.endpoint.connection_check import check_connection

            resolved = target
            if target.kind == "sandbox":
                resolved = await (await self._ready_service()).resolve(target)
            provider = self._key_provider
            lookup = key if key is not None else (lambda: provider(resolved))
            api_key = await asyncio.get_running_loop().run_in_executor(None, lookup)
            return await check_connection(self._http_client(), resolved, api_key)

        return self._call(check())

    def replay_delivery(self, url: str, raw: str) -> concurrent.futures.Future[str]:
        """POST a stored delivery's payload to ``url`` (to test a receiver); the future holds a
        line saying what came back, or a ``ConsoleError`` when nothing answered."""

        async def replay() -> str:
            from gui.core.webhooks.replay import replay_delivery

            return await replay_delivery(self._http_client(), url, raw)

        return self._call(replay())

    # -- the account (REST v2 management API) ---------------------------------------------------

    def account_endpoints(
        self,
        target: Target,
        key: Callable[[], str | None] | None = None,
        management_url: str = "",
    ) -> concurrent.futures.Future[list[Endpoint]]:
        """The endpoints of ``target``'s account (its management API: the profile's
        ``management_url``, RunPod's by default, the sandbox's own ``/v2``). The key is
        ``key()`` when given (a key typed in a form), else the engine's key provider's; either
        is called off the loop. ``AccountUnavailable`` says what is missing (a key, a cloud
        target), ``AccountError`` what the API answered."""

        async def endpoints() -> list[Endpoint]:
            client = await self._management_client(target, key, management_url)
            return await client.endpoints()

        return self._call(endpoints())

    def endpoint_status(
        self,
        target: Target,
        key: Callable[[], str | None] | None = None,
        management_url: str = "",
        waited_s: float | None = None,
    ) -> concurrent.futures.Future[EndpointStatus]:
        """``target``'s endpoint, its active workers, its queue and why its jobs would wait
        (``gui.core.account.status``); fails as ``account_endpoints`` does."""

        return self._call(self._endpoint_status(target, key, management_url, waited_s))

    def wait_diagnosis(
        self, target: Target, waited_s: float | None = None, management_url: str = ""
    ) -> concurrent.futures.Future[WaitDiagnosis]:
        """Why a job of ``target`` waits (``gui.core.account.diagnosis``), in words."""

        async def diagnosis() -> WaitDiagnosis:
            status = await self._endpoint_status(target, None, management_url, waited_s)
            return status.diagnosis

        return self._call(diagnosis())

    async def _endpoint_status(
        self,
        target: Target,
        key: Callable[[], str | None] | None,
        management_url: str,
        waited_s: float | None,
    ) -> EndpointStatus:
        from gui.core.account.status import read_endpoint_status

        client = await self._management_client(target, key, management_url)
        resolved = await self._account_target(target)
        return await read_endpoint_status(client, resolved.endpoint_id or None, waited_s)

    async def _account_target(self, target: Target) -> Target:
        """A sandbox target with the running sandbox's address (started if need be)."""
        if target.kind != "sandbox":
            return target
        return await (await self._ready_service()).resolve(target)

    async def _management_client(
        self, target: Target, key: Callable[[], str | None] | None, management_url: str
    ) -> ManagementClient:
        import asyncio

        from gui.core.account.access import account_access
        from gui.core.engine.account_clients import ManagementClients

        resolved = await self._account_target(target)
        provider = self._key_provider
        lookup = key if key is not None else (lambda: provider(resolved))
        api_key = await asyncio.get_running_loop().run_in_executor(None, lookup)
        # Only the profile counts in a console's window: RUNPOD_API_URL is the command line's.
        access = account_access(resolved, api_key, management_url=management_url, environ={})
        if self._management is None:
            self._management = ManagementClients()
        return self._management.client_for(access)

    def flush(self) -> concurrent.futures.Future[None]:
        """Set once every change made so far is committed to the history file."""
        if self._store is None:
            raise RuntimeError("The engine is not started.")
        return self._store.flush()

    def expect_webhooks_at(self, urls: Sequence[str]) -> None:
        """The URLs (or prefixes) where this console receives webhooks (its listener, a tunnel).

        A job sent with such a ``webhook`` whose end was seen by polling, but whose delivery did
        not arrive within ``webhook_grace_s``, is flagged ``webhook_missing``.
        """
        wanted = tuple(urls)

        async def expect() -> None:
            (await self._ready_service()).webhooks.expect_at(wanted)

        self._call(expect())

    def send_sandbox_webhooks_to(self, url: str | None) -> None:
        """From now on, requests sent to the built-in sandbox that name no webhook of their own
        report to ``url`` (the window's listener, token included), so a first job shows both ends
        of the loop with no setting; None stops it (the listener stopped or failed)."""
        self._sandbox_webhook = url or None

    def jobs(self) -> list[JobRecord]:
        """Snapshots of the jobs this engine holds: those not ended, those it sent or acted on
        (a window's engine lets an ended job go ``ENDED_KEPT_S`` after its webhook's grace; the
        command line's batches let each one go once they printed it, ``let_go``); safe from any
        thread. The whole history is in the store
        (``gui.core.storage.history.HistoryReader``).

        Empty while a ``start(wait=False)`` is still loading the history (see ``started``).
        """
        if self._service is None and self._runner.running and not self._started.done():
            return []
        return self._require_service().snapshots()

    def open_sandbox_jobs(self) -> list[JobRecord]:
        """Jobs of the built-in sandbox not ended yet; safe from any thread. The sandbox runs in
        the engine, so ``close`` ends them (CANCELLED, with a note that the console quit)."""
        if self._service is None:
            return []
        return self._service.open_sandbox_jobs()

    def subscribe(self, callback: Callable[[EngineEvent], None]) -> Callable[[], None]:
        """``callback(event)`` runs on the engine thread and must be quick. Returns unsubscribe."""
        return self._subscribers.add(callback)

    async def apply_external_update(self, payload: dict[str, Any], source: str) -> JobRecord | None:
        """News of a job from outside (a webhook), merged like a poll result; runs on the loop.

        Returns the updated snapshot, or ``None`` when no job in the history has that id.
        """
        return await (await self._ready_service()).apply_external_update(payload, source)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._runner.loop()

    @property
    def service(self) -> JobService:
        """The loop-side job service (tests and benchmarks read its tracker and clients)."""
        return self._require_service()

    # -- internals -----------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return self._runner.call(coro)

    def _http_client(self) -> httpx.AsyncClient:
        """The loop's client for one-off requests (not a job's endpoint): made at first use."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient()
        return self._http

    def account_access(self, target: Target) -> AccountAccess:
        """The management API of ``target`` (a sandbox target with its URL) and the key to send,
        or ``AccountUnavailable`` saying why there is none; safe from any thread."""
        return self._account_access(target)

    def _account_access(self, target: Target) -> AccountAccess:
        """The management API of a job's target (its worker logs), or ``AccountUnavailable``:
        the profile's management URL, unless ``RUNPOD_API_URL`` overrides it."""
        from gui.core.account.access import account_access

        url = "" if self._settings is None else self._settings.management_url(target.name)
        # RUNPOD_API_URL is the command line's; the window takes the profile's alone.
        environ: dict[str, str] | None = {} if self.kind == "window" else None
        return account_access(
            target, self._key_provider(target), management_url=url, environ=environ
        )

    def _job_published(self, record: JobRecord, target: Target) -> None:
        """Every change of a job this console owns: its worker's log, its facts."""
        if self._logs is not None:
            self._logs.observe(record, target)
        if self._facts is not None:
            self._facts.observe(record, target)

    def facts_settled(self) -> concurrent.futures.Future[None]:
        """Set once what is being learned about the jobs (release, GPU, cost) is recorded: a
        command waits for it before it prints its jobs' costs."""

        async def settled() -> None:
            if self._facts is not None:
                await self._facts.settled()

        return self._call(settled())

    @property
    def guards(self) -> GuardKeeper | None:
        """The spend guards at work (tests read what they ``cancelled``)."""
        return self._guards

    @property
    def log_follow(self) -> LogFollow | None:
        """The worker-log follower (tests and benchmarks read its ``kept`` and ``streams``)."""
        return self._logs

    def _require_service(self) -> JobService:
        if self._service is None:
            raise RuntimeError("The engine is not started.")
        return self._service

    def _emit(self, event: EngineEvent) -> None:
        self._subscribers.tell(event)

    async def _start_sandbox(self) -> Target:
        if self._sandbox_lock is None:  # on the loop's thread: no other can race it here
            import asyncio

            self._sandbox_lock = asyncio.Lock()
        async with self._sandbox_lock:
            if self._sandbox is None:
                if self._make_sandbox is None:
                    raise RuntimeError(
                        "This engine has no built-in sandbox: build it with Engine(..., "
                        "sandbox=...) to send jobs to the sandbox."
                    )
                server = self._make_sandbox()
                await server.start("127.0.0.1", 0)
                self._sandbox = server
            target = self._sandbox_target(self._sandbox)
            if self._service is not None:
                self._service.sandbox = target
            return target

    @staticmethod
    def _sandbox_target(server: SandboxLike) -> Target:
        return Target(
            name=SANDBOX_PROFILE,
            kind="sandbox",
            base_url=server.base_url,
            endpoint_id=SANDBOX_ENDPOINT_ID,
        )
