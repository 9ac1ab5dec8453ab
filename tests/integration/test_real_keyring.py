"""Secrets through a REAL Secret Service (gnome-keyring on a private D-Bus), and nowhere else.

A child process runs under ``dbus-run-session`` with ``gnome-keyring-daemon --unlock
--components=secrets``. Through the real CLI it stores a random API key and a random S3 secret
(``profile add --api-key-stdin``, ``profile s3 add --secret-stdin``), then submits jobs with
``job-console run --profile`` to a sandbox that requires that key, one with an ``s3Config``
reference. Then every file under the data folder and everything the app printed is searched for
each secret: none may be found. The secrets come to the child on stdin, never as arguments or files.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
DRIVER = Path(__file__).parent / "workers" / "keyring_driver.py"
TOOLS = ("dbus-run-session", "gnome-keyring-daemon")


@pytest.fixture
def keyring_session_env(tmp_path: Path, data_dir: Path) -> dict[str, str]:
    """An environment whose keyring daemon, D-Bus and caches live in this test's temp folder."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (Debian: dbus, gnome-keyring)")
    env = dict(os.environ)
    for name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "HOME"):
        folder = tmp_path / name.lower()
        folder.mkdir(mode=0o700)
        env[name] = str(folder)
    env["JOB_CONSOLE_HOME"] = str(data_dir)
    # conftest points children at keyring's fail backend; this one must use the real service.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.SecretService.Keyring"
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _run_driver(env: dict[str, str], given: dict[str, str]) -> dict[str, Any]:
    # gnome-keyring creates (and unlocks) the "login" collection only for a non-empty password;
    # with an empty one there is no default collection and every store is refused.
    script = (
        'printf %s "$UNLOCK_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets '
        f">/dev/null && exec {sys.executable} {DRIVER}"
    )
    env = {**env, "UNLOCK_PASSWORD": secrets.token_hex(8)}
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert result.returncode == 0, f"driver failed:\n{result.stdout}\n{result.stderr}"
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    report["driver_stderr"] = result.stderr
    return report


def test_secrets_live_only_in_the_real_keyring(
    keyring_session_env: dict[str, str], data_dir: Path
) -> None:
    api_key = "rk-" + secrets.token_urlsafe(24)
    s3_secret = "s3-" + secrets.token_urlsafe(24)
    report = _run_driver(keyring_session_env, {"api_key": api_key, "s3_secret": s3_secret})
    steps = {step["name"]: step for step in report["steps"]}

    # The keys went to the Secret Service, and the app said so.
    assert report["backend"] == "keyring.backends.SecretService.Keyring"
    assert report["stored"] == {"api-key:gated": True, "s3:team": True}
    assert "SecretService" in steps["add gated"]["stdout"], steps["add gated"]
    listed = json.loads(steps["list"]["stdout"])
    assert listed["secureKeyring"] is True
    assert {row["name"]: row["key"] for row in listed["profiles"]}["gated"] == "keyring"

    # The sandbox requires the key: with it the jobs complete, without it they are refused.
    for name in ("run plain", "run s3"):
        assert steps[name]["code"] == 0, steps[name]
        assert json.loads(steps[name]["stdout"])["status"] == "COMPLETED"
    assert steps["run without key"]["code"] == 3, steps["run without key"]
    # A reference whose secret is missing stops the request before it leaves, and says why.
    missing = steps["run missing s3 set"]
    assert missing["code"] != 0
    assert "nowhere" in missing["stdout"] + missing["stderr"]

    # Nothing the app wrote or printed holds a secret.
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.name.startswith("jobs.sqlite3") for path in files), files
    assert (data_dir / "profiles.json").exists()
    printed = "".join(step["stdout"] + step["stderr"] for step in report["steps"])
    printed += report["sandbox_stderr"] + report["driver_stderr"]
    for secret in (api_key, s3_secret):
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"a secret is in {path}"
        assert secret not in printed
