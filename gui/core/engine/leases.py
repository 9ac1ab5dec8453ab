"""Several consoles on one data folder: who follows which job.

Every process that follows jobs (a window's engine, ``run``, ``resume``) or serves the listener
(``listen``) registers itself in the ``consoles`` table of ``jobs.sqlite3`` under a random owner id
and renews its heartbeat every ``HEARTBEAT_S``. A console is live while its heartbeat is younger
than ``LEASE_S`` and, when it runs on this machine, its process still exists (so a crashed or
killed console's jobs are free at once, not 30 s later). A clean close removes its row.

A job row names its ``owner``: the console that follows it. A console takes over ("claims") a job
only in one transaction that checks the owner is not live, so two consoles starting together never
both follow a job, and a live console's SUBMITTING row is never called NOT_SENT by another.
An action on a finished job (Retry, Send again) claims it against the change number the console
last saw, so two consoles pressing Retry together retry it once.

Everything here runs off the engine loop (in its executor): each call is a short transaction on
this object's own connection, serialised by a lock.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from gui.core.records import TERMINAL_STATES
from gui.core.storage.sqlite_file import open_database
from gui.core.storage.store import (
    IMPORTED_OWNER,
    StoredJob,
    bump_change_counter,
    migrate,
    owned_elsewhere,
    read_jobs,
)

__all__ = ["HEARTBEAT_S", "LEASE_S", "Console", "ConsoleLease", "pid_alive"]

HEARTBEAT_S = 5.0
LEASE_S = 30.0  # six missed heartbeats: a console stalled that long is taken for gone
KINDS = ("window", "run", "resume", "listen")

_TERMINAL = tuple(str(state) for state in TERMINAL_STATES)
_NOT_TERMINAL = f"state NOT IN ({', '.join(repr(s) for s in sorted(_TERMINAL))})"


def pid_alive(pid: int) -> bool:
    """Does process ``pid`` of this machine exist? (True when it can't be told.)"""
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process, or unknown: not ours to call gone
    return True


@dataclass(frozen=True, slots=True)
class Console:
    """A row of the ``consoles`` table: a process using the data folder."""

    owner: str
    pid: int
    host: str
    kind: str
    started_at: float
    heartbeat: float
    listener_port: int | None

    def live(self, now: float) -> bool:
        if now - self.heartbeat > LEASE_S:
            return False
        return self.host != socket.gethostname() or pid_alive(self.pid)

    def describe(self) -> str:
        """For messages: "a job-console run (pid 4242)"."""
        what = "window" if self.kind == "window" else f"job-console {self.kind}"
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"a {what} (pid {self.pid}{where})"


class ConsoleLease:
    """This process's registration in the data folder at ``path`` (``jobs.sqlite3``)."""

    def __init__(self, path: Path, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        self.path = Path(path)
        self.kind = kind
        self.owner = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._conn = open_database(self.path)
        try:
            migrate(self._conn, self.path)
        except BaseException:
            self._conn.close()
            raise
        self._listener_port: int | None = None
        self._closed = False

    # -- this console --------------------------------------------------------------------------

    def register(self) -> None:
        """Announce this console (again, if its row was pruned while it stalled)."""
        now = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO consoles (owner, pid, host, kind, started_at, heartbeat, "
                "listener_port) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(owner) DO UPDATE SET "
                "heartbeat = excluded.heartbeat, listener_port = excluded.listener_port",
                (self.owner, os.getpid(), socket.gethostname(), self.kind, now, now,
                 self._listener_port),
            )  # fmt: skip

    def beat(self) -> None:
        """Renew the lease (every ``HEARTBEAT_S``)."""
        with self._lock:
            if self._closed:
                return
            renewed = self._conn.execute(
                "UPDATE consoles SET heartbeat = ? WHERE owner = ?", (time.time(), self.owner)
            ).rowcount
        if not renewed:
            self.register()

    def serve_listener(self, port: int | None) -> None:
        """Record that this console serves the webhook listener on ``port`` (None: no longer)."""
        self._listener_port = port
        with self._lock:
            if not self._closed:
                self._conn.execute(
                    "UPDATE consoles SET listener_port = ? WHERE owner = ?", (port, self.owner)
                )

    def release(self) -> None:
        """A clean close: the row goes, so this console's unfinished jobs are free at once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.execute("DELETE FROM consoles WHERE owner = ?", (self.owner,))
            finally:
                self._conn.close()

    # -- the others ----------------------------------------------------------------------------

    def consoles(self) -> list[Console]:
        with self._lock:
            return self._consoles()

    def _consoles(self) -> list[Console]:
        rows = self._conn.execute(
            "SELECT owner, pid, host, kind, started_at, heartbeat, listener_port FROM consoles"
        ).fetchall()
        return [Console(*row) for row in rows]

    def _live_owners(self) -> set[str]:
        now = time.time()
        return {c.owner for c in self._consoles() if c.owner == self.owner or c.live(now)}

    def listener_on(self, port: int) -> Console | None:
        """Another live console serving the webhook listener on ``port``, if any."""
        now = time.time()
        return next(
            (c for c in self.consoles()
             if c.owner != self.owner and c.listener_port == port and c.live(now)),
            None,
        )  # fmt: skip

    def orphans(self, profiles: Collection[str] | None = None) -> list[str]:
        """Unfinished jobs (of ``profiles``) that no live console follows; not the imported ones
        (``IMPORTED_OWNER``), which are followed only when a person asks (``history follow``)."""
        with self._lock:
            live = self._live_owners()
            rows = self._conn.execute(
                f"SELECT local_id, owner, profile FROM jobs WHERE {_NOT_TERMINAL}"
            ).fetchall()
        return [
            local_id
            for local_id, owner, profile in rows
            if (owner is None or owner not in live)
            and owner != IMPORTED_OWNER
            and (profiles is None or profile in profiles)
        ]

    # -- claiming ------------------------------------------------------------------------------

    def claim(self, local_ids: Iterable[str]) -> set[str]:
        """Take over those of ``local_ids`` that are unfinished and that no live console follows;
        returns the ids this console now owns (its own included)."""
        ids = list(local_ids)
        if not ids:
            return set()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                live = sorted(self._live_owners() - {self.owner})
                change = bump_change_counter(self._conn)
                claimed: set[str] = set()
                for start in range(0, len(ids), 400):
                    chunk = ids[start : start + 400]
                    marks = ", ".join("?" for _ in chunk)
                    free = (
                        f"(owner IS NULL OR owner NOT IN ({', '.join('?' for _ in live)}))"
                        if live
                        else "1"
                    )
                    self._conn.execute(
                        f"UPDATE jobs SET owner = ?, change_seq = ? WHERE local_id IN ({marks}) "
                        f"AND {_NOT_TERMINAL} AND {free}",
                        (self.owner, change, *chunk, *live),
                    )
                    claimed.update(
                        row[0]
                        for row in self._conn.execute(
                            f"SELECT local_id FROM jobs WHERE local_id IN ({marks}) AND owner = ?",
                            (*chunk, self.owner),
                        )
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return claimed

    def claim_for_action(self, local_id: str, seen_change: int) -> str | None:
        """Take over one job to act on it (Retry, Send again). It is taken when it is unchanged
        since ``seen_change`` (the change number this console last read it at) and either
        finished (no one follows a finished job) or its owner is gone. Returns None when taken,
        else why not, for a message."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT owner, state, change_seq FROM jobs WHERE local_id = ?", (local_id,)
                ).fetchone()
                if row is None:
                    self._conn.execute("COMMIT")
                    return None  # removed: the caller finds out from its own records
                owner, state, change_seq = row
                consoles = {c.owner: c for c in self._consoles()}
                holder = consoles.get(owner) if owner not in (None, self.owner) else None
                now = time.time()
                if owner != self.owner and (
                    change_seq != seen_change
                    or (state not in _TERMINAL and holder is not None and holder.live(now))
                ):
                    self._conn.execute("COMMIT")
                    if holder is not None and holder.live(now):
                        return f"{holder.describe()} follows this job"
                    return "another console changed this job a moment ago"
                change = bump_change_counter(self._conn)
                self._conn.execute(
                    "UPDATE jobs SET owner = ?, change_seq = ? WHERE local_id = ?",
                    (self.owner, change, local_id),
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return None

    def read(self, local_ids: Iterable[str]) -> list[StoredJob]:
        """These jobs as stored now (after a claim: what the console that stopped wrote last)."""
        ids = list(local_ids)
        jobs: list[StoredJob] = []
        with self._lock:
            for start in range(0, len(ids), 400):
                chunk = ids[start : start + 400]
                marks = ", ".join("?" for _ in chunk)
                jobs.extend(read_jobs(self._conn, f"local_id IN ({marks})", chunk))
        return jobs

    def find(self, job_ref: str) -> list[StoredJob]:
        """The jobs stored as ``job_ref``: its local id, else its RunPod id (several when sent
        twice), oldest first."""
        with self._lock:
            found = read_jobs(self._conn, "local_id = ?", (job_ref,))
            return found or read_jobs(self._conn, "job_id = ?", (job_ref,))

    def owned_elsewhere(self, local_ids: Iterable[str]) -> set[str]:
        """Of ``local_ids`` (jobs this console follows), those another console has taken over
        (this console's lease lapsed, e.g. the machine slept): stop following them."""
        with self._lock:
            return owned_elsewhere(self._conn, local_ids, self.owner)
