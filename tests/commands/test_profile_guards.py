"""Spend guards per profile: set with ``job-console profile set-guard`` (each guard on its own,
``off`` for one, ``--off`` for all), stored in profiles.json with the profile (the built-in
sandbox's too), shown by ``profile list``, carried by a rename and dropped with the profile; a bad
value is refused in words and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui.cli import main
from gui.core.account.guards import SpendGuards, parse_duration
from gui.core.profiles.profiles import Profile, ProfileStore


def test_set_guard_list_and_turn_off(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    assert main(["profile", "add", "prod", "--endpoint", "e1"]) == 0
    assert main(["profile", "set-guard", "prod", "--max-retries", "3",
                 "--start-within", "10m"]) == 0  # fmt: skip
    assert main(["profile", "set-guard", "prod", "--finish-within", "1h30m"]) == 0
    out = capsys.readouterr().out
    assert ("Spend guards of 'prod': cancel after 3 retries, if not started within 10 min, "
            "if not ended within 1 h 30 min.") in out  # fmt: skip
    stored = json.loads((data_dir / "profiles.json").read_text())
    assert stored["guards"] == {"prod": {"maxRetries": 3, "startWithinS": 600.0,
                                         "finishWithinS": 5400.0}}  # fmt: skip

    assert main(["profile", "list"]) == 0
    listed = capsys.readouterr().out
    assert "(guards: cancel after 3 retries, if not started within 10 min" in listed
    assert main(["profile", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["profiles"]}
    assert rows["prod"]["guards"]["maxRetries"] == 3 and rows["Sandbox"]["guarded"] == "off"

    assert main(["profile", "set-guard", "prod", "--max-retries", "off"]) == 0
    assert ProfileStore(data_dir).guards("prod") == SpendGuards(None, 600.0, 5400.0)
    assert main(["profile", "set-guard", "prod", "--off"]) == 0
    assert json.loads((data_dir / "profiles.json").read_text())["guards"] == {}
    assert ProfileStore(data_dir).guards("prod") == SpendGuards()


def test_the_sandbox_has_guards_too_and_a_rename_carries_them(data_dir: Path) -> None:
    assert main(["profile", "set-guard", "Sandbox", "--max-retries", "0"]) == 0
    store = ProfileStore(data_dir)
    assert store.guards("Sandbox").max_retries == 0
    store.add(Profile("prod", "cloud", endpoint_id="e1"))
    store.set_guards("prod", SpendGuards(start_within_s=30))
    store.replace("prod", Profile("live", "cloud", endpoint_id="e1"))
    assert store.guards("live") == SpendGuards(start_within_s=30)
    store.remove("live")
    assert "live" not in json.loads((data_dir / "profiles.json").read_text())["guards"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--max-retries", "many"], "give a whole number"),
        (["--max-retries", "-1"], "max retries must be 0 to 1000"),
        (["--start-within", "soon"], "is not a duration: write seconds or a number with s, m"),
        (["--finish-within", "8d"], "at most 7 days"),
        ([], "name a guard to set"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_saved(
    capsys: pytest.CaptureFixture[str], data_dir: Path, argv: list[str], words: str
) -> None:
    assert main(["profile", "set-guard", "Sandbox", *argv]) == 2
    assert words in capsys.readouterr().err
    assert not (data_dir / "profiles.json").exists()


def test_durations() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("90s") == 90
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d") == 172800
    assert parse_duration("1.5 h") == 5400
