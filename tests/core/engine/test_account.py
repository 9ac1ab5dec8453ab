"""The engine asks the management API (REST v2) for the window: endpoints, an endpoint's workers
and why its jobs would wait, through one client per account, against the sandbox over loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.core.account.diagnosis import WaitKind
from gui.core.errors import AccountUnavailable
from gui.core.targets import Target
from tests.support.account_helpers import account_engine, cloud_target_at


def test_lists_the_sandbox_endpoints_for_the_sandbox_target(data_dir: Path) -> None:
    with account_engine(data_dir) as engine:
        target = Target("Sandbox", "sandbox", "", "sandbox")  # as the window names it
        endpoints = engine.account_endpoints(target).result(timeout=30)
    by_id = {endpoint.id: endpoint for endpoint in endpoints}
    assert {"sandbox", "crashy", "idle7d", "rollout", "lb"} <= set(by_id)
    assert not by_id["lb"].supports_jobs and by_id["crashy"].supports_jobs


def test_a_cloud_target_uses_its_management_url_and_the_given_key(data_dir: Path) -> None:
    with account_engine(data_dir, api_key="good-key") as engine:
        target, url = cloud_target_at(engine, "crashy")
        endpoints = engine.account_endpoints(target, lambda: "good-key", url).result(timeout=30)
        assert "crashy" in {e.id for e in endpoints}
        status = engine.endpoint_status(target, lambda: "good-key", url).result(timeout=30)
        assert engine._management is not None and len(engine._management) == 1  # one client
    assert status.endpoint.id == "crashy"
    assert status.diagnosis.kind is WaitKind.UNHEALTHY
    assert all(worker.status == "UNHEALTHY" for worker in status.workers.workers)


@pytest.mark.parametrize(
    ("endpoint_id", "kind"),
    [("idle7d", WaitKind.SCALED_TO_ZERO), ("rollout", WaitKind.ROLLING)],
)
def test_the_diagnosis_names_each_stuck_case(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, endpoint_id: str, kind: WaitKind
) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", "from-the-environment")  # the engine's key provider
    with account_engine(data_dir) as engine:
        target, url = cloud_target_at(engine, endpoint_id)
        diagnosis = engine.wait_diagnosis(target, 120.0, url).result(timeout=30)
    assert diagnosis.kind is kind


def test_without_a_key_a_cloud_target_says_what_it_needs(data_dir: Path) -> None:
    with account_engine(data_dir) as engine:
        target, url = cloud_target_at(engine, "crashy", name="keyless")
        future = engine.account_endpoints(target, lambda: None, url)
        with pytest.raises(AccountUnavailable, match="keyless has no API key: add one in Profiles"):
            future.result(timeout=30)


def test_a_local_worker_has_no_account(data_dir: Path) -> None:
    with account_engine(data_dir) as engine:
        target = Target("mine", "local", "http://127.0.0.1:8000", "")
        with pytest.raises(AccountUnavailable, match="local worker: it has no account"):
            engine.endpoint_status(target).result(timeout=30)


def test_closing_the_engine_closes_its_management_clients(data_dir: Path) -> None:
    with account_engine(data_dir) as engine:
        target = Target("Sandbox", "sandbox", "", "sandbox")
        engine.endpoint_status(target).result(timeout=30)
        clients = engine._management
        assert clients is not None
        client = clients.client_for(next(iter(clients._clients.values())).access)
    assert engine._management is None
    assert client._http.is_closed
