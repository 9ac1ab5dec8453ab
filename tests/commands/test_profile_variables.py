"""Profile variables: stored per profile in profiles.json (never a secret), set and removed with
``job-console profile set-var``/``unset-var``, carried by renames and dropped with the profile."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from gui.cli import main
from gui.core.errors import ProfileError
from gui.core.profiles.profiles import Profile, ProfileStore
from gui.core.profiles.secrets import SecretStore
from tests.support.memory_keyring import MemoryKeyring

KEY = "rpa_" + "ABCDEFGHIJKLMNOPQRSTUVWX0123"  # split: no credential-shaped literal


def test_set_list_and_unset_from_the_command_line(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    assert main(["profile", "set-var", "Sandbox", "style", "watercolour"]) == 0
    assert main(["profile", "set-var", "Sandbox", "steps", "30"]) == 0
    assert main(["profile", "vars", "Sandbox", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"style": "watercolour", "steps": "30"}
    stored = json.loads((data_dir / "profiles.json").read_text())
    assert stored["variables"] == {"Sandbox": {"style": "watercolour", "steps": "30"}}
    assert main(["profile", "unset-var", "Sandbox", "style"]) == 0
    assert main(["profile", "vars", "Sandbox"]) == 0
    assert capsys.readouterr().out == "steps=30\n"
    assert main(["profile", "unset-var", "Sandbox", "style"]) == 2
    assert "has no variable 'style' (it has: steps)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("apiKey", "x", "looks like a secret"),
        ("seed", KEY, "looks like a secret"),
        ("s3", "keyring:s3/prod", "looks like a secret"),
        ("two words", "x", "can't be a variable name"),
    ],
)
def test_secrets_and_bad_names_are_refused_and_nothing_is_saved(
    capsys: pytest.CaptureFixture[str], data_dir: Path, name: str, value: str, reason: str
) -> None:
    assert main(["profile", "set-var", "Sandbox", name, value]) == 2
    assert reason in capsys.readouterr().err
    assert not (data_dir / "profiles.json").exists()


def test_a_value_holding_a_key_of_the_keyring_is_refused(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, data_dir: Path
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("plainlookingkey123\n"))
    assert main(["profile", "add", "prod", "--endpoint", "e1", "--api-key-stdin"]) == 0
    store = ProfileStore(data_dir, SecretStore())
    with pytest.raises(ProfileError, match="holds an API key kept in the keyring"):
        store.set_variable("prod", "note", "use plainlookingkey123 here")
    assert store.variables("prod") == {}


def test_variables_follow_a_rename_and_go_with_the_profile(data_dir: Path) -> None:
    store = ProfileStore(data_dir)
    store.add(Profile("prod", "cloud", endpoint_id="e1"))
    store.set_variables("prod", {"a": "1", "b": "2"})
    store.replace("prod", Profile("live", "cloud", endpoint_id="e1"))
    assert store.variables("live") == {"a": "1", "b": "2"}
    assert store.variables("prod") == {}
    store.remove("live")
    assert json.loads((data_dir / "profiles.json").read_text())["variables"] == {}
