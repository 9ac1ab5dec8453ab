"""The engine process's side of the wire: ``EngineServer`` serves an ``Engine`` to the window
that started it (``gui.core.engine.process.remote.RemoteEngine``), over the messages ``wire``
describes.

Commands come as lines (``serve``); each is answered by a reply when its future ends, from
whichever thread ends it (writes are serialised). ``ping`` is answered at once by the reading
thread, whatever the engine does (the window's way to tell a hung process); ``close`` ends the
serving. Job and delivery events are coalesced and sent at most every ``EVENT_INTERVAL_S`` by a
thread of their own; the first batch after the engine started is its snapshot of the unfinished
jobs, followed by the ``started`` event.

The hidden verb ``job-console engine`` (``gui.commands.engine``) sets the process up and runs it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import IO, TYPE_CHECKING, Any

from gui.core.engine.process import answers
from gui.core.engine.process.wire import (
    COMMANDS,
    EVENT_INTERVAL_S,
    decode_line,
    decode_target,
    encode_error,
    encode_line,
    encode_record,
    encode_target,
)
from gui.core.events import DeliveriesStored, JobAdded, JobChanged, JobsRemoved

if TYPE_CHECKING:
    from gui.core.engine.engine import Engine
    from gui.core.profiles.secrets import SecretStore
    from gui.core.records import JobRecord

__all__ = ["EngineServer"]


class EngineServer:
    """Serves ``engine`` over the wire: commands from ``serve``'s lines, replies and coalesced
    job and delivery events to ``out``. Thread-safe writes (replies come from the engine's
    thread). ``secrets`` keeps the webhook listener's token (the window's own store does not
    cross the pipe)."""

    def __init__(self, engine: Engine, out: IO[bytes], secrets: SecretStore) -> None:
        self._engine = engine
        self._out = out
        self._secrets = secrets
        self._write_lock = threading.Lock()
        self._changes = threading.Condition()
        self._pending: dict[str, tuple[JobRecord, bool]] = {}  # (record, of the sandbox)
        self._removed: list[str] = []
        self._deliveries: list[int] = []
        self._announce: dict[str, Any] | None = None  # the "started" event, sent after its batch
        self._stopping = False
        self._sender = threading.Thread(target=self._send_events, name="wire-events", daemon=True)

    def serve(self, lines: Iterable[bytes]) -> int:
        """Until the lines end or ``close``; then the engine is closed, the last events sent, and
        ``close`` answered. Returns the exit status (0)."""
        close_id: object = None
        unsubscribe = self._engine.subscribe(self._on_event)
        self._sender.start()
        try:
            self._engine.start(wait=False).add_done_callback(self._on_started)
            for line in lines:
                if not line.strip():
                    continue
                try:
                    message = decode_line(line)
                except ValueError as exc:
                    print(f"job-console engine: not a message: {exc}", file=sys.stderr)
                    continue
                if message.get("op") == "close":
                    close_id = message.get("id")
                    break
                if message.get("op") == "ping":  # answered here, not by the engine's loop
                    self._write({"id": message.get("id"), "ok": None})
                    continue
                self._dispatch(message)
        finally:
            self._engine.close()
            unsubscribe()
            with self._changes:
                self._stopping = True
                self._changes.notify()
            self._sender.join()
            if close_id is not None:
                self._write({"id": close_id, "ok": None})
        return 0

    # -- commands --------------------------------------------------------------------------------
    def _dispatch(self, message: dict[str, Any]) -> None:
        command_id = message.get("id")
        try:
            future, encode = self._command(str(message.get("op")), message.get("args") or {})
        except Exception as exc:  # a bad command, or the engine refused it at once
            self._write({"id": command_id, "error": encode_error(exc)})
            return
        future.add_done_callback(lambda done: self._reply(command_id, done, encode))

    def _command(self, op: str, args: dict[str, Any]) -> tuple[Future[Any], Callable[[Any], Any]]:
        engine = self._engine

        def record(value: JobRecord) -> dict[str, Any]:
            return encode_record(value, light=True)

        def same(value: Any) -> Any:
            return value

        if op == "submit":
            future: Future[Any] = engine.submit(
                decode_target(args["target"]),
                args["body"],
                args.get("operation", "run"),
                template=args.get("template"),
                origin=args.get("origin"),
            )
            return future, record
        if op in ("cancel", "retry", "resend"):
            return getattr(engine, op)(str(args["local_id"])), record
        if op == "remove":
            return engine.remove([str(local_id) for local_id in args["local_ids"]]), same
        if op in ("health", "purge_queue"):
            return getattr(engine, op)(decode_target(args["target"])), same
        if op == "sandbox_target":
            return engine.sandbox_target(), encode_target
        if op == "flush":
            return engine.flush(), same
        if op in ("check_connection", "account_endpoints", "endpoint_status", "wait_diagnosis"):
            return self._account_command(op, args)
        if op == "replay_delivery":
            return engine.replay_delivery(str(args["url"]), str(args["raw"])), same
        if op == "start_listener":
            settings = answers.decode_listener_settings(args["settings"])
            fallback = bool(args.get("fallback", True))
            started = engine.start_listener(settings, self._secrets, fallback=fallback)
            return started, answers.encode_listener_info
        if op == "reconfigure_listener":
            settings = answers.decode_listener_settings(args["settings"])
            return engine.reconfigure_listener(settings), answers.encode_listener_info
        if op == "renew_listener_token":
            return engine.renew_listener_token(), answers.encode_listener_info
        known = ", ".join(COMMANDS)
        raise ValueError(f"The engine process has no command {op!r}; it knows {known}.")

    def _account_command(
        self, op: str, args: dict[str, Any]
    ) -> tuple[Future[Any], Callable[[Any], Any]]:
        """The commands that ask an endpoint or the account, with the key a form typed (sent
        along) or, when none came, the engine's own for the target."""
        engine = self._engine
        target = decode_target(args["target"])
        management_url = str(args.get("management_url", ""))
        waited = args.get("waited_s")
        waited_s = None if waited is None else float(waited)
        if op == "wait_diagnosis":
            diagnosis = engine.wait_diagnosis(target, waited_s, management_url)
            return diagnosis, answers.encode_diagnosis
        typed = args.get("key")
        key: Callable[[], str | None] | None = None if typed is None else (lambda: str(typed))
        if op == "check_connection":
            return engine.check_connection(target, key), answers.encode_connection
        if op == "account_endpoints":
            listed = engine.account_endpoints(target, key, management_url)
            return listed, answers.encode_endpoints
        status = engine.endpoint_status(target, key, management_url, waited_s)
        return status, answers.encode_status

    def _reply(self, command_id: object, done: Future[Any], encode: Callable[[Any], Any]) -> None:
        if done.cancelled():
            self._write({"id": command_id, "error": {"type": "ConsoleError",
                         "message": "The engine closed before it answered."}})  # fmt: skip
            return
        error = done.exception()
        if error is not None:
            self._write({"id": command_id, "error": encode_error(error)})
        else:
            self._write({"id": command_id, "ok": encode(done.result())})

    # -- events ----------------------------------------------------------------------------------
    def _on_started(self, started: Future[None]) -> None:
        error = None if started.cancelled() else started.exception()
        if error is not None:
            with self._changes:
                self._announce = {"event": "started", "error": encode_error(error)}
                self._changes.notify()
            return

        async def snapshot() -> None:
            # On the engine's loop, where its events are told: every event before it is older
            # than the snapshot, every one after it newer.
            self._put(self._engine.jobs(), started=True)

        self._engine.submit_coroutine(snapshot())

    def _on_event(self, event: object) -> None:
        if isinstance(event, JobAdded | JobChanged):
            self._put([event.record])
        elif isinstance(event, JobsRemoved):
            with self._changes:
                for local_id in event.local_ids:
                    self._pending.pop(local_id, None)
                    self._removed.append(local_id)
                self._changes.notify()
        elif isinstance(event, DeliveriesStored):
            with self._changes:
                self._deliveries.extend(event.ids)
                self._changes.notify()

    def _put(self, records: list[JobRecord], *, started: bool = False) -> None:
        """On the engine's loop, where its job service may be asked which target a job has."""
        service = self._engine.service
        tagged = [(record, service.is_sandbox_job(record.local_id)) for record in records]
        with self._changes:
            for record, sandbox in tagged:
                self._pending[record.local_id] = (record, sandbox)
            if started:
                self._announce = {"event": "started"}
            self._changes.notify()

    def _send_events(self) -> None:
        """One batch at most every ``EVENT_INTERVAL_S``; the last one after ``serve`` stops."""
        last = 0.0
        while True:
            with self._changes:
                while not (self._has_events() or self._stopping):
                    self._changes.wait()
                if self._stopping and not self._has_events():
                    return
            time.sleep(max(0.0, last + EVENT_INTERVAL_S - time.monotonic()))
            with self._changes:
                records, self._pending = list(self._pending.values()), {}
                removed, self._removed = self._removed, []
                deliveries, self._deliveries = self._deliveries, []
                announce, self._announce = self._announce, None
            last = time.monotonic()
            if records or removed:
                self._write({
                    "event": "jobs",
                    "records": [
                        {**encode_record(record, light=True), "sandbox": sandbox}
                        for record, sandbox in records
                    ],
                    "removed": removed,
                })  # fmt: skip
            if deliveries:  # after the jobs they were merged into
                self._write({"event": "deliveries", "ids": deliveries})
            if announce is not None:
                self._write(announce)

    def _has_events(self) -> bool:
        return bool(self._pending or self._removed or self._deliveries or self._announce)

    def _write(self, message: dict[str, Any]) -> None:
        line = encode_line(message)
        with self._write_lock:
            try:
                self._out.write(line)
                self._out.flush()
            except (OSError, ValueError):  # the window went away: its stdin ends too
                pass
