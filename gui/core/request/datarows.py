"""Data rows for a data run: each row of a CSV, JSONL or JSON file gives the variables of one job.

Rows are read lazily, one at a time (a file of a million rows costs what one row costs), and a
row that can't be used carries its ``problem`` (a ragged CSV row, a JSONL line that is not an
object, bytes that are not UTF-8) instead of stopping the file: the rows around it can still
run. A problem with the whole file (missing, no header, a JSON file that is not an array of
objects) raises :class:`RequestFileError` saying what to do.

- CSV (``.csv``, ``.tsv`` tab-separated): the first row names the columns; every cell is text
  (read as JSON where a placeholder is a whole string, see ``placeholders``); a blank cell gives
  no value, so ``{{name ?? default}}``'s default applies.
- JSONL (``.jsonl``, ``.ndjson``): one JSON object per line; values keep their JSON types.
- JSON (``.json``): an array of objects, read one object at a time.

A column (or key) ``name`` names the row in progress lines, the history and the results.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from gui.core.errors import RequestFileError

__all__ = ["DATA_SUFFIXES", "DataRow", "read_rows"]

DATA_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json")
_CELL_LIMIT = 32 * 1024 * 1024  # csv's default (128 KB) refuses a long prompt
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_READ_CHUNK = 1 << 16
_SPACE = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True, slots=True)
class DataRow:
    """One row: ``number`` counts rows from 1 (a CSV header is not a row), ``line`` is where it
    starts in the file. ``typed``: values are JSON values (JSON/JSONL), else text (CSV)."""

    number: int
    line: int
    values: dict[str, Any]
    typed: bool
    problem: str | None = None

    @property
    def name(self) -> str | None:
        value = self.values.get("name")
        if value is None or isinstance(value, dict | list):
            return None
        return value if isinstance(value, str) else json.dumps(value)

    @property
    def label(self) -> str:
        """ "row 3 (line 4)" or "row 3 'cat' (line 4)", for messages."""
        name = self.name
        named = f" {name!r}" if name else ""
        return f"row {self.number}{named} (line {self.line})"


def read_rows(path: Path | str) -> Iterator[DataRow]:
    """The rows of the data file at ``path``, one at a time (see the module's formats)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DATA_SUFFIXES:
        raise RequestFileError(
            f"{path}: a data file is .csv (a header row, then one row per job), .jsonl (one JSON "
            "object per line) or .json (an array of objects)."
        )
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise RequestFileError(f"{path}: no such file. Check the name and the folder.") from None
    except IsADirectoryError:
        raise RequestFileError(f"{path} is a folder, not a data file.") from None
    except OSError as exc:
        raise RequestFileError(f"{path} can't be read: {exc.strerror}.") from None
    with handle:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
        if suffix in (".csv", ".tsv"):
            yield from _csv_rows(text, path, "\t" if suffix == ".tsv" else ",")
        elif suffix == ".json":
            yield from _array_rows(text, path)
        else:
            yield from _jsonl_rows(text)


def _not_utf8(text: str) -> str | None:
    """The first byte that was not UTF-8 (as read with ``surrogateescape``), described."""
    found = _NOT_UTF8.search(text)
    if found is None:
        return None
    return f"byte 0x{ord(found.group()) - 0xDC00:02X} is not UTF-8 (save the file as UTF-8)"


def _csv_rows(text: IO[str], path: Path, delimiter: str) -> Iterator[DataRow]:
    csv.field_size_limit(max(csv.field_size_limit(), _CELL_LIMIT))
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    header: list[str] | None = None
    number = 0
    last_line = 0
    while True:
        start = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise RequestFileError(
                f"{path}:{reader.line_num}: this line is not CSV ({exc}). Fix it; nothing was sent."
            ) from None
        last_line = reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line
        if header is None:
            header = [cell.strip() for cell in cells]
            _check_header(header, path, start)
            continue
        number += 1
        problem = None
        bad = next((_not_utf8(cell) for cell in cells if _not_utf8(cell)), None)
        if bad:
            problem = f"{bad}"
        elif len(cells) != len(header):
            problem = (
                f"it has {len(cells)} cells, the header has {len(header)} columns (a missing "
                "or extra comma, or a comma inside a value not in double quotes?)"
            )
        # A blank cell gives no value: the placeholder's default (or --var, the profile) applies.
        values = {} if problem else {k: v for k, v in zip(header, cells, strict=True) if v != ""}
        yield DataRow(number, start, values, typed=False, problem=problem)
    if header is None:
        raise RequestFileError(
            f"{path} is empty: a CSV data file starts with a header row naming the columns "
            "(the variables), then one row per job."
        )


def _check_header(header: list[str], path: Path, line: int) -> None:
    bad = _not_utf8(",".join(header))
    if bad:
        raise RequestFileError(f"{path}:{line}: the header row holds a {bad}.")
    if any(not name for name in header):
        raise RequestFileError(
            f"{path}:{line}: the header row has an empty column name: name every column (its "
            "name is the variable, {{name}})."
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise RequestFileError(
            f"{path}:{line}: the header names {', '.join(repeated)} more than once: give each "
            "column its own name."
        )


def _jsonl_rows(text: IO[str]) -> Iterator[DataRow]:
    number = 0
    for line_number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        number += 1
        bad = _not_utf8(line)
        if bad:
            yield DataRow(number, line_number, {}, typed=True, problem=bad)
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problem = f"it is not JSON ({exc.msg} at column {exc.colno})"
            yield DataRow(number, line_number, {}, typed=True, problem=problem)
            continue
        yield _object_row(value, number, line_number)


def _object_row(value: Any, number: int, line: int) -> DataRow:
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "true or false"}.get(type(value))
        kind = kind or ("null" if value is None else "a number")
        problem = f'it is {kind}, not a JSON object of variables such as {{"prompt": "..."}}'
        return DataRow(number, line, {}, typed=True, problem=problem)
    return DataRow(number, line, value, typed=True)


def _array_rows(text: IO[str], path: Path) -> Iterator[DataRow]:
    """The items of a JSON array, decoded one at a time from a buffer that holds about one."""
    decoder = json.JSONDecoder()
    buf, pos, line, eof = text.read(_READ_CHUNK), 0, 1, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = text.read(max(_READ_CHUNK, len(buf) - pos))
        if not chunk:
            eof = True
            return False
        buf, pos = buf[pos:] + chunk, 0
        return True

    def skip_space() -> str:
        nonlocal pos, line
        while True:
            end = _SPACE.match(buf, pos)
            new = end.end() if end else pos
            line += buf.count("\n", pos, new)
            pos = new
            if pos < len(buf) or not more():
                return buf[pos : pos + 1]

    def invalid(what: str) -> RequestFileError:
        return RequestFileError(f"{path}:{line}: {what}. Fix the file; nothing was sent.")

    if _not_utf8(buf):
        raise invalid(f"the file is not UTF-8 text: {_not_utf8(buf)}")
    if skip_space() != "[":
        raise invalid("a .json data file is an array of objects, [{...}, {...}]")
    pos += 1
    number = 0
    if skip_space() == "]":
        return
    while True:
        start_line = line
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
                break
            except json.JSONDecodeError as exc:
                if not more():
                    line += buf.count("\n", pos, exc.pos)
                    raise invalid(
                        f"item {number + 1} of the array is not JSON ({exc.msg})"
                    ) from None
        line += buf.count("\n", pos, end)
        pos = end
        number += 1
        yield _object_row(value, number, start_line)
        after = skip_space()
        pos += 1
        if after == "]":
            return
        if after != ",":
            raise invalid(f"expected ',' or ']' after item {number} of the array")
        skip_space()
