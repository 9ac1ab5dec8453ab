"""The history of webhook deliveries: every POST the listener accepted, kept in ``jobs.sqlite3``.

The listener writes one row per accepted delivery before it answers 200, so a delivery that got its
200 is never lost. RunPod tries a delivery up to three times (RUNPOD_API.md §5): a delivery with the
same job id, the same status and the same payload digest as an earlier one is stored as a repeat
(``repeat_of`` names the first), which changes nothing else. The digest is the SHA-256 of the text
as received when it is kept (``NewDelivery.raw``; retries resend the same bytes), else of the
payload's canonical JSON.

The store opens its own connection to the shared SQLite file (WAL, so the JobStore's connection and
this one can both write) and registers its schema under the component ``"deliveries"`` in the shared
``schema_versions`` table. It is safe to call from several threads: one lock serialises its use.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gui.core.storage.sqlite_file import open_database

__all__ = [
    "SCHEMA_COMPONENT",
    "SCHEMA_VERSION",
    "TOKEN_PLACEHOLDER_PATH",
    "Delivery",
    "DeliveryStore",
    "NewDelivery",
    "payload_digest",
]

SCHEMA_COMPONENT = "deliveries"
SCHEMA_VERSION = 1

# What is stored as the request path: the token is a secret and never reaches a row.
TOKEN_PLACEHOLDER_PATH = "/webhook/<token>"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_versions (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    remote TEXT NOT NULL,
    path TEXT NOT NULL,
    headers TEXT NOT NULL,
    size INTEGER NOT NULL,
    job_id TEXT,
    status TEXT,
    digest TEXT NOT NULL,
    payload TEXT NOT NULL,
    matched_local_id TEXT,
    repeat_of INTEGER REFERENCES deliveries(id)
);
CREATE INDEX IF NOT EXISTS deliveries_by_job ON deliveries(job_id, status, digest);
"""

_COLUMNS = (
    "id, received_at, remote, path, headers, size, job_id, status, digest, matched_local_id, "
    "repeat_of"
)


def payload_digest(payload: Any) -> str:
    """SHA-256 of the payload's canonical JSON: key order and spacing do not change it.

    Raises ``ValueError`` for what strict JSON can't hold (NaN, infinity).
    """
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One accepted delivery as stored.

    ``payload`` is the parsed JSON object, or None when it was listed without payloads.
    ``matched_local_id`` is the local id of the job it was merged into; None while unmatched (an
    unknown job id, a payload the console could not tie to a job, or no tracker listening).
    ``repeat_of`` is the id of the first delivery this one repeats, else None.
    """

    id: int
    received_at: float
    remote: str
    headers: dict[str, str]
    size: int
    job_id: str | None
    status: str | None
    payload: Any
    matched_local_id: str | None
    repeat_of: int | None
    digest: str = ""
    path: str = TOKEN_PLACEHOLDER_PATH

    def to_json_dict(self) -> dict[str, Any]:
        """A plain dict for one JSON line (``job-console listen``) or an export."""
        return {
            "id": self.id,
            "received_at": self.received_at,
            "remote": self.remote,
            "path": self.path,
            "size": self.size,
            "job_id": self.job_id,
            "status": self.status,
            "matched_local_id": self.matched_local_id,
            "repeat_of": self.repeat_of,
            "headers": self.headers,
            "payload": self.payload,
        }


@dataclass(slots=True)
class NewDelivery:
    """A delivery about to be stored (``DeliveryStore.add_many``)."""

    payload: Any
    size: int
    remote: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    job_id: str | None = None
    status: str | None = None
    received_at: float = field(default_factory=time.time)
    path: str = TOKEN_PLACEHOLDER_PATH
    raw: str | None = None
    """The body exactly as received, when it is the JSON text of ``payload``: stored as sent (what
    the endpoint really sends, and no second serialisation); its digest is then the text's."""


