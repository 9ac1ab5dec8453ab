"""SecretStore over a keyring backend; the memory-only session store when none is secure."""

from __future__ import annotations

from pathlib import Path

import keyring.backend
import pytest
from keyring.backends import chainer, fail, null
from keyring.errors import KeyringLocked

from gui.core.errors import SecretUnavailable
from gui.core.profiles.secrets import (
    ACCOUNT_KEY_NAME,
    KEY_SOURCE_ENV,
    KEY_SOURCE_KEYRING,
    KEY_SOURCE_NONE,
    KEY_SOURCE_SESSION,
    SERVICE,
    SecretStore,
    api_key_for,
    api_key_name,
    is_secure_backend,
)
from gui.core.targets import Target
from tests.support.memory_keyring import MemoryKeyring


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's file keyring: the name alone marks it as unsafe."""


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked(f"cannot store {password}")


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_secrets_go_to_the_keyring_under_the_service(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    assert store.secure
    store.set("api-key:prod", "k-123")
    assert memory_keyring.entries == {(SERVICE, "api-key:prod"): "k-123"}
    assert store.get("api-key:prod") == "k-123"
    store.delete("api-key:prod")
    assert store.get("api-key:prod") is None
    assert memory_keyring.entries == {}
    store.delete("api-key:prod")  # deleting what is not there is fine


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        SecretStore().set("api-key:prod", "")


@pytest.mark.parametrize(
    "backend",
    [fail.Keyring(), null.Keyring(), PlaintextKeyring()],
    ids=["fail", "null", "plaintext"],
)
def test_insecure_backends_keep_secrets_in_memory_only(
    backend: keyring.backend.KeyringBackend, data_dir: Path, memory_keyring: MemoryKeyring
) -> None:
    store = SecretStore(backend)
    assert not store.secure
    assert "No secure keyring" in store.warning and store.backend_name in store.warning
    store.set("api-key:prod", "session-only-key")
    assert store.get("api-key:prod") == "session-only-key"
    assert _files_under(data_dir) == []
    assert memory_keyring.entries == {}
    # A second store (a new session) knows nothing of it.
    assert SecretStore(backend).get("api-key:prod") is None
    store.delete("api-key:prod")
    assert store.get("api-key:prod") is None


def test_chainer_is_secure_only_with_a_secure_backend_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [fail.Keyring()])
    assert not is_secure_backend(chainer.ChainerBackend())
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [fail.Keyring(), MemoryKeyring()])
    assert is_secure_backend(chainer.ChainerBackend())


def test_keyring_errors_say_what_to_do_and_never_hold_the_secret() -> None:
    store = SecretStore(LockedKeyring())
    with pytest.raises(SecretUnavailable) as caught:
        store.set("api-key:prod", "the-secret-value")
    assert "Unlock the keyring" in str(caught.value)
    assert "the-secret-value" not in str(caught.value)
    with pytest.raises(SecretUnavailable):
        store.get("api-key:prod")


def test_reads_are_cached_briefly_and_writes_are_seen_at_once(
    memory_keyring: MemoryKeyring,
) -> None:
    cached = SecretStore(cache_seconds=3600)
    cached.set("listener-token", "one")
    memory_keyring.entries[(SERVICE, "listener-token")] = "changed elsewhere"
    assert cached.get("listener-token") == "one"  # cached
    cached.set("listener-token", "two")
    assert cached.get("listener-token") == "two"
    uncached = SecretStore(cache_seconds=0)
    memory_keyring.entries[(SERVICE, "listener-token")] = "three"
    assert uncached.get("listener-token") == "three"


def test_rename_moves_the_secret(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    store.set("api-key:old", "k")
    store.rename("api-key:old", "api-key:new")
    assert memory_keyring.entries == {(SERVICE, "api-key:new"): "k"}


def test_key_lookup_order(monkeypatch: pytest.MonkeyPatch) -> None:
    store = SecretStore()
    prod = Target("prod", "cloud", endpoint_id="e1")
    assert api_key_for(prod, store) == (None, KEY_SOURCE_NONE)
    monkeypatch.setenv("RUNPOD_API_KEY", "from-env")
    assert api_key_for(prod, store) == ("from-env", KEY_SOURCE_ENV)
    store.set(ACCOUNT_KEY_NAME, "account")
    assert api_key_for(prod, store) == ("account", KEY_SOURCE_KEYRING)
    store.set(api_key_name("prod"), "own")
    assert api_key_for(prod, store) == ("own", KEY_SOURCE_KEYRING)
    assert api_key_for(prod, store, account_key_first=True) == ("account", KEY_SOURCE_KEYRING)


def test_local_and_sandbox_never_get_the_account_or_environment_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNPOD_API_KEY", "from-env")
    store = SecretStore()
    store.set(ACCOUNT_KEY_NAME, "account")
    local = Target("worker", "local", base_url="http://127.0.0.1:8000")
    sandbox = Target("Sandbox", "sandbox", base_url="", endpoint_id="sandbox")
    assert api_key_for(local, store) == (None, KEY_SOURCE_NONE)
    assert api_key_for(sandbox, store) == (None, KEY_SOURCE_NONE)
    store.set(api_key_name("Sandbox"), "sandbox-key")
    assert api_key_for(sandbox, store) == ("sandbox-key", KEY_SOURCE_KEYRING)


def test_session_keys_report_their_source() -> None:
    store = SecretStore(fail.Keyring())
    store.set(api_key_name("prod"), "k")
    prod = Target("prod", "cloud", endpoint_id="e1")
    assert api_key_for(prod, store) == ("k", KEY_SOURCE_SESSION)
