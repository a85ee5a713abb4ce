"""Broker shutdown under the checker.

A publisher pushes two messages through a topic of capacity 1 (so the second
publish may wait for room), a consumer gets and acks until its get raises
`Closed`, and the main thread shuts the broker down with ``drain=True``
meanwhile.  Shutdown must refuse further publishes, let the consumer drain
what was published, then close the group (waking the consumer) and report
success: every message published is acked, none discarded, nothing hangs.
"""

from __future__ import annotations

import pytest

from mq import AckError, Broker, Closed, DeliveryState
from mq.delivery import Group
from mq.topic import Topic
from tests.checked.harness import (
    broker_stats, catch, exactly_once, no_duplicates, prove, run_beside, within,
)


def shutdown_scenario(drain: bool):
    """The body: publisher, consumer, and the main thread calling ``shutdown(drain)``."""

    def body():
        capacity = 1
        broker = Broker(reaper_interval=None)
        broker.create_topic("t", capacity=capacity)
        subscription = broker.subscribe("t", "g")
        sent = []
        acked = []
        outcome = []

        def publisher():
            for sequence in range(2):
                try:
                    sent.append(broker.publish("t", sequence))
                except Closed:
                    return

        def consumer():
            while True:
                try:
                    delivery = subscription.get()
                except Closed:
                    return
                try:
                    delivery.ack()
                except AckError:  # discarded by a shutdown that does not drain
                    assert not drain and delivery.state is DeliveryState.DISCARDED, delivery
                    continue
                acked.append(delivery.message.id)
                no_duplicates(acked)

        run_beside(lambda: outcome.append(broker.shutdown(drain=drain)), publisher, consumer,
                   names=["publisher", "consumer"])
        assert outcome == [True], f"shutdown(drain={drain}) returned {outcome}"
        stats = broker_stats(broker)["t"]["g"]
        within(stats.high_water, capacity, "high water: ")
        assert stats.closed and stats.published == len(sent), stats
        if drain:
            exactly_once(sent, acked)
            assert stats.discarded == 0, stats
        else:
            # Each message published was acked or discarded (counted), never lost, never both.
            exactly_once(sent, acked + [m for m in sent if m not in acked][:stats.discarded])

    body.__name__ = body.__qualname__ = "shutdown_draining" if drain else "shutdown_discarding"
    return body


shutdown_draining = shutdown_scenario(drain=True)
shutdown_discarding = shutdown_scenario(drain=False)


@pytest.mark.slow
@pytest.mark.parametrize("body", [shutdown_draining, shutdown_discarding], ids=["drain", "discard"])
def test_shutdown_wakes_every_waiter_and_loses_nothing(body):
    prove(body)


def close_waking_nobody(self):
    # BROKEN: discards and closes the group but does not wake consumers blocked in get.
    with self._lock:
        if self._closed:
            return 0
        self._closed = True
        count = len(self._ready.clear()) + len(self._in_flight)
        self._in_flight.clear()
        self._occupied = 0
        self._ttl_ready = 0
        self._discarded += count
        self._idle.notify_all()
        return count


def stop_publishing_waking_nobody(self, state):
    # BROKEN: refuses publishes from now on but does not wake a publisher waiting for room.
    with self._lock:
        if self._state is type(state).OPEN:
            self._state = state


def test_a_shutdown_that_does_not_wake_a_blocked_consumer_is_caught_deadlocking(monkeypatch):
    monkeypatch.setattr(Group, "close", close_waking_nobody)
    catch(shutdown_draining, "deadlock")


def test_a_shutdown_that_does_not_wake_a_blocked_publisher_is_caught_deadlocking(monkeypatch):
    monkeypatch.setattr(Topic, "stop_publishing", stop_publishing_waking_nobody)
    catch(shutdown_discarding, "deadlock")
