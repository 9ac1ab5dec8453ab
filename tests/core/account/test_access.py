"""Which management API a target uses, with which key, and the words when there is none."""

from __future__ import annotations

import pytest

from gui.core.account.access import AccountAccess, AccountUnavailable, account_access
from gui.core.limits import DEFAULT_MANAGEMENT_URL
from gui.core.profiles.profiles import Profile
from gui.core.targets import Target


def test_cloud_uses_runpods_management_host_not_the_job_host() -> None:
    access = account_access(Target("prod", "cloud", endpoint_id="ep1"), "rpa_KEY", environ={})

    assert access.base_url == DEFAULT_MANAGEMENT_URL == "https://api.runpod.io/v2"
    assert access.url("/serverless/ep1") == "https://api.runpod.io/v2/serverless/ep1"
    assert access.headers == {"Authorization": "Bearer rpa_KEY"}


def test_runpod_api_url_overrides_the_profile_setting() -> None:
    target = Target("prod", "cloud", endpoint_id="ep1")

    from_profile = account_access(target, "k", management_url="https://p.example/v2/", environ={})
    from_env = account_access(
        target,
        "k",
        management_url="https://p.example/v2",
        environ={"RUNPOD_API_URL": "http://127.0.0.1:8000/v2"},
    )

    assert from_profile.base_url == "https://p.example/v2"
    assert from_env.base_url == "http://127.0.0.1:8000/v2"


def test_the_sandbox_serves_management_under_its_own_v2() -> None:
    target = Target("Sandbox", "sandbox", "http://127.0.0.1:5123/v2", "sandbox")

    access = account_access(target, None, environ={"RUNPOD_API_URL": "https://elsewhere/v2"})

    assert access.base_url == "http://127.0.0.1:5123/v2"
    assert access.headers == {}


@pytest.mark.parametrize(
    ("target", "key", "words"),
    [
        (Target("gpu-box", "local", "http://127.0.0.1:8000"), "k", "local worker"),
        (Target("prod", "cloud", endpoint_id="ep1"), None, "no API key"),
        (Target("Sandbox", "sandbox", "", "sandbox"), None, "not running"),
    ],
)
def test_no_access_says_what_to_do(target: Target, key: str | None, words: str) -> None:
    with pytest.raises(AccountUnavailable, match=words):
        account_access(target, key, environ={})


def test_the_key_never_shows_in_repr() -> None:
    access = AccountAccess("https://api.runpod.io/v2", "rpa_SECRET", "ep1")

    assert "rpa_SECRET" not in repr(access)


def test_profile_keeps_its_management_url_and_omits_the_default() -> None:
    own = Profile("prod", "cloud", endpoint_id="ep1", management_url="https://m.example/v2")
    plain = Profile("prod", "cloud", endpoint_id="ep1")

    assert Profile.from_json(own.to_json()) == own
    assert "managementUrl" not in plain.to_json()
