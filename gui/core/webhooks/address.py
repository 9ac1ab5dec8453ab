"""Where the webhook listener binds and the address RunPod is given: the defaults, the saved
settings, and the checks on a host and a public URL.

Standard library only (no aiohttp, no Qt), so the window's start, the command line's parser and
the settings dialog can all use it cheaply; ``core.webhooks.listener`` serves with these defaults.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "ListenerSettings",
    "SettingsStore",
    "check_public_url",
    "is_loopback",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
_KEYS = ("listener/host", "listener/port", "listener/public_url")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): only this machine can
    connect."""
    host = host.strip()
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_public_url(public_base: str) -> None:
    """Raises ``ValueError`` (saying what to type) when ``public_base`` is not an http(s) URL;
    the listener itself joins it with the token path (``WebhookListener.public_url``)."""
    parts = urlsplit(public_base.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            "The public URL must start with https:// (or http://), for example "
            "https://abc.trycloudflare.com."
        )


class SettingsStore(Protocol):
    """What the settings are kept in: ``QSettings`` fits."""

    def value(self, key: str, default: Any = ...) -> Any: ...

    def setValue(self, key: str, value: Any) -> None: ...

    def sync(self) -> None: ...


@dataclass(frozen=True)
class ListenerSettings:
    """Where the listener binds and the tunnel in front of it (persisted; never a secret)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_url: str = ""

    @classmethod
    def load(cls, settings: SettingsStore) -> ListenerSettings:
        host = str(settings.value(_KEYS[0], DEFAULT_HOST) or DEFAULT_HOST)
        try:
            port = int(str(settings.value(_KEYS[1], DEFAULT_PORT)))
        except ValueError:
            port = DEFAULT_PORT
        port = port if 1 <= port <= 65535 else DEFAULT_PORT
        return cls(host, port, str(settings.value(_KEYS[2], "") or ""))

    def save(self, settings: SettingsStore) -> None:
        for key, value in zip(_KEYS, (self.host, self.port, self.public_url), strict=True):
            settings.setValue(key, value)
        settings.sync()
