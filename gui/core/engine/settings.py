"""What the engine reads of ``profiles.json`` while it runs: a profile's spend guards and its
management API's URL, re-read at most every ``max_age_s`` (a change made in the Profiles dialog
or with ``job-console profile`` applies within seconds, without a file read per status answer).

A job's ``profile`` names the profile it was sent with; a name that is no profile (a job sent
with ``run --endpoint``, a profile removed since) has no guards and RunPod's management URL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from gui.core.account.guards import SpendGuards
from gui.core.errors import ConsoleError
from gui.core.profiles.profiles import ProfileStore

__all__ = ["ProfileSettings"]

log = logging.getLogger(__name__)


class ProfileSettings:
    """``guards(name)`` and ``management_url(name)`` of the data folder's profiles."""

    def __init__(
        self,
        data_dir: Path,
        *,
        max_age_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = ProfileStore(data_dir)
        self._max_age_s = max_age_s
        self._clock = clock
        self._read_at: float | None = None
        self._guards: dict[str, SpendGuards] = {}
        self._urls: dict[str, str] = {}

    def guards(self, profile: str) -> SpendGuards:
        self._refresh()
        return self._guards.get(profile, SpendGuards())

    def management_url(self, profile: str) -> str:
        """The profile's management API ("" : RunPod's, or ``RUNPOD_API_URL``)."""
        self._refresh()
        return self._urls.get(profile, "")

    def _refresh(self) -> None:
        now = self._clock()
        if self._read_at is not None and now - self._read_at < self._max_age_s:
            return
        self._read_at = now
        try:
            profiles = self._store.profiles()
            self._guards = {p.name: self._store.guards(p.name) for p in profiles}
            self._urls = {p.name: p.management_url for p in profiles if p.management_url}
        except ConsoleError as exc:  # a damaged file: keep what was read last
            log.warning("the profiles could not be read: %s", exc)
