"""Words for counts, so every message says "1 job" and "2 jobs", never "1 jobs" or "job(s)",
and for durations ("2 min 5 s")."""

from __future__ import annotations

__all__ = ["counted", "duration_words"]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``counted(1, "job")`` is ``"1 job"``, ``counted(3, "job")`` ``"3 jobs"``; ``plural`` for
    nouns that do not just add an s (``counted(2, "delivery", "deliveries")``). Thousands are
    grouped: ``"10,000 jobs"``."""
    word = noun if count == 1 else (plural or noun + "s")
    return f"{count:,} {word}"


def duration_words(seconds: float) -> str:
    """``45 s``, ``2 min 5 s``, ``1 h 3 min``."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"
