"""Topics under the checker: fan-out to groups, competing consumers, backpressure.

The broker runs without a reaper thread (``reaper_interval=None``) so that
the only threads are the scenario's own.  Message ids increase in publish
order, so "per-producer order" is: each consumer sees the ids of one
publisher increasing.  Occupancy is the group's own high-water mark
(``GroupStats.high_water``), checked against the capacity at the end.
"""

from __future__ import annotations

import pytest

from mq import AckError, Broker, DeliveryState
from mq.delivery import Delivery, Group
from tests.checked.harness import (
    broker_stats, catch, exactly_once, in_producer_order, prove, run_beside, within,
)


def ids_in_order(ids: list[int], where: str) -> None:
    """One publisher's ids, as one consumer received them, must increase."""
    in_producer_order([(0, i) for i in ids], where)


def check_groups(broker: Broker, capacity: int) -> None:
    """The identity and the bound on ready + in flight, for every group of topic "t"."""
    for group in broker_stats(broker)["t"].groups:
        within(group.high_water, capacity, f"group {group.name} high water: ")


# -- fan-out: one publisher, two groups of one consumer each ------------------


def fan_out_scenario(capacity: int):
    """The body: the main thread publishes 2 messages; each of 2 groups consumes them."""

    def body():
        broker = Broker(reaper_interval=None)
        broker.create_topic("t", capacity=capacity)
        subscriptions = {name: broker.subscribe("t", name) for name in ("a", "b")}
        sent = []
        received = {"a": [], "b": []}

        def publisher():
            for sequence in range(2):
                sent.append(broker.publish("t", sequence))

        def consumer(name):
            def run():
                for _ in range(2):
                    delivery = subscriptions[name].get()
                    received[name].append(delivery.message.id)
                    ids_in_order(received[name], f"group {name}: ")
                    delivery.ack()
            return run

        # The main thread is the publisher.
        run_beside(publisher, consumer("a"), consumer("b"), names=["consumer-a", "consumer-b"])
        for name, ids in received.items():
            exactly_once(sent, ids, f"group {name}: ")
        check_groups(broker, capacity)

    body.__name__ = body.__qualname__ = f"fan_out_capacity_{capacity}"
    return body


fan_out = fan_out_scenario(capacity=2)  # no backpressure: the publisher never waits
fan_out_backpressure = fan_out_scenario(capacity=1)  # the second publish waits for both groups


@pytest.mark.slow
def test_every_group_gets_every_message_once_in_order():
    prove(fan_out)


@pytest.mark.stress
def test_fan_out_waits_for_room_in_every_group_and_delivers_once_in_order():
    # 2,383 schedules, 5-13 s here: too long for the default suite.
    prove(fan_out_backpressure)


def push_without_notify(self, message):
    # BROKEN: adds the message but never wakes a consumer waiting in get.
    with self._lock:
        self._ready.push(message, message.priority)
        if message.expires_at is not None:
            self._ttl_ready += 1
        self._published += 1
        self._occupied += 1
        self._high_water = max(self._high_water, self._occupied)


def test_a_group_push_that_skips_the_notify_is_caught_deadlocking(monkeypatch):
    monkeypatch.setattr(Group, "push", push_without_notify)
    catch(fan_out, "deadlock")


# -- competing consumers and backpressure: one group, capacity 1 --------------


def competing_consumers():
    capacity = 1
    broker = Broker(reaper_interval=None)
    broker.create_topic("t", capacity=capacity)
    subscriptions = [broker.subscribe("t", "g") for _ in range(2)]
    sent = []
    received = []

    def publisher():
        # The second publish waits for room: capacity 1 counts the in-flight message.
        for sequence in range(2):
            sent.append(broker.publish("t", sequence))

    def consumer(index):
        def run():
            delivery = subscriptions[index].get()
            received.append(delivery.message.id)
            delivery.ack()
        return run

    # The main thread is the publisher.
    run_beside(publisher, consumer(0), consumer(1), names=["consumer-0", "consumer-1"])
    exactly_once(sent, received)
    check_groups(broker, capacity)


@pytest.mark.slow
def test_competing_consumers_share_the_messages_exactly_once_under_backpressure():
    prove(competing_consumers)


def ack_keeping_the_entry(self):
    # BROKEN: counts the ack and frees the slot but leaves the delivery in flight.
    group = self._group
    with group._lock:
        if self._state is not DeliveryState.IN_FLIGHT:
            raise AckError("ack of a settled delivery")
        self._state = DeliveryState.ACKED
        group._occupied -= 1
        group._acked += 1
    if group.topic.waiting:
        group.topic.wake_publishers(1)


def ack_without_waking_publishers(self):
    # BROKEN: settles the delivery but never wakes a publisher waiting for the slot.
    group = self._group
    with group._lock:
        if self._state is not DeliveryState.IN_FLIGHT:
            raise AckError("ack of a settled delivery")
        self._state = DeliveryState.ACKED
        del group._in_flight[self]
        group._occupied -= 1
        group._acked += 1


def test_an_ack_that_leaves_the_delivery_in_flight_is_caught_breaking_the_identity(monkeypatch):
    monkeypatch.setattr(Delivery, "ack", ack_keeping_the_entry)
    catch(competing_consumers, "identity")


def test_an_ack_that_does_not_wake_a_waiting_publisher_is_caught_deadlocking(monkeypatch):
    monkeypatch.setattr(Delivery, "ack", ack_without_waking_publishers)
    catch(competing_consumers, "deadlock")
