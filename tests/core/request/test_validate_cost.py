"""Validating costs in proportion to the text and to its problems, never to their square.

Nothing here is timed (the machines are shared and noisy): a test counts the lines of Python the
validator runs, which grow with the work it does, and checks that twice the problems cost about
twice the lines. The times themselves are in ``tests/benchmarks/bench_validate.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from gui.core.request.validation import ValidationResult, validate_text


def _lines_run(text: str) -> tuple[int, ValidationResult]:
    """How many lines of Python ``validate_text(text)`` runs (every module), and its result."""
    validate_text('{"input": {}}')  # imports and first-use set-up are not part of the cost
    count = 0

    def trace(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        nonlocal count
        if event == "line":
            count += 1
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        result = validate_text(text)
    finally:
        sys.settrace(previous)
    return count, result


def _unknown_keys(count: int, separator: str) -> str:
    members = separator.join(f'"k{i:05d}": {i}' for i in range(count))
    return '{"input": {"prompt": "a cat"}' + separator + members + "}"


def _grows_linearly(build: Callable[[int], str], size: int) -> None:
    small, _ = _lines_run(build(size))
    large, _ = _lines_run(build(2 * size))
    # Linear: 2x (plus the fixed part). Square: 4x the part that grows.
    assert large < 2.3 * small, (small, large)


def test_many_unknown_top_level_keys_cost_in_proportion() -> None:
    _grows_linearly(lambda n: _unknown_keys(n, ",\n"), 1500)


def test_many_unknown_keys_of_policy_and_s3config_cost_in_proportion() -> None:
    def policy(n: int) -> str:
        members = ", ".join(f'"k{i}": 1' for i in range(n))
        return '{"input": {}, "policy": {' + members + '}, "s3Config": {' + members + "}}"

    _grows_linearly(policy, 800)


def test_many_unknown_keys_on_one_line_are_placed_right() -> None:
    text = _unknown_keys(20_000, ",")
    result = validate_text(text)
    assert len(result.diagnostics) == 20_000
    for number, diagnostic in enumerate(result.diagnostics):
        key = f'"k{number:05d}"'
        assert text[diagnostic.offset : diagnostic.offset + diagnostic.length] == key
        assert (diagnostic.line, diagnostic.column) == (1, diagnostic.offset + 1)
        assert diagnostic.message.startswith(f"Unknown key {key}. RunPod reads only")


def test_many_unknown_keys_over_many_lines_are_placed_right() -> None:
    text = _unknown_keys(20_000, ",\n")
    result = validate_text(text)
    assert [(d.line, d.column) for d in result.diagnostics] == [
        (line, 1) for line in range(2, 20_002)
    ]


def test_a_few_unknown_keys_still_get_a_suggestion() -> None:
    result = validate_text('{"input": {}, "Webhok": "https://example.com/h", "polcy": {}}')
    messages = [d.message for d in result.diagnostics]
    assert any('did you mean "webhook"' in m for m in messages), messages
    assert any('did you mean "policy"' in m for m in messages), messages


@pytest.mark.slow
def test_many_nans_are_each_reported_where_they_stand() -> None:
    count = 16_000
    text = '{"input": {"values": [\n' + ",\n".join(["NaN"] * count) + "\n]}}"
    result = validate_text(text)
    assert [(d.path, d.line, d.column, d.length) for d in result.diagnostics] == [
        (("input", "values", i), i + 2, 1, 3) for i in range(count)
    ]
    lines, _ = _lines_run(text)
    more_lines, _ = _lines_run(text.replace("NaN", "NaN,\nNaN"))
    assert more_lines < 2.3 * lines, (lines, more_lines)
