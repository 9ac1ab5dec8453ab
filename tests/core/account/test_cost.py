"""Cost estimates from the sandbox's catalog and jobs, beside the sandbox's own bill."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gui.core.account.access import AccountAccess
from gui.core.account.client import ManagementClient
from gui.core.account.cost import (
    LEAVES_OUT,
    CostEstimate,
    compare_with_bill,
    estimate_job_cost,
    format_usd,
    price_table,
    total_cost,
)
from gui.core.account.models import GpuPrice
from gui.sandbox import SandboxConfig, SandboxThread
from gui.sandbox.config import EndpointSpec

L40S_PER_S = 0.00053  # the sandbox catalog's price per GPU-second


@pytest.fixture
def server() -> Iterator[SandboxThread]:
    spec = EndpointSpec("ep", gpu_type_id="NVIDIA L40S", gpu_count=2)
    with SandboxThread(SandboxConfig(endpoints=[spec], workers=1)) as sandbox:
        yield sandbox


def test_jobs_are_priced_from_the_catalog_and_put_beside_the_bill(server: SandboxThread) -> None:
    statuses = [
        httpx.post(
            f"{server.base_url}/ep/runsync",
            json={"input": {"sandbox": {"duration": duration}}},
            timeout=30,
        ).json()
        for duration in (0.05, 1.2)
    ]
    assert [s["status"] for s in statuses] == ["COMPLETED", "COMPLETED"]

    async def read() -> Any:
        access = AccountAccess(server.base_url, "", "ep", "sandbox")
        async with ManagementClient(access) as client:
            return (
                await client.gpu_catalog(),
                await client.workers(),
                await client.billing(endpoint_id="ep", last_n=1),
            )

    catalog, workers, bill = asyncio.run(read())
    by_id = {w.id: w for w in workers.workers}
    prices = price_table(catalog)
    estimates = []
    for status in statuses:
        worker = by_id[status["workerId"]]
        estimates.append(
            estimate_job_cost(status["executionTime"], worker.gpu_type_id, worker.gpu_count, prices)
        )

    # 1 s and 2 s (rounded up) on 2 L40S.
    assert [e.billed_seconds for e in estimates] == [1, 2]
    assert [e.usd for e in estimates] == pytest.approx([2 * L40S_PER_S, 4 * L40S_PER_S])
    assert estimates[0].text == "$0.0011 (1 s x 2 GPU NVIDIA L40S at $0.00053 per GPU-second)"
    total = total_cost(estimates)
    assert (total.priced, total.unpriced) == (2, 0)
    assert total.usd == pytest.approx(6 * L40S_PER_S)
    comparison = compare_with_bill("ep", total, bill)
    # The sandbox bills the same seconds; RunPod's bill would add idle time and more.
    assert comparison.billed_usd == pytest.approx(total.usd)
    assert comparison.text.startswith("Estimated $0.0032 for 2 jobs; RunPod billed endpoint ep ")
    assert "idle time" in comparison.text


def test_a_job_without_what_an_estimate_needs_says_so() -> None:
    prices = price_table(
        [GpuPrice("NVIDIA L4", serverless_per_hour=0.684), GpuPrice("NVIDIA B200")]
    )
    never_ran = estimate_job_cost(None, "NVIDIA L4", 1, prices)
    gone = estimate_job_cost(1500, None, 1, prices)
    unknown = estimate_job_cost(1500, "NVIDIA X1", 1, prices)
    no_pool = estimate_job_cost(1500, "NVIDIA B200", 1, prices)
    priced = estimate_job_cost(1500, "NVIDIA L4", 0, prices)

    assert never_ran.text == "no estimate: the job has no execution time (it never ran)"
    assert gone.missing == "the worker's GPU type is unknown (the worker is gone)"
    assert unknown.missing == "NVIDIA X1 is not in the GPU catalog"
    assert "no serverless price" in no_pool.missing
    assert priced.usd == pytest.approx(2 * 0.00019)  # 2 s, a count of 0 read as 1 GPU
    total = total_cost([never_ran, gone, unknown, no_pool, priced])
    assert total.text == "$0.00038 for 1 job (4 jobs without an estimate)"


def test_what_the_estimate_leaves_out_is_said() -> None:
    for words in ("cold starts", "idle time", "discounts", "storage"):
        assert words in LEAVES_OUT
    assert CostEstimate(None, missing="x").text == "no estimate: x"


def test_amounts_keep_two_significant_digits_below_a_dollar() -> None:
    assert [format_usd(x) for x in (0, 0.5, 0.0124, 0.00031, 1234.5)] == [
        "$0.00", "$0.50", "$0.012", "$0.00031", "$1,234.50",
    ]  # fmt: skip
