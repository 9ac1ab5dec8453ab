"""The placeholder rules: types, text inside strings, nesting, files, defaults, built-ins, escapes
and errors that name where they stand."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from gui.core.request.placeholders import (
    Context,
    Scope,
    expand_body,
    has_placeholders,
    parse_string,
    placeholder_names,
    text_value,
)


def expand(body: object, *scopes: Scope, base_dir: Path | None = None) -> object:
    expansion = expand_body(body, Context(scopes=scopes, base_dir=base_dir))
    assert expansion.ok, expansion.problems
    return expansion.body


def test_a_whole_string_placeholder_takes_the_values_json_type() -> None:
    row = Scope({"seed": 42, "ratio": 0.5, "on": True, "tags": ["a", "b"], "cfg": {"k": 1}},
                typed=True)  # fmt: skip
    body = {"input": {"seed": "{{seed}}", "ratio": "{{ ratio }}", "on": "{{on}}",
                      "tags": "{{tags}}", "cfg": "{{cfg}}"}}  # fmt: skip
    assert expand(body, row) == {
        "input": {"seed": 42, "ratio": 0.5, "on": True, "tags": ["a", "b"], "cfg": {"k": 1}}
    }


def test_text_values_are_read_as_json_when_they_are_json_and_text_keeps_a_string() -> None:
    given = Scope({"seed": "42", "word": "cat", "quoted": '"42"', "empty": "", "nan": "NaN"})
    body = {"input": {"seed": "{{seed}}", "word": "{{word}}", "quoted": "{{quoted}}",
                      "kept": "{{seed|text}}", "empty": "{{empty}}", "nan": "{{nan}}"}}  # fmt: skip
    assert expand(body, given) == {
        "input": {
            "seed": 42,
            "word": "cat",
            "quoted": "42",
            "kept": "42",
            "empty": "",
            "nan": "NaN",
        }
    }
    assert text_value("[1, 2]") == [1, 2]
    assert text_value("hello world") == "hello world"


def test_a_placeholder_inside_a_longer_string_is_text() -> None:
    row = Scope({"animal": "cat", "n": 3, "cfg": {"a": 1}}, typed=True)
    body = {"input": {"prompt": "a {{animal}} x{{n}} {{cfg}}!"}}
    assert expand(body, row) == {"input": {"prompt": 'a cat x3 {"a":1}!'}}


def test_nested_objects_and_arrays_are_expanded_and_the_template_is_left_alone() -> None:
    body = {"input": {"list": [{"p": "{{a}}"}, ["{{b}}", "plain"]], "deep": {"x": {"y": "{{a}}"}}},
            "policy": {"ttl": 60000}}  # fmt: skip
    original = json.loads(json.dumps(body))
    result = expand(body, Scope({"a": "A", "b": "7"}))
    assert result == {"input": {"list": [{"p": "A"}, [7, "plain"]], "deep": {"x": {"y": "A"}}},
                      "policy": {"ttl": 60000}}  # fmt: skip
    assert body == original
    assert result["policy"] is body["policy"]  # type: ignore[index]  # untouched parts shared


def test_the_first_scope_holding_a_name_wins() -> None:
    row, given, profile = (
        Scope({"a": 1}, typed=True),
        Scope({"a": "2", "b": "x"}),
        Scope({"a": "3", "b": "y", "c": "z"}),
    )
    assert expand({"v": ["{{a}}", "{{b}}", "{{c}}"]}, row, given, profile) == {"v": [1, "x", "z"]}


def test_defaults_apply_only_without_a_value_and_may_hold_a_bar() -> None:
    body = {"a": "{{seed ?? 7}}", "b": "{{word??a|b}}", "c": "{{given ?? 1}}", "d": "x{{n??5}}"}
    assert expand(body, Scope({"given": "9"})) == {"a": 7, "b": "a|b", "c": 9, "d": "x5"}


def test_builtins_are_the_same_within_a_body_and_new_for_the_next() -> None:
    body = {"a": "{{uuid}}", "b": "id-{{uuid}}", "t": "{{now}}"}
    first = expand(body)
    second = expand(body)
    assert isinstance(first, dict) and isinstance(second, dict)
    uuid.UUID(first["a"])
    assert first["b"] == f"id-{first['a']}"
    assert first["a"] != second["a"]
    assert first["t"].endswith("Z") and "T" in first["t"]
    assert expand({"a": "{{uuid}}"}, Scope({"uuid": "fixed"})) == {"a": "fixed"}


def test_an_escape_gives_a_literal_pair_of_braces() -> None:
    assert expand({"p": "{{{{name}} and {{{{{{x}}"}, Scope({"x": "1"})) == {"p": "{{name}} and {{1"}
    assert parse_string("}} alone") == ["}} alone"]


def test_files_as_base64_data_url_and_text_relative_to_the_base_folder(tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    image = bytes(range(256)) * 3
    (tmp_path / "inputs" / "cat.png").write_bytes(image)
    (tmp_path / "note.txt").write_text("héllo\n", encoding="utf-8")
    body = {
        "input": {
            "image": "{{file:inputs/cat.png}}",
            "url": "{{file:inputs/cat.png|datauri}}",
            "note": "{{file:note.txt|text}}",
            "mixed": "<{{file:note.txt|text}}>",
        }
    }
    result = expand(body, base_dir=tmp_path)
    encoded = base64.b64encode(image).decode()
    assert result == {"input": {"image": encoded, "url": f"data:image/png;base64,{encoded}",
                                "note": "héllo\n", "mixed": "<héllo\n>"}}  # fmt: skip


def test_a_file_path_may_hold_variables(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("B", encoding="utf-8")
    body = {"x": "{{file:{{name}}.txt|text}}"}
    assert expand(body, Scope({"name": "b"}), base_dir=tmp_path) == {"x": "B"}
    assert placeholder_names(body) == ["name"]


def test_files_are_counted_without_reading_them_when_asked(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"\0" * 1000)
    expansion = expand_body({"a": "{{file:big.bin}}", "b": "{{file:big.bin|datauri}}"},
                            Context(base_dir=tmp_path, read_files=False))  # fmt: skip
    assert expansion.ok
    assert expansion.body == {"a": "", "b": ""}
    assert expansion.extra_bytes == 1336 + len("data:application/octet-stream;base64,") + 1336


@pytest.mark.parametrize(
    ("text", "message", "index", "length"),
    [
        ("say {{prompt}} now", "No value for {{prompt}}", 4, 10),
        ("{{file:missing.png}}", "no such file", 0, 20),
        ("ab {{ not a name }}", "is not a placeholder", 3, 16),
        ("ab {{never closed", "never closed", 3, 14),
        ("{{file:x.png|hex}}", "Unknown file mode |hex", 0, 18),
        ("{{seed|json}}", "Unknown mode |json", 0, 13),
        ("{{file:a.txt ?? b}}", "takes no ?? default", 0, 19),
    ],
)
def test_problems_name_the_string_and_where_the_placeholder_stands(
    tmp_path: Path, text: str, message: str, index: int, length: int
) -> None:
    expansion = expand_body({"input": {"list": [1, text]}}, Context(base_dir=tmp_path))
    assert not expansion.ok
    (problem,) = expansion.problems
    assert message in problem.message
    assert (problem.path, problem.index, problem.length) == (("input", "list", 1), index, length)
    assert problem.placeholder == text[index : index + length]


def test_a_file_that_is_not_utf8_text_or_a_folder_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"ok\n\xff\xfe")
    (tmp_path / "folder").mkdir()
    expansion = expand_body({"a": "{{file:bad.txt|text}}", "b": "{{file:folder}}"},
                            Context(base_dir=tmp_path))  # fmt: skip
    messages = sorted(p.message for p in expansion.problems)
    assert "is not UTF-8 text (byte 0xFF on line 2)" in messages[0]
    assert "is not a regular file" in messages[1]


def test_unknown_variables_are_warnings_where_no_row_is_known() -> None:
    expansion = expand_body({"a": "{{prompt}}"}, Context(strict=False))
    assert expansion.ok
    assert [p.severity for p in expansion.problems] == ["warning"]


def test_used_values_and_detection() -> None:
    expansion = expand_body({"a": "{{x}}", "b": "{{uuid}}", "c": "plain"},
                            Context(scopes=[Scope({"x": "1", "y": "2"})]))  # fmt: skip
    assert expansion.used == {"x": "1"}
    assert has_placeholders({"a": ["{{x}}"]}) and not has_placeholders({"a": "{x}"})
