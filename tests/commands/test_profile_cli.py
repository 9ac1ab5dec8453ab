"""``job-console profile``: keys from stdin or a hidden prompt only; ``test`` over loopback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from gui.cli import main
from gui.core.profiles.secrets import SERVICE
from tests.support.fake_endpoint import GOOD_KEY, fake_endpoint_url
from tests.support.memory_keyring import MemoryKeyring


@pytest.fixture
def endpoint_url() -> Iterator[str]:
    with fake_endpoint_url() as url:
        yield url


def _run(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["profile", *argv])


def test_add_with_key_from_stdin_then_list(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    data_dir: Path,
) -> None:
    add = ["add", "prod", "--endpoint", "e1", "--api-key-stdin"]
    assert _run(monkeypatch, *add, stdin="k1\n") == 0
    assert memory_keyring.entries == {(SERVICE, "api-key:prod"): "k1"}
    assert "k1" not in (data_dir / "profiles.json").read_text()
    capsys.readouterr()
    assert _run(monkeypatch, "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in listed["profiles"]] == ["Sandbox", "prod"]
    assert listed["profiles"][1]["key"] == "keyring"
    assert "k1" not in json.dumps(listed)


def test_a_key_is_never_taken_from_an_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SystemExit) as caught:
        _run(monkeypatch, "add", "prod", "--endpoint", "e1", "--api-key", "k1")
    assert caught.value.code == 2


def test_a_terminal_gets_a_hidden_prompt(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return "typed-key"

    stdin = io.StringIO("")
    monkeypatch.setattr(stdin, "isatty", lambda: True)
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr("getpass.getpass", fake_getpass)
    assert main(["profile", "add", "prod", "--endpoint", "e1"]) == 0
    assert prompts and "prod" in prompts[0]
    assert memory_keyring.entries[(SERVICE, "api-key:prod")] == "typed-key"


def test_no_secure_keyring_refuses_a_key_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    data_dir: Path,
) -> None:
    keyring.set_keyring(fail.Keyring())
    add = ["add", "prod", "--endpoint", "e1", "--api-key-stdin"]
    assert _run(monkeypatch, *add, stdin="k9") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "job-console profile: the API key of 'prod' can't be kept: no secure keyring is "
        "available (backend: "
    )
    assert "Nothing was changed." in captured.err and "RUNPOD_API_KEY" in captured.err
    assert memory_keyring.entries == {}
    assert "k9" not in "".join(p.read_text() for p in data_dir.rglob("*") if p.is_file())
    assert _run(monkeypatch, "list", "--json") == 0
    assert [row["name"] for row in json.loads(capsys.readouterr().out)["profiles"]] == ["Sandbox"]
    # Once a keyring is there, the same command works: nothing half-done stands in its way.
    keyring.set_keyring(memory_keyring)
    assert _run(monkeypatch, *add, stdin="k9") == 0
    assert memory_keyring.entries == {(SERVICE, "api-key:prod"): "k9"}


def test_no_secure_keyring_refuses_set_key_and_s3_secrets(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
) -> None:
    assert _run(monkeypatch, "add", "prod", "--endpoint", "e1") == 0
    keyring.set_keyring(fail.Keyring())
    capsys.readouterr()
    assert _run(monkeypatch, "set-key", "prod", "--api-key-stdin", stdin="k2") == 1
    assert "the key of 'prod' can't be kept" in capsys.readouterr().err
    s3_add = ["s3", "add", "team", "--access-id", "AK", "--bucket", "b"]
    s3_add += ["--endpoint-url", "https://s3.test", "--secret-stdin"]
    assert _run(monkeypatch, *s3_add, stdin="s3-secret") == 1
    captured = capsys.readouterr()
    assert "Saved" not in captured.out
    assert "the accessSecret of the S3 credential set 'team' can't be kept" in captured.err
    assert _run(monkeypatch, "s3", "list") == 0
    assert "team" not in capsys.readouterr().out
    assert "s3-secret" not in "".join(p.read_text() for p in data_dir.rglob("*") if p.is_file())


def test_the_real_entry_point_refuses_a_key_without_a_keyring(data_dir: Path) -> None:
    # conftest points subprocesses at keyring's fail backend: no secure keyring there.
    result = subprocess.run(
        [sys.executable, "-m", "gui", "profile", "add", "p", "--endpoint", "e1", "--api-key-stdin"],
        input="k7\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "can't be kept: no secure keyring is available" in result.stderr
    assert "Traceback" not in result.stderr and "k7" not in result.stdout + result.stderr


def test_test_says_plainly_what_happened(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], endpoint_url: str
) -> None:
    for name, endpoint, url, key in [
        ("good", "e1", endpoint_url, GOOD_KEY),
        ("badkey", "e1", endpoint_url, "wrong-key"),
        ("unknown", "e2", endpoint_url, GOOD_KEY),
        ("down", "e1", "http://127.0.0.1:9/v2", GOOD_KEY),
    ]:
        args = ["add", name, "--endpoint", endpoint, "--base-url", url, "--api-key-stdin"]
        assert _run(monkeypatch, *args, stdin=key) == 0
    capsys.readouterr()
    outcomes = {}
    for name in ("good", "badkey", "unknown", "down"):
        code = _run(monkeypatch, "test", name)
        outcomes[name] = (code, capsys.readouterr().out)
    assert outcomes["good"][0] == 0 and "Connected: workers 3 idle" in outcomes["good"][1]
    assert outcomes["badkey"][0] == 3 and "API key was refused (401)" in outcomes["badkey"][1]
    assert outcomes["unknown"][0] == 3 and "Unknown endpoint (404)" in outcomes["unknown"][1]
    assert outcomes["down"][0] == 3 and "Unreachable" in outcomes["down"][1]
    assert not any("wrong-key" in out or GOOD_KEY in out for _code, out in outcomes.values())


def test_an_unreachable_local_worker_gets_a_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(monkeypatch, "add", "w", "--kind", "local", "--url", "http://127.0.0.1:9") == 0
    capsys.readouterr()
    assert _run(monkeypatch, "test", "w") == 3
    assert "Is the worker running?" in capsys.readouterr().out


def test_remove_set_key_and_s3_sets(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    data_dir: Path,
) -> None:
    assert _run(monkeypatch, "add", "prod", "--endpoint", "e1") == 0
    assert _run(monkeypatch, "set-key", "prod", "--api-key-stdin", stdin="k2") == 0
    assert _run(monkeypatch, "set-key", "--account", "--api-key-stdin", stdin="acct") == 0
    assert memory_keyring.entries[(SERVICE, "api-key:account")] == "acct"
    s3_add = ["s3", "add", "team", "--access-id", "AK", "--bucket", "b"]
    s3_add += ["--endpoint-url", "https://s3.test", "--secret-stdin"]
    assert _run(monkeypatch, *s3_add, stdin="s3s") == 0
    assert memory_keyring.entries[(SERVICE, "s3:team")] == "s3s"
    assert "keyring:s3/team" in capsys.readouterr().out
    assert _run(monkeypatch, "remove", "prod") == 0
    assert _run(monkeypatch, "s3", "remove", "team") == 0
    assert memory_keyring.entries == {(SERVICE, "api-key:account"): "acct"}
    assert _run(monkeypatch, "remove", "Sandbox") == 2
    assert "cannot be changed or removed" in capsys.readouterr().err
    assert _run(monkeypatch, "remove", "nope") == 2


def test_the_real_entry_point_warns_without_a_keyring(data_dir: Path) -> None:
    # conftest points subprocesses at keyring's fail backend: no secure keyring there.
    result = subprocess.run(
        [sys.executable, "-m", "gui", "profile", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Sandbox")
    assert "No secure keyring" in result.stderr
