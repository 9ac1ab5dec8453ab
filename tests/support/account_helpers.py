"""An engine whose built-in sandbox describes endpoints in RunPod's stuck scenarios, for the
account view's tests (the window's workers panel, the endpoint picker) over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from gui.core.engine.engine import Engine
from gui.core.targets import SANDBOX_ENDPOINT_ID, Target
from gui.sandbox import EndpointSpec, SandboxConfig, SandboxServer
from tests.support.engine_fixtures import FAST_POLLS

SCENARIO_ENDPOINTS = (
    EndpointSpec(SANDBOX_ENDPOINT_ID, name="built-in-sandbox"),
    EndpointSpec("crashy", name="crash-looper", scenario="crash_loop"),
    EndpointSpec("idle7d", name="scaled-down", workers_max=0),
    EndpointSpec(
        "rollout",
        name="rolling-out",
        version=2,
        image="runpod/sandbox-worker:1.1.0",
        outdated_workers=1,
    ),
    EndpointSpec("lb", name="web-frontend", type="LOAD_BALANCER"),
)
"""The sandbox's own endpoint, then one per case the workers panel must explain, and a load
balancer (listed, not usable for jobs)."""


@contextmanager
def account_engine(
    data_dir: Path, endpoints: tuple[EndpointSpec, ...] = SCENARIO_ENDPOINTS, **config: Any
) -> Iterator[Engine]:
    """A started Engine whose built-in sandbox describes ``endpoints`` (``config``: more
    ``SandboxConfig`` fields), closed after the block."""
    config.setdefault("workers", 2)
    config.setdefault("default_duration_s", 0.05)
    factory = partial(SandboxServer, SandboxConfig(endpoints=list(endpoints), **config))
    engine = Engine(data_dir, rate_limits=None, poll_policy=FAST_POLLS, sandbox=factory)
    engine.start()
    try:
        yield engine
    finally:
        engine.close()


def cloud_target_at(engine: Engine, endpoint_id: str, name: str = "cloud") -> tuple[Target, str]:
    """A cloud target for ``endpoint_id`` of the engine's sandbox, and the management URL to
    give with it (the sandbox's own ``/v2``): the cloud path, over loopback."""
    sandbox = engine.sandbox_target().result(timeout=30)
    return Target(name, "cloud", sandbox.base_url, endpoint_id), sandbox.base_url
