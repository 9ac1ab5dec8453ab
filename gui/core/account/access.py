"""Which management API to ask, with which key: ``AccountAccess`` for a target, or a reason why not.

RunPod's management API (REST v2) lives on another host than the job API: ``api.runpod.io/v2``
beside ``api.runpod.ai/v2/{endpoint_id}/run``. A cloud profile may name its own
(``Profile.management_url``); ``RUNPOD_API_URL`` overrides it for the command line, as runpodctl
does. The built-in sandbox serves both APIs on one port under its ``/v2``, so its management URL
is its job base URL. A local worker (``--rp_serve_api``) has no management API.

The key is the profile's (keyring), the shared account key, or ``RUNPOD_API_KEY``, in the order
``api_key_for`` uses. ``AccountAccess`` never shows its key in ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from gui.core.errors import AccountUnavailable
from gui.core.limits import DEFAULT_MANAGEMENT_URL
from gui.core.targets import Target

__all__ = [
    "MANAGEMENT_URL_ENV",
    "AccountAccess",
    "AccountUnavailable",
    "account_access",
]

MANAGEMENT_URL_ENV = "RUNPOD_API_URL"


@dataclass(frozen=True, slots=True)
class AccountAccess:
    """Where the management API is and the key to send (``Authorization: Bearer``).

    ``base_url`` ends in ``/v2`` and has no trailing slash; paths such as ``/serverless`` are
    appended to it. ``endpoint_id`` is the target's endpoint, the one workers and logs are about.
    """

    base_url: str
    api_key: str = field(repr=False)
    endpoint_id: str
    key_source: str = ""

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


def account_access(
    target: Target,
    api_key: str | None,
    *,
    management_url: str = "",
    key_source: str = "",
    environ: Mapping[str, str] | None = None,
) -> AccountAccess:
    """The management API for ``target`` with ``api_key``, or ``AccountUnavailable`` saying why.

    ``management_url`` is the profile's setting ("" = RunPod's); ``environ`` is read for
    ``RUNPOD_API_URL`` (pass ``{}`` where only the profile counts, as in the window).
    """
    env = os.environ if environ is None else environ
    if target.kind == "local":
        raise AccountUnavailable(
            f"{target.name} is a local worker: it has no account, endpoints or worker logs. "
            "Pick a cloud profile or the built-in sandbox."
        )
    if target.kind == "sandbox":
        if not target.base_url:
            raise AccountUnavailable("the built-in sandbox is not running yet: start it first")
        return AccountAccess(
            target.base_url.rstrip("/"), api_key or "", target.endpoint_id, "sandbox"
        )
    if not api_key:
        raise AccountUnavailable(
            f"{target.name} has no API key: add one in Profiles (it is kept in the keyring) or "
            "set RUNPOD_API_KEY. The management API needs a key with read access."
        )
    base = env.get(MANAGEMENT_URL_ENV, "").strip() or management_url or DEFAULT_MANAGEMENT_URL
    return AccountAccess(base.rstrip("/"), api_key, target.endpoint_id, key_source)
