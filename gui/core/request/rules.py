"""RunPod's rules for a request body (RUNPOD_API.md §3), as pydantic models and plain findings.

:func:`check_body` applies every rule to a parsed body and returns :class:`Finding`s: what is wrong,
where (a JSON path, and whether the key or the value is to blame) and how bad. Turning paths into
line:column is the caller's job (``validation``). Messages are for people who know JSON but
not pydantic; they never repeat a string value of the body, since ``s3Config`` holds a secret and a
webhook URL may hold a listener's token.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError
from pydantic_core import ErrorDetails

from gui.core.limits import (
    EXECUTION_TIMEOUT_MS,
    POLICY_KEYS,
    S3_OPTIONAL_KEYS,
    S3_REQUIRED_KEYS,
    TOP_LEVEL_KEYS,
    TTL_MS,
)
from gui.core.request.codes import UNREACHABLE_WEBHOOK
from gui.core.request.jsonscan import JsonPath

__all__ = [
    "Finding",
    "Policy",
    "RequestBody",
    "S3Config",
    "Severity",
    "check_body",
    "describe_kind",
    "quote_key",
    "suggest_key",
]

_quote: Callable[[str], str] = json.encoder.encode_basestring  # a JSON string, non-ASCII kept

Severity = Literal["error", "warning"]


class Policy(BaseModel):
    """``policy``: execution limits, all in milliseconds. ``null`` counts as not given."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    executionTimeout: (
        Annotated[int, Field(ge=EXECUTION_TIMEOUT_MS[0], le=EXECUTION_TIMEOUT_MS[1])] | None
    ) = None
    ttl: Annotated[int, Field(ge=TTL_MS[0], le=TTL_MS[1])] | None = None
    lowPriority: bool | None = None


class S3Config(BaseModel):
    """``s3Config``: where the worker may upload results. Passed to the worker, never returned."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    accessId: Annotated[str, Field(min_length=1)]
    accessSecret: Annotated[str, Field(min_length=1, repr=False)]  # a credential
    bucketName: Annotated[str, Field(min_length=1)]
    endpointUrl: HttpUrl
    objectPath: str | None = None


class RequestBody(BaseModel):
    """A job request body for ``/run`` or ``/runsync``. Unknown top-level keys are ignored here
    (RunPod discards them); :func:`check_body` warns about them."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    input: dict[str, Any]
    webhook: HttpUrl | None = None
    policy: Policy | None = None
    s3Config: S3Config | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule. ``on_key``: the key of the path's last step is to blame, not its value."""

    severity: Severity
    message: str
    path: JsonPath
    on_key: bool = False
    code: str = ""  # names a rule a caller may want to tell apart (see UNREACHABLE_WEBHOOK)


def check_body(body: dict[str, Any]) -> list[Finding]:
    """Every rule of RUNPOD_API.md §3 applied to a parsed body (a JSON object)."""
    findings = list(_unknown_key_warnings(body, (), TOP_LEVEL_KEYS, _TOP_LEVEL_HINT))
    try:
        RequestBody.model_validate(body)
    except ValidationError as exc:
        findings.extend(_from_pydantic(error, body) for error in exc.errors())
    findings.extend(_misplaced_in_input(body.get("input")))
    s3_config = body.get("s3Config")
    if isinstance(s3_config, dict):
        known = S3_REQUIRED_KEYS + S3_OPTIONAL_KEYS
        findings.extend(_unknown_key_warnings(s3_config, ("s3Config",), known, _S3_HINT))
    findings.extend(_unreachable_webhook(body.get("webhook")))
    return findings


# -- words -------------------------------------------------------------------------------------


