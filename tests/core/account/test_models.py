"""The management API's records read both forms where RUNPOD_API.md gives two, and skip junk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gui.core.account.models import (
    BillingReport,
    Endpoint,
    EndpointWorkers,
    GpuPrice,
    Releases,
    parse_time,
)


def test_an_endpoint_in_the_specs_v2_shape() -> None:
    endpoint = Endpoint.from_json(
        {
            "id": "4m7x2k9q",
            "name": "image-generator",
            "type": "QUEUE",
            "requestUrls": {"health": "https://api.runpod.ai/v2/4m7x2k9q/health"},
            "gpu": {"pools": ["ADA_24"], "count": 1, "excludedTypes": ["NVIDIA L40"]},
            "workers": {"min": 0, "max": 5, "idleTimeout": 5},
            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4},
            "dataCenterIds": ["US-KS-2"],
            "timeout": 300000,
            "flashboot": "OFF",
            "createdAt": "2026-06-01T12:00:00Z",
        }
    )
    assert (endpoint.gpu_pools, endpoint.gpu_excluded, endpoint.hardware) == (
        ("ADA_24",),
        ("NVIDIA L40",),
        "ADA_24",
    )
    assert (endpoint.workers_min, endpoint.workers_max, endpoint.idle_timeout_s) == (0, 5, 5)
    assert (endpoint.scaling, endpoint.scaling_value) == ("QUEUE_DELAY", 4.0)
    assert endpoint.timeout_ms == 300_000 and endpoint.flashboot == "OFF"
    assert endpoint.created_at == datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert endpoint.health_url.endswith("/4m7x2k9q/health") and endpoint.supports_jobs


def test_an_endpoint_in_v1_names_with_no_type_and_a_bool_flashboot() -> None:
    endpoint = Endpoint.from_json(
        {
            "id": "old1",
            "name": "legacy",
            "gpuIds": "ADA_24,AMPERE_16",
            "gpuCount": 2,
            "workersMin": 1,
            "workersMax": 0,
            "idleTimeout": 7,
            "scalerType": "queue_delay",
            "scalerValue": 4,
            "executionTimeoutMs": 600000,
            "flashboot": True,
            "locations": "EU-RO-1",
        }
    )
    assert endpoint.type == "QUEUE" and endpoint.supports_jobs
    assert endpoint.hardware == "2 x ADA_24 | AMPERE_16"
    assert (endpoint.workers_min, endpoint.workers_max, endpoint.idle_timeout_s) == (1, 0, 7)
    assert (endpoint.scaling, endpoint.scaling_value) == ("QUEUE_DELAY", 4.0)
    assert endpoint.timeout_ms == 600_000 and endpoint.flashboot == "FLASHBOOT"
    assert endpoint.data_center_ids == ("EU-RO-1",)


def test_a_cpu_endpoint_and_wrong_types_read_as_missing() -> None:
    endpoint = Endpoint.from_json(
        {"id": "cpu1", "name": 5, "cpu": [{"id": "cpu5c"}], "workers": {"max": "x"}, "gpu": None}
    )
    assert (endpoint.name, endpoint.hardware, endpoint.workers_max) == ("", "CPU cpu5c", 0)
    with pytest.raises(ValueError, match="without an id"):
        Endpoint.from_json({"name": "nameless"})


def test_workers_are_counted_from_the_list_when_the_summary_disagrees() -> None:
    # The spec's own example: total 2, one worker listed.
    answer = {
        "endpointVersion": 4,
        "summary": {"running": 1, "idle": 1, "total": 2},
        "workers": [
            {"id": "8g3n5t6r", "status": "running", "isStale": False, "version": 4,
             "gpuCount": 1, "uptimeSeconds": 3600, "gpuTypeId": "NVIDIA GeForce RTX 4090",
             "dataCenterId": "US-KS-2", "startedAt": "2026-06-01T12:05:00Z"},
            "not a worker",
            {"status": "IDLE"},
        ],
    }  # fmt: skip
    workers = EndpointWorkers.from_json("ep", answer)
    assert [w.id for w in workers.workers] == ["8g3n5t6r"]
    assert workers.counts["RUNNING"] == 1 and workers.counts["IDLE"] == 0
    assert workers.summary == {"running": 1, "idle": 1, "total": 2}
    assert workers.workers[0].release == "v4" and workers.workers[0].ready


def test_releases_catalog_and_billing_in_both_namings() -> None:
    releases = Releases.from_json(
        "ep",
        {
            "endpointVersion": 4,
            "rollout": {"inProgress": True, "workersOnLatest": 1, "workersTotal": 2,
                        "percentOnLatest": 50},
            "releases": [{"id": "5r9x2m7q", "version": 4, "source": "MANUAL", "workerCount": 2,
                          "createdAt": "2026-06-01T12:10:00Z",
                          "diff": [{"field": "workers.max", "old": 5, "new": 10}]}],
        },
    )  # fmt: skip
    assert releases.rollout.percent_on_latest == 50
    assert releases.releases[0].changes[0].new == 10
    gpu = GpuPrice.from_json({"id": "NVIDIA GeForce RTX 4090", "price": {"serverless": 1.116}})
    assert gpu.serverless_per_second == pytest.approx(0.00031)
    assert GpuPrice.from_json({"id": "x", "price": {}}).serverless_per_second is None
    report = BillingReport.from_json(
        {"records": [{"startTime": "2026-06-01T00:00:00Z", "serverlessId": "ep",
                      "serverlessGpuAmount": 7.5, "serverlessTotalAmount": 8.9}]}
    )  # fmt: skip
    assert report.records[0].amounts.gpu == 7.5
    assert report.totals.total == 8.9 and report.total_for("ep") == 8.9


def test_times_are_rfc3339_or_epoch_milliseconds() -> None:
    assert parse_time("2026-06-01T12:00:00Z") == datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert parse_time(1783584000000) == datetime.fromtimestamp(1783584000, UTC)
    assert parse_time("yesterday") is None and parse_time(None) is None
