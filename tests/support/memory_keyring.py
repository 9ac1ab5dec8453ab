"""A keyring that lives in this process only: tests never touch the user's real keyring.

``tests/conftest.py`` installs a fresh one for every test; the ``memory_keyring`` fixture hands it
to a test that wants to look inside.
"""

from __future__ import annotations

import keyring.backend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Secrets in a dict, keyed by (service, username)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError(f"no secret for {service}/{username}")
        del self.entries[(service, username)]
