"""The one place that writes files: atomically, so a crash never leaves half a file behind, and
readable by their owner alone (0600), as ``tempfile.mkstemp`` makes them."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "SQLITE_COMPANIONS",
    "keep_private",
    "open_atomic",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database (suffixes of its name)."""


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@contextmanager
def open_atomic(path: Path) -> Iterator[IO[str]]:
    """A UTF-8 text file to write bit by bit (an export too large to hold whole): it appears at
    ``path`` only once the block ends without an error, as ``write_bytes_atomic`` makes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, value: Any) -> None:
    """Pretty JSON (two-space indent, trailing newline): meant to be read and diffed."""
    write_text_atomic(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def keep_private(path: Path, companions: tuple[str, ...] = ()) -> None:
    """Make the file at ``path`` readable and writable by its owner alone (0600), creating it
    empty when it is missing: call it before a library (SQLite) opens the file, which would create
    it readable by everyone (0644 under the usual umask). Files beside it named ``path`` plus one
    of ``companions`` are narrowed too when they exist; SQLite gives those it creates later the
    database's own mode. Nothing happens where files have no modes (Windows).
    """
    if os.name != "posix":
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # A file that exists is never opened here: closing any descriptor of a file drops every POSIX
    # lock this process holds on it, SQLite's included, and another connection of this process
    # (the history's writer) would then write unlocked and corrupt the file.
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # made meanwhile by another opener, with its own mode
            mode = path.stat().st_mode
        else:
            mode = 0o600
    if mode & 0o077:
        path.chmod(mode & 0o700)
    for suffix in companions:
        companion = path.with_name(path.name + suffix)
        try:
            mode = companion.stat().st_mode
            if mode & 0o077:
                companion.chmod(mode & 0o700)
        except FileNotFoundError:
            continue
