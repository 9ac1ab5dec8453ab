"""JSON syntax errors: one error each, in plain words, where the mistake is."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.core.request.validation import validate_text


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('{"input": {},\n}', 1, 13, "no comma before a closing bracket"),
        ('{"input": [1, 2,]}', 1, 16, "no comma before a closing bracket"),
        ("{'input': {}}", 1, 2, "double quotes"),
        ('{"input": {"a": True}}', 1, 17, "True is not JSON: write true"),
        ('{"input": {"a": None}}', 1, 17, "None is not JSON: write null"),
        ('{"input": {"a": cat}}', 1, 17, 'a string needs double quotes, like "cat"'),
        ("{input: {}}", 1, 2, 'Keys need double quotes: write "input"'),
        ('{"input": {}, // note\n}', 1, 15, "JSON has no comments"),
        ('{"input" {}}', 1, 10, "A colon is missing after the key"),
        ('{"input": {"a": 1 "b": 2}}', 1, 19, "A comma is missing before this item"),
        ('{"input": {"a": "x\ny"}}', 1, 19, "can't continue onto the next line"),
        ('{"input": {"a": "x\\qy"}}', 1, 19, "backslash escape is not valid JSON"),
        ('{"input": {"a": "\\u12"}}', 1, 18, "four hexadecimal digits"),
        ('{"input": {"a": "open}}', 1, 17, "never closed"),
        ('{"input": {}}}', 1, 14, "An extra } after the end"),
        ('{"input": {}} {"input": {}}', 1, 15, "a request is a single JSON object"),
        ('{"input": {"a": [1, 2\n', 1, 22, "the [ opened on line 1 is closed: add ]"),
        ('{\n"input": {\n"a": 1', 3, 6, "the { opened on line 2 is closed: add }"),
    ],
)
def test_syntax_error_message_and_position(text: str, line: int, column: int, words: str) -> None:
    result = validate_text(text)
    assert result.body is None and result.size_bytes is None and not result.ok
    assert len(result.diagnostics) == 1
    d = result.diagnostics[0]
    assert d.severity == "error" and d.path == ()
    assert words in d.message
    assert (d.line, d.column) == (line, column)
    assert 0 <= d.offset < len(text) and d.offset + d.length <= len(text)


def test_empty_and_blank_texts() -> None:
    for text in ("", "  \n\t "):
        result = validate_text(text)
        d = result.diagnostics[0]
        assert (d.line, d.column, d.offset, d.length) == (1, 1, 0, 1)
        assert d.message.startswith("The request is empty.")


def test_ten_thousand_levels_of_nesting_is_an_error_not_a_crash() -> None:
    text = '{"input": ' + "[" * 10_000 + "]" * 10_000 + "}"
    d = validate_text(text).diagnostics[0]
    assert d.severity == "error" and "more than 512 levels deep" in d.message
    assert d.offset == len('{"input": ') + 511  # the 513th bracket


def test_nesting_the_parser_accepts_is_fine() -> None:
    text = '{"input": {"deep": ' + "[" * 200 + "]" * 200 + "}}"
    assert validate_text(text).ok


def test_a_number_too_long_to_read() -> None:
    text = '{"input": {"n": ' + "7" * 5000 + "}}"
    d = validate_text(text).diagnostics[0]
    assert d.offset == 16 and d.length == 5000 and "more than 4300 digits" in d.message


def test_columns_count_characters_not_bytes() -> None:
    text = '{"input": {"città": "é", "x": True}}'
    d = validate_text(text).diagnostics[0]
    assert d.column == text.index("True") + 1


def test_a_leading_bom_is_not_an_error_and_offsets_count_it() -> None:
    text = '\ufeff{"input": {}, "policy": {"ttl": 1}}'
    d = validate_text(text).diagnostics[0]
    assert text[d.offset] == "1" and d.column == text.index("1") + 1


json_ish = st.text(alphabet="{}[]\":,. \n\t\\-+0123456789eEtruefalsnNIyu'/\ufeffé", max_size=60)


@settings(max_examples=400, deadline=None)
@given(text=json_ish | st.text(max_size=40))
def test_any_text_gets_diagnostics_within_bounds_and_never_an_exception(text: str) -> None:
    result = validate_text(text)
    assert result.ok == (result.body is not None and not result.errors)
    for d in result.diagnostics:
        assert d.message and d.length >= 1 and d.line >= 1 and d.column >= 1
        if text:
            assert 0 <= d.offset < len(text) and d.offset + d.length <= len(text)
            assert d.line == text.count("\n", 0, d.offset) + 1
            assert d.column == d.offset - (text.rfind("\n", 0, d.offset) + 1) + 1
    assert [d.offset for d in result.diagnostics] == sorted(d.offset for d in result.diagnostics)
