"""The simulated handler: ``input.sandbox`` options, the cloud's error string, the PNG encoder."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import httpx
import pytest

from gui.sandbox.simulate import HANDLER_FILE, failure_error, plan_work, png_bytes
from tests.support.sandbox_helpers import StartSandbox, wait_status
from tests.support.waiting import wait_until


def _decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw scanlines of an 8-bit RGB PNG, checking every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = body
        position += 12 + length
    assert set(chunks) == {b"IHDR", b"IDAT", b"IEND"}
    width, height, depth, color, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, color) == (8, 2)
    return width, height, zlib.decompress(chunks[b"IDAT"])


def test_png_is_valid_with_one_filter_byte_per_row() -> None:
    width, height, raw = _decode_png(png_bytes(7, 5))
    assert (width, height) == (7, 5)
    assert len(raw) == height * (1 + 3 * width)
    assert all(raw[row * (1 + 3 * width)] == 0 for row in range(height))


def test_image_option_returns_a_base64_png(sandbox_client: httpx.Client) -> None:
    body = {"input": {"sandbox": {"image": {"width": 64, "height": 32}}}}
    output = sandbox_client.post("/runsync", json=body).json()["output"]
    assert output["mime_type"] == "image/png" and (output["width"], output["height"]) == (64, 32)
    assert _decode_png(base64.b64decode(output["image"]))[:2] == (64, 32)


def test_output_bytes_option(sandbox_client: httpx.Client) -> None:
    body = {"input": {"sandbox": {"output_bytes": 100_000}}}
    output = sandbox_client.post("/runsync", json=body).json()["output"]
    assert isinstance(output, str) and len(output) == 100_000


def test_progress_shows_while_running_then_the_result(start_sandbox: StartSandbox) -> None:
    _, client = start_sandbox()
    body = {"input": {"sandbox": {"duration": 0.6, "progress": ["loading", "thinking"]}}}
    job_id = client.post("/run", json=body).json()["id"]
    seen: set[str] = set()

    def finished() -> bool:
        status = client.get(f"/status/{job_id}").json()
        if status["status"] == "IN_PROGRESS" and "output" in status:
            seen.add(status["output"])
        return bool(status["status"] == "COMPLETED")

    wait_until(finished)
    assert seen <= {"loading", "thinking"} and seen  # polled every 10 ms over 200 ms steps
    assert client.get(f"/status/{job_id}").json()["output"] == body["input"]


def test_progress_count_makes_fractions() -> None:
    assert plan_work({"sandbox": {"progress": 3}}, 1.0).progress == ["1/3", "2/3", "3/3"]
    assert plan_work({"sandbox": {"stream": 2}}, 1.0).stream == ["chunk 1", "chunk 2"]


def test_stream_chunk_over_runpods_limit_is_refused() -> None:
    from gui.core.limits import MAX_STREAM_CHUNK_BYTES

    fits = "x" * (MAX_STREAM_CHUNK_BYTES - 2)  # plus two quotes in JSON: exactly the limit
    assert plan_work({"sandbox": {"stream": [fits]}}, 1.0).invalid is None
    too_big = plan_work({"sandbox": {"stream": ["a", fits + "y"]}}, 1.0).invalid
    assert too_big is not None and "chunk 2" in too_big


def test_failure_is_the_clouds_json_error_string() -> None:
    error = json.loads(failure_error(RuntimeError, "out of memory", "abc123"))
    assert set(error) == {
        "error_type", "error_message", "error_traceback", "hostname", "worker_id", "runpod_version",
    }  # fmt: skip
    assert error["error_type"] == "<class 'RuntimeError'>"
    assert error["error_message"] == "out of memory" and error["worker_id"] == "abc123"
    assert error["error_traceback"].startswith("Traceback (most recent call last)")
    assert error["error_traceback"].rstrip().endswith("RuntimeError: out of memory")
    # A worker's handler raised it: the sandbox's own files (where the console lives) don't show.
    assert f'File "{HANDLER_FILE}", line 3, in handler' in error["error_traceback"]
    assert "raise error(message)" in error["error_traceback"]
    assert "simulate.py" not in error["error_traceback"]


def test_failed_job_over_http(sandbox_client: httpx.Client) -> None:
    job_id = sandbox_client.post("/run", json={"input": {"sandbox": {"fail": "boom"}}}).json()["id"]
    failed = wait_status(sandbox_client, job_id, "FAILED")
    error = json.loads(failed["error"])
    assert error["error_message"] == "boom" and error["worker_id"] == failed["workerId"]
    assert "output" not in failed and failed["executionTime"] >= 40


@pytest.mark.parametrize(
    "options",
    [
        "fast",
        {"duration": "long"},
        {"duration": -1},
        {"progress": "many"},
        {"output_bytes": 10**12},
        {"image": {"width": 0}},
        {"image": "big"},
    ],
)
def test_malformed_options_fail_the_job_like_a_handler_would(
    sandbox_client: httpx.Client, options: object
) -> None:
    body = sandbox_client.post("/runsync", json={"input": {"sandbox": options}}).json()
    assert body["status"] == "FAILED"
    error = json.loads(body["error"])
    assert (
        error["error_type"] == "<class 'ValueError'>" and "input.sandbox" in error["error_message"]
    )


def test_empty_object_output_is_dropped_as_the_worker_sdk_does(
    sandbox_client: httpx.Client,
) -> None:
    body = sandbox_client.post("/runsync", json={"input": {}}).json()
    assert body["status"] == "COMPLETED" and "output" not in body


def test_duration_is_honoured(sandbox_client: httpx.Client) -> None:
    body = sandbox_client.post("/runsync", json={"input": {"sandbox": {"duration": 0.3}}}).json()
    assert body["executionTime"] >= 290
