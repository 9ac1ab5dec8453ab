"""An endpoint's status in words: the summary line above its workers and each worker's cells."""

from __future__ import annotations

from gui.core.account.diagnosis import diagnose_wait
from gui.core.account.models import Endpoint, EndpointWorkers, Worker
from gui.core.account.status import EndpointStatus, worker_row


def _status(*workers: Worker, version: int | None = 4, queued: int | None = 2) -> EndpointStatus:
    endpoint = Endpoint("4m7x2k9q", "image-generator", workers_min=0, workers_max=3)
    listed = EndpointWorkers(endpoint.id, workers, version)
    health = None if queued is None else {"jobs": {"inQueue": queued}}
    return EndpointStatus(endpoint, listed, diagnose_wait(endpoint, listed, health), health)


def test_the_summary_counts_states_outdated_release_limits_and_queue() -> None:
    status = _status(
        Worker("a", "RUNNING", version=4),
        Worker("b", "UNHEALTHY", outdated=True, version=3),
        Worker("c", "UNHEALTHY", version=4),
    )
    assert status.title == "image-generator (4m7x2k9q)"
    assert status.summary == (
        "3 active workers: 1 running, 2 unhealthy · 1 outdated · release v4 · workers 0-3 · "
        "2 in queue"
    )


def test_no_worker_and_no_health_say_only_what_is_known() -> None:
    assert _status(version=None, queued=None).summary == "0 active workers · workers 0-3"


def test_a_worker_row_in_words_with_dashes_until_placed() -> None:
    placed = Worker(
        "8g3n5t6r",
        "RUNNING",
        outdated=True,
        version=4,
        gpu_count=2,
        image="runpod/pytorch:1.0",
        uptime_s=3725,
        gpu_type_id="NVIDIA GeForce RTX 4090",
        data_center_id="US-KS-2",
    )
    assert worker_row(placed) == (
        "8g3n5t6r",
        "Running",
        "2 x NVIDIA GeForce RTX 4090",
        "US-KS-2",
        "1 h 2 min",
        "v4 runpod/pytorch:1.0",
        "outdated",
    )
    assert worker_row(Worker("new", "INITIALIZING")) == (
        "new",
        "Initializing",
        "-",
        "-",
        "-",
        "-",
        "",
    )
