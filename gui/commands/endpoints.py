"""``job-console endpoints``: the account's serverless endpoints, from RunPod's management API.

The key and the API's URL come from ``--profile NAME`` (its keyring key and management URL) or,
without it, from ``RUNPOD_API_KEY`` and ``RUNPOD_API_URL``, as runpodctl reads them;
``RUNPOD_API_URL`` also overrides a profile's URL. ``job-console sandbox --port 8000`` is reached
with ``RUNPOD_API_URL=http://127.0.0.1:8000/v2`` (no key needed unless it was started with one).
``resolve_access`` and ``report_failure`` are shared with ``job-console workers``. Only the
standard library is imported at the top: the parser is built on every ``job-console`` call.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from gui.core.account.access import AccountAccess
    from gui.core.account.models import Endpoint

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
NOT_FOR_JOBS = "not supported for jobs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_access_arguments(parser)
    parser.add_argument("--json", action="store_true", help="one JSON document, for scripts")


def add_access_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="use this profile's API key (keyring) and management URL; default: the "
        "RUNPOD_API_KEY and RUNPOD_API_URL variables",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from gui.core.account.client import ManagementClient
    from gui.core.errors import ConsoleError

    verb = "job-console endpoints"
    try:
        access = resolve_access(args)

        async def fetch() -> list[Endpoint]:
            async with ManagementClient(access) as client:
                return await client.endpoints()

        endpoints = asyncio.run(fetch())
    except (ConsoleError, ValueError) as exc:
        return report_failure(
            verb, exc, "Is RUNPOD_API_URL (or the profile's management URL) RunPod's /v2?"
        )
    except KeyboardInterrupt:
        return EXIT_FAILED
    if args.json:
        print(json.dumps({"endpoints": [endpoint_json(e) for e in endpoints]}, indent=2))
        return EXIT_OK
    if not endpoints:
        print(f"No serverless endpoints in this account ({access.base_url}).")
        return EXIT_OK
    rows = [
        [
            e.name,
            e.id,
            "queue" if e.supports_jobs else "load balancer",
            e.hardware or "-",
            f"{e.workers_min}-{e.workers_max}",
            "" if e.supports_jobs else NOT_FOR_JOBS,
        ]
        for e in endpoints
    ]
    print_table(["NAME", "ID", "TYPE", "GPU", "WORKERS", ""], rows)
    return EXIT_OK


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "name": endpoint.name,
        "type": endpoint.type,
        "supportsJobs": endpoint.supports_jobs,
        "gpu": {"pools": list(endpoint.gpu_pools), "count": endpoint.gpu_count},
        "cpu": list(endpoint.cpu_flavors),
        "workers": {
            "min": endpoint.workers_min,
            "max": endpoint.workers_max,
            "idleTimeout": endpoint.idle_timeout_s,
        },
        "dataCenterIds": list(endpoint.data_center_ids),
        "timeout": endpoint.timeout_ms,
        "flashboot": endpoint.flashboot,
        "image": endpoint.image,
        "createdAt": endpoint.created_at.isoformat() if endpoint.created_at else None,
    }


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def resolve_access(args: argparse.Namespace) -> AccountAccess:
    """The management API and key of ``--profile``, or of RUNPOD_API_KEY and RUNPOD_API_URL.

    Raises ``AccountUnavailable`` (or ``ProfileNotFound``) saying what is missing.
    """
    from gui.core.account.access import MANAGEMENT_URL_ENV, AccountUnavailable, account_access
    from gui.core.profiles.secrets import API_KEY_ENV

    environ = os.environ
    url = environ.get(MANAGEMENT_URL_ENV, "").strip()
    if getattr(args, "profile", None):
        return _profile_access(args, url)
    key = environ.get(API_KEY_ENV, "").strip()
    if not key and url and _is_loopback(url):
        # A sandbox on this machine (job-console sandbox) takes no key unless started with one.
        return _plain_access(url, "", "no key")
    if not key:
        raise AccountUnavailable(
            f"no API key: set {API_KEY_ENV} to a key with read access to Serverless, or give "
            "--profile NAME of a profile whose key is in the keyring (job-console profile list)."
        )
    from gui.core.targets import Target

    target = Target(API_KEY_ENV, "cloud")
    return account_access(target, key, key_source="environment", environ=environ)


def _profile_access(args: argparse.Namespace, url: str) -> AccountAccess:
    from gui.core.account.access import MANAGEMENT_URL_ENV, AccountUnavailable, account_access
    from gui.core.paths import resolve_data_dir
    from gui.core.profiles.profiles import ProfileStore
    from gui.core.profiles.secrets import API_KEY_ENV, SecretStore, api_key_for

    secrets = SecretStore()
    profile = ProfileStore(resolve_data_dir(getattr(args, "data_dir", None)), secrets).get(
        args.profile
    )
    key, source = api_key_for(profile, secrets, account_key_first=profile.use_account_key)
    if profile.kind == "sandbox":
        if not url:
            raise AccountUnavailable(
                f"{profile.name} is the window's built-in sandbox, which runs only while the "
                "window is open. Start one here with 'job-console sandbox --port 8000' and set "
                f"{MANAGEMENT_URL_ENV}=http://127.0.0.1:8000/v2."
            )
        key = key or os.environ.get(API_KEY_ENV, "").strip()
        return _plain_access(url, key or "", source, profile.to_target().endpoint_id)
    return account_access(
        profile.to_target(), key, management_url=profile.management_url, key_source=source
    )


def _plain_access(url: str, key: str, source: str, endpoint_id: str = "") -> AccountAccess:
    from gui.core.account.access import AccountAccess

    return AccountAccess(url.rstrip("/"), key, endpoint_id, source)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def report_failure(verb: str, exc: BaseException, not_found_hint: str = "") -> int:
    """Say what went wrong on stderr (``not_found_hint`` after a 404): exit 2 for a usage error
    (ValueError), else 1."""
    from gui.core.errors import AccountError

    message = str(exc)
    if isinstance(exc, AccountError) and exc.status_code == 404 and not_found_hint:
        message = f"{message} {not_found_hint}"
    print(f"{verb}: {message}", file=sys.stderr)
    return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAILED
