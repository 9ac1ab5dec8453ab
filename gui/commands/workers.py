"""``job-console workers [ENDPOINT]``: an endpoint's active workers, and why its jobs would wait.

Each worker's state, GPU, data center, uptime, release (version and image) and an ``outdated``
mark (RunPod's ``isStale``: it still runs an older release). Below them, one line from
``gui.core.account.diagnosis``: what keeps the endpoint's jobs waiting (max workers 0, a crash
loop, throttled or starting workers, a full queue, a rollout), or that nothing wrong was found.
The key and URL are found as ``job-console endpoints`` finds them; ENDPOINT defaults to the
profile's endpoint.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from gui.commands.endpoints import (
    EXIT_FAILED,
    EXIT_OK,
    NOT_FOR_JOBS,
    add_access_arguments,
    endpoint_json,
    print_table,
    report_failure,
    resolve_access,
)

if TYPE_CHECKING:
    from gui.core.account.diagnosis import WaitDiagnosis
    from gui.core.account.models import Endpoint, EndpointWorkers, Worker

VERB = "job-console workers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "endpoint",
        metavar="ENDPOINT",
        nargs="?",
        help="the endpoint id (default: the --profile's endpoint)",
    )
    add_access_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON document, for scripts")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from gui.core.account.client import ManagementClient
    from gui.core.account.diagnosis import diagnose_wait
    from gui.core.errors import AccountError, ConsoleError

    try:
        access = resolve_access(args)
        endpoint_id = args.endpoint or access.endpoint_id
        if not endpoint_id:
            raise ValueError(
                "name the endpoint: job-console workers ENDPOINT (job-console endpoints lists "
                "their ids), or give --profile NAME of a profile that has one."
            )

        async def fetch() -> tuple[Endpoint, EndpointWorkers, dict[str, Any] | None]:
            async with ManagementClient(access) as client:
                endpoint = await client.endpoint(endpoint_id)
                workers = await client.workers(endpoint.id)
                health = None
                if endpoint.health_url:
                    try:
                        health = await client.job_health(endpoint.health_url)
                    except AccountError:
                        health = None  # the diagnosis does without the queue's length
                return endpoint, workers, health

        endpoint, workers, health = asyncio.run(fetch())
    except (ConsoleError, ValueError) as exc:
        return report_failure(
            VERB, exc, "'job-console endpoints' lists the endpoints this key can see."
        )
    except KeyboardInterrupt:
        return EXIT_FAILED
    diagnosis = diagnose_wait(endpoint, workers, health)
    if args.json:
        print(json.dumps(_document(endpoint, workers, diagnosis), indent=2))
    else:
        _print_workers(endpoint, workers, diagnosis)
    return EXIT_OK


def worker_json(worker: Worker) -> dict[str, Any]:
    return {
        "id": worker.id,
        "status": worker.status,
        "outdated": worker.outdated,
        "version": worker.version,
        "image": worker.image,
        "gpuTypeId": worker.gpu_type_id,
        "gpuCount": worker.gpu_count,
        "dataCenterId": worker.data_center_id,
        "uptimeSeconds": worker.uptime_s,
        "startedAt": worker.started_at.isoformat() if worker.started_at else None,
    }


def _document(
    endpoint: Endpoint, workers: EndpointWorkers, diagnosis: WaitDiagnosis
) -> dict[str, Any]:
    return {
        "endpoint": endpoint_json(endpoint),
        "endpointVersion": workers.endpoint_version,
        "counts": {state.lower(): count for state, count in workers.counts.items()},
        "workers": [worker_json(worker) for worker in workers.workers],
        "diagnosis": {
            "kind": str(diagnosis.kind),
            "found": diagnosis.found,
            "reason": diagnosis.reason,
            "advice": diagnosis.advice,
        },
    }


def _print_workers(endpoint: Endpoint, workers: EndpointWorkers, diagnosis: WaitDiagnosis) -> None:
    from gui.core.account.diagnosis import duration_words
    from gui.core.wording import counted

    release = f", release v{workers.endpoint_version}" if workers.endpoint_version else ""
    kind = "" if endpoint.supports_jobs else f" (load balancer: {NOT_FOR_JOBS})"
    title = f"{endpoint.name} ({endpoint.id})" if endpoint.name else endpoint.id
    print(f"{title}{kind}: {counted(len(workers.workers), 'active worker')}{release}")
    if workers.workers:
        rows = [
            [
                worker.id,
                worker.status,
                _gpu(worker),
                worker.data_center_id or "-",
                duration_words(worker.uptime_s) if worker.uptime_s is not None else "-",
                worker.release or "-",
                "outdated" if worker.outdated else "",
            ]
            for worker in workers.workers
        ]
        print_table(["ID", "STATE", "GPU", "DATA CENTER", "UPTIME", "RELEASE", ""], rows)
    print(diagnosis.text)


def _gpu(worker: Worker) -> str:
    if not worker.gpu_type_id:
        return "-"  # not placed on a host yet
    return (
        f"{worker.gpu_count} x {worker.gpu_type_id}" if worker.gpu_count > 1 else worker.gpu_type_id
    )
