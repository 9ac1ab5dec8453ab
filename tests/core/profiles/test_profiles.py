"""ProfileStore over a real profiles.json, S3 credential sets and references, key providers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gui.core.errors import ProfileError, ProfileNotFound, SecretUnavailable
from gui.core.limits import DEFAULT_BASE_URL
from gui.core.profiles.profiles import (
    Profile,
    ProfileStore,
    find_worker_python,
    make_key_provider,
    missing_module_message,
    resolve_profile,
    worker_command,
    worker_python,
)
from gui.core.profiles.s3refs import (
    S3CredentialSet,
    make_body_resolver,
    resolve_secret_references,
)
from gui.core.profiles.secrets import ACCOUNT_KEY_NAME, SERVICE, SecretStore, api_key_name
from gui.core.targets import SANDBOX_PROFILE, Target
from tests.support.memory_keyring import MemoryKeyring

PROD = Profile("prod", "cloud", endpoint_id="abc123")


@pytest.fixture
def secrets() -> SecretStore:
    return SecretStore()


@pytest.fixture
def store(data_dir: Path, secrets: SecretStore) -> ProfileStore:
    return ProfileStore(data_dir, secrets)


def test_the_sandbox_is_always_there_first_and_cannot_be_changed(store: ProfileStore) -> None:
    assert store.names() == [SANDBOX_PROFILE]
    store.add(PROD)
    assert store.names() == [SANDBOX_PROFILE, "prod"]
    sandbox = store.get(SANDBOX_PROFILE)
    assert sandbox.to_target() == Target(SANDBOX_PROFILE, "sandbox", "", "sandbox")
    assert sandbox.to_target("http://127.0.0.1:9/v2").base_url == "http://127.0.0.1:9/v2"
    for attempt in (
        lambda: store.remove(SANDBOX_PROFILE),
        lambda: store.replace(SANDBOX_PROFILE, PROD),
        lambda: store.duplicate(SANDBOX_PROFILE),
        lambda: store.add(Profile("sandbox", "cloud", endpoint_id="x")),
        lambda: store.add(Profile("other", "sandbox")),
    ):
        with pytest.raises(ProfileError):
            attempt()


def test_targets_of_each_kind(store: ProfileStore) -> None:
    store.add(PROD)
    store.add(Profile("staging", "cloud", endpoint_id="e2", base_url="http://127.0.0.1:5/v2/"))
    store.add(Profile("mine", "local", handler="/w/handler.py"))
    store.add(Profile("running", "local", base_url="http://127.0.0.1:8123"))
    assert store.get("prod").to_target().endpoint_url == f"{DEFAULT_BASE_URL}/abc123"
    assert store.get("staging").to_target().endpoint_url == "http://127.0.0.1:5/v2/e2"
    mine = store.get("mine").to_target()
    assert (mine.kind, mine.endpoint_url) == ("local", "http://127.0.0.1:8000")
    assert not mine.supports_cancel_retry_health
    assert store.get("mine").needs_launch and not store.get("running").needs_launch
    assert store.get("running").to_target().endpoint_url == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("profile", "complaint"),
    [
        (Profile("prod", "cloud"), "endpoint id"),
        (Profile("prod", "cloud", endpoint_id="a/b"), "endpoint id"),
        (Profile("prod", "cloud", endpoint_id="e", base_url="ftp://x"), "not an http(s) URL"),
        (Profile("account", "cloud", endpoint_id="e"), "reserved"),
        (Profile(" padded", "cloud", endpoint_id="e"), "outer spaces"),
        (Profile("", "cloud", endpoint_id="e"), "needs a name"),
        (Profile("w", "local"), "handler file or a worker URL"),
        (Profile("w", "local", handler="h.py", port=70000), "out of range"),
    ],
)
def test_invalid_profiles_are_refused_with_a_reason(
    store: ProfileStore, profile: Profile, complaint: str
) -> None:
    with pytest.raises(ProfileError) as caught:
        store.add(profile)
    assert complaint in str(caught.value)
    assert not store.path.exists()


def test_names_are_unique(store: ProfileStore) -> None:
    store.add(PROD)
    with pytest.raises(ProfileError, match="already exists"):
        store.add(PROD)


def test_rename_remove_and_duplicate_carry_the_key(
    store: ProfileStore, secrets: SecretStore, memory_keyring: MemoryKeyring
) -> None:
    store.add(PROD)
    secrets.set(api_key_name("prod"), "k-prod")
    store.replace("prod", Profile("production", "cloud", endpoint_id="abc123"))
    assert store.names() == [SANDBOX_PROFILE, "production"]
    assert secrets.get(api_key_name("production")) == "k-prod"
    assert secrets.get(api_key_name("prod")) is None
    first = store.duplicate("production")
    second = store.duplicate("production")
    assert (first.name, second.name) == ("production copy", "production copy 2")
    assert secrets.get(api_key_name("production copy")) == "k-prod"
    store.remove("production")
    assert (SERVICE, api_key_name("production")) not in memory_keyring.entries
    store.replace("production copy 2", Profile("production copy 2", "local", handler="h.py"))
    assert secrets.get(api_key_name("production copy 2")) is None
    with pytest.raises(ProfileNotFound, match="Known profiles: Sandbox, production copy"):
        store.get("production")


def test_profiles_json_holds_no_secret(store: ProfileStore, secrets: SecretStore) -> None:
    store.add(PROD)
    secrets.set(api_key_name("prod"), "very-secret-api-key")
    secrets.set(ACCOUNT_KEY_NAME, "very-secret-account-key")
    store.save_s3_set(S3CredentialSet("team", "AKIA1", "bucket", "https://s3.test"), "s3-secret!")
    text = store.path.read_text()
    for secret in ("very-secret-api-key", "very-secret-account-key", "s3-secret!"):
        assert secret not in text
    saved = json.loads(text)
    assert saved["profiles"] == [{"name": "prod", "kind": "cloud", "endpointId": "abc123"}]
    assert saved["s3CredentialSets"]["team"]["accessId"] == "AKIA1"


def test_a_broken_file_is_reported_and_never_overwritten(store: ProfileStore) -> None:
    store.path.write_text("{ not json")
    with pytest.raises(ProfileError, match="will not overwrite it"):
        store.add(PROD)
    assert store.path.read_text() == "{ not json"


def test_damaged_entries_are_skipped(store: ProfileStore) -> None:
    store.add(PROD)
    data = json.loads(store.path.read_text())
    data["profiles"].insert(0, {"name": "odd", "kind": "teleport"})
    data["profiles"].append("not even an object")
    store.path.write_text(json.dumps(data))
    assert store.names() == [SANDBOX_PROFILE, "prod"]


def test_changes_by_another_writer_are_seen(data_dir: Path, store: ProfileStore) -> None:
    assert store.names() == [SANDBOX_PROFILE]
    ProfileStore(data_dir).add(PROD)
    assert store.names() == [SANDBOX_PROFILE, "prod"]


def test_key_provider_and_resolve_profile(
    data_dir: Path, store: ProfileStore, secrets: SecretStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(PROD)
    store.add(Profile("shared", "cloud", endpoint_id="e2", use_account_key=True))
    secrets.set(api_key_name("prod"), "k-prod")
    secrets.set(api_key_name("shared"), "k-shared-own")
    secrets.set(ACCOUNT_KEY_NAME, "k-account")
    provide = make_key_provider(store, secrets)
    assert provide(store.get("prod").to_target()) == "k-prod"
    assert provide(store.get("shared").to_target()) == "k-account"
    assert provide(Target("gone", "cloud", endpoint_id="x")) == "k-account"
    target, provider = resolve_profile(data_dir, "prod", secrets)
    assert target == Target("prod", "cloud", DEFAULT_BASE_URL, "abc123")
    assert provider(target) == "k-prod"
    sandbox, _ = resolve_profile(data_dir, None, secrets)
    assert sandbox.kind == "sandbox"
    with pytest.raises(ProfileNotFound):
        resolve_profile(data_dir, "nope", secrets)


def test_worker_command_serves_the_handler_on_loopback() -> None:
    profile = Profile("w", "local", handler="/w/handler.py", port=8123)
    assert worker_command(profile) == [
        sys.executable,
        "/w/handler.py",
        "--rp_serve_api",
        "--rp_api_host",
        "127.0.0.1",
        "--rp_api_port",
        "8123",
    ]
    assert worker_command(profile, 9000)[-1] == "9000"
    with pytest.raises(ProfileError):
        worker_command(Profile("u", "local", base_url="http://127.0.0.1:1"))


def _venv_python(folder: Path, name: str = ".venv") -> Path:
    python = folder / name / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    return python


def test_the_workers_python_is_found_beside_its_handler_or_above(tmp_path: Path) -> None:
    project = tmp_path / "project"
    handler = project / "src" / "worker" / "handler.py"
    handler.parent.mkdir(parents=True)
    handler.write_text("")
    assert find_worker_python(handler) is None
    above = _venv_python(project, "venv")
    assert find_worker_python(handler) == above
    beside = _venv_python(handler.parent)
    assert find_worker_python(handler) == beside  # the nearest wins
    assert find_worker_python(str(handler)) == beside


def test_the_worker_runs_on_the_python_its_profile_names_else_the_one_found(
    tmp_path: Path,
) -> None:
    handler = tmp_path / "handler.py"
    handler.write_text("")
    bare = Profile("w", "local", handler=str(handler))
    assert worker_python(bare) == sys.executable  # nothing found: the console's own
    found = _venv_python(tmp_path)
    assert worker_python(bare) == str(found)
    assert worker_command(bare)[0] == str(found)
    named = Profile("w", "local", handler=str(handler), python="/opt/worker/bin/python")
    assert worker_python(named) == "/opt/worker/bin/python"
    assert worker_command(named)[:2] == ["/opt/worker/bin/python", str(handler)]


def test_the_workers_python_is_kept_in_profiles_json_and_old_files_still_load(
    data_dir: Path, store: ProfileStore
) -> None:
    # A file written before profiles named their Python.
    old = {"version": 1, "profiles": [{"name": "old", "kind": "local", "handler": "/w/h.py"}]}
    (data_dir / "profiles.json").write_text(json.dumps(old))
    assert store.get("old") == Profile("old", "local", handler="/w/h.py")
    store.add(Profile("new", "local", handler="/w/h.py", python="/w/.venv/bin/python"))
    saved = json.loads((data_dir / "profiles.json").read_text())["profiles"]
    assert saved[0] == old["profiles"][0]  # no empty field added to the old entry
    assert saved[1]["python"] == "/w/.venv/bin/python"
    assert ProfileStore(data_dir).get("new").python == "/w/.venv/bin/python"


def test_a_missing_module_message_says_how_to_install_it_into_that_python() -> None:
    message = missing_module_message("/w/.venv/bin/python")
    assert "has no runpod package" in message
    assert "/w/.venv/bin/python -m pip install runpod" in message
    spaced = missing_module_message("/my worker/.venv/bin/python", "torch")
    assert "no module named 'torch'" in spaced
    assert "'/my worker/.venv/bin/python' -m pip install -r requirements.txt" in spaced


# -- S3 credential sets and references ---------------------------------------------------------

TEAM = S3CredentialSet("team", "AKIA1", "bucket", "https://s3.test", "out/")


def test_credential_sets_round_trip(store: ProfileStore, secrets: SecretStore) -> None:
    store.save_s3_set(TEAM, "s3-secret")
    assert store.s3_sets() == [TEAM]
    assert store.get_s3_set("team") == TEAM
    assert secrets.get("s3:team") == "s3-secret"
    with pytest.raises(ProfileError, match="access id"):
        store.save_s3_set(S3CredentialSet("x", "", "b", "https://s3"))
    with pytest.raises(ValueError):
        store.save_s3_set(S3CredentialSet("bad/name", "a", "b", "https://s3"))
    store.remove_s3_set("team")
    assert store.s3_sets() == []
    assert secrets.get("s3:team") is None


def test_a_reference_is_resolved_only_in_the_copy_that_is_sent(
    store: ProfileStore, secrets: SecretStore
) -> None:
    store.save_s3_set(TEAM, "s3-secret")
    body = {"input": {"x": 1}, "s3Config": TEAM.to_s3_config()}
    assert body["s3Config"]["accessSecret"] == "keyring:s3/team"
    assert body["s3Config"]["objectPath"] == "out/"
    sent = resolve_secret_references(body, secrets)
    assert sent["s3Config"]["accessSecret"] == "s3-secret"
    assert make_body_resolver(secrets)(body) == sent
    assert body["s3Config"]["accessSecret"] == "keyring:s3/team"


def test_a_missing_secret_is_named_clearly(secrets: SecretStore) -> None:
    body = {"input": {}, "s3Config": {**TEAM.to_s3_config()}}
    with pytest.raises(SecretUnavailable, match="credential set 'team'"):
        resolve_secret_references(body, secrets)
