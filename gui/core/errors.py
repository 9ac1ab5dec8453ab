"""The console's errors, all of them. Every message says what happened and what to do next.

What each error means, and what the person should do:

* ConsoleError              base of every error the console reports to a person
  x RequestInvalid          the body breaks RunPod's rules; nothing was sent. Fix the body.
  x RequestFileError        a request file is missing, unreadable, not a plain file, too big or
                            not text. Pick another file, or save it as UTF-8 text.
  x OperationUnsupported    the target has no such operation (a local worker has no health,
                            cancel, retry or purge). Use a cloud or sandbox profile for it.
  x RemoteError             RunPod (or the sandbox) answered, but not with success
    + AuthRefused           401/403: the API key was refused. Set a new key in Profiles.
    + JobNotFound           404 for a job: unknown, or expired after RunPod's retention.
    + RateLimited           429, after our retries ran out. Wait, then send again.
    + RequestRefused        another 4xx: RunPod refused the request (body attached when JSON).
                            Read its reason, fix the request.
    + ServerError           5xx, after our retries ran out. Try again later.
  x TransportError          no answer: connection refused, reset, timed out. Check the network
                            or that the worker runs.
    + SubmissionUncertain   a job request left but no job id came back: the job may be queued.
                            Look for it before sending again.
  x SecretUnavailable       the keyring holds no secret for a reference, or has no backend.
                            Set the secret again, or install a keyring backend.
  x ProfileError            a profile is invalid, or profiles.json can't be read. Fix the field
                            the message names, or the file.
    + ProfileNotFound       no profile has that name. Pick one that exists.
  x TemplateError           a template could not be read, written, found or named.
    + TemplateSecretError   the body holds a secret, which a template never keeps. Move the
                            secret to the keyring (a ``keyring:`` reference) first.
  x HistoryError            the job history can't be used: written by a newer console (update
                            the console), or not yet migrated.
    + SearchInvalid         a search of the history names an unknown field or value. Fix the
                            part the message names.
  x HistoryFileInvalid      a history file to import is not JSON, a record in it has a field
                            missing or wrong, or it comes from a newer release; nothing was
                            imported. Fix the line the message names, or update the console.
  x AccountError            the management API (REST v2: endpoints, workers, prices, billing)
                            answered with an error (RFC 9457 problem, in words), or not at all
                            (``status_code`` None). Do what the message says about the key or URL.
  x AccountUnavailable      no management API for this target (a local worker, a sandbox not
                            started) or no key for it. Add a key, or pick another profile.
  x ListenerError           the webhook listener could not start.
    + ListenerPortTaken     its port is in use. Choose another port (one free now is suggested).
    + ListenerServedElsewhere  another console of this data folder serves it on that port: its
                            URL stores every delivery here. Use it, or choose another port.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AccountError",
    "AccountUnavailable",
    "AuthRefused",
    "ConsoleError",
    "HistoryError",
    "HistoryFileInvalid",
    "JobNotFound",
    "ListenerError",
    "ListenerPortTaken",
    "ListenerServedElsewhere",
    "OperationUnsupported",
    "ProfileError",
    "ProfileNotFound",
    "RateLimited",
    "RemoteError",
    "RequestFileError",
    "RequestInvalid",
    "RequestRefused",
    "SearchInvalid",
    "SecretUnavailable",
    "ServerError",
    "SubmissionUncertain",
    "TemplateError",
    "TemplateSecretError",
    "TransportError",
]


class ConsoleError(Exception):
    """Base of every error the console reports to a person."""


class RequestInvalid(ConsoleError):
    """The request body breaks RunPod's rules; it was not sent."""


class RequestFileError(ConsoleError):
    """A request file can't be used: missing, unreadable, a folder, a pipe or a device, too big,
    or not text."""


class OperationUnsupported(ConsoleError):
    """The target has no such operation (a local worker has no health, cancel, retry or purge)."""


class RemoteError(ConsoleError):
    """The endpoint answered with an HTTP error status."""

    def __init__(self, message: str, *, status_code: int, body: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class AuthRefused(RemoteError):
    """401 or 403: the API key is missing, wrong or lacks access."""


class JobNotFound(RemoteError):
    """404 for a job id: never known, or forgotten after RunPod's retention (expired)."""


class RateLimited(RemoteError):
    """429 that outlasted the client's retries."""

    def __init__(
        self, message: str, *, status_code: int = 429, body: Any = None, retry_after: float | None
    ) -> None:
        super().__init__(message, status_code=status_code, body=body)
        self.retry_after = retry_after


class RequestRefused(RemoteError):
    """Another 4xx answer (400, 413, 422, ...): the endpoint refused the request."""


class ServerError(RemoteError):
    """5xx that outlasted the client's retries."""


class TransportError(ConsoleError):
    """No HTTP answer at all: refused, reset, timed out, or a name that does not resolve."""


class SubmissionUncertain(TransportError):
    """A job request was sent but no job id came back: the connection broke after it left, or a
    5xx that can follow the job's acceptance answered it. The job may or may not be queued."""


class SecretUnavailable(ConsoleError):
    """A secret the request needs is not in the keyring, or no secure keyring is available."""


class ProfileError(ConsoleError):
    """A profile is invalid, or ``profiles.json`` cannot be read."""


class ProfileNotFound(ProfileError):
    """No profile has that name."""


class TemplateError(ConsoleError):
    """A template could not be read, written, found or named; the message says why."""


class TemplateSecretError(TemplateError):
    """The body holds a secret, which a template must never hold. ``paths`` says where."""

    def __init__(self, message: str, paths: list[tuple[str | int, ...]]) -> None:
        super().__init__(message)
        self.paths = paths


class HistoryError(ConsoleError):
    """The job history (``jobs.sqlite3``) can't be opened or read as it is."""


class SearchInvalid(HistoryError):
    """A search of the history has parts it can't use; ``problems`` says each, for a person."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


class HistoryFileInvalid(ConsoleError):
    """A history file to import can't be taken as it is; nothing of it was imported."""


class AccountError(ConsoleError):
    """The management API refused a request or could not be reached.

    ``title``, ``detail`` and ``errors`` are its RFC 9457 problem (empty when it sent none);
    ``status_code`` is None when no answer came; ``retry_after`` is the seconds a 429 asked for.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        title: str = "",
        detail: str = "",
        errors: tuple[str, ...] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.retry_after = retry_after


class AccountUnavailable(ConsoleError):
    """There is no management API for this target, or no key for it: the message says what to do."""


class ListenerError(ConsoleError):
    """The webhook listener could not start."""


class ListenerPortTaken(ListenerError):
    """The port is already in use; ``suggested_port`` was free a moment ago."""

    def __init__(self, host: str, port: int, suggested_port: int) -> None:
        super().__init__(
            f"Port {port} on {host} is already in use (another listener or program holds it). "
            f"Choose another port, for example {suggested_port}, which is free now."
        )
        self.host = host
        self.port = port
        self.suggested_port = suggested_port


class ListenerServedElsewhere(ListenerError):
    """Another console of this data folder serves the webhook listener on the port asked for."""

    def __init__(self, port: int, served_by: str) -> None:
        super().__init__(
            f"{served_by} already serves the webhook listener of this data folder on port "
            f"{port}: its URL (the same token) stores every delivery here."
        )
        self.port = port
        self.served_by = served_by
