"""A RunPod-compatible Serverless endpoint emulator, served over real HTTP. Qt-free.

``SandboxServer`` runs inside an existing asyncio loop; ``SandboxThread`` runs one on its own
thread; ``builtin_sandbox`` makes the one a window's engine runs (its endpoint declared).
Both serve ``/v2/{endpoint_id}/run``, ``runsync``, ``status``, ``status-sync``, ``stream``,
``cancel``, ``retry``, ``purge-queue`` and ``health`` for any endpoint id, as RunPod's cloud does
(RUNPOD_API.md). What a job does is read from its ``input.sandbox`` (see ``gui.sandbox.simulate``).
Beside them, on the same port, a subset of RunPod's REST v2 management API describes its endpoints,
workers, worker logs, releases, GPU prices and billing (``gui.sandbox.management``).
"""

from __future__ import annotations

from gui.sandbox.config import EndpointSpec, FaultConfig, SandboxConfig
from gui.sandbox.server import SandboxServer, SandboxThread, builtin_sandbox

__all__ = [
    "EndpointSpec",
    "FaultConfig",
    "SandboxConfig",
    "SandboxServer",
    "SandboxThread",
    "builtin_sandbox",
]
