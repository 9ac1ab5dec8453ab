"""Validation knows placeholders: problems at their line:column, rules checked after substitution,
the size as sent (a file's base64 counted from its byte size)."""

from __future__ import annotations

import json
from pathlib import Path

from gui.core.limits import MAX_BODY_BYTES
from gui.core.request.placeholders import Context, Scope, expand_body
from gui.core.request.validation import serialize_body, validate_text

TEMPLATE = """{
  "input": {
    "prompt": "a {{animal}} on a mat",
    "image": "{{file:cat.png}}"
  },
  "policy": {"ttl": "{{ttl}}"}
}"""


def test_an_unknown_variable_and_a_missing_file_are_errors_at_their_line_and_column(
    tmp_path: Path,
) -> None:
    context = Context(scopes=[Scope({"ttl": "60000"})], base_dir=tmp_path)
    result = validate_text(TEMPLATE, placeholders=context)
    assert not result.ok
    found = [(d.line, d.column, d.length, d.message.split(":")[0]) for d in result.errors]
    assert found == [
        (3, 18, 10, "No value for {{animal}}"),
        (4, 15, 16, "{{file"),
    ]
    assert "no such file" in result.errors[1].message


def with_ttl(ttl: str, folder: Path) -> Context:
    return Context(scopes=[Scope({"animal": "cat", "ttl": ttl})], base_dir=folder)


def test_a_placeholder_in_a_policy_field_is_checked_after_substitution(tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(b"\x89PNG")
    scopes = [Scope({"animal": "cat", "ttl": "60000"})]
    good = validate_text(TEMPLATE, placeholders=Context(scopes=scopes, base_dir=tmp_path))
    assert good.ok, good.diagnostics
    bad = validate_text(TEMPLATE, placeholders=with_ttl("5", tmp_path))
    (error,) = bad.errors
    assert "policy.ttl is 5 ms" in error.message
    assert (error.line, error.column) == (6, 21)
    text = validate_text(TEMPLATE, placeholders=with_ttl("soon", tmp_path))
    assert [e.message.split(";")[0] for e in text.errors] == [
        "policy.ttl must be a whole number of milliseconds"
    ]


def test_without_values_placeholders_are_warnings_and_the_rules_skip_them() -> None:
    result = validate_text('{"input": {"p": "{{prompt}}"}, "policy": {"ttl": "{{ttl}}"}}')
    assert result.ok
    assert [d.severity for d in result.diagnostics] == ["warning", "warning"]


def test_a_malformed_placeholder_is_an_error_even_without_values() -> None:
    result = validate_text('{"input": {"p": "x {{ two words }}"}}')
    (error,) = result.errors
    assert "is not a placeholder" in error.message and "{{{{" in error.message
    assert (error.column, error.length) == (20, 15)


def test_the_size_is_that_of_the_body_as_sent_with_the_file_counted_not_read(
    tmp_path: Path,
) -> None:
    (tmp_path / "cat.png").write_bytes(bytes(range(256)) * 41)
    context = Context(scopes=[Scope({"animal": "tabby cat", "ttl": "60000"})], base_dir=tmp_path)
    result = validate_text(TEMPLATE, placeholders=context)
    sent = expand_body(json.loads(TEMPLATE), context)
    assert result.size_bytes == len(serialize_body(sent.body))


def test_a_file_too_big_when_sent_is_over_the_limit(tmp_path: Path) -> None:
    limit = MAX_BODY_BYTES["run"]
    with (tmp_path / "big.bin").open("wb") as handle:
        handle.truncate(limit)  # sparse: its base64 is 4/3 of the limit
    context = Context(base_dir=tmp_path)
    result = validate_text('{"input": {"image": "{{file:big.bin}}"}}', placeholders=context)
    (error,) = result.errors
    assert "bytes when sent, over the" in error.message
    assert result.size_bytes is not None and result.size_bytes > limit * 4 // 3
