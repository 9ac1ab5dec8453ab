"""The engine's management API clients: one ``ManagementClient`` per management URL and key,
made on the loop at first use and closed with the engine.

The management API is another host with its own per-user rate limit, so every view of the window
(the endpoint list, the workers panel, a diagnosis) shares one client, and one connection pool,
per account. The key picks the client but is not kept as a dictionary key: its SHA-256 is.
"""

from __future__ import annotations

import hashlib

from gui.core.account.access import AccountAccess
from gui.core.account.client import ManagementClient

__all__ = ["ManagementClients"]


class ManagementClients:
    """``client_for(access)`` on the engine's loop; ``aclose`` when the engine closes."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], ManagementClient] = {}

    def client_for(self, access: AccountAccess) -> ManagementClient:
        """The client of ``access``'s URL and key (its endpoint id is not part of it: name the
        endpoint in each call)."""
        fingerprint = hashlib.sha256(access.api_key.encode()).hexdigest()
        slot = (access.base_url, fingerprint)
        client = self._clients.get(slot)
        if client is None:
            client = ManagementClient(access)
            self._clients[slot] = client
        return client

    def __len__(self) -> int:
        return len(self._clients)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
