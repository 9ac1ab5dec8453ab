"""The editor's request with its placeholders filled, for Submit (off the Qt thread).

The values are the selected profile's variables; a relative ``{{file:...}}`` is relative to the
request or template file (the current folder when the text has none). A placeholder without a
value stops Submit with its line and column, as ``job-console run`` does; a data run
(``gui.ui.request.data_run``) gives each row's values instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gui.core.limits import Operation
from gui.core.request.datarun import PreparedJob, RunTemplate
from gui.core.request.placeholders import Context, Scope
from gui.core.request.validation import validate_text

__all__ = ["checking_context", "expand_request"]


def checking_context(variables: Mapping[str, str], path: Path | None) -> Context:
    """What the editor's validation checks placeholders with as the person types: an unknown
    variable is a warning (a data run may give it), files are sized, not read."""
    base = path.parent if path is not None else None
    return Context([Scope(dict(variables))], base, strict=False, read_files=False)


def expand_request(
    text: str, operation: Operation, variables: Mapping[str, str], path: Path | None
) -> PreparedJob:
    """The body to send (placeholders filled, files read) and its origin; or, when it can't be
    sent, ``problems`` each starting with ``line L:C:`` where the text has it."""
    base = path.parent if path is not None else None
    strict = Context([Scope(dict(variables))], base, strict=True, read_files=False)
    checked = validate_text(text, operation, strict)
    if checked.errors:
        problems = [f"line {d.line}:{d.column}: {d.message}" for d in checked.errors]
        return PreparedJob(None, None, problems)
    return RunTemplate(text, path, operation, profile=variables).prepare(None)