class DeliveryStore:
    """Deliveries in the SQLite file at ``path`` (normally ``<data_dir>/jobs.sqlite3``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # Private (deliveries hold job outputs), WAL, autocommit: each write below opens its own
        # short explicit transaction.
        self._db = open_database(self.path)
        with self._lock:
            self._db.executescript(_SCHEMA)
            row = self._db.execute(
                "SELECT version FROM schema_versions WHERE component = ?", (SCHEMA_COMPONENT,)
            ).fetchone()
            if row is not None and int(row[0]) > SCHEMA_VERSION:
                self._db.close()
                raise RuntimeError(
                    f"{self.path} was written by a newer version of the console (deliveries "
                    f"schema {row[0]}, this one knows {SCHEMA_VERSION}). Update the console."
                )
            self._db.execute(
                "INSERT INTO schema_versions(component, version) VALUES (?, ?) "
                "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                (SCHEMA_COMPONENT, SCHEMA_VERSION),
            )

    def add(
        self,
        *,
        payload: Any,
        size: int,
        remote: str = "",
        headers: Mapping[str, str] | None = None,
        job_id: str | None = None,
        status: str | None = None,
        received_at: float | None = None,
        path: str = TOKEN_PLACEHOLDER_PATH,
    ) -> Delivery:
        """Store one delivery in a single short transaction and return it as stored.

        ``payload`` must be JSON-serialisable (``ValueError`` otherwise). When ``job_id`` is given
        and an earlier delivery has the same job id, status and payload digest, the new row is a
        repeat of that first one and inherits its ``matched_local_id``.
        """
        entry = NewDelivery(
            payload=payload,
            size=size,
            remote=remote,
            headers=dict(headers or {}),
            job_id=job_id,
            status=status,
            received_at=time.time() if received_at is None else received_at,
            path=path,
        )
        result = self.add_many([entry])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def add_many(self, entries: Sequence[NewDelivery]) -> builtins.list[Delivery | ValueError]:
        """Store several deliveries in one transaction (a group commit), in order.

        Each result is the stored ``Delivery``, or the ``ValueError`` that kept an unserialisable
        entry out (the others are stored all the same). A database error stores none and raises.
        """
        prepared: builtins.list[tuple[NewDelivery, str, str, str] | ValueError] = []
        for entry in entries:
            try:
                digest, text = _stored_form(entry)
                prepared.append((entry, digest, text, json.dumps(entry.headers, ensure_ascii=True)))
            except (ValueError, TypeError, RecursionError) as exc:
                prepared.append(ValueError(f"not storable as JSON: {exc}"))
        results: builtins.list[Delivery | ValueError] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for item in prepared:
                    results.append(item if isinstance(item, ValueError) else self._insert(*item))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return results

    def _insert(
        self, entry: NewDelivery, digest: str, payload_text: str, headers_text: str
    ) -> Delivery:
        repeat_of, matched = self._first_of(entry.job_id, entry.status, digest)
        cursor = self._db.execute(
            "INSERT INTO deliveries(received_at, remote, path, headers, size, job_id, status, "
            "digest, payload, matched_local_id, repeat_of) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.received_at,
                entry.remote,
                entry.path,
                headers_text,
                entry.size,
                entry.job_id,
                entry.status,
                digest,
                payload_text,
                matched,
                repeat_of,
            ),
        )
        assert cursor.lastrowid is not None
        return Delivery(
            id=cursor.lastrowid,
            received_at=entry.received_at,
            remote=entry.remote,
            headers=entry.headers,
            size=entry.size,
            job_id=entry.job_id,
            status=entry.status,
            payload=entry.payload,
            matched_local_id=matched,
            repeat_of=repeat_of,
            digest=digest,
            path=entry.path,
        )

    def _first_of(
        self, job_id: str | None, status: str | None, digest: str
    ) -> tuple[int | None, str | None]:
        # Without a job id (the local worker's {"output": ...}) two equal payloads may well be two
        # different jobs, and the local worker never retries: no repeat detection then.
        if job_id is None:
            return None, None
        row = self._db.execute(
            "SELECT id, matched_local_id FROM deliveries WHERE job_id = ? AND status IS ? "
            "AND digest = ? AND repeat_of IS NULL ORDER BY id LIMIT 1",
            (job_id, status, digest),
        ).fetchone()
        if row is None:
            return None, None
        return int(row[0]), row[1]

    def set_matched(self, delivery_id: int, local_id: str | None) -> None:
        """Record the local job a delivery was merged into (None: unmatched)."""
        with self._lock:
            self._db.execute(
                "UPDATE deliveries SET matched_local_id = ? WHERE id = ?", (local_id, delivery_id)
            )

    def get(self, delivery_id: int) -> Delivery | None:
        """One delivery with its payload, or None when there is no such id."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS}, payload FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        return None if row is None else _from_row(row, with_payload=True)

    def get_raw(self, delivery_id: int) -> str | None:
        """The stored JSON text of a delivery's payload (as received when it was UTF-8), or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT payload FROM deliveries WHERE id = ?", (delivery_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def list(
        self, limit: int = 100, offset: int = 0, *, with_payload: bool = True
    ) -> builtins.list[Delivery]:
        """Deliveries newest first; ``with_payload=False`` skips parsing payloads (for tables)."""
        columns = f"{_COLUMNS}, payload" if with_payload else _COLUMNS
        with self._lock:
            rows = self._db.execute(
                f"SELECT {columns} FROM deliveries ORDER BY id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [_from_row(row, with_payload=with_payload) for row in rows]

    def list_after(self, delivery_id: int, limit: int = 1000) -> builtins.list[Delivery]:
        """Deliveries with an id above ``delivery_id``, oldest first, without payloads."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM deliveries WHERE id > ? ORDER BY id LIMIT ?",
                (delivery_id, limit),
            ).fetchall()
        return [_from_row(row, with_payload=False) for row in rows]

    def count(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM deliveries").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _stored_form(entry: NewDelivery) -> tuple[str, str]:
    """(digest, text) of an entry's payload as it will be stored."""
    if entry.raw is not None:
        # RunPod resends the very same bytes: hashing the text as sent finds its retries, and
        # costs far less than re-serialising a large payload (sha256 also frees the GIL).
        return hashlib.sha256(entry.raw.encode("utf-8", "surrogatepass")).hexdigest(), entry.raw
    text = json.dumps(entry.payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return payload_digest(entry.payload), text


def _from_row(row: tuple[Any, ...], *, with_payload: bool) -> Delivery:
    return Delivery(
        id=int(row[0]),
        received_at=float(row[1]),
        remote=row[2],
        path=row[3],
        headers=json.loads(row[4]),
        size=int(row[5]),
        job_id=row[6],
        status=row[7],
        digest=row[8],
        matched_local_id=row[9],
        repeat_of=row[10],
        payload=json.loads(row[11]) if with_payload else None,
    )
