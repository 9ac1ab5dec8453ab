"""Where a request goes: the resolved form of a profile, as the engine and the client see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gui.core.limits import DEFAULT_BASE_URL

__all__ = ["SANDBOX_ENDPOINT_ID", "SANDBOX_PROFILE", "Target", "TargetKind"]

TargetKind = Literal["sandbox", "cloud", "local"]

SANDBOX_PROFILE = "Sandbox"
SANDBOX_ENDPOINT_ID = "sandbox"


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint to send jobs to. Never holds a secret: keys are looked up when a request leaves.

    - ``cloud``: RunPod's API, ``{base_url}/{endpoint_id}/run`` etc.
    - ``sandbox``: the built-in emulator; same routes, ``base_url`` is known only once it started.
    - ``local``: a worker's ``--rp_serve_api`` server: ``{base_url}/run``, no endpoint prefix, no
      auth, POST for status, the first terminal answer is final (RUNPOD_API.md §7).
    """

    name: str  # the profile's name, shown to people and stored with each job
    kind: TargetKind
    base_url: str = DEFAULT_BASE_URL
    endpoint_id: str = ""

    @property
    def endpoint_url(self) -> str:
        """The URL that operation paths (``run``, ``status/{id}``, ...) are appended to."""
        root = self.base_url.rstrip("/")
        if self.kind == "local":
            return root
        return f"{root}/{self.endpoint_id}"

    @property
    def supports_cancel_retry_health(self) -> bool:
        return self.kind != "local"
