"""The one seam between the window and the engine: messages, not shared objects.

The main window makes the one ``EngineBridge`` over its engine and hands it to the panels that
need it; nothing else in the window calls the engine. Its interface is shaped so that the engine
can live in a process of its own behind it (``gui.core.engine.process.remote.RemoteEngine``) or
on a thread of the window's (``Engine``) without the window changing:

Commands out, each answered by a ``concurrent.futures.Future``
    ``submit`` (the one way a request is sent: the editor, a batch and Send again all come here),
    ``cancel``, ``retry``, ``resend``, ``remove``, ``health``, ``purge_queue``, ``sandbox_target``;
    the account's (REST v2, asked by the engine): ``list_endpoints``, ``endpoint_workers``,
    ``wait_diagnosis``; the webhook listener's: ``start_listener``, ``reconfigure_listener``,
    ``renew_listener_token``, ``replay_delivery``.
    Their arguments and answers are plain values (``Target``, JSON-like dicts, ``JobRecord``).
    ``deliver`` hands an answer to callbacks on the Qt thread (through ``gui.ui.tasks``). Once the
    bridge is closed nothing is sent (a command's future is cancelled) and nothing answered. The
    ``request_*`` helpers send a command and answer on the
    bridge's signals, a failure as one person-readable message on ``sig_action_failed``.

Job records in, coalesced
    The engine calls its subscribers on its own thread. The bridge only stores the latest
    snapshot per job under a lock there and asks the Qt thread for one flush; the flush runs at
    most once per ``FLUSH_INTERVAL_MS`` and emits one batch (``sig_jobs_changed``, a list of plain
    ``JobRecord`` snapshots; ``sig_jobs_removed``, local ids), so ten thousand job changes cost the
    window a few updates. ``snapshot`` gives every record once, for a model's first fill, and
    ``when_started`` says when that is worth asking (the history has loaded). The webhook
    deliveries the engine's listener stored come in the same flushes (``sig_deliveries_stored``,
    their ids): the window reads them from the history file.

The engine's life
    ``sig_engine_state_changed`` tells, in words, whether the engine is starting, ready, stopped
    (its process ended: how) or not answering (a process engine that answered no ``ping`` within
    ``answer_timeout_s``). ``restart_engine`` kills a hung or stopped engine and makes a new one
    with the factory the window handed in; it adopts the unfinished jobs (the old one's lease died
    with its process), and ``sig_engine_replaced`` tells the panels to read them again.

Two questions are answered at once, without a future: ``snapshot`` and ``open_sandbox_jobs`` (the
jobs a quit would end), both reads of records the engine keeps in memory.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from gui.core.errors import ConsoleError
from gui.core.events import DeliveriesStored, JobAdded, JobChanged, JobsRemoved
from gui.core.records import JobRecord
from gui.core.targets import Target
from gui.ui import runtime
from gui.ui.tasks import when_done

if TYPE_CHECKING:
    from gui.core.account.diagnosis import WaitDiagnosis
    from gui.core.account.models import Endpoint
    from gui.core.account.status import EndpointStatus
    from gui.core.endpoint.connection_check import ConnectionResult
    from gui.core.profiles.secrets import SecretStore
    from gui.core.webhooks.address import ListenerSettings
    from gui.core.webhooks.console_listener import ListenerInfo

__all__ = [
    "ENGINE_ANSWER_TIMEOUT_S",
    "ENGINE_NOT_ANSWERING",
    "ENGINE_READY",
    "ENGINE_STARTING",
    "ENGINE_STOPPED",
    "FLUSH_INTERVAL_MS",
    "EngineBridge",
    "EngineLike",
    "SupervisedEngine",
    "describe_error",
]

FLUSH_INTERVAL_MS = 50
MAINTENANCE_INTERVAL_MS = 10_000
T = TypeVar("T")

ENGINE_STARTING = "starting"
ENGINE_READY = "ready"
ENGINE_STOPPED = "stopped"
ENGINE_NOT_ANSWERING = "not answering"

ENGINE_PING_INTERVAL_MS = 3000
ENGINE_ANSWER_TIMEOUT_S = 10.0
"""A process engine that answers no ``ping`` within this long is "not answering" (its ping is
answered by the process's reader at once, however busy its engine: this is a hang, or a stop)."""

log = logging.getLogger(__name__)


class EngineLike(Protocol):
    """The part of ``gui.core.engine.engine.Engine`` the window uses: the window that owns it
    closes it; everything else goes through the bridge."""

    @property
    def started(self) -> Future[None]: ...
    @property
    def data_dir(self) -> Path: ...
    def flush(self) -> Future[None]: ...
    def subscribe(self, callback: Callable[[object], None]) -> Callable[[], None]: ...
    def jobs(self) -> list[JobRecord]: ...
    def open_sandbox_jobs(self) -> list[JobRecord]: ...
    def submit(
        self,
        target: Target,
        body: dict[str, Any],
        operation: str = ...,
        *,
        template: str | None = ...,
        origin: dict[str, Any] | None = ...,
    ) -> Future[JobRecord]: ...
    def cancel(self, local_id: str) -> Future[JobRecord]: ...
    def retry(self, local_id: str) -> Future[JobRecord]: ...
    def resend(self, local_id: str) -> Future[JobRecord]: ...
    def remove(self, local_ids: list[str]) -> Future[None]: ...
    def health(self, target: Target) -> Future[dict[str, Any]]: ...
    def purge_queue(self, target: Target) -> Future[dict[str, Any]]: ...
    def sandbox_target(self) -> Future[Target]: ...
    def close(self) -> None: ...
    def start_listener(
        self, settings: ListenerSettings, secrets: SecretStore, *, fallback: bool = ...
    ) -> Future[ListenerInfo]: ...
    def reconfigure_listener(self, settings: ListenerSettings) -> Future[ListenerInfo]: ...
    def renew_listener_token(self) -> Future[ListenerInfo | None]: ...
    def replay_delivery(self, url: str, raw: str) -> Future[str]: ...
    def check_connection(
        self, target: Target, key: Callable[[], str | None] | None = ...
    ) -> Future[ConnectionResult]: ...
    def account_endpoints(
        self, target: Target, key: Callable[[], str | None] | None = ..., management_url: str = ...
    ) -> Future[list[Endpoint]]: ...
    def endpoint_status(
        self,
        target: Target,
        key: Callable[[], str | None] | None = ...,
        management_url: str = ...,
        waited_s: float | None = ...,
    ) -> Future[EndpointStatus]: ...
    def wait_diagnosis(
        self, target: Target, waited_s: float | None = ..., management_url: str = ...
    ) -> Future[WaitDiagnosis]: ...


@runtime_checkable
class SupervisedEngine(Protocol):
    """An engine in a process of its own (``RemoteEngine``): it can hang, end, or be killed."""

    @property
    def ended(self) -> Future[int | None]: ...
    @property
    def closing(self) -> bool: ...
    def ping(self) -> Future[None]: ...
    def kill(self) -> None: ...


def stopped_words(code: int | None) -> str:
    """How a process engine ended, for a person: \"The engine stopped (killed by signal 9,
    SIGKILL).\" and what that means for the jobs."""
    if code is None:
        how = "it did not start"
    elif code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = ""
        how = f"killed by signal {-code}" + (f", {name}" if name else "")
    else:
        how = f"exit status {code}"
    return (
        f"The engine stopped ({how}). Jobs already sent go on where they run; restart the "
        "engine to follow them and to send new ones."
    )


def describe_error(error: BaseException, action: str) -> str:
    """``"Could not cancel the job: <what happened and what to do>"``; never a traceback."""
    if isinstance(error, ConsoleError):
        detail = str(error)
    else:
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return f"Could not {action}: {detail}"


class EngineBridge(QObject):
    """Lives on the Qt thread; turns engine events and futures into Qt signals there.

    It freezes what lives to each flush, and runs the collector's idle full pass now and then
    (``gui.ui.runtime.CollectorPolicy``).
    """

    sig_jobs_changed: Signal = Signal(list)
    """A batch of new or changed jobs (``list[JobRecord]``, latest snapshot of each, no repeats)."""

    sig_jobs_removed: Signal = Signal(list)
    """Jobs removed from the history (``list[str]`` of local ids)."""

    sig_action_failed: Signal = Signal(str)
    """An action (cancel, retry, submit, purge, ...) failed; the text says what happened and why."""

    sig_health_changed: Signal = Signal(str, dict)
    """A target's ``/health`` answer arrived: (target name, the answer)."""

    sig_health_failed: Signal = Signal(str, object)
    """A target's ``/health`` could not be read: (target name, the exception; ``describe_error``
    makes it readable)."""

    sig_queue_purged: Signal = Signal(str, dict)
    """``/purge-queue`` answered: (target name, the answer, e.g. ``{"removed": 2}``)."""

    sig_deliveries_stored: Signal = Signal(list)
    """The engine's webhook listener stored these deliveries (``list[int]`` of their ids in the
    history file, where the window reads them), merged into their jobs first."""
    sig_engine_state_changed: Signal = Signal(str, str)
    """The engine's state changed: (``ENGINE_STARTING``, ``ENGINE_READY``, ``ENGINE_STOPPED`` or
    ``ENGINE_NOT_ANSWERING``; what happened, in words)."""

    sig_engine_replaced: Signal = Signal()
    """``restart_engine`` made a new engine: what was read from the old one is read again (once
    it has started: ``when_started``)."""

    _sig_flush_needed: Signal = Signal()

    def __init__(
        self,
        engine: EngineLike,
        parent: QObject | None = None,
        *,
        restart: Callable[[], EngineLike] | None = None,
        answer_timeout_s: float = ENGINE_ANSWER_TIMEOUT_S,
        ping_interval_ms: int = ENGINE_PING_INTERVAL_MS,
    ) -> None:
        """``restart`` makes and starts a new engine for the same data folder (None: no
        restart); a process engine is asked to answer a ping every ``ping_interval_ms`` and is
        \"not answering\" after ``answer_timeout_s`` without one."""
        super().__init__(parent)
        self._collector = runtime.collector()
        self._engine = engine
        self._lock = threading.Lock()
        self._pending: dict[str, JobRecord] = {}
        self._removed: list[str] = []
        self._delivered: list[int] = []
        self._flush_scheduled = False
        self._closed = False
        self._last_flush = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        self._maintenance = QTimer(self)  # the collector's idle full pass, when it is due
        self._maintenance.setInterval(MAINTENANCE_INTERVAL_MS)
        self._maintenance.timeout.connect(self._collector.maintain)
        self._maintenance.start()
        # Emitted from the engine thread; queued so the slots run on the Qt thread.
        self._sig_flush_needed.connect(self._on_flush_needed, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = engine.subscribe(self._on_engine_event)
        self._restart = restart
        self._answer_timeout_s = answer_timeout_s
        self._state = ENGINE_STARTING
        self._state_words = "Starting the engine…"
        self._ping_sent: float | None = None  # when the unanswered ping went out
        self._pings = QTimer(self)
        # Often enough to tell a hang within the timeout, however short a test makes it.
        self._pings.setInterval(max(10, min(ping_interval_ms, int(answer_timeout_s * 500))))
        self._pings.timeout.connect(self._on_pings_timeout)
        self._watch_engine(engine)

    @property
    def engine(self) -> EngineLike:
        """The engine spoken to now (``restart_engine`` replaces it), for the window that owns
        and closes it; everything else goes through the bridge's commands."""
        return self._engine

    def close(self) -> None:
        """Stop listening to the engine (the engine itself is closed by its owner); no timer of
        the bridge runs any more, so it may be let go anywhere."""
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._timer.stop()
        self._maintenance.stop()
        self._pings.stop()

    # -- job events ------------------------------------------------------------------------------
    def when_started(
        self, on_started: Callable[[], None], on_failed: Callable[[str], None]
    ) -> None:
        """``on_started()`` on the Qt thread once the engine has loaded its history (at once when
        it has); ``on_failed(message)`` if it never will."""
        started = self._engine.started
        if started.done() and not started.cancelled() and started.exception() is None:
            on_started()
            return
        self.deliver(
            started,
            lambda _none: on_started(),
            lambda error: on_failed(describe_error(error, "load the job history")),
        )

    @property
    def history_path(self) -> Path:
        """The history file the engine writes (``jobs.sqlite3``): the window reads its pages
        there (``gui.ui.jobs.model``), never through the engine."""
        from gui.core.storage.store import DB_FILENAME  # sqlite3 and json only, no engine

        return self._engine.data_dir / DB_FILENAME

    def flush(self) -> Future[None]:
        """Set once every job change the engine announced so far is committed to the history
        file (a refresh of the job table reads after it). Safe from any thread; a future with an
        error while the engine is not started."""
        if self._closed:
            return self._send(lambda: Future())
        try:
            return self._engine.flush()
        except RuntimeError as exc:  # not started (yet, or any more)
            failed: Future[None] = Future()
            failed.set_exception(exc)
            return failed

    def snapshot(self) -> list[JobRecord]:
        """The jobs the engine holds (those not ended yet, and those an action needs now), for
        the first fill of a model; the history itself is read from the file.

        Events that were already pending when the snapshot was taken are older than (or as new as)
        the snapshot, so they are dropped; events that arrive while it is taken are kept.
        """
        with self._lock:
            before = dict(self._pending)
        records = self._engine.jobs()
        with self._lock:
            for local_id, record in before.items():
                if self._pending.get(local_id) is record:
                    del self._pending[local_id]
        self._collector.after_load()
        return records

    def open_sandbox_jobs(self) -> list[JobRecord]:
        """The built-in sandbox's jobs not ended yet: a quit ends them (the sandbox runs in the
        engine)."""
        if self._state == ENGINE_STOPPED:
            return []  # they ended with its process
        try:
            return self._engine.open_sandbox_jobs()
        except Exception:  # a window must close even when its engine can't tell
            log.warning("the engine could not tell its open sandbox jobs", exc_info=True)
            return []

    def _on_engine_event(self, event: object) -> None:
        """Runs on the engine thread: store, and ask for a flush if none is on its way."""
        with self._lock:
            if isinstance(event, JobAdded | JobChanged):
                self._pending[event.record.local_id] = event.record
            elif isinstance(event, JobsRemoved):
                for local_id in event.local_ids:
                    self._pending.pop(local_id, None)
                    self._removed.append(local_id)
            elif isinstance(event, DeliveriesStored):
                self._delivered.extend(event.ids)
            else:
                return
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        self._sig_flush_needed.emit()

    def _on_flush_needed(self) -> None:
        if self._closed:
            return  # asked for before close (queued), delivered after it
        wait_ms = FLUSH_INTERVAL_MS - (time.monotonic() - self._last_flush) * 1000.0
        self._timer.start(max(0, int(wait_ms)))

    def _flush(self) -> None:
        with self._lock:
            changed = list(self._pending.values())
            removed = self._removed
            delivered = self._delivered
            self._pending = {}
            self._removed = []
            self._delivered = []
            self._flush_scheduled = False
        self._last_flush = time.monotonic()
        self._collector.after_flush()
        if removed:
            self.sig_jobs_removed.emit(removed)
        if changed:
            self.sig_jobs_changed.emit(changed)
        if delivered:  # after their jobs' changes
            self.sig_deliveries_stored.emit(delivered)

    # -- futures -> Qt thread ----------------------------------------------------------------------
    def deliver(
        self,
        future: Future[T],
        on_result: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        """When ``future`` ends, pass its value or error to the callbacks, on the Qt thread;
        nothing once the bridge is closed. Without ``on_error`` a failure is reported as
        ``gui.ui.tasks`` says (``sys.excepthook``)."""

        def if_open(callback: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
            if callback is None:
                return None
            return lambda value: None if self._closed else callback(value)

        on_failed = if_open(on_error) if on_error is not None else self._report_unless_closed
        when_done(future, if_open(on_result), on_failed, context=self)

    def _report_unless_closed(self, error: BaseException) -> None:
        if not self._closed:
            sys.excepthook(type(error), error, error.__traceback__)

    def _failing(self, action: str) -> Callable[[BaseException], None]:
        return lambda error: self.sig_action_failed.emit(describe_error(error, action))

    # -- commands: each answered by a future ------------------------------------------------------
    def submit(
        self,
        target: Target,
        body: dict[str, Any],
        operation: str = "run",
        *,
        template: str | None = None,
        origin: dict[str, Any] | None = None,
    ) -> Future[JobRecord]:
        """Send ``body`` to ``target``: the one way every request leaves the window. The job
        arrives through ``sig_jobs_changed``; the answer is its record after ``/run`` (NOT_SENT,
        with a note, when it could not be sent). ``body`` is sent as it is (placeholders already
        expanded); ``origin`` is what made it, kept in the history (``JobRecord.origin``)."""
        return self._send(
            lambda: self._engine.submit(target, body, operation, template=template, origin=origin)
        )

    def cancel(self, local_id: str) -> Future[JobRecord]:
        return self._send(lambda: self._engine.cancel(local_id))

    def retry(self, local_id: str) -> Future[JobRecord]:
        return self._send(lambda: self._engine.retry(local_id))

    def resend(self, local_id: str) -> Future[JobRecord]:
        """Send a NOT_SENT job again as itself."""
        return self._send(lambda: self._engine.resend(local_id))

    def remove(self, local_ids: list[str]) -> Future[None]:
        return self._send(lambda: self._engine.remove(local_ids))

    def health(self, target: Target) -> Future[dict[str, Any]]:
        return self._send(lambda: self._engine.health(target))

    def purge_queue(self, target: Target) -> Future[dict[str, Any]]:
        return self._send(lambda: self._engine.purge_queue(target))

    def sandbox_target(self) -> Future[Target]:
        """The built-in sandbox as a target; it starts on first use."""
        return self._send(lambda: self._engine.sandbox_target())

    def check_connection(
        self, target: Target, api_key: Callable[[], str | None]
    ) -> Future[ConnectionResult]:
        """Test connection for a profile's target, asked by the engine with its own client."""
        return self._send(lambda: self._engine.check_connection(target, api_key))

    def list_endpoints(
        self,
        target: Target,
        management_url: str = "",
        api_key: Callable[[], str | None] | None = None,
    ) -> Future[list[Endpoint]]:
        """The endpoints of ``target``'s account, from its management API (REST v2), asked by
        the engine. The key is the engine's for ``target``, or ``api_key()`` (called by the engine,
        off the Qt thread: a key typed in a form); it never travels as a value."""
        return self._send(lambda: self._engine.account_endpoints(target, api_key, management_url))

    def endpoint_workers(self, target: Target, management_url: str = "") -> Future[EndpointStatus]:
        """``target``'s endpoint, its active workers and why its jobs would wait."""
        return self._send(lambda: self._engine.endpoint_status(target, None, management_url))

    def wait_diagnosis(
        self, target: Target, waited_s: float | None = None, management_url: str = ""
    ) -> Future[WaitDiagnosis]:
        """Why a job of ``target`` that waited ``waited_s`` waits, in words."""
        return self._send(lambda: self._engine.wait_diagnosis(target, waited_s, management_url))

    def replay_delivery(self, url: str, raw: str) -> Future[str]:
        """POST a stored delivery again to ``url``, from the engine; answers what came back."""
        return self._send(lambda: self._engine.replay_delivery(url, raw))

    def start_listener(
        self, settings: ListenerSettings, secrets: SecretStore
    ) -> Future[ListenerInfo]:
        """Ask the engine to serve the webhook listener (moving to a free port if need be)."""
        return self._send(lambda: self._engine.start_listener(settings, secrets))

    def reconfigure_listener(self, settings: ListenerSettings) -> Future[ListenerInfo]:
        return self._send(lambda: self._engine.reconfigure_listener(settings))

    def renew_listener_token(self) -> Future[ListenerInfo | None]:
        return self._send(lambda: self._engine.renew_listener_token())

    def _send(self, command: Callable[[], Future[T]]) -> Future[T]:
        if self._closed:  # the engine may be closed too: nothing is sent, nothing answers
            unsent: Future[T] = Future()
            unsent.cancel()
            return unsent
        try:
            return command()
        except Exception as exc:  # refused at once (e.g. not carried by this engine): in words
            failed: Future[T] = Future()
            failed.set_exception(exc)
            return failed

    # -- actions: a command whose answer comes on the bridge's signals ---------------------------
    def request_submit(
        self,
        target: Target,
        body: dict[str, Any],
        operation: str = "run",
        template: str | None = None,
        origin: dict[str, Any] | None = None,
    ) -> None:
        """``submit``; a failure is told on ``sig_action_failed``."""
        future = self.submit(target, body, operation, template=template, origin=origin)
        self.deliver(future, None, self._failing("submit the request"))

    def request_cancel(self, local_id: str) -> None:
        self.deliver(self.cancel(local_id), None, self._failing("cancel the job"))

    def request_retry(self, local_id: str) -> None:
        self.deliver(self.retry(local_id), None, self._failing("retry the job"))

    def request_resend(self, local_id: str) -> None:
        """Send a NOT_SENT job again as itself (the caller has warned the person)."""
        self.deliver(self.resend(local_id), None, self._failing("send the job again"))

    def request_remove(self, local_ids: list[str]) -> None:
        future = self.remove(local_ids)
        self.deliver(future, None, self._failing("remove the jobs from the history"))

    def request_health(self, target: Target) -> None:
        """Ask for ``/health``; answers on ``sig_health_changed`` or ``sig_health_failed``."""
        self.deliver(
            self.health(target),
            lambda answer: self.sig_health_changed.emit(target.name, answer),
            lambda error: self.sig_health_failed.emit(target.name, error),
        )

    def request_purge_queue(self, target: Target) -> None:
        """Ask for ``/purge-queue``; answers on ``sig_queue_purged`` or ``sig_action_failed``."""
        self.deliver(
            self.purge_queue(target),
            lambda answer: self.sig_queue_purged.emit(target.name, answer),
            self._failing("purge the queue"),
        )

    # -- the engine's life ------------------------------------------------------------------------
    @property
    def engine_state(self) -> str:
        """``ENGINE_STARTING``, ``ENGINE_READY``, ``ENGINE_STOPPED`` or ``ENGINE_NOT_ANSWERING``."""
        return self._state

    @property
    def engine_state_words(self) -> str:
        return self._state_words

    @property
    def can_restart_engine(self) -> bool:
        return self._restart is not None and not self._closed

    def restart_engine(self) -> None:
        """Replace the engine with a new one for the same data folder: a hung or stopped one is
        killed first (nothing to wait for), a working one closed. The new one adopts the jobs the
        old one followed and takes the commands sent from now on (they wait for its start)."""
        if self._restart is None or self._closed:
            return
        old = self._engine
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._state != ENGINE_READY and isinstance(old, SupervisedEngine):
            old.kill()
        old.close()
        self._pings.stop()
        self._ping_sent = None
        engine = self._restart()
        self._engine = engine
        self._unsubscribe = engine.subscribe(self._on_engine_event)
        self._set_state(ENGINE_STARTING, "Restarting the engine…")
        self._watch_engine(engine)
        self.sig_engine_replaced.emit()

    def kill_hung_engine(self) -> None:
        """Kill the engine if it is not answering: closing it would wait for an answer."""
        if self._state == ENGINE_NOT_ANSWERING and isinstance(self._engine, SupervisedEngine):
            self._engine.kill()

    def _watch_engine(self, engine: EngineLike) -> None:
        def current(then: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda value: then(value) if engine is self._engine else None

        started = engine.started
        if started.done() and not started.cancelled() and started.exception() is None:
            self._on_engine_started(None)
        else:
            self.deliver(
                started, current(self._on_engine_started), current(self._on_engine_start_failed)
            )
        if isinstance(engine, SupervisedEngine):
            self.deliver(engine.ended, current(self._on_engine_ended))

    def _set_state(self, state: str, words: str) -> None:
        if (state, words) == (self._state, self._state_words):
            return
        self._state, self._state_words = state, words
        self.sig_engine_state_changed.emit(state, words)

    def _on_engine_started(self, _none: object) -> None:
        if self._state == ENGINE_STOPPED:
            return  # it ended before its start was told
        self._set_state(ENGINE_READY, "The engine is ready.")
        if isinstance(self._engine, SupervisedEngine):
            self._pings.start()

    def _on_engine_start_failed(self, error: BaseException) -> None:
        self._pings.stop()
        self._set_state(ENGINE_STOPPED, describe_error(error, "start the engine"))

    def _on_engine_ended(self, code: int | None) -> None:
        self._pings.stop()
        engine = self._engine
        if isinstance(engine, SupervisedEngine) and engine.closing:
            return  # its owner closed it
        if code is None or self._state == ENGINE_STOPPED:
            return  # it never started: its start's failure said why
        self._set_state(ENGINE_STOPPED, stopped_words(code))

    def _on_pings_timeout(self) -> None:
        engine = self._engine
        if self._closed or not isinstance(engine, SupervisedEngine):
            return
        sent = self._ping_sent
        if sent is not None:
            waited = time.monotonic() - sent
            if waited > self._answer_timeout_s and self._state == ENGINE_READY:
                self._set_state(
                    ENGINE_NOT_ANSWERING,
                    f"The engine has not answered for {self._answer_timeout_s:.0f} s. Restart "
                    "it: the new one takes over the jobs it follows.",
                )
            return
        self._ping_sent = time.monotonic()
        self.deliver(engine.ping(), lambda _none: self._on_engine_pinged(engine), lambda _e: None)

    def _on_engine_pinged(self, engine: EngineLike) -> None:
        if engine is not self._engine:
            return
        self._ping_sent = None
        if self._state == ENGINE_NOT_ANSWERING:
            self._set_state(ENGINE_READY, "The engine answers again.")
