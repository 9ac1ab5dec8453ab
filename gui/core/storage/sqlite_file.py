"""The one way to open the data folder's SQLite file (``jobs.sqlite3``).

The history's writer, the consoles' leases, the shared view, the webhook deliveries and the
history reader each hold their own connection to the same file; they all open it here, so each one
gets the same settings in the same order:

- the file is made private (0600) before SQLite creates it;
- autocommit mode (``isolation_level=None``): every writer opens its own short explicit
  transaction;
- ``busy_timeout`` first, so every later statement (the pragmas too) waits for another
  connection's lock instead of failing at once;
- ``journal_mode=WAL``, retried while it answers "database is locked": switching the journal mode
  takes a lock that SQLite does not always wait for through the busy handler (seen failing under
  load when several consoles and the listener open the file at once);
- ``synchronous=NORMAL``: with WAL, safe across a crash of the app (not a power cut), and one
  fsync per checkpoint instead of one per commit;
- ``recursive_triggers=ON``: an ``INSERT OR REPLACE`` that replaces a job row then fires the
  delete triggers that keep the search index and the state counts right (``store.MIGRATIONS``).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from gui.core.files import SQLITE_COMPANIONS, keep_private

__all__ = ["BUSY_TIMEOUT_MS", "open_database"]

BUSY_TIMEOUT_MS = 10_000
_WAL_RETRY_S = 10.0  # as long as the busy timeout: then the lock is held for good, say so


def open_database(path: Path, *, check_same_thread: bool = False) -> sqlite3.Connection:
    """A connection to the SQLite file at ``path`` (created, private, when missing), in WAL mode.

    The caller serialises its use across threads (``check_same_thread=False`` by default, since
    every component of the console hands its connection to a worker thread or guards it by a lock).
    """
    path = Path(path)
    keep_private(path, SQLITE_COMPANIONS)  # the history is no one else's to read
    conn = sqlite3.connect(path, check_same_thread=check_same_thread, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _set_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA recursive_triggers=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _set_wal(conn: sqlite3.Connection) -> None:
    deadline = time.monotonic() + _WAL_RETRY_S
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise sqlite3.OperationalError(
                    f"The history file stayed locked for {_WAL_RETRY_S:.0f} s while it was "
                    f"opened ({exc}). Another program holds it: close it, then try again."
                ) from exc
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
