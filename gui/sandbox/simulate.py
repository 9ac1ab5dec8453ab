"""The simulated handler: what a job does, read from its optional ``input.sandbox`` object.

``input.sandbox`` keys (all optional):

- ``duration``: seconds the job runs (default: the server's ``default_duration_s``).
- ``fail``: a message; the handler raises ``RuntimeError(message)`` at the end, so the job is FAILED
  with the cloud's JSON ``error`` string (``true`` uses a stock message).
- ``progress``: a list of values, or a count N (values ``"1/N"`` ...), set as the job's ``output``
  while it is IN_PROGRESS, spread over the duration.
- ``stream``: a list of chunks, or a count N (``"chunk 1"`` ...), buffered for ``/stream`` over the
  duration; the final output is the list of all chunks, as a streaming handler aggregates it.
- ``output_bytes``: N; the output is a string of N characters.
- ``image``: ``{"width": W, "height": H}``; the output is ``{"image": <base64 PNG>, ...}``.
- ``log``: a list of messages, or a count N (``"log line 1"`` ...), that the handler logs with the
  runpod SDK's logger over the duration: its worker's log gets them tagged with the job's id.
- ``worker_crash``: N (or ``true``: every time); the worker dies halfway through the job N times,
  and RunPod puts the job back in the queue each time: its status shows ``retries``.

Without any of the output keys the job echoes its ``input`` as ``output``. A malformed option fails
the job at once, as a real handler that checks its input would.
"""

from __future__ import annotations

import base64
import json
import struct
import traceback
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from gui.core.limits import MAX_STREAM_CHUNK_BYTES

__all__ = ["Finished", "WorkPlan", "failure_error", "perform", "plan_work", "png_bytes"]

RUNPOD_VERSION = "1.12.0"  # what the cloud's worker SDK reports in error strings
MAX_IMAGE_SIDE = 2048
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
MAX_EVENTS = 10_000
ALWAYS = 1_000_000_000  # worker_crash: true

# pause(seconds) -> None when the time passed, or why the job was stopped early.
Pause = Callable[[float], Awaitable[str | None]]


@dataclass
class WorkPlan:
    """What one job will do; built from ``input.sandbox`` by :func:`plan_work`."""

    duration_s: float
    fail: str | None = None
    progress: list[Any] = field(default_factory=list)
    stream: list[Any] = field(default_factory=list)
    output_bytes: int | None = None
    image: tuple[int, int] | None = None
    log: list[Any] = field(default_factory=list)
    worker_crashes: int = 0
    invalid: str | None = None  # a malformed option: the job fails at once with this message


@dataclass
class Finished:
    """How the handler ended: ``output`` (when ``has_output``) or an ``error`` string."""

    output: Any = None
    has_output: bool = False
    error: str | None = None


def plan_work(job_input: dict[str, Any], default_duration_s: float) -> WorkPlan:
    """Read ``input.sandbox``; never raises (a bad option becomes ``WorkPlan.invalid``)."""
    plan = WorkPlan(duration_s=default_duration_s)
    options = job_input.get("sandbox")
    if options is None:
        return plan
    try:
        _read_options(options, plan)
    except ValueError as exc:
        plan.invalid = str(exc)
    return plan


def _read_options(options: object, plan: WorkPlan) -> None:
    if not isinstance(options, dict):
        raise ValueError("input.sandbox must be an object")
    if "duration" in options:
        plan.duration_s = _number(options["duration"], "duration", 0, 7 * 24 * 3600)
    if "fail" in options:
        fail = options["fail"]
        if fail is True:
            plan.fail = "Simulated failure requested by input.sandbox.fail"
        elif fail not in (None, False):
            plan.fail = str(fail)
    plan.progress = _series(options.get("progress"), "progress", lambda i, n: f"{i}/{n}")
    plan.stream = _series(options.get("stream"), "stream", lambda i, n: f"chunk {i}")
    for number, chunk in enumerate(plan.stream, 1):
        size = len(json.dumps(chunk).encode())
        if size > MAX_STREAM_CHUNK_BYTES:
            raise ValueError(
                f"input.sandbox.stream chunk {number} is {size} bytes; RunPod streams chunks of "
                f"at most {MAX_STREAM_CHUNK_BYTES} bytes"
            )
    plan.log = [
        str(line) for line in _series(options.get("log"), "log", lambda i, n: f"log line {i}")
    ]
    crash = options.get("worker_crash")
    if crash is True:
        plan.worker_crashes = ALWAYS
    elif crash not in (None, False):
        plan.worker_crashes = int(_number(crash, "worker_crash", 0, MAX_EVENTS))
    if "output_bytes" in options:
        plan.output_bytes = int(
            _number(options["output_bytes"], "output_bytes", 0, MAX_OUTPUT_BYTES)
        )
    if "image" in options:
        image = options["image"]
        if not isinstance(image, dict):
            raise ValueError(
                'input.sandbox.image must be an object like {"width": 64, "height": 64}'
            )
        width = int(_number(image.get("width", 64), "image.width", 1, MAX_IMAGE_SIDE))
        height = int(_number(image.get("height", 64), "image.height", 1, MAX_IMAGE_SIDE))
        plan.image = (width, height)


def _number(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"input.sandbox.{name} must be a number from {low:g} to {high:g}")
    return float(value)


