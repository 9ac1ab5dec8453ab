"""read_request_file: the encodings a request file may come in, and the files that can't be one."""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from gui.core.errors import RequestFileError
from gui.core.request import reading as request_files
from gui.core.request.reading import JsonLine, jsonl_lines, read_jsonl_file
from gui.core.request.validation import read_request_file

BODY = '{"input": {"prompt": "café ☕"}}'


@pytest.mark.parametrize(
    "encoded",
    [
        BODY.encode("utf-8"),
        b"\xef\xbb\xbf" + BODY.encode("utf-8"),
        BODY.encode("utf-16"),  # with its BOM
        BODY.encode("utf-16-be"),  # without: recognised by its zero bytes, as JSON allows
        BODY.encode("utf-32"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "utf-16-be", "utf-32-bom"],
)
def test_text_encodings_are_decoded_without_a_bom(tmp_path: Path, encoded: bytes) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(encoded)
    assert read_request_file(path) == BODY


def test_empty_file_is_empty_text(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    assert read_request_file(path) == ""


def _refusal(path: Path, **kwargs: int) -> str:
    with pytest.raises(RequestFileError) as caught:
        read_request_file(path, **kwargs)
    return str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    message = _refusal(tmp_path / "nope.json")
    assert "nope.json: no such file" in message


def test_directory(tmp_path: Path) -> None:
    assert "is a folder, not a request file" in _refusal(tmp_path)


def test_binary_data(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "is binary data, not text" in _refusal(path)


def test_text_in_another_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"input": {}}\n{"x": "café"}'.encode("latin-1"))
    message = _refusal(path)
    assert (
        "is not UTF-8 text (byte 0xE9 on line 2" in message and "Save the file as UTF-8" in message
    )


def test_a_file_too_big_is_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB that cost nothing

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file known to be too big was opened")

    monkeypatch.setattr(Path, "open", no_open)
    message = _refusal(path)
    assert "big.json is 50.0 MB: too big to be a request" in message


def test_the_limit_holds_for_files_without_a_size(tmp_path: Path) -> None:
    path = tmp_path / "small.json"
    path.write_bytes(b'{"input": {"x": "' + b"y" * 100 + b'"}}')
    assert "too big to be a request" in _refusal(path, max_bytes=50)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_text(BODY)
    path.chmod(0)
    assert "permission denied" in _refusal(path)


def test_unreadable_file_reported_by_the_os(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.json"
    path.write_text(BODY)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    # Root can read anything, so the OS is simulated.
    monkeypatch.setattr(request_files, "open", refuse, raising=False)
    message = _refusal(path)
    assert message == f"{path} can't be read: permission denied; check the file's permissions."


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "request.json"
    os.mkfifo(fifo)

    def write() -> None:  # before the fix the read took this body (or, alone, waited forever)
        with open(fifo, "w", encoding="utf-8") as pipe:
            pipe.write(BODY)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        message = _refusal(fifo)
    finally:
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # lets the writer's open return
        writer.join()
        os.close(reader)
    assert message == (
        f"{fifo} is a named pipe (FIFO), not a regular file: save the request in a file (.json, "
        "or .jsonl for one request per line) and give its path."
    )


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets on this platform")
def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert f"{path} is a socket, not a regular file" in _refusal(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this platform")
def test_a_device_is_refused_before_it_is_read() -> None:
    # /dev/zero never ends: read, it gave "too big" after 40 MB of zeros.
    assert _refusal(Path("/dev/zero")).startswith("/dev/zero is a device, not a regular file")


def test_jsonl_lines_end_at_newlines_only() -> None:
    # U+2028, U+2029, U+0085, \v, \f and \x1c end lines for str.splitlines, not for JSON Lines.
    first = '{"input": {"t": "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg"}}'
    text = first + "\r\n\n \t\r\n" + '{"input": 2}' + "\n" + '{"input": 3}'
    assert jsonl_lines(text) == [
        JsonLine(1, 0, first),
        JsonLine(4, len(first) + 7, '{"input": 2}'),
        JsonLine(5, len(first) + 20, '{"input": 3}'),
    ]
    assert text[len(first) + 7 :].startswith('{"input": 2}')
    assert jsonl_lines("\n\r\n  \n") == []


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_a_jsonl_file_read_line_by_line_gives_the_lines_of_its_text(
    tmp_path: Path, bom: bytes
) -> None:
    text = '{"a": "x\u2028y"}\r\n\n  \n{"b": 2}\n{"c": "\x85"}'
    path = tmp_path / "batch.jsonl"
    path.write_bytes(bom + text.encode("utf-8"))
    assert list(read_jsonl_file(path)) == jsonl_lines(text)
    path.write_bytes(text.encode("utf-16"))  # UTF-16 with its BOM: read whole
    assert list(read_jsonl_file(path)) == jsonl_lines(text)


def test_a_jsonl_file_names_the_line_that_is_not_utf8_or_too_long(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b'{"a": 1}\n{"b": "\xff"}\n')
    lines = read_jsonl_file(path)
    assert next(lines).number == 1
    with pytest.raises(RequestFileError, match=r"byte 0xFF on line 2 is not UTF-8"):
        next(lines)
    path.write_bytes(b'{"a": 1}\n{"b": "' + b"x" * 2000 + b'"}\n')
    with pytest.raises(RequestFileError, match=r"batch.jsonl:2: this line is over"):
        list(read_jsonl_file(path, max_line_bytes=1000))
    with pytest.raises(RequestFileError, match="folder"):
        list(read_jsonl_file(tmp_path))
