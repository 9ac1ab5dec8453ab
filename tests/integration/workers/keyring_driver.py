"""Runs inside a private D-Bus session with gnome-keyring (see ``test_real_keyring.py``).

Reads ``{"api_key": ..., "s3_secret": ...}`` on stdin, drives the real CLI, and prints one JSON
line: each step's exit code and output, the sandbox's request log, and whether the Secret Service
holds each secret (compared here, never printed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import keyring

SERVICE = "runpod-job-console"
APP = [sys.executable, "-m", "gui"]
PLAIN = {"input": {"prompt": "hello keyring"}}
S3 = {
    "accessId": "AKIA-TEST",
    "accessSecret": "keyring:s3/team",
    "bucketName": "bucket",
    "endpointUrl": "https://s3.example.test",
}


def _step(steps: list[dict[str, Any]], name: str, args: list[str], stdin: str = "") -> None:
    result = subprocess.run(
        [*APP, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )
    steps.append(
        {"name": name, "code": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
    )


def main() -> int:
    given = json.loads(sys.stdin.read())
    api_key, s3_secret = given["api_key"], given["s3_secret"]
    sandbox = subprocess.Popen(
        [*APP, "sandbox", "--port", "0", "--api-key", api_key, "--duration", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    steps: list[dict[str, Any]] = []
    try:
        assert sandbox.stdout is not None
        first = sandbox.stdout.readline().strip()
        prefix = "Sandbox listening on "
        assert first.startswith(prefix), first
        base_url = first[len(prefix) :]
        with tempfile.TemporaryDirectory() as folder:
            requests = Path(folder)
            plain, with_s3, missing = (requests / n for n in ("plain", "s3", "missing"))
            plain.write_text(json.dumps(PLAIN))
            with_s3.write_text(json.dumps({**PLAIN, "s3Config": S3}))
            gone = {**S3, "accessSecret": "keyring:s3/nowhere"}
            missing.write_text(json.dumps({**PLAIN, "s3Config": gone}))
            _drive(steps, base_url, api_key, s3_secret, plain, with_s3, missing)
    finally:
        sandbox.terminate()
        _out, sandbox_stderr = sandbox.communicate(timeout=30)
    stored = {
        name: keyring.get_password(SERVICE, name) == value
        for name, value in (("api-key:gated", api_key), ("s3:team", s3_secret))
    }
    backend = type(keyring.get_keyring())
    report = {
        "steps": steps,
        "sandbox_stderr": sandbox_stderr,
        "stored": stored,
        "backend": f"{backend.__module__}.{backend.__name__}",
        "data_dir": os.environ.get("JOB_CONSOLE_HOME"),
    }
    print(json.dumps(report))
    return 0


def _drive(
    steps: list[dict[str, Any]],
    base_url: str,
    api_key: str,
    s3_secret: str,
    plain: Path,
    with_s3: Path,
    missing: Path,
) -> None:
    add = ["profile", "add", "gated", "--endpoint", "ep1", "--base-url", base_url]
    _step(steps, "add gated", [*add, "--api-key-stdin"], stdin=api_key + "\n")
    _step(steps, "add open", ["profile", "add", "open", *add[3:]])
    s3_add = ["profile", "s3", "add", "team", "--access-id", "AKIA-TEST", "--bucket", "bucket"]
    s3_add += ["--endpoint-url", "https://s3.example.test", "--secret-stdin"]
    _step(steps, "add s3 set", s3_add, stdin=s3_secret)
    _step(steps, "list", ["profile", "list", "--json"])
    _step(steps, "run plain", ["run", str(plain), "--profile", "gated"])
    _step(steps, "run s3", ["run", str(with_s3), "--profile", "gated"])
    _step(steps, "run without key", ["run", str(plain), "--profile", "open"])
    _step(steps, "run missing s3 set", ["run", str(missing), "--profile", "gated"])


if __name__ == "__main__":
    sys.exit(main())
