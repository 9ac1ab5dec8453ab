"""Counts in words: "1 job", "2 jobs", never "1 jobs" or "job(s)"."""

from __future__ import annotations

from gui.core.wording import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "job") == "1 job"
    assert [counted(n, "job") for n in (0, 2, 10_000)] == ["0 jobs", "2 jobs", "10,000 jobs"]
    assert counted(1, "delivery", "deliveries") == "1 delivery"
    assert counted(9, "delivery", "deliveries") == "9 deliveries"
