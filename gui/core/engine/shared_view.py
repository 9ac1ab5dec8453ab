"""What other consoles on the data folder changed, read cheaply and often.

SQLite's ``PRAGMA data_version`` changes on this connection whenever another connection commits to
the file; only then are the job rows stamped with a change number above the last one seen read
(those other consoles wrote: this console's own changes are announced as it makes them), with the
tombstones of removed jobs, and the webhook deliveries stored since (by whichever console serves
the listener). Runs in the engine's executor; one connection, one lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gui.core.storage.sqlite_file import open_database
from gui.core.storage.store import StoredJob, read_jobs
from gui.core.webhooks.deliveries import Delivery, DeliveryStore

__all__ = ["SharedChanges", "SharedView"]

_PAGE = 1000


@dataclass(slots=True)
class SharedChanges:
    """What changed since the last look."""

    jobs: list[StoredJob] = field(default_factory=list)
    """Rows written by other consoles (added, changed, claimed), with their owner."""
    removed: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    """First deliveries (not RunPod's repeats) not merged into any job yet, without payloads."""


def _unread(delivery_id: int, job_id: str) -> Delivery:
    """A delivery known by its id and job alone (its payload is read when it is merged)."""
    return Delivery(id=delivery_id, received_at=0.0, remote="", headers={}, size=0, job_id=job_id,
                    status=None, payload=None, matched_local_id=None, repeat_of=None)  # fmt: skip


class SharedView:
    """Reads ``path`` (``jobs.sqlite3``) for changes made by consoles other than ``owner``."""

    def __init__(self, path: Path, owner: str, since_change: int) -> None:
        self.owner = owner
        self._lock = threading.Lock()
        self._deliveries = DeliveryStore(path)  # makes its table if no listener ever ran
        self._conn = open_database(path)
        self._data_version = -1
        self._change = since_change
        self._delivery = 0  # every unmatched delivery is looked at once, old ones included

    def poll(self) -> SharedChanges | None:
        """The changes since the last call, or None when no other connection wrote."""
        with self._lock:
            conn = self._conn
            version = int(conn.execute("PRAGMA data_version").fetchone()[0])
            if version == self._data_version:
                return None
            self._data_version = version
            changes = SharedChanges()
            conn.execute("BEGIN")
            try:
                change = int(
                    conn.execute("SELECT value FROM change_counter WHERE one = 1").fetchone()[0]
                )
                if change != self._change:
                    changes.jobs = read_jobs(
                        conn,
                        "change_seq > ? AND change_seq <= ? AND (owner IS NULL OR owner != ?)",
                        (self._change, change, self.owner),
                    )
                    changes.removed = [
                        row[0]
                        for row in conn.execute(
                            "SELECT local_id FROM job_removals WHERE change_seq > ? "
                            "AND change_seq <= ?",
                            (self._change, change),
                        )
                    ]
                    self._change = change
            finally:
                conn.execute("COMMIT")
        while page := self._deliveries.list_after(self._delivery, _PAGE):
            self._delivery = page[-1].id
            changes.deliveries.extend(
                d for d in page if d.matched_local_id is None and d.repeat_of is None and d.job_id
            )
            if len(page) < _PAGE:
                break
        return changes

    def unmatched_for(self, job_ids: Iterable[str]) -> list[Delivery]:
        """First deliveries of these jobs that no console merged yet (jobs just taken over from a
        console that stopped before it read them)."""
        ids = [job_id for job_id in job_ids if job_id]
        found: list[Delivery] = []
        with self._lock:
            for start in range(0, len(ids), 400):
                chunk = ids[start : start + 400]
                marks = ", ".join("?" for _ in chunk)
                found.extend(
                    _unread(row[0], row[1])
                    for row in self._conn.execute(
                        f"SELECT id, job_id FROM deliveries WHERE job_id IN ({marks}) "
                        "AND matched_local_id IS NULL AND repeat_of IS NULL ORDER BY id",
                        chunk,
                    )
                )
        return found

    def take_delivery(self, delivery_id: int, local_id: str) -> bool:
        """Mark a delivery merged into ``local_id`` unless a console did already; True when this
        call took it: merge it then (so each delivery is merged once, by its job's owner)."""
        with self._lock:
            taken = self._conn.execute(
                "UPDATE deliveries SET matched_local_id = ? WHERE id = ? "
                "AND matched_local_id IS NULL",
                (local_id, delivery_id),
            ).rowcount
        return bool(taken)

    def payload(self, delivery_id: int) -> object:
        delivery = self._deliveries.get(delivery_id)
        return None if delivery is None else delivery.payload

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        self._deliveries.close()
