"""How the engine's answers that are not job records cross the wire: a connection check, the
account's endpoints, an endpoint's status and a wait diagnosis, and the webhook listener's
settings and state.

Each is a frozen dataclass of plain values; its codec is a dict by field name (tuples as lists,
times as ISO 8601 strings, enums by value) and back. The modules that define them are imported
when a value is decoded, not with this one: the window imports the wire at its start, and
``ConnectionResult`` brings httpx, ``ListenerInfo`` sqlite3.

``ListenerInfo``'s URLs hold the listener's token: they cross the pipe to the window that shows
them, and are never logged (neither process logs a message's contents).
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gui.core.account.diagnosis import WaitDiagnosis
    from gui.core.account.models import Endpoint, EndpointWorkers, Worker
    from gui.core.account.status import EndpointStatus
    from gui.core.endpoint.connection_check import ConnectionResult
    from gui.core.webhooks.address import ListenerSettings
    from gui.core.webhooks.console_listener import ListenerInfo

__all__ = [
    "decode_connection",
    "decode_diagnosis",
    "decode_endpoint",
    "decode_endpoints",
    "decode_listener_info",
    "decode_listener_settings",
    "decode_status",
    "encode_connection",
    "encode_diagnosis",
    "encode_endpoint",
    "encode_endpoints",
    "encode_listener_info",
    "encode_listener_settings",
    "encode_status",
]


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _fields_of(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def _fields_of(value: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


# -- the account -------------------------------------------------------------------------------


def encode_connection(result: ConnectionResult) -> dict[str, Any]:
    return _fields_of(result)


def decode_connection(data: dict[str, Any]) -> ConnectionResult:
    from gui.core.endpoint.connection_check import ConnectionResult

    code = data.get("status_code")
    return ConnectionResult(
        bool(data["ok"]), str(data["message"]), None if code is None else int(code)
    )


def encode_endpoint(endpoint: Endpoint) -> dict[str, Any]:
    return _fields_of(endpoint)


def decode_endpoint(data: dict[str, Any]) -> Endpoint:
    from gui.core.account.models import Endpoint

    values = dict(data)
    for name in ("gpu_pools", "gpu_excluded", "cpu_flavors", "data_center_ids"):
        values[name] = tuple(values.get(name) or ())
    values["created_at"] = _time(values.get("created_at"))
    return Endpoint(**values)


def encode_endpoints(endpoints: list[Endpoint]) -> list[dict[str, Any]]:
    return [encode_endpoint(endpoint) for endpoint in endpoints]


def decode_endpoints(data: list[dict[str, Any]]) -> list[Endpoint]:
    return [decode_endpoint(item) for item in data]


def encode_diagnosis(diagnosis: WaitDiagnosis) -> dict[str, Any]:
    return {"kind": diagnosis.kind.value, "reason": diagnosis.reason, "advice": diagnosis.advice}


def decode_diagnosis(data: dict[str, Any]) -> WaitDiagnosis:
    from gui.core.account.diagnosis import WaitDiagnosis, WaitKind

    return WaitDiagnosis(WaitKind(data["kind"]), str(data["reason"]), str(data.get("advice", "")))


def _decode_worker(data: dict[str, Any]) -> Worker:
    from gui.core.account.models import Worker

    return Worker(**{**data, "started_at": _time(data.get("started_at"))})


def _decode_workers(data: dict[str, Any]) -> EndpointWorkers:
    from gui.core.account.models import EndpointWorkers

    return EndpointWorkers(
        endpoint_id=str(data["endpoint_id"]),
        workers=tuple(_decode_worker(item) for item in data.get("workers", ())),
        endpoint_version=data.get("endpoint_version"),
        summary=dict(data.get("summary") or {}),
    )


def encode_status(status: EndpointStatus) -> dict[str, Any]:
    return {
        "endpoint": encode_endpoint(status.endpoint),
        "workers": _fields_of(status.workers),
        "diagnosis": encode_diagnosis(status.diagnosis),
        "health": None if status.health is None else _plain(dict(status.health)),
    }


def decode_status(data: dict[str, Any]) -> EndpointStatus:
    from gui.core.account.status import EndpointStatus

    return EndpointStatus(
        endpoint=decode_endpoint(data["endpoint"]),
        workers=_decode_workers(data["workers"]),
        diagnosis=decode_diagnosis(data["diagnosis"]),
        health=data.get("health"),
    )


# -- the webhook listener ----------------------------------------------------------------------


def encode_listener_settings(settings: ListenerSettings) -> dict[str, Any]:
    return {"host": settings.host, "port": settings.port, "public_url": settings.public_url}


def decode_listener_settings(data: dict[str, Any]) -> ListenerSettings:
    from gui.core.webhooks.address import ListenerSettings

    return ListenerSettings(str(data["host"]), int(data["port"]), str(data.get("public_url", "")))


def encode_listener_info(info: ListenerInfo | None) -> dict[str, Any] | None:
    return None if info is None else _fields_of(info)


def decode_listener_info(data: dict[str, Any] | None) -> ListenerInfo | None:
    from gui.core.webhooks.console_listener import ListenerInfo

    return None if data is None else ListenerInfo(**data)
