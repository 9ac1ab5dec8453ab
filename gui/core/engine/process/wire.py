"""The wire between a window and its engine process: JSON lines over the child's stdin and stdout.

Why the child's pipes, not a local socket: the parent made them, so nothing can take them (a port
can be taken, or reached by another local user) and no token is needed; the child learns that its
window went away from its stdin's end (a crash of the window included), with no heartbeat; and a
PyInstaller bundle gives a child pipes the same way on every platform. The engine process keeps its
real stdout for the wire alone and points file descriptor 1 at stderr, so a stray ``print`` of a
library can never break a line (``gui.commands.engine``).

Why JSON lines: the standard library has it, a line is readable in a log, and everything that
crosses is plain data already (job records come from JSON and go back to it in the store).

The messages, one JSON object a line:

- a command, window to engine: ``{"id": 7, "op": "cancel", "args": {"local_id": "..."}}``;
- its reply, engine to window: ``{"id": 7, "ok": <value>}`` or
  ``{"id": 7, "error": {"type": "JobNotFound", "message": "...", ...}}`` (a ``ConsoleError``'s
  message kept as it is, in words; ``encode_error``);
- events, engine to window: ``{"event": "started"}`` (or with ``"error"``) once the history is
  loaded, and ``{"event": "jobs", "records": [...], "removed": [...]}``: job changes coalesced at
  most every ``EVENT_INTERVAL_S``, the latest snapshot of each job once, as light records
  (``encode_record(light=True)``: no output and no stream; the window reads those from the store;
  with ``"sandbox": true`` for a job of the built-in sandbox, which a quit ends),
  and in the same turns ``{"event": "deliveries", "ids": [...]}``: the webhook deliveries the
  engine's listener stored (the window reads them from the store).

The commands (``COMMANDS``), with the ``Engine`` method each one calls:

- jobs: ``submit`` (target, body, operation, template, origin), ``cancel``, ``retry``,
  ``resend`` (local_id), ``remove`` (local_ids), ``flush``;
- endpoints: ``health``, ``purge_queue`` (target), ``sandbox_target``, ``check_connection``
  (target, key), ``account_endpoints``, ``endpoint_status`` (target, key, management_url,
  waited_s), ``wait_diagnosis`` (target, waited_s, management_url);
- webhooks: ``start_listener`` (settings, fallback), ``reconfigure_listener`` (settings),
  ``renew_listener_token``, ``replay_delivery`` (url, raw);
- ``ping``: answered at once by the process's reader, however busy its engine (a window that
  hears nothing within seconds says the engine is not answering);
- ``close``: close the engine, answer, exit.

``key`` is an API key typed in a form (the window asks its callable off its Qt thread), or null:
then the engine process uses its own key provider. It crosses only this pipe, to the window's own
child; neither side logs a message's arguments, nor writes them anywhere.

Values: a ``JobRecord`` is ``encode_record``'s dict, a ``Target`` is ``encode_target``'s, the
account's and the listener's answers are ``gui.core.engine.process.answers``'; anything else that
crosses is JSON already (bodies, ``/health`` answers).
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from gui.core import errors
from gui.core.errors import ConsoleError
from gui.core.records import JobRecord, JobState
from gui.core.targets import Target

__all__ = [
    "COMMANDS",
    "EVENT_INTERVAL_S",
    "decode_error",
    "decode_line",
    "decode_record",
    "decode_target",
    "encode_error",
    "encode_line",
    "encode_record",
    "encode_target",
]

EVENT_INTERVAL_S = 0.05
"""Job changes are sent at most this often (the window applies one batch per frame anyway)."""

COMMANDS = (
    "submit",
    "cancel",
    "retry",
    "resend",
    "remove",
    "health",
    "purge_queue",
    "sandbox_target",
    "flush",
    "check_connection",
    "account_endpoints",
    "endpoint_status",
    "wait_diagnosis",
    "replay_delivery",
    "start_listener",
    "reconfigure_listener",
    "renew_listener_token",
    "ping",
    "close",
)
"""The ops the engine process answers."""

_LIGHT_LEFT_OUT = ("output", "stream")
_RECORD_FIELDS = tuple(f.name for f in fields(JobRecord))

# Errors that are not the console's own but that the engine raises for a caller's mistake (an
# unknown job, an engine not started): they come back as themselves.
_PLAIN_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls for cls in (RuntimeError, ValueError, KeyError, LookupError, TypeError)
}


def encode_line(message: dict[str, Any]) -> bytes:
    """One message as a line of UTF-8 JSON. A value JSON cannot hold becomes its ``str`` (as the
    history's export does) rather than breaking the wire."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.encode("utf-8") + b"\n"


def decode_line(line: bytes) -> dict[str, Any]:
    """A message read from a line; ``ValueError`` saying why when it is not one."""
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError(f"a wire message is a JSON object, not {type(message).__name__}")
    return message


def encode_target(target: Target) -> dict[str, Any]:
    return {
        "name": target.name,
        "kind": target.kind,
        "base_url": target.base_url,
        "endpoint_id": target.endpoint_id,
    }


def decode_target(data: dict[str, Any]) -> Target:
    kind = data["kind"]
    if kind not in ("sandbox", "cloud", "local"):
        raise ValueError(f"unknown target kind {kind!r}")
    return Target(
        name=str(data["name"]),
        kind=kind,
        base_url=str(data["base_url"]),
        endpoint_id=str(data.get("endpoint_id", "")),
    )


def encode_record(record: JobRecord, *, light: bool = False) -> dict[str, Any]:
    """Every field of ``record`` by its name; ``light`` leaves out the output and the stream
    (``"light": true`` says so), which may be megabytes and live in the store."""
    data = {name: getattr(record, name) for name in _RECORD_FIELDS}
    data["state"] = record.state.value
    data["history"] = [[at, step] for at, step in record.history]
    if light:
        for name in _LIGHT_LEFT_OUT:
            data.pop(name)
        data["light"] = True
    return data


def decode_record(data: dict[str, Any]) -> JobRecord:
    """The record ``encode_record`` made; a light one has no output (None) and no stream."""
    values = {name: data[name] for name in _RECORD_FIELDS if name in data}
    values["state"] = JobState(data["state"])
    values["history"] = [(float(at), str(step)) for at, step in data.get("history", [])]
    return JobRecord(**values)


def encode_error(error: BaseException) -> dict[str, Any]:
    """An exception as ``{"type", "message"}`` (and a remote error's ``status_code``,
    ``retry_after``), with a console error's plain attributes in ``"attrs"`` (a taken port's
    ``suggested_port``); the message is the error's own words, never a traceback."""
    encoded: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, KeyError) and error.args:
        encoded["message"] = str(error.args[0])  # str(KeyError) adds quotes
    for extra in ("status_code", "retry_after"):
        if hasattr(error, extra):
            encoded[extra] = getattr(error, extra)
    if isinstance(error, ConsoleError):
        attrs = {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in vars(error).items()
            if not name.startswith("_") and _is_plain(value)
        }
        if attrs:
            encoded["attrs"] = attrs
    return encoded


def _is_plain(value: Any) -> bool:
    if isinstance(value, tuple | list):
        return all(isinstance(item, _SCALARS) for item in value)
    return isinstance(value, _SCALARS)


_SCALARS = (str, int, float, bool, type(None))


def decode_error(data: dict[str, Any]) -> Exception:
    """The exception ``encode_error`` describes: the console's own error class by name (a
    ``ConsoleError`` with the type in its words when it is none of them), or a few plain ones."""
    name = str(data.get("type", "ConsoleError"))
    message = str(data.get("message", ""))
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, ConsoleError):
        attrs = data.get("attrs") or {}
        error: ConsoleError
        try:
            if issubclass(cls, errors.RateLimited):
                error = cls(message, retry_after=data.get("retry_after"))
            elif issubclass(cls, errors.RemoteError):
                error = cls(message, status_code=int(data.get("status_code", 0)))
            else:
                error = cls(message)
        except TypeError:  # a constructor with more to it: its words, and its attributes below
            error = cls.__new__(cls, message)
            Exception.__init__(error, message)
        for attr, value in attrs.items():
            setattr(error, str(attr), tuple(value) if isinstance(value, list) else value)
        return error
    plain = _PLAIN_ERRORS.get(name)
    if plain is not None:
        return plain(message)
    return ConsoleError(f"{name}: {message}" if message else name)
