"""Reading a request file: its text, or a :class:`RequestFileError` that says what to do.

Used by ``job-console validate``/``run`` and by the editor when a file is dropped on it. Files
too big to be a request are refused before they are read, so a 50 MB file costs one ``stat``.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
from pathlib import Path

from gui.core.errors import ConsoleError
from gui.core.limits import MAX_BODY_BYTES

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "RequestFileError",
    "decode_request_bytes",
    "read_request_file",
]

# The largest body RunPod takes is 20 MB compact; a pretty-printed file of it may be larger, so
# allow twice that. Beyond it, no file can be a request.
DEFAULT_MAX_FILE_BYTES = 2 * max(MAX_BODY_BYTES.values())

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16: it starts with the UTF-16 LE BOM
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class RequestFileError(ConsoleError):
    """A request file can't be used: missing, unreadable, a folder, too big, or not text."""


def read_request_file(path: Path | str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """The text of the request file at ``path``, decoded (UTF-8, or UTF-8/16/32 with a BOM; the
    BOM is not part of the text). Raises :class:`RequestFileError` with a message for a person."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise RequestFileError(f"{path}: no such file. Check the name and the folder.") from None
    except OSError as exc:
        raise RequestFileError(f"{path} can't be read: {_reason(exc)}.") from None
    if stat.S_ISDIR(info.st_mode):
        raise RequestFileError(
            f"{path} is a folder, not a request file: give the path of a .json file."
        )
    if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
        raise _too_big(path, info.st_size, max_bytes)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # pipes have no size: read one byte past the limit
    except OSError as exc:
        raise RequestFileError(f"{path} can't be read: {_reason(exc)}.") from None
    if len(data) > max_bytes:
        raise _too_big(path, None, max_bytes)
    return decode_request_bytes(data, str(path))


def decode_request_bytes(data: bytes, name: str) -> str:
    """``data`` as text, by its byte-order mark, else as UTF-8 (or BOM-less UTF-16/32, recognised
    by their zero bytes as JSON allows). ``name`` says which file, in the error message."""
    encoding = None
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], bom_encoding
            break
    if encoding is None:
        encoding = json.detect_encoding(data) if data[:4].count(0) else "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if b"\0" in data[:8192]:
            raise _binary(name) from None
        line = data.count(b"\n", 0, exc.start) + 1
        raise RequestFileError(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line} is not "
            f"UTF-8). Save the file as UTF-8 and try again."
        ) from None
    if "\0" in text:
        raise _binary(name)
    return text


def _binary(name: str) -> RequestFileError:
    return RequestFileError(
        f"{name} is binary data, not text: a request file is JSON text, such as "
        '{"input": {...}}.'
    )


def _too_big(path: Path, size: int | None, max_bytes: int) -> RequestFileError:
    largest = max(MAX_BODY_BYTES.values()) // (1024 * 1024)
    shown = f"{size / 1024 / 1024:.1f} MB" if size is not None else "bigger than that"
    return RequestFileError(
        f"{path} is {shown}: too big to be a request (RunPod takes at most {largest} MB, and "
        f"files up to {max_bytes // (1024 * 1024)} MB are read). Pass large data by URL or "
        "through S3 instead of inline."
    )


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied; check the file's permissions"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder"
    return exc.strerror or os.strerror(exc.errno or 0) or type(exc).__name__
