"""The job request: its text checked against JSON and RunPod's rules, with positions.

The package's face is what callers need most: ``validate_text`` and its ``Diagnostic``s,
``serialize_body`` (the one serialization sent on the wire) and ``read_request_file``. Importing it
does not import pydantic; the rules (``rules``) load on the first validation that needs them.

- ``body_fields``: set or remove one option of a body by its path.
- ``child``: validation of big texts in a child process.
- ``codes``: Codes of the validation rules a caller may want to tell apart (no heavy imports
  here).
- ``datarows``: Data rows for a data run: each row of a CSV, JSONL or JSON file gives the
  variables of one job.
- ``datarun``: A template run over data rows: each row's variables make one body, checked before
  it is sent.
- ``jsonparse``, ``jsonscan``: parse at C speed, positions only when asked.
- ``jsonscan``: Where things stand in a JSON text: a parse at C speed, and positions found only
  when asked.
- ``placeholders``: Placeholders in a request body: ``{{name}}``, ``{{file:PATH}}``, ``{{uuid}}``,
  ``{{now}}``.
- ``reading``: reading a request file, or an error that says what to do.
- ``rules``: RunPod's rules for a body as pydantic models and plain findings; ``codes``: the rule
  codes a caller may tell apart (no heavy imports).
- ``size``: The size of a body as sent (``len(serialize_body(body))``), without paying for a full
  encode.
- ``syntax``: JSON syntax errors in plain words; ``size``: a body's size as sent, cheaply.
- ``validation``: ``validate_text``, ``Diagnostic``, ``ValidationResult``, ``serialize_body``.
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
