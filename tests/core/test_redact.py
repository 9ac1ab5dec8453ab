"""One redaction function: secrets go, keyring references stay, the input is never changed."""

from __future__ import annotations

import json
import string

from hypothesis import assume, given
from hypothesis import strategies as st

from gui.core.redact import REDACTED, is_keyring_reference, redact_body, redact_text


def test_secret_values_are_replaced_wherever_they_stand() -> None:
    body = {
        "input": {"nested": [{"apiKey": "k1"}, {"authorization": "Bearer k2"}]},
        "s3Config": {"accessId": "AKIA", "accessSecret": "s3-secret", "bucketName": "b"},
    }
    redacted = redact_body(body)
    assert redacted["s3Config"] == {"accessId": "AKIA", "accessSecret": REDACTED, "bucketName": "b"}
    assert redacted["input"]["nested"] == [{"apiKey": REDACTED}, {"authorization": REDACTED}]
    assert body["s3Config"]["accessSecret"] == "s3-secret"  # the original is untouched


def test_keyring_references_stay_visible() -> None:
    body = {"s3Config": {"accessSecret": "keyring:s3/team bucket"}}
    assert redact_body(body) == body
    assert is_keyring_reference("keyring:s3/team bucket")


def test_a_secret_that_merely_starts_like_a_reference_is_redacted() -> None:
    for value in ("keyring:", "keyring:s3/", "keyring:s3/a/b", "keyring:S3/x", "keyring:s3/x\n"):
        assert not is_keyring_reference(value)
        assert redact_body({"accessSecret": value}) == {"accessSecret": REDACTED}


def test_redact_text_replaces_longer_secrets_first() -> None:
    text = "key=abcdef and part=abc"
    assert redact_text(text, ["abc", "abcdef", ""]) == f"key={REDACTED} and part={REDACTED}"


def _nested_body(secret: str, depth: int) -> dict[str, object]:
    inner: dict[str, object] = {"accessSecret": secret, "note": "plain"}
    body: dict[str, object] = inner
    for level in range(depth):
        body = {f"level{level}": [body]}
    return {"input": body, "s3Config": inner}


@given(
    secret=st.text(alphabet=string.ascii_letters + string.digits + "+/=:!", min_size=12),
    depth=st.integers(min_value=0, max_value=4),
)
def test_no_secret_survives_redaction(secret: str, depth: int) -> None:
    # A "secret" spelled like the body's own keys ("accessSecret") would be found for that reason.
    assume(secret not in json.dumps(_nested_body("", depth)))
    assert secret not in json.dumps(redact_body(_nested_body(secret, depth)))