def describe_kind(value: Any) -> str:
    """What a JSON value is, for messages: "a string", "an array", "null", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number" if math.isfinite(value) else "not a finite number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def quote_key(key: str, limit: int = 60) -> str:
    """A key as JSON shows it, shortened when long: keys can be anything, even megabytes."""
    shown = key if len(key) <= limit else key[:limit] + "…"
    return _quote(shown)  # json.dumps(shown, ensure_ascii=False) without its 3 µs of set-up


def suggest_key(key: str, known: Iterable[str]) -> str | None:
    """The known key ``key`` was probably meant to be: same letters in another case, or close."""
    by_lower = {name.lower(): name for name in known}
    lowered = key.lower()
    if lowered in by_lower:
        return by_lower[lowered]
    # difflib costs some 25 µs a name; a body can hold 100,000 unknown keys. Its ratio is 2M/T,
    # M the matched characters, and M can't exceed the characters of the name found in the key
    # (nor the key's length): names that can't reach the cutoff are left out, most often all.
    letters = set(lowered)
    near = [
        name
        for name in by_lower
        if 2 * min(len(lowered), sum(name.count(c) for c in letters.intersection(name)))
        >= _CLOSE_ENOUGH * (len(lowered) + len(name))
    ]
    close = difflib.get_close_matches(lowered, near, n=1, cutoff=_CLOSE_ENOUGH) if near else []
    return by_lower[close[0]] if close else None


_CLOSE_ENOUGH = 0.6  # difflib's ratio for "probably meant"


def _human_ms(ms: int) -> str:
    for size, one, many in (
        (86_400_000, "day", "days"),
        (3_600_000, "h", "h"),
        (60_000, "min", "min"),
        (1000, "s", "s"),
    ):
        if ms >= size and ms % size == 0:
            count = ms // size
            return f"{count} {one if count == 1 else many}"
    return f"{ms} ms"


def _list_words(names: Iterable[str]) -> str:
    items = list(names)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


# -- rules -------------------------------------------------------------------------------------

_TOP_LEVEL_HINT = (
    "RunPod reads only input, webhook, policy and s3Config at the top level and discards any other "
    'key; data for the worker belongs inside "input".'
)
_S3_HINT = "s3Config holds accessId, accessSecret, bucketName, endpointUrl and objectPath."
_MAX_TYPOS = 100  # unknown keys in one object; beyond, no "did you mean" (see below)


def _unknown_key_warnings(
    mapping: dict[str, Any], where: JsonPath, known: tuple[str, ...], hint: str
) -> Iterable[Finding]:
    unknown = [key for key in mapping if key not in known]
    # A few unknown keys may be typos; hundreds are data put in the wrong place, and looking for
    # the name each one was meant to be is time lost (100,000 keys cost seconds).
    may_be_typos = len(unknown) <= _MAX_TYPOS
    for key in unknown:
        suggestion = suggest_key(key, known) if may_be_typos else None
        if suggestion is not None:
            message = f'Unknown key {quote_key(key)}: did you mean "{suggestion}"? {hint}'
        else:
            message = f"Unknown key {quote_key(key)}. {hint}"
        yield Finding("warning", message, (*where, key), on_key=True)


def _misplaced_in_input(input_value: Any) -> Iterable[Finding]:
    if not isinstance(input_value, dict):
        return
    for key in ("webhook", "policy", "s3Config"):
        if key in input_value:
            message = (
                f'"{key}" inside "input" is not seen by RunPod: it reaches the worker as '
                f'ordinary input. Move it to the top level, next to "input".'
            )
            yield Finding("warning", message, ("input", key), on_key=True)


def _unreachable_webhook(webhook: Any) -> Iterable[Finding]:
    if not isinstance(webhook, str):
        return
    try:
        host = urlsplit(webhook).hostname
    except ValueError:
        return
    reason = _private_host_reason(host) if host else None
    if reason is not None:
        message = (
            f"The webhook points at {reason} ({host}): RunPod's cloud can't reach it, so no "
            f"delivery will arrive. Use a public URL, such as a tunnel to the console's listener."
        )
        yield Finding("warning", message, ("webhook",), code=UNREACHABLE_WEBHOOK)


def _private_host_reason(host: str) -> str | None:
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "this computer"
    if host.endswith(".local"):
        return "a local network (.local) name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return "this computer"
    if address.is_private or address.is_link_local:
        return "a private network address"
    return None


# -- pydantic's errors in plain words ----------------------------------------------------------

_POLICY_RANGES = {"executionTimeout": EXECUTION_TIMEOUT_MS, "ttl": TTL_MS}
_POLICY_NOTES = {
    "executionTimeout": " It limits how long the worker may run the job.",
    "ttl": " It covers the time in the queue plus the run; after it the job is removed.",
}


def _from_pydantic(error: ErrorDetails, body: dict[str, Any]) -> Finding:
    path: JsonPath = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    message = None
    if path[:1] == ("policy",):
        message = _policy_message(path, kind, value)
        if kind == "extra_forbidden":
            return Finding("error", message or error["msg"], path, on_key=True)
    elif path[:1] == ("s3Config",):
        message = _s3_message(path, kind, value)
    elif path == ("input",):
        message = _input_message(kind, value, body)
    elif path == ("webhook",):
        message = _url_message("webhook", "the URL RunPod POSTs the result to", kind, error)
    if message is None:
        message = f"{'.'.join(map(str, path)) or 'The body'}: {error['msg']}."
    return Finding("error", message, path)


def _input_message(kind: str, value: Any, body: dict[str, Any]) -> str | None:
    if kind == "missing":
        message = (
            'The body has no "input": RunPod requires it, a JSON object with what the worker '
            'needs (write "input": {} if it needs nothing).'
        )
        near = next((k for k in body if suggest_key(k, ("input",)) == "input"), None)
        if near is not None:
            message += f' The key {quote_key(near)} is not "input": keys are case-sensitive.'
        return message
    if kind == "dict_type":
        return (
            f'"input" must be a JSON object ({{...}}) holding what the worker needs; '
            f"it is {describe_kind(value)}."
        )
    return None


def _url_message(name: str, what: str, kind: str, error: ErrorDetails) -> str | None:
    if kind == "url_type":
        return (
            f"{name} must be a URL in a string, {what}; it is {describe_kind(error.get('input'))}."
        )
    if kind == "url_scheme":
        return f"{name} must be an http:// or https:// URL, {what}."
    if kind == "url_parsing":
        reason = (error.get("ctx") or {}).get("error", "it can't be read as a URL")
        return f"{name} is not a valid URL ({reason}); write it as https://host/path."
    if kind == "url_too_long":
        limit = (error.get("ctx") or {}).get("max_length", "the allowed number of")
        return f"{name} is longer than {limit} characters."
    return None


def _policy_message(path: JsonPath, kind: str, value: Any) -> str | None:
    if len(path) == 1 and kind == "model_type":
        return (
            f'policy must be a JSON object such as {{"ttl": 86400000}}; '
            f"it is {describe_kind(value)}."
        )
    name = str(path[1]) if len(path) > 1 else ""
    dotted = f"policy.{name}"
    if kind == "extra_forbidden":
        suggestion = suggest_key(name, POLICY_KEYS)
        hint = f' Did you mean "{suggestion}"?' if suggestion else ""
        return (
            f"policy has no setting {quote_key(name)}: RunPod reads only "
            f"{_list_words(POLICY_KEYS)}.{hint}"
        )
    if kind == "int_type":
        extra = " (write the number without quotes)" if isinstance(value, str) else ""
        return (
            f"{dotted} must be a whole number of milliseconds; it is {describe_kind(value)}{extra}."
        )
    if kind in ("greater_than_equal", "less_than_equal") and name in _POLICY_RANGES:
        low, high = _POLICY_RANGES[name]
        return (
            f"{dotted} is {value} ms; RunPod accepts {low} ms ({_human_ms(low)}) to {high} ms "
            f"({_human_ms(high)}).{_POLICY_NOTES[name]}"
        )
    if kind == "bool_type":
        return f"{dotted} must be true or false; it is {describe_kind(value)}."
    return None


def _s3_message(path: JsonPath, kind: str, value: Any) -> str | None:
    required = _list_words(S3_REQUIRED_KEYS)
    if len(path) == 1:
        if kind == "model_type":
            return f"s3Config must be a JSON object with {required}; it is {describe_kind(value)}."
        return None
    name = str(path[1])
    dotted = f"s3Config.{name}"
    if kind == "missing":
        return f's3Config has no "{name}": {required} are all required.'
    if kind == "string_type" or (kind == "url_type" and name == "endpointUrl"):
        return f"{dotted} must be a string; it is {describe_kind(value)}."
    if kind == "string_too_short":
        return f"{dotted} is empty; RunPod needs a value here."
    if name == "endpointUrl" and kind.startswith("url_"):
        return (
            f"{dotted} must be the http:// or https:// URL of the S3 service, such as "
            f"https://s3.us-east-1.amazonaws.com."
        )
    return None
