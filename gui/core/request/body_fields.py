"""Setting and removing one option of a request body by its path, e.g. ``("policy", "ttl")``.

The options form sends its edits as ``(path, value)``, ``REMOVE`` meaning "delete this key"; the
window applies them to the body (``apply_field``) and rewrites just that key in the text
(``gui.ui.request.text.splice``).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["REMOVE", "FieldPath", "apply_field", "lookup"]

FieldPath = tuple[str, ...]


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Final = _Remove()
"""The value of an edit that means "delete this key"."""


def apply_field(body: dict[str, Any], path: FieldPath, value: Any) -> dict[str, Any]:
    """``body`` with ``path`` set to ``value`` (or removed for ``REMOVE``); an object left empty
    by a removal is removed too. Copies only the objects along the path, never the ``input``."""
    new = dict(body)
    if len(path) == 1:
        if value is REMOVE:
            new.pop(path[0], None)
        else:
            new[path[0]] = value
        return new
    head, rest = path[0], path[1:]
    inner = new.get(head)
    inner = dict(inner) if isinstance(inner, dict) else {}
    updated = apply_field(inner, rest, value)
    if updated:
        new[head] = updated
    else:
        new.pop(head, None)
    return new


def lookup(body: dict[str, Any] | None, path: FieldPath) -> Any:
    """The value at ``path`` in ``body`` (None when any key along it is missing)."""
    value: Any = body
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value
