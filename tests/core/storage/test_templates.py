"""TemplateStore: one readable file per template, atomic writes, no secrets, hand-made files."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from gui.core.errors import TemplateError, TemplateSecretError
from gui.core.profiles.secrets import LISTENER_TOKEN_REFERENCE
from gui.core.redact import register_secret
from gui.core.storage.templates import (
    Template,
    TemplateStore,
    find_secrets,
)

BODY = {"input": {"prompt": "hi"}, "policy": {"ttl": 60000}}


def test_examples_are_installed_once(data_dir: Path) -> None:
    store = TemplateStore(data_dir)
    assert store.install_examples() == 5
    names = store.names()
    assert {"Echo", "Long job", "Failing job", "Image", "Streaming"} <= set(names)
    store.delete("Echo")
    # A second start does not bring a deleted example back.
    assert TemplateStore(data_dir).install_examples() == 0
    assert "Echo" not in store.names()


def test_examples_are_valid_templates(data_dir: Path) -> None:
    store = TemplateStore(data_dir)
    store.install_examples()
    assert store.problems == []
    for template in store.templates():
        assert isinstance(template.body["input"], dict)
        assert template.description


def test_save_writes_readable_file(data_dir: Path) -> None:
    store = TemplateStore(data_dir)
    saved = store.save("My job", BODY, "runsync", "what it does")
    on_disk = json.loads(saved.path.read_text("utf-8"))
    assert on_disk == {
        "name": "My job",
        "description": "what it does",
        "operation": "runsync",
        "body": BODY,
    }
    assert saved.path.parent == data_dir / "templates"
    assert store.get("My job") == Template("My job", "what it does", "runsync", BODY, saved.path)
    # No temporary files left behind by the atomic write.
    assert [p.name for p in saved.path.parent.iterdir()] == [saved.path.name]


def test_save_overwrites_same_name_and_refuses_when_asked(data_dir: Path) -> None:
    store = TemplateStore(data_dir)
    first = store.save("a", BODY)
    second = store.save("a", {"input": {"x": 1}})
    assert first.path == second.path
    assert store.get("a").body == {"input": {"x": 1}}
    with pytest.raises(TemplateError, match="exists already"):
        store.save("a", BODY, overwrite=False)


def test_secret_is_refused_and_reference_allowed(data_dir: Path) -> None:
    store = TemplateStore(data_dir)
    body = {
        "input": {},
        "s3Config": {"accessId": "id", "accessSecret": "hunter2", "bucketName": "b"},
    }
    with pytest.raises(TemplateSecretError) as caught:
        store.save("leaky", body)
    assert caught.value.paths == [("s3Config", "accessSecret")]
    assert "s3Config.accessSecret" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert list(store.folder.glob("*.json")) == []
    body["s3Config"]["accessSecret"] = "keyring:s3/main"
    store.save("safe", body)
    body["s3Config"]["accessSecret"] = ""
    store.save("empty", body)
    assert store.names() == ["empty", "safe"]


def test_find_secrets_looks_everywhere() -> None:
    body = {"input": {"items": [{"apiKey": "k"}, {"apiKey": ""}]}, "x": {"authorization": "t"}}
    assert find_secrets(body) == [("input", "items", 0, "apiKey"), ("x", "authorization")]


def test_the_listener_token_is_kept_as_its_reference(data_dir: Path) -> None:
    """The token is a registered secret (the listener registers it): the scan knows it, and a
    template keeps ``keyring:listener-token`` in its place, as the job history does."""
    token = secrets.token_urlsafe(32)
    register_secret(token, LISTENER_TOKEN_REFERENCE)
    url = f"http://127.0.0.1:8787/webhook/{token}"
    body = {"input": {"note": f"calls {url}"}, "webhook": url}
    assert find_secrets(body) == [("input", "note"), ("webhook",)]
    store = TemplateStore(data_dir)
    saved = store.save("calls back", body)
    reference = f"http://127.0.0.1:8787/webhook/{LISTENER_TOKEN_REFERENCE}"
    assert saved.body == {"input": {"note": f"calls {reference}"}, "webhook": reference}
    assert token not in saved.path.read_text("utf-8")
    assert store.get("calls back").body["webhook"] == reference
    assert body["webhook"] == url  # the caller's body is not changed


def test_rename_duplicate_delete_restore(data_dir: Path) -> None:
    store = TemplateStore(data_dir)
    store.save("one", BODY)
    renamed = store.rename("one", "two")
    assert store.names() == ["two"]
    assert renamed.path.name == "two.json"
    copy = store.duplicate("two")
    assert copy.name == "two copy"
    assert store.duplicate("two").name == "two copy 2"
    with pytest.raises(TemplateError, match="exists already"):
        store.rename("two", "two copy")
    deleted = store.delete("two")
    assert "two" not in store.names()
    store.restore(deleted)
    assert store.get("two").body == BODY
    with pytest.raises(TemplateError, match="no template"):
        store.get("nope")


def test_hand_made_files_appear(data_dir: Path) -> None:
    store = TemplateStore(data_dir)
    (store.folder / "bare body.json").write_text('{"input": {"a": 1}}', "utf-8")
    (store.folder / "named.json").write_text(
        '{"name": "Nice name", "operation": "weird", "body": {"input": {}}}', "utf-8"
    )
    (store.folder / "broken.json").write_text("{nope", "utf-8")
    templates = {t.name: t for t in store.templates()}
    assert set(templates) == {"bare body", "Nice name"}
    assert templates["Nice name"].operation == "run"
    assert [path.name for path, _ in store.problems] == ["broken.json"]


def test_import_and_export(data_dir: Path, tmp_path: Path) -> None:
    store = TemplateStore(data_dir)
    store.save("exp", BODY, "runsync", "d")
    outside = tmp_path / "out.json"
    store.export("exp", outside)
    imported = store.import_file(outside)
    assert imported.name == "exp 2"
    assert imported.operation == "runsync"
    assert imported.body == BODY
    with pytest.raises(TemplateError):
        store.import_file(tmp_path / "missing.json")


def test_names_that_are_not_file_names(data_dir: Path) -> None:
    store = TemplateStore(data_dir)
    saved = store.save("a/b: c?", BODY)
    assert saved.path.parent == store.folder
    assert store.get("a/b: c?").body == BODY
    with pytest.raises(TemplateError, match="needs a name"):
        store.save("  ", BODY)
