"""A template run over data rows: each row's variables make one body, checked before it is sent.

``RunTemplate(text, path, operation, given, profile)`` reads a template once (its syntax and its
placeholders' syntax checked, with line:column); ``prepare(row)`` expands it for one row
(``gui.core.request.datarows``) and checks the result against RunPod's rules and size. A row whose
body can't be sent carries its problems, each naming where in the template or what in the row;
nothing is sent for it. The window's *Run with data...* and ``job-console run --data`` both use it.

Values, first found wins: the row, ``given`` (``--var NAME=VALUE``), ``profile`` (the profile's
variables). ``origin`` is what the history keeps of a job made here (``JobRecord.origin``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gui.core.limits import MAX_BODY_BYTES, Operation
from gui.core.redact import redact_body
from gui.core.request.datarows import DataRow
from gui.core.request.jsonparse import parse_document
from gui.core.request.jsonscan import JsonIndex, JsonPath
from gui.core.request.placeholders import Context, Problem, Scope, expand_body
from gui.core.request.validation import Diagnostic, serialize_body, validate_text

__all__ = ["PreparedJob", "RunTemplate"]


@dataclass(slots=True)
class PreparedJob:
    """One row's job: its body as sent (``None`` when it can't be), or what is wrong."""

    row: DataRow | None
    body: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)
    origin: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.body is not None and not self.problems


class RunTemplate:
    """A template (request text with placeholders) ready to be expanded row after row.

    ``diagnostics`` are the template's own (JSON syntax, malformed placeholders, rules that no
    value can change); when ``errors`` holds any, no row can run. ``needs`` lists the variables
    its placeholders use."""

    def __init__(
        self,
        text: str,
        path: Path | None,
        operation: Operation,
        given: Mapping[str, str] | None = None,
        profile: Mapping[str, str] | None = None,
        *,
        data: Path | None = None,
    ) -> None:
        self.path = path
        self.operation = operation
        self.base_dir = path.parent if path is not None else None
        self._text = text
        self._given = Scope(dict(given or {}))
        self._profile = Scope(dict(profile or {}))
        self._data = data
        checked = validate_text(
            text, operation, Context([self._given, self._profile], self.base_dir, strict=False)
        )
        self.diagnostics: list[Diagnostic] = checked.diagnostics
        self.body: dict[str, Any] | None = checked.body
        self._index: JsonIndex | None = None
        self._where: dict[tuple[JsonPath, str], str] = {}
        # One redacted copy of the template, shared by the origin of every job it makes.
        self._origin_body = redact_body(self.body)

    @property
    def errors(self) -> list[Diagnostic]:
        """The template's errors; a placeholder without a value is not one (a row may give it)."""
        return [d for d in self.diagnostics if d.severity == "error"]

    def prepare(self, row: DataRow | None) -> PreparedJob:
        """The body for ``row`` (``None``: the template with ``given`` and profile values only)."""
        origin = self._origin(row)
        if row is not None and row.problem:
            return PreparedJob(row, None, [row.problem], origin)
        if self.body is None:
            return PreparedJob(row, None, ["the template is not a valid request"], origin)
        scopes = [self._given, self._profile]
        if row is not None:
            scopes.insert(0, Scope(row.values, row.typed))
        expansion = expand_body(self.body, Context(scopes, self.base_dir, strict=True))
        origin["variables"] = redact_body(expansion.used)
        problems = [self._describe(p) for p in expansion.errors]
        if problems:
            return PreparedJob(row, None, problems, origin)
        body: dict[str, Any] = expansion.body
        if expansion.found:
            problems = self._check(body)
        return PreparedJob(row, None if problems else body, problems, origin)

    def _check(self, body: dict[str, Any]) -> list[str]:
        from gui.core.request.rules import check_body

        problems = [
            f.message for f in check_body(body) if f.severity == "error"
        ]  # the template's own errors were found once, by validate_text
        try:
            size = len(serialize_body(body))
        except Exception as exc:  # RequestInvalid: NaN or a lone surrogate from a value
            return [*problems, str(exc)]
        limit = MAX_BODY_BYTES[self.operation]
        if size > limit:
            problems.append(
                f"the body is {size:,} bytes when sent, over the {limit:,} bytes /"
                f"{self.operation} accepts"
            )
        return problems

    def _origin(self, row: DataRow | None) -> dict[str, Any]:
        origin: dict[str, Any] = {"body": self._origin_body}
        if self.path is not None:
            origin["file"] = str(self.path)
        if row is not None:
            origin["data"] = str(self._data) if self._data is not None else None
            origin["row"] = row.number
            if row.name:
                origin["name"] = row.name
        return origin

    def _describe(self, problem: Problem) -> str:
        """The problem's message, after where it stands in the template (cached per place)."""
        key = (problem.path, problem.placeholder)
        where = self._where.get(key)
        if where is None:
            if self._index is None:
                self._index = parse_document(self._text).index
            _, offset, length = self._index.locate_nearest(problem.path)
            if problem.placeholder:
                found = self._text.find(problem.placeholder, offset, offset + length)
                offset = found if found >= 0 else offset
            line = self._text.count("\n", 0, offset) + 1
            column = offset - (self._text.rfind("\n", 0, offset) + 1) + 1
            name = self.path.name if self.path is not None else "the template"
            where = f"{name}:{line}:{column}"
            if len(self._where) < 1000:
                self._where[key] = where
        return f"{where}: {problem.message}"
