"""The one opener of the data folder's SQLite file: a real file in a temporary folder."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from gui.core.engine.leases import ConsoleLease
from gui.core.storage import sqlite_file
from gui.core.storage.sqlite_file import open_database
from gui.core.storage.store import DB_FILENAME


def test_a_console_opening_the_file_while_another_connection_writes_waits_for_it(
    data_dir: Path,
) -> None:
    # Another connection holds the write lock of a file not in WAL yet: switching the journal
    # mode needs it, so the opener waits (busy timeout, then retries) instead of failing with
    # "database is locked" (seen at leases.py's ``PRAGMA journal_mode=WAL`` under load).
    path = data_dir / DB_FILENAME
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE other (x)")
    release = threading.Timer(0.3, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        lease = ConsoleLease(path, "run")
    finally:
        release.join()
        holder.close()
    try:
        lease.register()
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert conn.execute("SELECT count(*) FROM consoles").fetchone() == (1,)
    finally:
        lease.release()


def test_the_opener_makes_a_private_wal_file_with_triggers_that_recurse(data_dir: Path) -> None:
    path = data_dir / "fresh.sqlite3"
    conn = open_database(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (10_000,)
        assert conn.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert conn.execute("PRAGMA recursive_triggers").fetchone() == (1,)
        assert conn.in_transaction is False and conn.isolation_level is None
    finally:
        conn.close()
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


def test_the_wal_switch_is_retried_while_the_file_stays_locked_past_the_busy_timeout(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_file, "BUSY_TIMEOUT_MS", 20)  # the lock outlasts the busy timeout
    path = data_dir / DB_FILENAME
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE other (x)")
    release = threading.Timer(0.4, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        conn = open_database(path)
    finally:
        release.join()
        holder.close()
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("SELECT count(*) FROM other").fetchone() == (0,)
    finally:
        conn.close()
