"""Broker end to end: ``publish`` -> ``Subscription.get`` -> ``Delivery.ack``.

One topic of capacity ``capacity`` (default 1000), ``groups`` subscription
groups with ``consumers_per_group`` competing subscriptions each, and
``producers`` publishing threads; no reaper thread.  The figure is messages
published per second until every group acked every message.  Afterwards
each group's stats must show every message acked and the accounting
identity holding, or the run is a `BenchError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mq import Broker
from stress.bench.figures import BenchError
from stress.bench.queues import run_workers, shares

TOPIC = "bench"


def _publish(publish: Callable[..., Any], count: int) -> None:
    for item in range(count):
        publish(TOPIC, item)


def _consume(get: Callable[[], Any], count: int) -> None:
    for _ in range(count):
        get().ack()


def end_to_end(
    groups: int,
    producers: int,
    consumers_per_group: int,
    count: int,
    timeout: float,
    *,
    capacity: int = 1000,
    make_broker: Callable[[], Broker] = lambda: Broker(reaper_interval=None),
) -> float:
    """``count`` messages published and acked in every group: messages per second."""
    broker = make_broker()
    try:
        broker.create_topic(TOPIC, capacity=capacity)
        bodies: list[Callable[[], Any]] = [
            lambda n=n: _publish(broker.publish, n) for n in shares(count, producers)
        ]
        for group in range(groups):
            for n in shares(count, consumers_per_group):
                subscription = broker.subscribe(TOPIC, f"group-{group}")
                bodies.append(lambda n=n, s=subscription: _consume(s.get, n))
        elapsed = run_workers(bodies, timeout)
        _check_all_acked(broker, groups, count)
    finally:
        broker.shutdown(drain=False, timeout=timeout)
    return count / elapsed


def _check_all_acked(broker: Broker, groups: int, count: int) -> None:
    # BenchError unless each of the ``groups`` groups got and acked ``count`` messages.
    stats = broker.stats()[TOPIC]
    stats.check_identity()
    if len(stats.groups) != groups:
        raise BenchError(f"expected {groups} groups, the topic has {len(stats.groups)}")
    for group in stats.groups:
        if (group.published, group.acked, group.in_queue, group.in_flight) != (count, count, 0, 0):
            raise BenchError(f"not every message went through once: {group.format()}")
