"""What a job cost, estimated: its execution time x the worker's GPU count x the catalog's
serverless price per GPU-second; a total over many jobs; and the endpoint's bill beside it.

RunPod bills a worker by the second, rounded up, from its start to its full stop, idle time
included (RUNPOD_API.md 10.5). A job's ``executionTime`` covers only the handler's run, so the
estimate is a floor of what the job made the endpoint spend; ``LEAVES_OUT`` says so in words, for
every place that shows an estimate. Where the account's billing is readable, ``compare_with_bill``
puts the endpoint's billed total for the same period beside the sum of the estimates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from gui.core.account.models import BillingReport, GpuPrice
from gui.core.wording import counted

__all__ = [
    "LEAVES_OUT",
    "BilledComparison",
    "CostEstimate",
    "CostTotal",
    "compare_with_bill",
    "estimate_job_cost",
    "format_usd",
    "price_table",
    "total_cost",
]

LEAVES_OUT = (
    "Estimated from each job's execution time, rounded up to the second, at the GPU catalog's "
    "serverless list price. It leaves out cold starts, idle time before a worker scales down, "
    "workers kept running (min workers), container disk and network volume storage, fees, and "
    "discounts (negotiated or for active workers)."
)


def price_table(catalog: Iterable[GpuPrice]) -> dict[str, GpuPrice]:
    """The catalog by GPU type id (a worker's ``gpuTypeId``)."""
    return {gpu.id: gpu for gpu in catalog}


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """One ended job's estimate: ``usd`` is None when it can't be made, and ``missing`` says why."""

    usd: float | None
    billed_seconds: int | None = None
    gpu_type_id: str | None = None
    gpu_count: int = 0
    per_gpu_second: float | None = None
    missing: str = ""

    @property
    def text(self) -> str:
        if self.usd is None:
            return f"no estimate: {self.missing}"
        return (
            f"{format_usd(self.usd)} ({self.billed_seconds} s x {self.gpu_count} GPU "
            f"{self.gpu_type_id} at {format_usd(self.per_gpu_second or 0)} per GPU-second)"
        )


def estimate_job_cost(
    execution_ms: float | None,
    gpu_type_id: str | None,
    gpu_count: int,
    prices: Mapping[str, GpuPrice],
) -> CostEstimate:
    """The cost of one ended job from its ``executionTime`` (ms), the GPU type and count of the
    worker that ran it, and ``prices`` (``price_table`` of the catalog)."""
    if execution_ms is None or execution_ms < 0:
        return CostEstimate(None, missing="the job has no execution time (it never ran)")
    seconds = math.ceil(execution_ms / 1000)
    if not gpu_type_id:
        return CostEstimate(
            None, seconds, missing="the worker's GPU type is unknown (the worker is gone)"
        )
    count = max(1, gpu_count)
    gpu = prices.get(gpu_type_id)
    if gpu is None:
        return CostEstimate(
            None, seconds, gpu_type_id, count, missing=f"{gpu_type_id} is not in the GPU catalog"
        )
    per_second = gpu.serverless_per_second
    if per_second is None:
        return CostEstimate(
            None,
            seconds,
            gpu_type_id,
            count,
            missing=f"the catalog gives {gpu_type_id} no serverless price for this account",
        )
    return CostEstimate(seconds * count * per_second, seconds, gpu_type_id, count, per_second)


@dataclass(frozen=True, slots=True)
class CostTotal:
    """The sum of the estimates that could be made; ``unpriced`` counts those that could not."""

    usd: float = 0.0
    priced: int = 0
    unpriced: int = 0

    @property
    def text(self) -> str:
        words = f"{format_usd(self.usd)} for {counted(self.priced, 'job')}"
        if self.unpriced:
            words += f" ({counted(self.unpriced, 'job')} without an estimate)"
        return words


def total_cost(estimates: Iterable[CostEstimate]) -> CostTotal:
    usd, priced, unpriced = 0.0, 0, 0
    for estimate in estimates:
        if estimate.usd is None:
            unpriced += 1
        else:
            usd += estimate.usd
            priced += 1
    return CostTotal(usd, priced, unpriced)


@dataclass(frozen=True, slots=True)
class BilledComparison:
    """The estimates' total beside what RunPod billed the endpoint over ``start``..``end``."""

    endpoint_id: str
    estimated: CostTotal
    billed_usd: float
    start: datetime | None
    end: datetime | None

    @property
    def text(self) -> str:
        period = ""
        if self.start is not None and self.end is not None:
            period = f" from {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"
        return (
            f"Estimated {self.estimated.text}; RunPod billed endpoint {self.endpoint_id} "
            f"{format_usd(self.billed_usd)}{period}, which also counts cold starts, idle time, "
            "storage and the jobs of other clients, and any discount."
        )


def compare_with_bill(
    endpoint_id: str, estimated: CostTotal, report: BillingReport
) -> BilledComparison:
    """Put the endpoint's billed total of ``report`` (``ManagementClient.billing``, for the
    period of the estimated jobs; RunPod rounds the period out to whole buckets) beside them."""
    return BilledComparison(
        endpoint_id, estimated, report.total_for(endpoint_id), report.start, report.end
    )


def format_usd(amount: float) -> str:
    """``$1.23``, ``$0.012``, ``$0.00031``: cents, or two significant digits below a dollar."""
    if amount == 0:
        return "$0.00"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    digits = max(2, 1 - math.floor(math.log10(abs(amount))))
    return f"${amount:.{digits}f}"
