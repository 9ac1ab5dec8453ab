"""Words for counts, so every message says "1 job" and "2 jobs", never "1 jobs" or "job(s)"."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``counted(1, "job")`` is ``"1 job"``, ``counted(3, "job")`` ``"3 jobs"``; ``plural`` for
    nouns that do not just add an s (``counted(2, "delivery", "deliveries")``). Thousands are
    grouped: ``"10,000 jobs"``."""
    word = noun if count == 1 else (plural or noun + "s")
    return f"{count:,} {word}"
