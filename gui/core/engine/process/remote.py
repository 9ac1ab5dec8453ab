"""An engine in a process of its own, driven over the wire (``gui.core.engine.process.wire``).

``RemoteEngine`` starts ``job-console engine --data-dir D`` (the same program: ``python -m
gui.cli``, or the bundle's own executable when frozen) and offers every command of the engine
that the window uses (``gui.ui.bridge.EngineLike``) as ``concurrent.futures.Future``s, its events
to ``subscribe``rs (on its reader thread): job changes, and the webhook deliveries its listener
stored (``DeliveriesStored``: the window reads them from the store); and two answers at once,
from what it was last told: ``jobs`` (the unfinished ones) and ``open_sandbox_jobs``. If the
process ends, every command still waiting fails with a ``ConsoleError`` that says so, and so does
every later one: nothing hangs.

A key typed in a form comes as a callable (``check_connection``, ``account_endpoints``,
``endpoint_status``): it is called here off the caller's thread (a keyring read can block the Qt
thread) and its answer sent with the command; without one the engine process uses its own key
provider. The listener's token stays in the engine process's keyring; its URL comes back inside
``ListenerInfo``. Neither is ever logged.
"""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from gui.core.engine.loop_thread import copy_outcome
from gui.core.engine.process import answers
from gui.core.engine.process.wire import (
    decode_error,
    decode_line,
    decode_record,
    decode_target,
    encode_line,
    encode_target,
)
from gui.core.errors import ConsoleError
from gui.core.events import (
    DeliveriesStored,
    EngineEvent,
    JobAdded,
    JobChanged,
    JobsRemoved,
    Subscribers,
)
from gui.core.records import JobRecord
from gui.core.targets import Target

if TYPE_CHECKING:
    from gui.core.account.diagnosis import WaitDiagnosis
    from gui.core.account.models import Endpoint
    from gui.core.account.status import EndpointStatus
    from gui.core.endpoint.connection_check import ConnectionResult
    from gui.core.profiles.secrets import SecretStore
    from gui.core.webhooks.address import ListenerSettings
    from gui.core.webhooks.console_listener import ListenerInfo

__all__ = ["CLOSE_TIMEOUT_S", "RemoteEngine", "engine_command"]

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 30.0
"""How long ``close`` waits for the engine to write its history and release its lease before
it kills the process (its jobs are then free for the next console at once: its pid is gone)."""

KeyLookup = Callable[[], "str | None"]
"""A key typed in a form (or looked up for it), asked for off the caller's thread."""


