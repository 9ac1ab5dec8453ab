"""Copy a job's request as a runnable curl command or Python script, with no secret in it.

The API key becomes the placeholder ``$RUNPOD_API_KEY`` (read from the environment when the snippet
runs); the body goes through ``redact_body``, so secrets inside it (an S3 ``accessSecret``) stand as
``REDACTED`` and the listener's token as ``keyring:listener-token``, and the snippet says so in a
comment.

The body is the request as sent: placeholders expanded. A value that came whole from a file
(``{{file:PATH}}`` in the job's template, ``JobRecord.origin``) is written out when it is small,
up to ``INLINE_FILE_CHARS``; a bigger one stays a reference: the Python snippet reads the file
itself, the curl command keeps ``{{file:PATH}}`` with a comment saying what to put there.
"""

from __future__ import annotations

import json
import pprint
import shlex
from pathlib import Path
from typing import Any

from gui.core.limits import DEFAULT_BASE_URL
from gui.core.profiles.secrets import LISTENER_TOKEN_REFERENCE
from gui.core.records import JobRecord
from gui.core.redact import REDACTED, holds_redacted, redact_body
from gui.core.targets import Target

__all__ = [
    "API_KEY_PLACEHOLDER",
    "INLINE_FILE_CHARS",
    "curl_snippet",
    "python_snippet",
    "request_url",
]

INLINE_FILE_CHARS = 64 * 1024
"""A file's value (base64, data URL or text) up to this many characters is written into a
snippet; beyond it the snippet refers to the file (a 7 MB line helps nobody)."""

API_KEY_ENV = "RUNPOD_API_KEY"
API_KEY_PLACEHOLDER = f"${API_KEY_ENV}"


def request_url(record: JobRecord, target: Target | None = None) -> str:
    """The URL the job's operation was sent to (``.../run`` or ``.../runsync``).

    Without ``target`` the RunPod cloud URL of the record's endpoint is assumed.
    """
    if target is None:
        target = Target(
            name=record.profile,
            kind="cloud",
            base_url=DEFAULT_BASE_URL,
            endpoint_id=record.endpoint_id,
        )
    return f"{target.endpoint_url}/{record.operation}"


def _needs_auth(target: Target | None) -> bool:
    # A worker's local test server takes no key (RUNPOD_API.md §7).
    return target is None or target.kind != "local"


def _redacted_note(body: Any, comment: str) -> list[str]:
    notes = []
    if holds_redacted(body):
        notes.append(
            f"{comment} Values shown as {REDACTED} were secrets: "
            "put the real ones in before running."
        )
    if LISTENER_TOKEN_REFERENCE in json.dumps(body, ensure_ascii=False):
        notes.append(
            f"{comment} {LISTENER_TOKEN_REFERENCE} stands for the console's webhook "
            "listener token: put in its URL (Webhooks > Listener settings > Copy webhook URL) "
            "before running."
        )
    return notes


def _big_files(record: JobRecord, body: Any) -> list[tuple[tuple[Any, ...], str, str]]:
    """``(path, file, mode)`` of each value of ``body`` that a whole-string ``{{file:...}}`` of
    the job's template made and that is too big to write out; each such value is replaced by
    the placeholder, with the file's absolute path."""
    from gui.core.request.placeholders import Placeholder, parse_string

    template = record.origin.get("body") if record.origin else None
    if not isinstance(template, dict) or not isinstance(body, dict):
        return []
    folder = Path(str(record.origin.get("file") or ".")).parent if record.origin else Path(".")
    found = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), template)]
    while stack:
        path, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append(((*path, key), value))
            elif isinstance(value, str) and value.startswith("{{file:"):
                try:
                    pieces = parse_string(value)
                except ValueError:
                    continue
                piece = pieces[0] if len(pieces) == 1 else None
                if not isinstance(piece, Placeholder) or "{{" in piece.ref:
                    continue
                sent = _at(body, (*path, key))
                if isinstance(sent, str) and len(sent) > INLINE_FILE_CHARS:
                    file = Path(piece.ref).expanduser()
                    file = file if file.is_absolute() else folder / file
                    mode = piece.mode or "base64"
                    _put(body, (*path, key), f"{{{{file:{file}|{mode}}}}}")
                    found.append(((*path, key), str(file), mode))
    return sorted(found)


def _at(body: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        try:
            body = body[step]
        except (KeyError, IndexError, TypeError):
            return None
    return body


def _put(body: Any, path: tuple[Any, ...], value: Any) -> None:
    parent = _at(body, path[:-1])
    parent[path[-1]] = value


def _file_notes(files: list[tuple[tuple[Any, ...], str, str]], comment: str) -> list[str]:
    what = {"base64": "in base64", "datauri": "as a data: URL", "text": "as text"}
    return [
        f"{comment} {'.'.join(map(str, path))} was the file {file} {what.get(mode, mode)} "
        "(too big to copy here): put it in place of its {{file:...}} before running."
        for path, file, mode in files
    ]


def curl_snippet(record: JobRecord, target: Target | None = None) -> str:
    """A POSIX shell curl command that sends the job's request again."""
    body = redact_body(record.request)
    lines = _redacted_note(body, "#") + _file_notes(_big_files(record, body), "#")
    parts = [f"curl -X POST {shlex.quote(request_url(record, target))}"]
    parts.append("-H 'Content-Type: application/json'")
    if _needs_auth(target):
        # Double quotes so the shell expands the variable; the key itself is never written.
        parts.append(f'-H "Authorization: Bearer {API_KEY_PLACEHOLDER}"')
    parts.append(f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}")
    lines.append(" \\\n  ".join(parts))
    return "\n".join(lines) + "\n"


def _read_file_code(file: str, mode: str) -> str:
    if mode == "text":
        return f"Path({file!r}).read_text(encoding='utf-8')"
    encoded = f"base64.b64encode(Path({file!r}).read_bytes()).decode()"
    if mode == "datauri":
        mime = f"(mimetypes.guess_type({file!r})[0] or 'application/octet-stream')"
        return f"'data:' + {mime} + ';base64,' + {encoded}"
    return encoded


def python_snippet(record: JobRecord, target: Target | None = None) -> str:
    """A Python script (``httpx``) that sends the job's request again and prints the answer."""
    body = redact_body(record.request)
    files = _big_files(record, body)
    # A Python literal (True/None, not true/null), laid out for reading.
    body_text = pprint.pformat(body, sort_dicts=False, width=96)
    imports = ["import os"] if _needs_auth(target) else []
    if files:
        imports = ["import base64", "import mimetypes", *imports, "from pathlib import Path"]
    lines = ([*imports, ""] if imports else []) + ["import httpx", ""]
    lines += _redacted_note(body, "#")
    lines.append(f"url = {request_url(record, target)!r}")
    if _needs_auth(target):
        lines.append(f'headers = {{"Authorization": f"Bearer {{os.environ[{API_KEY_ENV!r}]}}"}}')
    else:
        lines.append("headers = {}")
    lines.append(f"body = {body_text}")
    for path, file, mode in files:
        where = "body" + "".join(f"[{step!r}]" for step in path)
        lines.append(f"{where} = {_read_file_code(file, mode)}  # too big to copy here")
    lines.append("")
    lines.append("response = httpx.post(url, json=body, headers=headers, timeout=120)")
    lines.append("print(response.status_code, response.json())")
    return "\n".join(lines) + "\n"
