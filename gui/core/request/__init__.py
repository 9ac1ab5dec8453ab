"""The job request: its text checked against JSON and RunPod's rules, with positions.

The package's face is what callers need most: ``validate_text`` and its ``Diagnostic``s,
``serialize_body`` (the one serialization sent on the wire) and ``read_request_file``. Importing it
does not import pydantic; the rules (``rules``) load on the first validation that needs them.

- ``validation``: ``validate_text``, ``Diagnostic``, ``ValidationResult``, ``serialize_body``.
- ``rules``: RunPod's rules for a body as pydantic models and plain findings; ``codes``: the rule
  codes a caller may tell apart (no heavy imports).
- ``syntax``: JSON syntax errors in plain words; ``size``: a body's size as sent, cheaply.
- ``jsonparse``, ``jsonscan``: parse at C speed, positions only when asked.
- ``reading``: reading a request file, or an error that says what to do.
- ``body_fields``: set or remove one option of a body by its path.
- ``child``: validation of big texts in a child process.
"""

from gui.core.request.reading import read_request_file
from gui.core.request.validation import (
    Diagnostic,
    ValidationResult,
    serialize_body,
    validate_text,
)

__all__ = [
    "Diagnostic",
    "ValidationResult",
    "read_request_file",
    "serialize_body",
    "validate_text",
]
