"""Reading a request file: its text, or a :class:`RequestFileError` that says what to do.

Used by ``job-console validate``/``run`` and by the window's Open and drops. Files too big to be
a request are refused before they are read, so a 50 MB file costs one ``stat``; named pipes,
sockets and devices are refused before they are opened, so none can hang the reader.
"""

from __future__ import annotations

import codecs
import itertools
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gui.core.errors import RequestFileError
from gui.core.limits import MAX_BODY_BYTES

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "JsonLine",
    "decode_request_bytes",
    "is_jsonl",
    "jsonl_lines",
    "read_jsonl_file",
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


def read_request_file(path: Path | str, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """The text of the request file at ``path``, decoded (UTF-8, or UTF-8/16/32 with a BOM; the
    BOM is not part of the text). Raises :class:`RequestFileError` with a message for a person."""
    path = Path(path)
    info = _check_regular(path)
    if info.st_size > max_bytes:
        raise _too_big(path, info.st_size, max_bytes)
    try:
        # Opened without waiting, and checked again once open: a named pipe put in the file's
        # place since the stat would otherwise hold the open (and the reader) until a writer came.
        with open(path, "rb", opener=_open_without_waiting) as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise _not_a_file(path, mode)
            data = handle.read(max_bytes + 1)  # one byte past the limit: the file may have grown
    except OSError as exc:
        raise RequestFileError(f"{path} can't be read: {_reason(exc)}.") from None
    if len(data) > max_bytes:
        raise _too_big(path, None, max_bytes)
    return decode_request_bytes(data, str(path))


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One request of a ``.jsonl`` text: a line that is not blank."""

    number: int  # 1-based line of the file
    offset: int  # where the line starts in the file's text
    text: str  # without its line end


def is_jsonl(path: Path | str) -> bool:
    """Whether the file at ``path`` is a batch: one request body per line (``.jsonl``)."""
    return Path(path).suffix.lower() == ".jsonl"


def jsonl_lines(text: str) -> list[JsonLine]:
    """The requests of a ``.jsonl`` text, one per line that is not blank.

    Lines end at ``\n`` (or ``\r\n``) only, as JSON Lines says: ``str.splitlines`` also splits at
    U+2028, U+2029, U+0085 and other characters that JSON strings may hold as they are (text
    from the web and from language models often does), which broke valid lines in two.
    """
    lines = []
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        start, offset = offset, offset + len(line) + 1
        line = line.removesuffix("\r")
        if line.strip(" \t\r"):  # JSON's blanks: U+2028 and the like are not blank to it
            lines.append(JsonLine(number, start, line))
    return lines


def read_jsonl_file(
    path: Path | str, max_line_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> Iterator[JsonLine]:
    """The requests of the ``.jsonl`` file at ``path``, read one line at a time (a batch of a
    million lines costs one line's memory), as ``jsonl_lines`` gives them. A line that is not
    UTF-8, holds a NUL byte or is longer than ``max_line_bytes`` raises ``RequestFileError``
    naming its line; a file in UTF-16 or UTF-32 (by its byte-order mark or zero bytes) is read
    whole, within ``max_line_bytes``, as ``read_request_file`` reads it."""
    path = Path(path)
    _check_regular(path)
    try:
        handle = open(path, "rb", opener=_open_without_waiting)  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise RequestFileError(f"{path} can't be read: {_reason(exc)}.") from None
    with handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise _not_a_file(path, mode)
        head = handle.read(4)
        if head.count(0) or any(head.startswith(bom) for bom, enc in _BOMS if enc != "utf-8"):
            handle.close()
            yield from jsonl_lines(read_request_file(path, max_line_bytes))
            return
        handle.seek(len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0)
        offset = 0
        for number in itertools.count(1):
            try:
                raw = handle.readline(max_line_bytes + 2)  # one byte past, and its line end
            except OSError as exc:
                raise RequestFileError(f"{path} can't be read: {_reason(exc)}.") from None
            if not raw:
                return
            data = raw.removesuffix(b"\n")
            if len(data.removesuffix(b"\r")) > max_line_bytes:
                raise RequestFileError(
                    f"{path}:{number}: this line is over {max_line_bytes // (1024 * 1024)} MB: "
                    "too big to be a request. Pass large data by URL or through S3 instead."
                )
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RequestFileError(
                    f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {number} is "
                    "not UTF-8). Save the file as UTF-8 and try again."
                ) from None
            if "\0" in text:
                raise _binary(str(path))
            start, offset = offset, offset + len(text) + 1
            line = text.removesuffix("\r")
            if line.strip(" \t\r"):
                yield JsonLine(number, start, line)


def _check_regular(path: Path) -> os.stat_result:
    """``path``'s stat, or ``RequestFileError`` unless it is a regular file (before it is
    opened: named pipes, sockets and devices could hang the reader)."""
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
    if not stat.S_ISREG(info.st_mode):
        raise _not_a_file(path, info.st_mode)
    return info


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


def _open_without_waiting(name: str, flags: int) -> int:
    return os.open(name, flags | getattr(os, "O_NONBLOCK", 0))  # Windows has no named pipes here


def _not_a_file(path: Path, mode: int) -> RequestFileError:
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    else:
        kind = "a special file"
    return RequestFileError(
        f"{path} is {kind}, not a regular file: save the request in a file (.json, or .jsonl "
        "for one request per line) and give its path."
    )


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
