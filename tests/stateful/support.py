"""What the state machines share: mq's time source under test control, and results as the specs see them.

`FakeTime` stands in for the ``time`` module inside ``mq`` only (pytest and
Hypothesis keep the real one): every ``monotonic()`` read is ``jump``
seconds later than the one before, so a deadline computed from one read
has passed at the next read.  A call with any ``timeout`` that would wait
therefore gives up at once, with its real error, and no test ever sleeps.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from model.history import raised_of
from model.specs import Raised
from model.specs.broker import BrokerView, DeadLetterView, GroupView, Msg, TopicView
from mq import BrokerStats, DeadLetter, Delivery, GroupStats, MQError, Subscription, TopicStats

# What a call may raise on purpose: mq's errors and argument errors.
EXPECTED_ERRORS = (MQError, TypeError, ValueError)


class FakeTime:
    """The ``time`` module as ``mq`` sees it under test: ``monotonic()`` jumps at every read."""

    def __init__(self, start: float = 1_000_000.0, jump: float = 1_000.0) -> None:
        self.now = start
        self.jump = jump
        self.reads = 0

    def monotonic(self) -> float:
        self.reads += 1
        self.now += self.jump
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)  # anything else: the real module's


def patch_mq_time(fake: object) -> Callable[[], None]:
    """Point every ``mq`` module's ``time`` at ``fake``; returns the function that restores them."""
    patched = [
        module
        for name, module in list(sys.modules.items())
        if (name == "mq" or name.startswith("mq.")) and getattr(module, "time", None) is time
    ]
    for module in patched:
        module.time = fake

    def restore() -> None:
        for module in patched:
            module.time = time

    return restore


class ManualClock:
    """A broker clock (``Broker(clock=...)``) that moves only when told."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def outcome(call: Callable[[], Any]) -> Any:
    """What ``call()`` returned, or a ``Raised`` for an error it raised on purpose."""
    try:
        return call()
    except EXPECTED_ERRORS as error:
        return raised_of(error)


def observe(value: Any) -> Any:
    """An ``mq`` result in the form of the broker spec's outcomes."""
    if isinstance(value, Delivery):
        return message_view(value.message)
    if isinstance(value, Subscription):
        return (value.topic, value.group)
    if isinstance(value, DeadLetter):
        return DeadLetterView(message_view(value.message), value.group, value.reason)
    if isinstance(value, BrokerStats):
        return BrokerView(value.closed, tuple(topic_view(t) for t in value.topics))
    if isinstance(value, TopicStats):
        return topic_view(value)
    return value


def message_view(m: Any) -> Msg:
    headers = tuple(sorted(m.headers.items()))
    return Msg(m.id, m.topic, m.payload, m.priority, m.ttl, m.created_at, m.expires_at, m.delivery_count, headers)


def group_view(g: GroupStats) -> GroupView:
    return GroupView(
        g.group, g.published, g.delivered, g.acked, g.nacked, g.redelivered, g.ack_timeouts,
        g.expired, g.dead_lettered, g.discarded, g.in_queue, g.in_flight, g.high_water,
        g.capacity, g.consumers, g.closed,
    )


def topic_view(t: TopicStats) -> TopicView:
    return TopicView(
        t.topic, t.published, t.unrouted, t.publish_waits, t.dead_letters, t.capacity, t.closed,
        tuple(group_view(g) for g in t.groups),
    )