def engine_command(data_dir: Path) -> list[str]:
    """The command line that starts the engine process for ``data_dir``: the bundle's own
    executable when frozen (PyInstaller), else this Python running ``gui.cli``."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "engine", "--data-dir", str(data_dir)]
    return [sys.executable, "-m", "gui.cli", "engine", "--data-dir", str(data_dir)]


class RemoteEngine:
    """The engine's command interface, served by a child process. ``start`` before use,
    ``close`` when done; thread-safe."""

    def __init__(self, data_dir: Path, *, command: Sequence[str] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self._command = list(command) if command is not None else engine_command(self.data_dir)
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # the waiting commands, the records, the end
        self._write_lock = threading.Lock()
        self._waiting: dict[int, tuple[Future[Any], Callable[[Any], Any]]] = {}
        self._records: dict[str, JobRecord] = {}
        self._sandbox_ids: set[str] = set()  # of ``_records``: the built-in sandbox's jobs
        self._keys: ThreadPoolExecutor | None = None  # where key lookups run, made at first use
        self._ended: ConsoleError | None = None
        self._closing = False
        self._started: Future[None] = Future()
        self._exited: Future[int | None] = Future()  # see ``ended``
        self._subscribers: Subscribers[EngineEvent] = Subscribers("a remote engine")

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Future[None]:
        """Start the process; the returned future (also ``started``) is set once it has loaded
        the history. Commands sent before then wait for it in the process."""
        if self._process is not None:
            raise RuntimeError("The engine process is already started.")
        try:
            self._process = subprocess.Popen(
                self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
        except OSError as exc:
            error = ConsoleError(
                f"Could not start the engine process ({exc}). Reinstall the console if this "
                "persists."
            )
            self._end(error)
            raise error from exc
        self._reader = threading.Thread(
            target=self._read, args=(self._process,), name="engine-wire", daemon=True
        )
        self._reader.start()
        return self._started

    @property
    def started(self) -> Future[None]:
        return self._started

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def close(self) -> None:
        """Ask the engine to close (its history written, its lease released) and wait for the
        process to end; kill it after ``CLOSE_TIMEOUT_S``. Idempotent."""
        process = self._process
        if process is None:
            return
        with self._lock:
            already = self._closing
            self._closing = True
        if not already and self._ended is None:
            closing = self._call("close", {}, lambda value: None)
            try:
                closing.result(timeout=CLOSE_TIMEOUT_S)
            except Exception:  # it ended, or did not answer: the wait below decides
                pass
        if process.stdin is not None:
            try:
                process.stdin.close()
            except OSError:
                pass
        try:
            process.wait(timeout=CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("the engine process did not end in %s s; killing it", CLOSE_TIMEOUT_S)
            process.kill()
            process.wait()
        if self._reader is not None:
            self._reader.join()
        with self._lock:
            keys, self._keys = self._keys, None
        if keys is not None:
            keys.shutdown(wait=False, cancel_futures=True)

    # -- commands --------------------------------------------------------------------------------
    def submit(
        self,
        target: Target,
        body: dict[str, Any],
        operation: str = "run",
        *,
        template: str | None = None,
        origin: dict[str, Any] | None = None,
    ) -> Future[JobRecord]:
        """As ``Engine.submit``; the answer is a light record (no output: it is in the store)."""
        args = {
            "target": encode_target(target),
            "body": body,
            "operation": operation,
            "template": template,
            "origin": origin,
        }
        return self._call("submit", args, decode_record)

    def cancel(self, local_id: str) -> Future[JobRecord]:
        return self._call("cancel", {"local_id": local_id}, decode_record)

    def retry(self, local_id: str) -> Future[JobRecord]:
        return self._call("retry", {"local_id": local_id}, decode_record)

    def resend(self, local_id: str) -> Future[JobRecord]:
        return self._call("resend", {"local_id": local_id}, decode_record)

    def remove(self, local_ids: list[str]) -> Future[None]:
        return self._call("remove", {"local_ids": list(local_ids)}, lambda value: None)

    def health(self, target: Target) -> Future[dict[str, Any]]:
        return self._call("health", {"target": encode_target(target)}, dict)

    def purge_queue(self, target: Target) -> Future[dict[str, Any]]:
        return self._call("purge_queue", {"target": encode_target(target)}, dict)

    def sandbox_target(self) -> Future[Target]:
        return self._call("sandbox_target", {}, decode_target)

    def flush(self) -> Future[None]:
        """Set once every change the engine made so far is committed to the history file."""
        return self._call("flush", {}, lambda value: None)

    # -- events and state ------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[EngineEvent], None]) -> Callable[[], None]:
        """``callback(event)`` on the reader thread, for each job of a batch (``JobAdded`` when
        the job was not open here, else ``JobChanged``; light records) and ``JobsRemoved``."""
        return self._subscribers.add(callback)

    def jobs(self) -> list[JobRecord]:
        """The unfinished jobs, as last told (light records). An ended job is in the store,
        where the window reads its table; keeping it here would grow with the history."""
        with self._lock:
            return list(self._records.values())

    def open_sandbox_jobs(self) -> list[JobRecord]:
        """The built-in sandbox's unfinished jobs, as last told (a quit ends them: the sandbox
        runs in the engine process); no round trip."""
        with self._lock:
            return [self._records[local_id] for local_id in self._sandbox_ids]

    # -- endpoints and the account ---------------------------------------------------------------
    def check_connection(
        self, target: Target, key: KeyLookup | None = None
    ) -> Future[ConnectionResult]:
        """As ``Engine.check_connection``; ``key()`` is called here, off the caller's thread."""
        args = {"target": encode_target(target)}
        return self._call_with_key("check_connection", args, key, answers.decode_connection)

    def account_endpoints(
        self, target: Target, key: KeyLookup | None = None, management_url: str = ""
    ) -> Future[list[Endpoint]]:
        args = {"target": encode_target(target), "management_url": management_url}
        return self._call_with_key("account_endpoints", args, key, answers.decode_endpoints)

    def endpoint_status(
        self,
        target: Target,
        key: KeyLookup | None = None,
        management_url: str = "",
        waited_s: float | None = None,
    ) -> Future[EndpointStatus]:
        args = {
            "target": encode_target(target),
            "management_url": management_url,
            "waited_s": waited_s,
        }
        return self._call_with_key("endpoint_status", args, key, answers.decode_status)

    def wait_diagnosis(
        self, target: Target, waited_s: float | None = None, management_url: str = ""
    ) -> Future[WaitDiagnosis]:
        args = {
            "target": encode_target(target),
            "waited_s": waited_s,
            "management_url": management_url,
        }
        return self._call("wait_diagnosis", args, answers.decode_diagnosis)

    # -- webhooks --------------------------------------------------------------------------------
    def replay_delivery(self, url: str, raw: str) -> Future[str]:
        return self._call("replay_delivery", {"url": url, "raw": raw}, str)

    def start_listener(
        self,
        settings: ListenerSettings,
        secrets: SecretStore | None = None,
        *,
        fallback: bool = True,
    ) -> Future[ListenerInfo]:
        """As ``Engine.start_listener``. ``secrets`` stays here: the engine process keeps the
        listener's token in its own (the same keyring)."""
        args = {"settings": answers.encode_listener_settings(settings), "fallback": fallback}
        return self._call("start_listener", args, answers.decode_listener_info)

    def reconfigure_listener(self, settings: ListenerSettings) -> Future[ListenerInfo]:
        args = {"settings": answers.encode_listener_settings(settings)}
        return self._call("reconfigure_listener", args, answers.decode_listener_info)

    def renew_listener_token(self) -> Future[ListenerInfo | None]:
        return self._call("renew_listener_token", {}, answers.decode_listener_info)

    # -- the wire --------------------------------------------------------------------------------
    def _call_with_key(
        self,
        op: str,
        args: dict[str, Any],
        key: KeyLookup | None,
        decode: Callable[[Any], Any],
    ) -> Future[Any]:
        """``op`` with ``"key": key()`` (None: the engine process's own), ``key`` called on this
        engine's key thread, never the caller's."""
        if key is None or self._ended is not None:  # ended: failed at once, key not asked
            return self._call(op, {**args, "key": None}, decode)
        answer: Future[Any] = Future()

        def looked_up(lookup: Future[str | None]) -> None:
            if lookup.cancelled():  # closed while it waited for the key thread
                answer.set_exception(ConsoleError("The engine process was closed."))
                return
            error = lookup.exception()
            if error is not None:
                answer.set_exception(error)
                return
            sent = self._call(op, {**args, "key": lookup.result() or None}, decode)
            sent.add_done_callback(lambda done: copy_outcome(done, answer))

        with self._lock:
            if self._keys is None:
                self._keys = ThreadPoolExecutor(1, thread_name_prefix="engine-keys")
            keys = self._keys
        try:
            keys.submit(key).add_done_callback(looked_up)
        except RuntimeError as exc:  # closed: no thread takes it any more
            answer.set_exception(ConsoleError(f"The engine process was closed ({exc})."))
        return answer

    # -- the wire --------------------------------------------------------------------------------
    def _call(self, op: str, args: dict[str, Any], decode: Callable[[Any], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        process = self._process
        with self._lock:
            if self._ended is not None:
                future.set_exception(self._ended)
                return future
            if process is None or process.stdin is None:
                future.set_exception(RuntimeError("The engine process is not started."))
                return future
            command_id = next(self._ids)
            self._waiting[command_id] = (future, decode)
        line = encode_line({"id": command_id, "op": op, "args": args})
        try:
            with self._write_lock:
                process.stdin.write(line)
                process.stdin.flush()
        except (OSError, ValueError):  # its end is told by the reader, which fails the future
            pass
        return future

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        stdout: IO[bytes] | None = process.stdout
        assert stdout is not None
        for line in stdout:
            try:
                message = decode_line(line)
            except ValueError as exc:  # its words only: a line may hold a listener's URL
                log.warning("the engine process wrote a line that is not a message (%s)", exc)
                continue
            try:
                self._on_message(message)
            except Exception as exc:  # a malformed message must not stop the reader
                log.warning(
                    "could not handle the engine process's message (id %s, event %s): %s",
                    message.get("id"), message.get("event"), type(exc).__name__,
                )  # fmt: skip
        code = process.wait()
        self._end(ConsoleError(self._ended_words(code)))

    def _ended_words(self, code: int) -> str:
        if self._closing and code == 0:
            return "The engine process was closed."
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        return (
            f"The engine process ended unexpectedly ({how}) before it answered. Its unfinished "
            "jobs are taken over by the next engine on this data folder; a request that was on "
            "its way may need to be sent again (its job is NOT_SENT or absent)."
        )

    def _end(self, error: ConsoleError) -> None:
        with self._lock:
            if self._ended is None:
                self._ended = error
            waiting, self._waiting = self._waiting, {}
        for future, _decode in waiting.values():
            if not future.done():
                future.set_exception(error)
        if not self._started.done():
            self._started.set_exception(error)
        if not self._exited.done():
            process = self._process
            self._exited.set_result(None if process is None else process.returncode)

    def _on_message(self, message: dict[str, Any]) -> None:
        if "id" in message:
            with self._lock:
                entry = self._waiting.pop(message["id"], None)
            if entry is None:
                return
            future, decode = entry
            if "error" in message:
                future.set_exception(decode_error(message["error"]))
                return
            try:
                value = decode(message.get("ok"))
            except Exception as exc:  # its caller hears it, in words: it must never hang
                future.set_exception(
                    ConsoleError(
                        f"The engine process's answer could not be read ({type(exc).__name__}"
                        "). Restart the console; report this if it happens again."
                    )
                )
                return
            future.set_result(value)
            return
        event = message.get("event")
        if event == "jobs":
            self._on_jobs(message.get("records", []), message.get("removed", []))
        elif event == "deliveries":
            ids = tuple(int(delivery_id) for delivery_id in message.get("ids", []))
            if ids:
                self._subscribers.tell(DeliveriesStored(ids))
        elif event == "started" and not self._started.done():
            if message.get("error"):
                self._started.set_exception(decode_error(message["error"]))
            else:
                self._started.set_result(None)

    def _on_jobs(self, encoded: list[dict[str, Any]], removed: list[str]) -> None:
        records = [(decode_record(data), bool(data.get("sandbox"))) for data in encoded]
        events: list[EngineEvent] = []
        with self._lock:
            for local_id in removed:
                self._records.pop(local_id, None)
                self._sandbox_ids.discard(local_id)
            for record, sandbox in records:
                known = record.local_id in self._records
                if record.terminal:  # in the store from now on: memory holds the open ones
                    self._records.pop(record.local_id, None)
                    self._sandbox_ids.discard(record.local_id)
                else:
                    self._records[record.local_id] = record
                    if sandbox:
                        self._sandbox_ids.add(record.local_id)
                events.append(JobChanged(record) if known else JobAdded(record))
        if removed:
            self._subscribers.tell(JobsRemoved(tuple(removed)))
        for event in events:
            self._subscribers.tell(event)

    # -- lifecycle: alive, hung, ended -----------------------------------------------------------
    def ping(self) -> Future[None]:
        """Answered by the engine process at once, whatever its engine is doing (the process's
        reader answers it, not the engine's loop): no answer within seconds means it hangs."""
        return self._call("ping", {}, lambda value: None)

    def kill(self) -> None:
        """End the process now (SIGKILL): for a hung one, which ``close`` would wait for. Its
        jobs stay unfinished in the store, free at once for the next engine (its pid is gone);
        ``close`` after it only reaps what is left."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    @property
    def ended(self) -> Future[int | None]:
        """Set once the process has ended and every waiting command has failed: its exit status
        (negative: killed by that signal), or None when it never started (``started`` says
        why). ``closing`` tells a close asked for from an end that came by itself."""
        return self._exited

    @property
    def closing(self) -> bool:
        """``close`` was called: an end from now on was asked for."""
        return self._closing
