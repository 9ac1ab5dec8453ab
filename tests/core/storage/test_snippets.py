"""Copied snippets send the same request again, with no secret written in them; exports too."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from gui.core.records import JobRecord, JobState
from gui.core.redact import REDACTED
from gui.core.storage.export import CSV_COLUMNS, export_csv, export_json
from gui.core.storage.snippets import curl_snippet, python_snippet, request_url
from gui.core.targets import Target

SECRET = "s3-secret-value-123"


def _record(**changes: Any) -> JobRecord:
    values: dict[str, Any] = {
        "local_id": "L1",
        "profile": "Prod",
        "endpoint_id": "abc123",
        "operation": "run",
        "request": {
            "input": {"prompt": 'it\'s a "quote"', "flag": True, "none": None},
            "s3Config": {
                "accessId": "id",
                "accessSecret": SECRET,
                "bucketName": "b",
                "endpointUrl": "https://s3.test",
            },
        },
        "submitted_at": 1_700_000_000.0,
        "state": JobState.COMPLETED,
        "job_id": "job-1",
        "output": {"text": ["hi"]},
    }
    values.update(changes)
    return JobRecord(**values)


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        _Recorder.received.append((self.path, dict(self.headers), body))
        payload = b'{"id": "x", "status": "IN_QUEUE"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.received = []
    httpd = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v2"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _expected_body() -> dict[str, Any]:
    body = _record().request
    body["s3Config"]["accessSecret"] = REDACTED
    return body


def test_request_url_follows_the_target_kind() -> None:
    record = _record(operation="runsync")
    assert request_url(record) == "https://api.runpod.ai/v2/abc123/runsync"
    local = Target(name="w", kind="local", base_url="http://localhost:8000")
    assert request_url(record, local) == "http://localhost:8000/runsync"


def test_snippets_never_hold_secrets_and_say_what_was_redacted() -> None:
    for text in (curl_snippet(_record()), python_snippet(_record())):
        assert SECRET not in text
        assert REDACTED in text
        assert "were secrets" in text
        assert "RUNPOD_API_KEY" in text


def test_python_snippet_sends_the_same_request(server: str, tmp_path: Path) -> None:
    target = Target(name="Sandbox", kind="sandbox", base_url=server, endpoint_id="sandbox")
    script = tmp_path / "snippet.py"
    script.write_text(python_snippet(_record(), target))
    env = {"RUNPOD_API_KEY": "key-from-env", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "IN_QUEUE" in result.stdout
    path, headers, body = _Recorder.received[0]
    assert path == "/v2/sandbox/run"
    assert headers["Authorization"] == "Bearer key-from-env"
    assert body == _expected_body()


def test_python_snippet_for_a_local_worker_has_no_key() -> None:
    target = Target(name="w", kind="local", base_url="http://localhost:8000")
    text = python_snippet(_record(), target)
    assert "Authorization" not in text and "import os" not in text
    compile(text, "snippet", "exec")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_snippet_sends_the_same_request(server: str) -> None:
    target = Target(name="Sandbox", kind="sandbox", base_url=server, endpoint_id="sandbox")
    command = curl_snippet(_record(), target)
    env = {"RUNPOD_API_KEY": "key-from-env", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        ["sh", "-c", command], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    path, headers, body = _Recorder.received[0]
    assert path == "/v2/sandbox/run"
    assert headers["Authorization"] == "Bearer key-from-env"
    assert body == _expected_body()


def test_export_json_and_csv_round_trip_without_secrets(tmp_path: Path) -> None:
    failed = _record(local_id="L2", state=JobState.FAILED, output=None, error="boom")
    records = [_record(), failed]
    json_path, csv_path = tmp_path / "jobs.json", tmp_path / "jobs.csv"
    export_json(records, json_path)
    export_csv(records, csv_path)
    for path in (json_path, csv_path):
        assert SECRET not in path.read_text()
    data = json.loads(json_path.read_text())
    assert [item["local_id"] for item in data] == ["L1", "L2"]
    assert data[0]["request"] == _expected_body()
    assert data[0]["submitted_at"].startswith("2023-11-14T22:13:20")
    with csv_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert json.loads(rows[0]["output"]) == {"text": ["hi"]}
    assert rows[1]["state"] == "FAILED" and rows[1]["error"] == "boom" and rows[1]["output"] == ""


def test_a_big_file_stays_a_reference_and_a_small_one_is_written_out(
    server: str, tmp_path: Path
) -> None:
    import base64

    image = bytes(range(256)) * 400  # 136 KB of base64: over INLINE_FILE_CHARS
    (tmp_path / "cat.png").write_bytes(image)
    encoded = base64.b64encode(image).decode()
    template = {"input": {"image": "{{file:cat.png}}", "note": "{{file:note.txt|text}}"}}
    sent = {"input": {"image": encoded, "note": "small"}, "s3Config": {"accessSecret": SECRET}}
    origin = {"body": template, "file": str(tmp_path / "t.json"), "variables": {}}
    record = _record(request=sent, origin=origin)
    target = Target(name="Sandbox", kind="sandbox", base_url=server, endpoint_id="sandbox")
    curl = curl_snippet(record, target)
    assert encoded not in curl and SECRET not in curl
    assert f"{{{{file:{tmp_path / 'cat.png'}|base64}}}}" in curl
    assert f"# input.image was the file {tmp_path / 'cat.png'} in base64" in curl
    assert '"note": "small"' in curl
    script = tmp_path / "snippet.py"
    script.write_text(python_snippet(record, target))
    assert encoded not in script.read_text()
    env = {"RUNPOD_API_KEY": "key-from-env", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    _, _, body = _Recorder.received[0]
    assert body["input"] == {"image": encoded, "note": "small"}
    assert body["s3Config"]["accessSecret"] == REDACTED
