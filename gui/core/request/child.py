"""Validation of big texts in a child process (in ``gui.core``: the child, a fresh interpreter,
imports no Qt, which ``gui.ui``'s package imports).

C ``json.loads`` holds the GIL for the whole parse (a quarter of a second for 20 MB), so a worker
thread alone still stalls the Qt thread. A child process parses without touching our GIL; it sends
back the diagnostics and the body's options (not its ``input``, which can be megabytes to pickle).

The text goes to the child in pieces (``validate_in_child``): pickling a 28 MB string at once holds
the GIL for 5-50 ms on the thread sending it (the executor's feeder), and the Qt thread waits that
long for it (bench_editor: a keystroke's validation stalled typing by up to 52 ms).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from gui.core.limits import Operation
from gui.core.request.placeholders import Context
from gui.core.request.validation import ValidationResult, validate_text

if TYPE_CHECKING:
    from concurrent.futures import Executor

__all__ = ["INPUT_OMITTED", "PIECE_CHARS", "validate_in_child", "validate_light"]

PIECE_CHARS = 256 * 1024
"""The text goes to the child in pieces of at most this many characters (each pickled alone)."""

_received: list[str] = []  # in the child: the pieces of the text being sent

# Stands for the ``input`` a light result leaves out; never a real body value.
INPUT_OMITTED = "<input omitted: parse the text for the full body>"


def validate_light(
    text: str, operation: Operation, placeholders: Context | None = None
) -> ValidationResult:
    """``validate_text`` whose ``body`` keeps every top-level key but ``input`` (replaced by
    ``INPUT_OMITTED``)."""
    result = validate_text(text, operation, placeholders)
    body: dict[str, Any] | None = result.body
    if body is not None:
        result.body = {
            key: INPUT_OMITTED if key == "input" else value for key, value in body.items()
        }
    return result


def _receive(piece: str, first: bool) -> None:
    if first:
        _received.clear()  # what a send that failed half-way left
    _received.append(piece)


def _validate_received(operation: Operation, placeholders: Context | None) -> ValidationResult:
    text = "".join(_received)
    _received.clear()
    return validate_light(text, operation, placeholders)


def validate_in_child(
    pool: Executor,
    parts: Iterable[str],
    operation: Operation,
    placeholders: Context | None = None,
) -> ValidationResult:
    """``validate_light`` of the text ``parts`` make when joined, in ``pool``'s process (ONE
    worker: the pieces are taken in order), sent piece by piece."""
    sent = []
    first = True
    for part in parts:
        for start in range(0, len(part), PIECE_CHARS):
            sent.append(pool.submit(_receive, part[start : start + PIECE_CHARS], first))
            first = False
    if first:
        sent.append(pool.submit(_receive, "", True))
    result = pool.submit(_validate_received, operation, placeholders).result()
    for future in sent:
        future.result()  # (a piece that failed to arrive: its error, not a wrong result)
    return result
