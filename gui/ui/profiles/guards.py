"""A profile's spend guards in the Profiles dialog: three fields, each empty (or "off") when off.

The engine cancels a job of the profile that RunPod retried more than N times, or that did not
start, or did not end, within a time after it was sent; the job stays in the history with the
guard's reason (``gui.core.account.guards``). The built-in sandbox has guards too.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QSpinBox, QWidget

from gui.core.account.guards import MAX_RETRIES_LIMIT, SpendGuards, parse_duration
from gui.core.errors import ProfileError
from gui.core.wording import duration_words
from gui.ui.profiles.form import named

__all__ = ["GuardsBox"]


class GuardsBox(QWidget):
    """Edits one profile's guards; ``guards()`` reads them back or raises ``ProfileError``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.retries_spin = named(QSpinBox(), "guardMaxRetries")
        self.retries_spin.setRange(-1, MAX_RETRIES_LIMIT)
        self.retries_spin.setSpecialValueText("off")  # -1: shown as "off"
        self.retries_spin.setToolTip(
            "Cancel a job RunPod has put back in the queue more than this many times (its "
            "worker stopped under it). 0 cancels at the first retry."
        )
        self.start_edit = named(QLineEdit(), "guardStartWithin")
        self.finish_edit = named(QLineEdit(), "guardFinishWithin")
        for edit, what in ((self.start_edit, "still queued"), (self.finish_edit, "not ended")):
            edit.setPlaceholderText("off (e.g. 90s, 10m, 1h)")
            edit.setToolTip(
                f"Cancel a job {what} this long after it was sent (it stays in the history, "
                "with the reason). Empty: off."
            )
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(QLabel("Spend guards: a job they cancel stays in the history, with why"))
        form.addRow("Cancel after retries", self.retries_spin)
        form.addRow("Cancel if not started within", self.start_edit)
        form.addRow("Cancel if not ended within", self.finish_edit)

    def show_guards(self, guards: SpendGuards) -> None:
        self.retries_spin.setValue(-1 if guards.max_retries is None else guards.max_retries)
        self.start_edit.setText(_time_text(guards.start_within_s))
        self.finish_edit.setText(_time_text(guards.finish_within_s))

    def guards(self) -> SpendGuards:
        value = self.retries_spin.value()
        try:
            return SpendGuards(
                max_retries=None if value < 0 else value,
                start_within_s=_seconds(self.start_edit.text()),
                finish_within_s=_seconds(self.finish_edit.text()),
            )
        except ValueError as exc:
            raise ProfileError(f"Spend guards: {exc}") from None


def _seconds(text: str) -> float | None:
    text = text.strip()
    return None if not text or text.lower() == "off" else parse_duration(text)


def _time_text(seconds: float | None) -> str:
    """``10m`` or ``1h30m``: what ``parse_duration`` reads back."""
    if seconds is None:
        return ""
    words = duration_words(seconds)
    for long, short in ((" min", "m"), (" h", "h"), (" s", "s"), (" ", "")):
        words = words.replace(long, short)
    return words
