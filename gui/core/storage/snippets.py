"""Copy a job's request as a runnable curl command or Python script, with no secret in it.

The API key becomes the placeholder ``$RUNPOD_API_KEY`` (read from the environment when the snippet
runs); the body goes through ``redact_body``, so secrets inside it (an S3 ``accessSecret``) stand as
``REDACTED`` and the listener's token as ``keyring:listener-token``, and the snippet says so in a
comment.
"""

from __future__ import annotations

import json
import pprint
import shlex
from typing import Any

from gui.core.limits import DEFAULT_BASE_URL
from gui.core.profiles.secrets import LISTENER_TOKEN_REFERENCE
from gui.core.records import JobRecord
from gui.core.redact import REDACTED, holds_redacted, redact_body
from gui.core.targets import Target

__all__ = ["API_KEY_PLACEHOLDER", "curl_snippet", "python_snippet", "request_url"]

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


def curl_snippet(record: JobRecord, target: Target | None = None) -> str:
    """A POSIX shell curl command that sends the job's request again."""
    body = redact_body(record.request)
    lines = _redacted_note(body, "#")
    parts = [f"curl -X POST {shlex.quote(request_url(record, target))}"]
    parts.append("-H 'Content-Type: application/json'")
    if _needs_auth(target):
        # Double quotes so the shell expands the variable; the key itself is never written.
        parts.append(f'-H "Authorization: Bearer {API_KEY_PLACEHOLDER}"')
    parts.append(f"-d {shlex.quote(json.dumps(body, ensure_ascii=False))}")
    lines.append(" \\\n  ".join(parts))
    return "\n".join(lines) + "\n"


def python_snippet(record: JobRecord, target: Target | None = None) -> str:
    """A Python script (``httpx``) that sends the job's request again and prints the answer."""
    body = redact_body(record.request)
    # A Python literal (True/None, not true/null), laid out for reading.
    body_text = pprint.pformat(body, sort_dicts=False, width=96)
    lines = (["import os", ""] if _needs_auth(target) else []) + ["import httpx", ""]
    lines += _redacted_note(body, "#")
    lines.append(f"url = {request_url(record, target)!r}")
    if _needs_auth(target):
        lines.append(f'headers = {{"Authorization": f"Bearer {{os.environ[{API_KEY_ENV!r}]}}"}}')
    else:
        lines.append("headers = {}")
    lines.append(f"body = {body_text}")
    lines.append("")
    lines.append("response = httpx.post(url, json=body, headers=headers, timeout=120)")
    lines.append("print(response.status_code, response.json())")
    return "\n".join(lines) + "\n"
