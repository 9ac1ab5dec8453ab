"""Why is it waiting, in the job table: a job ``IN_QUEUE`` for longer than ``WAIT_AFTER_S`` shows
the diagnosis of its target (``gui.core.account.diagnosis``, asked through the bridge's
``wait_diagnosis``) as an icon and a tooltip in its Status cell, and a line in the details.

``WaitDiagnoses`` looks at the rows on screen every ``CHECK_MS``; for each target with such a job
there it asks at most once every ``ASK_EVERY_S``, keeps the answer per target, and forgets it
when none of that target's jobs waits on screen any more. Nothing is asked while no job waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QIcon

from gui.core.records import JobRecord, JobState
from gui.core.resources import resource_path
from gui.core.targets import Target
from gui.ui.bridge import EngineBridge, describe_error
from gui.ui.tasks import when_done

__all__ = ["ASK_EVERY_S", "CHECK_MS", "WAIT_AFTER_S", "WaitDiagnoses", "waiting_icon"]

WAIT_AFTER_S = 30.0  # a job queued this long gets the diagnosis of its target
ASK_EVERY_S = 30.0  # the most often one target's diagnosis is asked for
CHECK_MS = 5000  # how often the rows on screen are looked at

TargetKey = tuple[str, str]  # (profile, endpoint id): a job's target
TargetLookup = Callable[[str], tuple[Target, str] | None]
"""A profile's name -> its target and management URL (None: not known to the window)."""


def waiting_icon() -> QIcon:
    return QIcon(str(resource_path("icons", "problem-warning.svg")))


def target_key(record: JobRecord) -> TargetKey:
    return record.profile, record.endpoint_id


def waits_long(record: JobRecord, now: float | None = None) -> bool:
    """Queued for longer than ``WAIT_AFTER_S`` (by the console's clock)."""
    if record.state is not JobState.IN_QUEUE:
        return False
    return (time.time() if now is None else now) - record.submitted_at > WAIT_AFTER_S


class WaitDiagnoses(QObject):
    """The diagnosis of each target with a job waiting on screen (module docstring)."""

    sig_changed: Signal = Signal()
    """A diagnosis came, or was forgotten: the Status cells and the details show it anew."""

    def __init__(
        self,
        bridge: EngineBridge,
        shown: Callable[[], Iterable[JobRecord]],
        lookup: TargetLookup,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._shown = shown
        self._lookup = lookup
        self._notes: dict[TargetKey, str] = {}
        self._asked_at: dict[TargetKey, float] = {}
        self._asking: set[TargetKey] = set()
        self.requests_sent = 0
        """How many diagnoses were asked for (tests count them)."""
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self.check)

    @property
    def notes(self) -> dict[TargetKey, str]:
        """The diagnosis kept per target (profile, endpoint id)."""
        return dict(self._notes)

    def note_for(self, record: JobRecord) -> str | None:
        """The diagnosis to show beside this job: only while it waits long."""
        if not self._notes or not waits_long(record):
            return None
        return self._notes.get(target_key(record))

    def check(self) -> None:
        """Look at the rows on screen: ask for the targets of jobs waiting long, forget the
        others."""
        now = time.time()
        waiting: dict[TargetKey, float] = {}
        for record in self._shown():
            if waits_long(record, now):
                key = target_key(record)
                waiting[key] = max(waiting.get(key, 0.0), now - record.submitted_at)
        gone = [key for key in self._notes if key not in waiting]
        for key in gone:
            del self._notes[key]
        for key in [key for key in self._asked_at if key not in waiting]:
            del self._asked_at[key]  # waiting again later: ask at once
        if gone:
            self.sig_changed.emit()
        for key, waited in waiting.items():
            self._ask(key, waited)

    def _ask(self, key: TargetKey, waited: float) -> None:
        asked = self._asked_at.get(key)
        if key in self._asking or (asked is not None and time.monotonic() - asked < ASK_EVERY_S):
            return
        found = self._lookup(key[0])
        if found is None:
            return
        target, management_url = found
        self._asked_at[key] = time.monotonic()
        self._asking.add(key)
        self.requests_sent += 1
        when_done(
            self._bridge.wait_diagnosis(target, waited, management_url),
            lambda diagnosis: self._on_answer(key, diagnosis.text),
            lambda error: self._on_answer(key, describe_error(error, "find out why it waits")),
            context=self,
        )

    def _on_answer(self, key: TargetKey, text: str) -> None:
        self._asking.discard(key)
        if key not in self._asked_at:  # no job of the target waits any more
            return
        if self._notes.get(key) != text:
            self._notes[key] = text
            self.sig_changed.emit()
