"""Validation of big texts in a child process (in ``gui.core``: the child, a fresh interpreter,
imports no Qt, which ``gui.ui``'s package imports).

C ``json.loads`` holds the GIL for the whole parse (a quarter of a second for 20 MB), so a worker
thread alone still stalls the Qt thread. A child process parses without touching our GIL; it sends
back the diagnostics and the body's options (not its ``input``, which can be megabytes to pickle).
"""

from __future__ import annotations

from typing import Any

from gui.core.limits import Operation
from gui.core.request.validation import ValidationResult, validate_text

__all__ = ["INPUT_OMITTED", "validate_light"]

# Stands for the ``input`` a light result leaves out; never a real body value.
INPUT_OMITTED = "<input omitted: parse the text for the full body>"


def validate_light(text: str, operation: Operation) -> ValidationResult:
    """``validate_text`` whose ``body`` keeps every top-level key but ``input`` (replaced by
    ``INPUT_OMITTED``)."""
    result = validate_text(text, operation)
    body: dict[str, Any] | None = result.body
    if body is not None:
        result.body = {
            key: INPUT_OMITTED if key == "input" else value for key, value in body.items()
        }
    return result
