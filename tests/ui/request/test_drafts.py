"""The editor's draft keeps no secret: the listener's token is written as its keyring reference and
put back when the draft is read while the keyring holds it."""

from __future__ import annotations

import json
from pathlib import Path

from gui.core.profiles.secrets import LISTENER_TOKEN_REFERENCE, SecretStore
from gui.core.redact import register_secret
from gui.core.webhooks.listener import listener_token
from gui.ui.request.drafts import DRAFT_FILE, read_draft, write_draft


def _text(webhook: str) -> str:
    return json.dumps({"input": {"prompt": "p"}, "webhook": webhook}, indent=2)


def test_the_listener_token_is_kept_as_its_reference_and_put_back(data_dir: Path) -> None:
    store = SecretStore()
    token = listener_token(store)  # made and kept in the (test) keyring
    register_secret(token, LISTENER_TOKEN_REFERENCE)  # what the running listener does
    url = f"http://127.0.0.1:8787/webhook/{token}"
    text = _text(url)
    # Parsed (a precise check) and not parsed (a careful one): the token never reaches the file.
    for body in (json.loads(text), None):
        assert write_draft(data_dir, text, body, True, "calls back")
        on_disk = (data_dir / DRAFT_FILE).read_text("utf-8")
        assert token not in on_disk
        assert f"/webhook/{LISTENER_TOKEN_REFERENCE}" in on_disk

    draft = read_draft(data_dir, store)
    assert draft is not None and draft.text == text  # the editor gets the real URL back
    assert (draft.modified, draft.template) == (True, "calls back")


def test_a_draft_read_without_the_token_keeps_its_reference(data_dir: Path) -> None:
    kept = _text(f"http://127.0.0.1:8787/webhook/{LISTENER_TOKEN_REFERENCE}")
    assert write_draft(data_dir, kept, json.loads(kept), False, None)
    empty_keyring = SecretStore()
    draft = read_draft(data_dir, empty_keyring)
    assert draft is not None and draft.text == kept  # sending it says the token is missing
    without_store = read_draft(data_dir)
    assert without_store is not None and without_store.text == kept
