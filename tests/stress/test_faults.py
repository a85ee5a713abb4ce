"""The --inject-bug seams: they patch only while installed, and the one private attribute they use exists."""

from __future__ import annotations

import threading

import pytest

from mq import Broker, Empty, Subscription
from stress.harness.config import BUGS
from stress.harness.faults import group_lock, make_fault


def test_the_deadlock_seam_finds_the_lock_that_guards_a_group() -> None:
    # If this fails, mq's internals moved: update faults.group_lock (the only private access).
    with Broker(reaper_interval=None) as broker:
        broker.create_topic("t")
        subscription = broker.subscribe("t", "g")
        lock = group_lock(subscription)
        assert callable(getattr(lock, "acquire", None)) and callable(getattr(lock, "release", None))
        outcome: list[str] = []

        def get_nothing() -> None:
            try:
                subscription.get(timeout=0)
            except Empty:
                outcome.append("empty")

        with lock:
            getter = threading.Thread(target=get_nothing)
            getter.start()
            getter.join(0.2)
            assert getter.is_alive(), "a get ran while the seam held group_lock(): it is not the group's lock"
        getter.join(5)
        assert outcome == ["empty"]
        subscription.close()


@pytest.mark.parametrize("name", BUGS)
def test_a_seam_patches_only_while_installed(name: str) -> None:
    before = (Subscription.get, Broker.publish, Broker.create_topic)
    fault = make_fault(name, capacity=10)
    fault.install()
    try:
        assert (Subscription.get, Broker.publish, Broker.create_topic) != before
    finally:
        fault.uninstall()
        fault.heal()
    assert (Subscription.get, Broker.publish, Broker.create_topic) == before
