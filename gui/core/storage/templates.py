"""Named request templates: one readable ``.json`` file per template in ``<data_dir>/templates/``.

A template file holds ``{"name", "description", "operation", "body"}`` and is meant to be read,
diffed and kept in git, so files added by hand appear too (a file with only a body, or no name, is
named after its file). Every write is atomic (``gui.core.files``). A template never holds a secret:
``save`` refuses a body whose ``accessSecret`` (or any key of ``redact.SECRET_KEYS``) holds a real
value rather than a keyring reference, and keeps the listener's token (a registered secret, inside
a ``webhook`` URL) as its reference ``keyring:listener-token``, as the job history does.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gui.core.errors import TemplateError, TemplateSecretError
from gui.core.files import write_json_atomic
from gui.core.limits import OPERATIONS, Operation
from gui.core.redact import REDACTED, SECRET_KEYS, holds_registered, redact_registered
from gui.core.resources import resource_path

__all__ = [
    "KEYRING_REFERENCE_PREFIX",
    "Template",
    "TemplateStore",
    "find_secrets",
]

# A body may name a secret kept in the keyring instead of holding it (see the profiles issue).
KEYRING_REFERENCE_PREFIX = "keyring:"
TEMPLATES_FOLDER = "templates"
_EXAMPLES_MARKER = ".examples-installed"
# Templates are small; anything bigger is not a template file someone meant to keep here.
_MAX_TEMPLATE_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Template:
    """One template as stored; ``path`` is its file."""

    name: str
    description: str
    operation: Operation
    body: dict[str, Any] = field(hash=False)
    path: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "operation": self.operation,
            "body": self.body,
        }


def find_secrets(value: Any, _path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """JSON paths of real secrets in ``value`` (not empty, a keyring reference or redacted): values
    of ``SECRET_KEYS``, and any string holding a registered secret (the listener's token), which
    ``redact.redact_registered`` replaces by its reference."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(value, str) and holds_registered(value):
        found.append(_path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in SECRET_KEYS and _is_real_secret(item):
                found.append((*_path, key))
            else:
                found.extend(find_secrets(item, (*_path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(find_secrets(item, (*_path, index)))
    return found


def _is_real_secret(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    return not (value.startswith(KEYRING_REFERENCE_PREFIX) or value == REDACTED)


def _path_text(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path)


def _file_stem(name: str) -> str:
    """A file name safe on every OS for a template's name (the name itself is kept in the file)."""
    stem = re.sub(r"[^\w\- ]+", "_", name, flags=re.UNICODE).strip(" ._")
    return stem[:80] or "template"


class TemplateStore:
    """The templates of one data folder. Reads the folder on every call: it is small, and files
    added or removed by hand must show up."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / TEMPLATES_FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        # Files that could not be read as templates at the last ``templates()``: (path, reason).
        self.problems: list[tuple[Path, str]] = []

    # -- reading ---------------------------------------------------------------------------

    def install_examples(self) -> int:
        """Copy the shipped example templates on first start; returns how many were copied.

        Runs once per data folder (a marker file remembers it), so deleted examples stay deleted.
        """
        marker = self.folder / _EXAMPLES_MARKER
        if marker.exists():
            return 0
        copied = 0
        examples = resource_path("templates")
        if examples.is_dir():
            for source in sorted(examples.glob("*.json")):
                destination = self.folder / source.name
                if not destination.exists():
                    shutil.copyfile(source, destination)
                    copied += 1
        marker.write_text("examples copied; delete this file to copy them again\n", "utf-8")
        return copied

    def templates(self) -> list[Template]:
        """Every readable template, sorted by name (case-insensitive)."""
        templates: list[Template] = []
        self.problems = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                templates.append(self.load_file(path))
            except TemplateError as exc:
                self.problems.append((path, str(exc)))
        templates.sort(key=lambda template: template.name.casefold())
        return templates

    def names(self) -> list[str]:
        return [template.name for template in self.templates()]

    def get(self, name: str) -> Template:
        """The template called ``name``; ``TemplateError`` when there is none."""
        for template in self.templates():
            if template.name == name:
                return template
        raise TemplateError(f"There is no template called {name!r}. Refresh the list and retry.")

    def exists(self, name: str) -> bool:
        return any(template.name == name for template in self.templates())

    @staticmethod
    def load_file(path: Path) -> Template:
        """Read one template file (also a file holding only a request body)."""
        try:
            if path.stat().st_size > _MAX_TEMPLATE_BYTES:
                raise TemplateError(f"{path.name} is too big to be a template.")
            data = json.loads(path.read_text("utf-8-sig"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise TemplateError(f"{path.name} is not a readable JSON template: {exc}") from exc
        if not isinstance(data, dict):
            raise TemplateError(f"{path.name} does not hold a JSON object.")
        if "body" not in data:
            # A bare request body saved by hand: the file name names it.
            data = {"name": path.stem, "body": data}
        body = data.get("body")
        if not isinstance(body, dict):
            raise TemplateError(f"{path.name}: 'body' must be a JSON object.")
        name = data.get("name")
        operation = data.get("operation", "run")
        description = data.get("description", "")
        return Template(
            name=name.strip() if isinstance(name, str) and name.strip() else path.stem,
            description=description if isinstance(description, str) else "",
            operation=operation if operation in OPERATIONS else "run",
            body=body,
            path=path,
        )

    # -- writing ---------------------------------------------------------------------------

    def save(
        self,
        name: str,
        body: dict[str, Any],
        operation: Operation = "run",
        description: str = "",
        *,
        overwrite: bool = True,
    ) -> Template:
        """Write the template ``name`` (replacing one of that name when ``overwrite``).

        Raises ``TemplateSecretError`` when the body holds a secret: move it into the keyring and
        put a ``keyring:`` reference in its place. The listener's token is put there by itself.
        """
        name = self._checked_name(name)
        body = redact_registered(body)
        secrets = find_secrets(body)
        if secrets:
            where = ", ".join(_path_text(path) for path in secrets)
            raise TemplateSecretError(
                f"The template was not saved: it holds a secret at {where}. Templates are plain "
                "files and never keep secrets; clear the value or use a keyring reference "
                f"('{KEYRING_REFERENCE_PREFIX}...') and save again.",
                secrets,
            )
        if operation not in OPERATIONS:
            raise TemplateError(f"Unknown operation {operation!r}; use 'run' or 'runsync'.")
        existing = self._find(name)
        if existing is not None and not overwrite:
            raise TemplateError(f"A template called {name!r} exists already. Pick another name.")
        path = existing.path if existing is not None else self._free_path(name)
        template = Template(name, description, operation, body, path)
        self._write(template)
        return template

    def rename(self, old_name: str, new_name: str) -> Template:
        """Give a template a new name (and a matching file name)."""
        template = self.get(old_name)
        new_name = self._checked_name(new_name)
        if new_name == old_name:
            return template
        if self._find(new_name) is not None:
            raise TemplateError(
                f"A template called {new_name!r} exists already. Pick another name."
            )
        renamed = Template(
            new_name,
            template.description,
            template.operation,
            template.body,
            self._free_path(new_name),
        )
        self._write(renamed)
        template.path.unlink(missing_ok=True)
        return renamed

    def duplicate(self, name: str, new_name: str | None = None) -> Template:
        """A copy of a template, named ``new_name`` or "<name> copy" (numbered when taken)."""
        template = self.get(name)
        if new_name is None:
            new_name = self._unused_name(f"{name} copy")
        if self._find(new_name) is not None:
            raise TemplateError(
                f"A template called {new_name!r} exists already. Pick another name."
            )
        copy = Template(
            new_name,
            template.description,
            template.operation,
            template.body,
            self._free_path(new_name),
        )
        self._write(copy)
        return copy

    def delete(self, name: str) -> Template:
        """Remove a template's file; returns it so the caller can ``restore`` it (undo)."""
        template = self.get(name)
        template.path.unlink(missing_ok=True)
        return template

    def restore(self, template: Template) -> Template:
        """Write back a template returned by ``delete`` (under a free name if it was taken)."""
        name = (
            template.name if self._find(template.name) is None else self._unused_name(template.name)
        )
        return self.save(name, template.body, template.operation, template.description)

    def import_file(self, path: Path) -> Template:
        """Copy a template (or a bare request body) file into the store, under a free name."""
        loaded = self.load_file(Path(path))
        name = loaded.name if self._find(loaded.name) is None else self._unused_name(loaded.name)
        return self.save(name, loaded.body, loaded.operation, loaded.description, overwrite=False)

    def export(self, name: str, destination: Path) -> None:
        """Write a template to ``destination`` as a template file."""
        template = self.get(name)
        write_json_atomic(Path(destination), template.to_json())

    # -- helpers ---------------------------------------------------------------------------

    def _write(self, template: Template) -> None:
        try:
            write_json_atomic(template.path, template.to_json())
        except OSError as exc:
            raise TemplateError(f"Could not write {template.path}: {exc.strerror or exc}") from exc

    def _find(self, name: str) -> Template | None:
        return next((t for t in self.templates() if t.name == name), None)

    def _free_path(self, name: str) -> Path:
        stem = _file_stem(name)
        candidate = self.folder / f"{stem}.json"
        number = 2
        while candidate.exists():
            candidate = self.folder / f"{stem}-{number}.json"
            number += 1
        return candidate

    def _unused_name(self, base: str) -> str:
        taken = set(self.names())
        if base not in taken:
            return base
        number = 2
        while f"{base} {number}" in taken:
            number += 1
        return f"{base} {number}"

    @staticmethod
    def _checked_name(name: str) -> str:
        name = name.strip()
        if not name:
            raise TemplateError("A template needs a name.")
        if len(name) > 200:
            raise TemplateError("A template name can be at most 200 characters long.")
        return name
