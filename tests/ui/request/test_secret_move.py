"""move_s3_secret: a pasted S3 accessSecret goes into the keyring as a credential set, and the body
keeps a reference that gives the secret back when the request is sent."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gui.core.errors import ProfileError
from gui.core.profiles.profiles import ProfileStore
from gui.core.profiles.s3refs import S3CredentialSet, resolve_secret_references
from gui.core.profiles.secrets import SecretStore
from gui.core.redact import REDACTED
from gui.core.storage.templates import find_secrets
from gui.ui.request.secret_move import move_s3_secret

CONFIG = {"accessId": "AKIA2", "bucketName": "b2", "endpointUrl": "https://s3.other"}


def test_a_pasted_secret_moves_into_the_keyring(data_dir: Path) -> None:
    secrets = SecretStore()
    profiles = ProfileStore(data_dir, secrets)
    body = {"input": {}, "s3Config": {**CONFIG, "accessSecret": "pasted-secret"}}
    assert find_secrets(body) == [("s3Config", "accessSecret")]
    moved, name = move_s3_secret(body, profiles)
    assert name == "b2" and moved["s3Config"]["accessSecret"] == "keyring:s3/b2"
    assert body["s3Config"]["accessSecret"] == "pasted-secret"  # the caller's body is untouched
    assert find_secrets(moved) == []
    assert secrets.get("s3:b2") == "pasted-secret"
    assert profiles.s3_sets() == [S3CredentialSet("b2", "AKIA2", "b2", "https://s3.other")]
    assert resolve_secret_references(moved, secrets) == body
    again, second = move_s3_secret(body, profiles)  # the name is taken: the next one is used
    assert second == "b2 2" and again["s3Config"]["accessSecret"] == "keyring:s3/b2 2"
    with pytest.raises(ProfileError, match="Only an s3Config accessSecret"):
        move_s3_secret({"input": {"apiKey": "k-123"}, "s3Config": dict(CONFIG)}, profiles)


_SECRET = st.text(min_size=1, max_size=40).filter(
    lambda text: bool(text.strip()) and not text.startswith("keyring:") and text != REDACTED
)


@given(
    secret=_SECRET,
    bucket=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True),
    job_input=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3),
)
def test_moving_a_secret_out_and_back_restores_the_body(
    secret: str, bucket: str, job_input: dict[str, object]
) -> None:
    secrets = SecretStore()
    with tempfile.TemporaryDirectory() as folder:
        profiles = ProfileStore(folder, secrets)
        body = {"input": job_input, "s3Config": {**CONFIG, "bucketName": bucket,
                                                 "accessSecret": secret}}  # fmt: skip
        moved, name = move_s3_secret(body, profiles)
        assert find_secrets(moved) == []
        assert moved["s3Config"]["accessSecret"] == f"keyring:s3/{name}"
        assert moved["input"] == job_input
        assert resolve_secret_references(moved, secrets) == body