def _series(value: object, name: str, make: Callable[[int, int], Any]) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        if len(value) > MAX_EVENTS:
            raise ValueError(f"input.sandbox.{name} may hold at most {MAX_EVENTS} items")
        return list(value)
    count = int(_number(value, name, 0, MAX_EVENTS))
    return [make(i, count) for i in range(1, count + 1)]


async def perform(
    plan: WorkPlan,
    pause: Pause,
    job: Any,
    job_input: dict[str, Any],
    log: Callable[[str], object] | None = None,
) -> Finished | str:
    """Run the plan on ``job`` (a :class:`~gui.sandbox.jobs.SandboxJob`).

    Progress values go to ``job.output``, stream chunks to ``job.stream_buffer`` and ``log``
    messages to ``log`` as time passes. Returns how the handler finished, or the reason ``pause``
    gave for stopping early, or ``"worker_lost"`` when the plan's worker dies under the job.
    """
    if plan.invalid is not None:
        return Finished(error=failure_error(ValueError, plan.invalid, job.worker_id))
    elapsed = 0.0
    for offset, kind, value in _timeline(plan, job.retries):
        reason = await pause(offset - elapsed)
        if reason is not None:
            return reason
        elapsed = offset
        if kind == "progress":
            job.output, job.has_output = value, True
        elif kind == "stream":
            job.stream_buffer.append(value)
        elif kind == "log":
            if log is not None:
                log(value)
        else:
            return "worker_lost"
    reason = await pause(plan.duration_s - elapsed)
    if reason is not None:
        return reason
    if plan.fail is not None:
        return Finished(error=failure_error(RuntimeError, plan.fail, job.worker_id))
    output = _final_output(plan, job_input)
    # The worker SDK drops an empty-object output, so the cloud's answer has no "output" then.
    return Finished(output=output, has_output=output != {})


def _timeline(plan: WorkPlan, retries: int) -> list[tuple[float, str, Any]]:
    """Progress updates and log lines strictly inside the duration; stream chunks up to its end;
    the worker's death halfway while the job has been retried fewer than ``worker_crashes`` times.
    """
    events: list[tuple[float, str, Any]] = []
    count = len(plan.log)
    events += [(plan.duration_s * i / (count + 1), "log", v) for i, v in enumerate(plan.log, 1)]
    if retries < plan.worker_crashes:
        events.append((plan.duration_s / 2, "crash", None))
    count = len(plan.progress)
    events += [
        (plan.duration_s * i / (count + 1), "progress", v) for i, v in enumerate(plan.progress, 1)
    ]
    count = len(plan.stream)
    events += [(plan.duration_s * i / count, "stream", v) for i, v in enumerate(plan.stream, 1)]
    events.sort(key=lambda event: event[0])
    return events


def _final_output(plan: WorkPlan, job_input: dict[str, Any]) -> Any:
    if plan.image is not None:
        width, height = plan.image
        encoded = base64.b64encode(png_bytes(width, height)).decode("ascii")
        return {"image": encoded, "mime_type": "image/png", "width": width, "height": height}
    if plan.output_bytes is not None:
        pattern = "sandbox output "
        return (pattern * (plan.output_bytes // len(pattern) + 1))[: plan.output_bytes]
    if plan.stream:
        return list(plan.stream)
    return job_input


# The simulated worker's handler, as a worker's traceback shows it: its own file, not the
# sandbox's (whose paths would only tell where the console is installed).
HANDLER_FILE = "/src/handler.py"
_HANDLER_SOURCE = """\
def handler(job):
    error, message = job["error"]
    raise error(message)
"""


class _HandlerSource:
    """Hands ``linecache`` the handler's source, so its traceback quotes the line that raised."""

    @staticmethod
    def get_source(_name: str) -> str:
        return _HANDLER_SOURCE


_handler_globals: dict[str, Any] = {"__name__": "handler", "__loader__": _HandlerSource()}
exec(compile(_HANDLER_SOURCE, HANDLER_FILE, "exec"), _handler_globals)


def failure_error(kind: type[Exception], message: str, worker_id: str | None) -> str:
    """The cloud's ``error`` string for a handler that raised: JSON with the traceback."""
    try:
        _handler_globals["handler"]({"error": (kind, message)})
    except Exception as exc:  # the point: a real traceback, as the worker SDK captures it
        handler_frames = exc.__traceback__.tb_next if exc.__traceback__ else None
        info = {
            "error_type": str(type(exc)),
            "error_message": str(exc),
            "error_traceback": "".join(traceback.format_exception(kind, exc, handler_frames)),
            "hostname": f"{worker_id or 'sandbox'}-sandbox",
            "worker_id": worker_id or "unknown",
            "runpod_version": RUNPOD_VERSION,
        }
        return json.dumps(info)
    raise AssertionError("unreachable")


def png_bytes(width: int, height: int) -> bytes:
    """A small RGB gradient as a valid PNG file (zlib + struct, no imaging library)."""
    reds = bytes(255 * x // max(1, width - 1) for x in range(width))
    row = bytearray(1 + 3 * width)  # filter byte 0 (None), then RGB triples
    row[1::3] = reds
    row[3::3] = b"\xa0" * width
    rows = bytearray()
    for y in range(height):
        row[2::3] = bytes((255 * y // max(1, height - 1),)) * width
        rows += row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
