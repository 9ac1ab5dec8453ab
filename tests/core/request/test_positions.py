"""Positions in JSON text (gui.core.request.jsonscan) and the size of the body as sent."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.core.errors import RequestInvalid
from gui.core.request.jsonparse import parse_document
from gui.core.request.jsonscan import JsonIndex, count_char, locate
from gui.core.request.validation import serialize_body, validate_text

TEXT = """{
  "input": {"rows": [{"id": 1}, {"id": 2, "tags": ["a", "b"]}], "n": -1.5e3},
  "policy": {"ttl": 5, "ttl": 20000},
  "webhook": null
}"""


def _text_at(path: tuple[str | int, ...], *, key: bool = False) -> str:
    span = locate(TEXT, path, key=key)
    assert span is not None, path
    return TEXT[span[0] : span[0] + span[1]]


def test_locate_values_keys_and_containers() -> None:
    assert _text_at(("input", "n")) == "-1.5e3"
    assert _text_at(("input", "rows", 1, "tags", 1)) == '"b"'
    assert _text_at(("input", "rows", 1)) == "{"  # a container: its opening bracket
    assert _text_at(("webhook",)) == "null"
    assert _text_at(("input", "rows"), key=True) == '"rows"'


def test_locate_names_the_last_of_repeated_keys() -> None:
    assert _text_at(("policy", "ttl")) == "20000"
    members = JsonIndex(TEXT).members(("policy",))
    assert [TEXT[m.value_start : m.value_end] for m in members] == ["5", "20000"]


def test_paths_not_in_the_text() -> None:
    assert locate(TEXT, ("input", "nothing")) is None
    assert locate(TEXT, ("input", "rows", 9)) is None
    assert locate(TEXT, ("input", "n", "deeper")) is None
    assert locate("not json at all", ("input",)) is None
    index = JsonIndex(TEXT)
    found, offset, _ = index.locate_nearest(("input", "rows", 9, "id"))
    assert found == ("input", "rows") and TEXT[offset : offset + 6] == '"rows"'


def test_path_at_maps_offsets_back_to_paths() -> None:
    index = JsonIndex(TEXT)
    assert index.path_at(TEXT.index('"b"')) == ("input", "rows", 1, "tags", 1)
    assert index.path_at(TEXT.index("-1.5e3")) == ("input", "n")
    assert index.path_at(TEXT.index('"b"') + 1) is None  # inside a string
    assert index.path_at(TEXT.index('"rows"')) is None  # a key, not a value


def test_parse_document_matches_json_loads_and_notes_repeats() -> None:
    document = parse_document(TEXT)
    assert document.value == json.loads(TEXT)
    assert document.objects_with_repeated_keys == [{"ttl": 20000}]


def test_count_char_agrees_with_str_count() -> None:
    for text in ("", "a\nb", "\n" * 1000 + "x" + "\n" * 3, "x" * 5000):
        for start, end in ((0, None), (1, 3), (2, 1003)):
            stop = len(text) if end is None else end
            assert count_char(text, "\n", start, end) == text.count("\n", start, stop)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(
    value=json_values,
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
    long_text=st.booleans(),
)
def test_size_is_the_length_of_what_is_sent(
    value: Any, indent: int | None, ascii_only: bool, long_text: bool
) -> None:
    body = {"input": {"v": value}}
    if long_text:  # one long string switches to the per-string measurement
        body["input"]["blob"] = "é\\x" * 5000 if not ascii_only else "ab" * 5000
    text = json.dumps(body, indent=indent, ensure_ascii=ascii_only)
    result = validate_text(text)
    assert result.body == json.loads(text)
    assert result.size_bytes == len(serialize_body(result.body))


def test_serialize_body_is_compact_utf8_and_refuses_nan() -> None:
    assert serialize_body({"input": {"w": "é", "n": [1, 2.5]}}) == (
        '{"input":{"w":"é","n":[1,2.5]}}'.encode()
    )
    with pytest.raises(RequestInvalid, match="NaN or Infinity"):
        serialize_body({"input": {"x": math.nan}})
    with pytest.raises(RequestInvalid, match="lone surrogate"):
        serialize_body({"input": {"x": "\ud800"}})


def test_values_stay_as_typed() -> None:
    text = '{"input": {"big": 12345678901234567890, "f": 1.10, "s": "a\\u00e9"}}'
    body = validate_text(text).body
    assert body == {"input": {"big": 12345678901234567890, "f": 1.1, "s": "aé"}}


def test_many_diagnostics_in_a_large_text_are_all_placed() -> None:
    rows = ",\n".join(f'{{"k": {i}, "k": {i}}}' for i in range(2000))
    text = '{"input": {"rows": [\n' + rows + "\n]}}"
    warnings = validate_text(text).diagnostics
    assert len(warnings) == 2000
    assert [d.line for d in warnings] == list(range(2, 2002))
    assert all(text[d.offset : d.offset + d.length] == '"k"' for d in warnings)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object written as its pairs, so keys may repeat."""


def _render(value: Any) -> str:
    if isinstance(value, _Pairs):
        return "{" + ", ".join(f"{json.dumps(k)}: {_render(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _repeats(text: str) -> int:
    count = 0

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal count
        result = dict(pairs)
        count += len(pairs) - len(result)
        return result

    json.loads(text, object_pairs_hook=hook)
    return count


pair_values = st.recursive(
    st.none() | st.integers() | st.sampled_from(["a:b", "x", "é:", ":"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(st.tuples(st.sampled_from(["k", "v", "w:"]), children), max_size=4).map(_Pairs)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=pair_values, escaped=st.booleans())
def test_repeated_keys_anywhere_are_found_and_sizes_stay_exact(value: Any, escaped: bool) -> None:
    extra = ', "note": "tab\\there"' if escaped else ""  # a backslash takes the other path
    text = '{"input": {"v": ' + _render(value) + "}" + extra + "}"
    result = validate_text(text)
    repeat_warnings = [d for d in result.diagnostics if "is given again" in d.message]
    assert len(repeat_warnings) <= _repeats(text)
    assert bool(repeat_warnings) == bool(_repeats(text))
    assert result.size_bytes == len(serialize_body(json.loads(text)))


def _all_paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[Any, Any]]:
    found = [(path, value)]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _all_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _all_paths(child, (*path, index))
    return found


@settings(max_examples=150, deadline=None)
@given(value=pair_values, indent=st.sampled_from(["", " ", "\n  "]))
def test_every_path_is_located_and_maps_back(value: Any, indent: str) -> None:
    text = "{" + indent + '"input": ' + _render(value) + indent + "}"
    body = json.loads(text)
    for index in (parse_document(text).index, JsonIndex(text)):
        for path, expected in _all_paths(body):
            span = index.locate(path)
            assert span is not None, path
            token = text[span[0] : span[0] + span[1]]
            if isinstance(expected, (dict, list)):
                assert token == ("{" if isinstance(expected, dict) else "[")
            else:
                assert json.loads(token) == expected
            assert index.path_at(span[0]) == path
            if path and isinstance(path[-1], str):
                key_span = index.locate(path, key=True)
                assert key_span is not None
                assert text[key_span[0] : key_span[0] + key_span[1]] == json.dumps(path[-1])
