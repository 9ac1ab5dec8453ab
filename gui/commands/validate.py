"""``job-console validate FILE...``: check request bodies against JSON and RunPod's rules.

Prints ``FILE:LINE:COL: error|warning: message`` per diagnostic (or JSON with ``--json``); a
``.jsonl`` file is checked line by line, one body per line, as ``job-console run`` sends it. Exit
status: 0 when no file has an error (warnings allowed), 1 when one has, 2 when a file can't be read
or isn't text. Only the standard library is imported at the top: building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gui.core.limits import Operation
    from gui.core.request.validation import ValidationResult

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2
STDIN_NAME = "-"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="request body files (JSON; .jsonl: one body per line); - reads standard input",
    )
    parser.add_argument(
        "--sync",
        action="store_true",
        help="check the size against the /runsync limit (20 MB) instead of /run's (10 MB)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the diagnostics as one JSON document"
    )
    parser.epilog = (
        "Exit status: 0 no errors (warnings allowed), 1 some file has errors, "
        "2 some file can't be read or isn't text."
    )


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    from gui.core.errors import RequestFileError
    from gui.core.request.reading import is_jsonl
    from gui.core.request.validation import validate_text

    operation: Operation = "runsync" if args.sync else "run"
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")  # odd keys must not crash the output
    reports: list[dict[str, Any]] = []
    status = EXIT_OK
    for name in args.files:
        try:
            text = _read(name)
        except RequestFileError as exc:
            status = EXIT_UNREADABLE
            reports.append({"file": name, "readable": False, "ok": False, "error": str(exc)})
            if not args.json:
                print(f"job-console validate: {exc}", file=sys.stderr)
            continue
        try:
            if name != STDIN_NAME and is_jsonl(name):
                result = _validate_lines(text, operation)
            else:
                result = validate_text(text, operation)
        except Exception as exc:  # a bug must still not end in a traceback
            status = EXIT_UNREADABLE
            message = f"{name} could not be checked ({type(exc).__name__}); please report this."
            reports.append({"file": name, "readable": True, "ok": False, "error": message})
            print(f"job-console validate: {message}", file=sys.stderr)
            continue
        if not result.ok and status == EXIT_OK:
            status = EXIT_INVALID
        reports.append(_report(name, result))
        if not args.json:
            for d in result.diagnostics:
                print(f"{name}:{d.line}:{d.column}: {d.severity}: {d.message}")
    if args.json:
        document = {"ok": status == EXIT_OK, "operation": operation, "files": reports}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    sys.stdout.flush()
    return status


def _read(name: str) -> str:
    from gui.core.errors import RequestFileError
    from gui.core.request.reading import DEFAULT_MAX_FILE_BYTES, decode_request_bytes
    from gui.core.request.validation import read_request_file

    if name != STDIN_NAME:
        return read_request_file(name)
    try:
        data = sys.stdin.buffer.read(DEFAULT_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise RequestFileError(f"standard input can't be read: {exc.strerror}.") from None
    if len(data) > DEFAULT_MAX_FILE_BYTES:
        raise RequestFileError("standard input is too big to be a request.")
    return decode_request_bytes(data, "standard input")


def _validate_lines(text: str, operation: Operation) -> ValidationResult:
    """A ``.jsonl`` batch checked line by line, as ``job-console run`` sends it: the problems of
    every line, placed in the file (its line, and the column in that line). No size: each line is
    a body of its own."""
    from dataclasses import replace

    from gui.core.limits import MAX_BODY_BYTES
    from gui.core.request.reading import jsonl_lines
    from gui.core.request.validation import Diagnostic, ValidationResult, validate_text

    lines = jsonl_lines(text)
    diagnostics: list[Diagnostic] = []
    for line in lines:
        for d in validate_text(line.text, operation).diagnostics:
            diagnostics.append(replace(d, line=line.number, offset=line.offset + d.offset))
    if not lines:
        message = "The file holds no request: a .jsonl file has one JSON body per line."
        diagnostics.append(Diagnostic("error", message, (), 1, 1, 0, 1))
    return ValidationResult(diagnostics, None, None, MAX_BODY_BYTES[operation])


def _report(name: str, result: ValidationResult) -> dict[str, Any]:
    return {
        "file": name,
        "readable": True,
        "ok": result.ok,
        "size_bytes": result.size_bytes,
        "limit_bytes": result.limit_bytes,
        "diagnostics": [
            {
                "severity": d.severity,
                "message": d.message,
                "path": list(d.path),
                "line": d.line,
                "column": d.column,
                "offset": d.offset,
                "length": d.length,
            }
            for d in result.diagnostics
        ],
    }
