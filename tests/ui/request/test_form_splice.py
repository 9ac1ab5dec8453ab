"""splice_top_level: one top-level key changes, every other character stays."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gui.core.request.body_fields import REMOVE
from gui.ui.request.text.splice import apply_text_edit, splice_top_level

PRETTY = '{\n  "input": {"a":   1},\n  "webhook": "x"\n}\n'


@pytest.mark.parametrize(
    ("text", "key", "value", "expected"),
    [
        (
            PRETTY,
            "policy",
            {"ttl": 60000},
            '{\n  "input": {"a":   1},\n  "webhook": "x",\n'
            '  "policy": {\n    "ttl": 60000\n  }\n}\n',
        ),
        (PRETTY, "webhook", REMOVE, '{\n  "input": {"a":   1}\n}\n'),
        (PRETTY, "webhook", "y", '{\n  "input": {"a":   1},\n  "webhook": "y"\n}\n'),
        ('{\n  "webhook": "x",\n  "input": {}\n}', "webhook", REMOVE, '{\n  "input": {}\n}'),
        (
            '{"input":{"a":1}}',
            "policy",
            {"lowPriority": True},
            '{"input":{"a":1}, "policy": {"lowPriority": true}}',
        ),
        ('{"input":{"a":1}}', "input", REMOVE, "{}"),
        ("{}", "webhook", "w", '{\n  "webhook": "w"\n}'),
        (PRETTY, "policy", REMOVE, PRETTY),
    ],
)
def test_splices(text: str, key: str, value: Any, expected: str) -> None:
    edit = splice_top_level(text, key, value)
    assert edit is not None
    result = apply_text_edit(text, edit)
    assert result == expected
    body = json.loads(text)
    if value is REMOVE:
        body.pop(key, None)
    else:
        body[key] = value
    assert json.loads(result) == body


@pytest.mark.parametrize(
    "text", ["[1]", '{"input": {', '{"webhook": 1, "webhook": 2}', "", '"just a string"']
)
def test_texts_not_editable_in_place(text: str) -> None:
    assert splice_top_level(text, "webhook", "w") is None
