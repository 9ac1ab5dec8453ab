"""Subscribers: the one list of callbacks the engine and the listeners tell of what happened."""

from __future__ import annotations

import logging
import threading

import pytest

from gui.core.events import Subscribers


def test_every_subscriber_is_told_in_order_even_after_one_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[tuple[str, int]] = []
    subscribers: Subscribers[int] = Subscribers("a test")

    def broken(value: int) -> None:
        raise RuntimeError("broken subscriber")

    subscribers.add(lambda value: heard.append(("first", value)))
    subscribers.add(broken)
    unsubscribe = subscribers.add(lambda value: heard.append(("last", value)))
    with caplog.at_level(logging.ERROR, logger="gui.core.events"):
        subscribers.tell(1)
    assert heard == [("first", 1), ("last", 1)]
    assert "a test subscriber failed" in caplog.text

    unsubscribe()
    unsubscribe()  # twice is harmless
    subscribers.tell(2)
    assert heard == [("first", 1), ("last", 1), ("first", 2)]


def test_subscribing_from_other_threads_while_telling_loses_no_one() -> None:
    subscribers: Subscribers[int] = Subscribers("a test")
    counts = [0] * 8

    def subscribe(slot: int) -> None:
        subscribers.add(lambda value: counts.__setitem__(slot, counts[slot] + value))

    threads = [threading.Thread(target=subscribe, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for _ in range(100):
        subscribers.tell(0)
    for thread in threads:
        thread.join()
    subscribers.tell(1)
    assert counts == [1] * 8
