"""A tiny RunPod worker for the local-worker tests, written the way worker authors write theirs.

Started as ``python handler.py --rp_serve_api --rp_api_port P``. It echoes its input back with a
sum, so a test can tell its result from the local server's later "Job ID not found" answer.
"""

from __future__ import annotations

from typing import Any

import runpod


def handler(job: dict[str, Any]) -> dict[str, Any]:
    job_input = job["input"]
    if job_input.get("fail"):
        raise ValueError("asked to fail")
    numbers = job_input.get("numbers", [])
    return {"echo": job_input.get("prompt", ""), "sum": sum(numbers), "worker": "local-test"}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
