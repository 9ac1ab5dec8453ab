"""One exception tree: every console error is declared in gui.core.errors and named in its tree."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import gui
from gui.core import errors

GUI = Path(gui.__file__).parent


def _console_errors() -> set[str]:
    return {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.ConsoleError)
    }


def test_no_module_outside_errors_declares_a_console_error() -> None:
    known = _console_errors()
    elsewhere = []
    for path in sorted(GUI.rglob("*.py")):
        if path == Path(errors.__file__):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {
                base.id if isinstance(base, ast.Name) else ast.unparse(base) for base in node.bases
            }
            if bases & known:
                elsewhere.append(f"{path.relative_to(GUI.parent)}: {node.name}")
    assert elsewhere == []


def test_the_docstring_tree_names_every_error_and_all_exports_them() -> None:
    known = _console_errors()
    tree = errors.__doc__ or ""
    assert {name for name in known if f" {name} " not in tree} == set()
    assert set(errors.__all__) == known
