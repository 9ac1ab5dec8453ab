"""The sandbox's GPU catalog (``GET /v2/catalog/gpus``): a few GPU types with per-second prices.

The per-second serverless prices are the sandbox's own round figures in the range of RunPod's
published per-second table (snippets/serverless-gpu-pricing-table.mdx lists the 4090 PRO at
$0.00031/s); they are not RunPod's current prices. The API gives USD per GPU per hour, so each
``price`` is the per-second figure times 3600 (RUNPOD_API.md 10.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["GPU_TYPES", "GpuEntry", "gpu_by_id", "per_second_price"]


@dataclass(frozen=True)
class GpuEntry:
    id: str
    name: str
    pool: str
    memory_gb: int
    serverless_per_s: float  # USD per GPU per second
    secure_per_h: float
    community_per_h: float
    max_count: tuple[int, int]  # secure, community

    def description(self, with_availability: bool) -> dict[str, Any]:
        """RunPod's GpuType object."""
        gpu: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "pool": self.pool,
            "manufacturer": "NVIDIA",
            "memory": self.memory_gb,
            "secure": True,
            "community": self.community_per_h > 0,
            "price": {
                "secure": self.secure_per_h,
                "community": self.community_per_h,
                "serverless": round(self.serverless_per_s * 3600, 6),
            },
            "maxCount": {"secure": self.max_count[0], "community": self.max_count[1]},
        }
        if with_availability:
            gpu["availability"] = "HIGH"
            gpu["dataCenters"] = [{"id": "US-KS-2", "name": "US Kansas 2", "availability": "HIGH"}]
            gpu["cudaVersions"] = [{"version": "12.8", "available": True}]
        return gpu


GPU_TYPES: tuple[GpuEntry, ...] = (
    GpuEntry("NVIDIA RTX A4000", "RTX A4000", "AMPERE_16", 16, 0.00016, 0.25, 0.17, (8, 4)),
    GpuEntry("NVIDIA L4", "L4", "AMPERE_24", 24, 0.00019, 0.43, 0.0, (8, 0)),
    GpuEntry("NVIDIA GeForce RTX 4090", "RTX 4090", "ADA_24", 24, 0.00031, 0.69, 0.34, (8, 4)),
    GpuEntry("NVIDIA RTX A6000", "RTX A6000", "AMPERE_48", 48, 0.00034, 0.49, 0.33, (8, 4)),
    GpuEntry("NVIDIA L40S", "L40S", "ADA_48_PRO", 48, 0.00053, 0.86, 0.79, (8, 4)),
    GpuEntry("NVIDIA A100 80GB PCIe", "A100 PCIe", "AMPERE_80", 80, 0.00076, 1.64, 1.19, (8, 4)),
    GpuEntry("NVIDIA H100 80GB HBM3", "H100 SXM", "ADA_80_PRO", 80, 0.00116, 2.69, 0.0, (8, 0)),
)


def gpu_by_id(gpu_id: str) -> GpuEntry | None:
    for gpu in GPU_TYPES:
        if gpu.id == gpu_id:
            return gpu
    return None


def per_second_price(gpu_id: str | None) -> float:
    """USD per GPU per second of this type; 0 for a type the catalog doesn't know."""
    gpu = gpu_by_id(gpu_id) if gpu_id else None
    return gpu.serverless_per_s if gpu is not None else 0.0
