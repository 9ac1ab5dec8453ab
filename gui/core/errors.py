"""The console's errors. Every message says what happened and what to do next.

* ConsoleError
  x RequestInvalid          the body breaks RunPod's rules; nothing was sent
  x RemoteError             RunPod (or the sandbox) answered, but not with success
    + AuthRefused           401/403: the API key was refused
    + JobNotFound           404 for a job: unknown, or expired after RunPod's retention
    + RateLimited           429, after our retries ran out
    + RequestRefused        another 4xx: RunPod refused the request (body attached when JSON)
    + ServerError           5xx, after our retries ran out
  x TransportError          no answer: connection refused, reset, timed out
  x SecretUnavailable       the keyring holds no secret for a reference, or has no backend
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthRefused",
    "ConsoleError",
    "JobNotFound",
    "RateLimited",
    "RemoteError",
    "RequestInvalid",
    "RequestRefused",
    "SecretUnavailable",
    "ServerError",
    "TransportError",
]


class ConsoleError(Exception):
    """Base of every error the console reports to a person."""


class RequestInvalid(ConsoleError):
    """The request body breaks RunPod's rules; it was not sent."""


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


class SecretUnavailable(ConsoleError):
    """A secret the request needs is not in the keyring, or no secure keyring is available."""
