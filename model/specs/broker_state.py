"""The state of the broker spec (model/specs/broker.py) and the views callers see.

Views (`Msg`, `GroupView`, `TopicView`, `BrokerView`, `DeadLetterView`) are
what a call returns: plain tuples a test builds from ``mq``'s results to
compare.  The state classes are mutable, but the spec only ever changes a
copy (``BrokerSpec.run``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

COUNTERS = (
    "published", "delivered", "acked", "nacked", "redelivered",
    "ack_timeouts", "expired", "dead_lettered", "discarded",
)


# -- what callers see -------------------------------------------------------


class Msg(NamedTuple):
    """A published message as a consumer sees it."""

    id: int
    topic: str
    payload: Any
    priority: float
    ttl: float | None
    created_at: float
    expires_at: float | None
    delivery_count: int
    headers: tuple = ()  # sorted (key, value) pairs


class DeadLetterView(NamedTuple):
    message: Msg
    group: str | None
    reason: str  # "rejected" or "max_deliveries"


class GroupView(NamedTuple):
    group: str | None
    published: int
    delivered: int
    acked: int
    nacked: int
    redelivered: int
    ack_timeouts: int
    expired: int
    dead_lettered: int
    discarded: int
    in_queue: int
    in_flight: int
    high_water: int
    capacity: int | None
    consumers: int
    closed: bool


class TopicView(NamedTuple):
    topic: str
    published: int
    unrouted: int
    publish_waits: int
    dead_letters: int
    capacity: int | None
    closed: bool
    groups: tuple[GroupView, ...]


class BrokerView(NamedTuple):
    closed: bool
    topics: tuple[TopicView, ...]


def identity_holds(group: GroupView) -> bool:
    """published = acked + expired + dead_lettered + discarded + in_queue + in_flight."""
    return group.published == (
        group.acked + group.expired + group.dead_lettered + group.discarded
        + group.in_queue + group.in_flight
    )


# -- the state ----------------------------------------------------------------


@dataclass
class Group:
    name: str | None
    ready: list[Msg] = field(default_factory=list)  # service order
    in_flight: list[int] = field(default_factory=list)  # delivery numbers, delivery order
    subscriptions: int = 0  # open ones
    closed: bool = False
    high_water: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))

    def occupied(self) -> int:
        return len(self.ready) + len(self.in_flight)

    def clone(self) -> Group:
        return replace(self, ready=list(self.ready), in_flight=list(self.in_flight), counts=dict(self.counts))


@dataclass
class Topic:
    name: str
    capacity: int | None
    ttl: float | None
    max_deliveries: int | None
    ack_timeout: float | None
    open: bool = True  # False once deleted or shut down
    groups: dict[str | None, Group] = field(default_factory=dict)  # creation order
    dead_letters: list[DeadLetterView] = field(default_factory=list)
    published: int = 0
    unrouted: int = 0
    publish_waits: int = 0

    def clone(self) -> Topic:
        groups = {name: group.clone() for name, group in self.groups.items()}
        return replace(self, groups=groups, dead_letters=list(self.dead_letters))


@dataclass
class Subscription:
    topic: int  # index into World.topics
    group: str | None
    closed: bool = False


@dataclass
class Delivery:
    topic: int
    group: str | None
    message: Msg
    at: float  # broker clock at delivery
    state: str = "IN_FLIGHT"


@dataclass
class World:
    now: float = 0.0
    closed: bool = False
    shutdown_result: bool | None = None
    next_id: int = 1
    live: dict[str, int] = field(default_factory=dict)  # name -> index of a topic not deleted
    topics: list[Topic] = field(default_factory=list)  # every topic ever created
    subscriptions: list[Subscription] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def clone(self) -> World:
        """A copy sharing nothing mutable with this one (messages are immutable tuples)."""
        return replace(
            self,
            live=dict(self.live),
            topics=[topic.clone() for topic in self.topics],
            subscriptions=[replace(s) for s in self.subscriptions],
            deliveries=[replace(d) for d in self.deliveries],
        )

    def group_of(self, handle: Subscription | Delivery) -> tuple[Topic, Group]:
        topic = self.topics[handle.topic]
        return topic, topic.groups[handle.group]


def group_view(topic: Topic, group: Group) -> GroupView:
    c = group.counts
    return GroupView(
        group.name, c["published"], c["delivered"], c["acked"], c["nacked"], c["redelivered"],
        c["ack_timeouts"], c["expired"], c["dead_lettered"], c["discarded"],
        len(group.ready), len(group.in_flight), group.high_water, topic.capacity,
        group.subscriptions, group.closed,
    )


def topic_view(topic: Topic) -> TopicView:
    return TopicView(
        topic.name, topic.published, topic.unrouted, topic.publish_waits, len(topic.dead_letters),
        topic.capacity, not topic.open, tuple(group_view(topic, g) for g in topic.groups.values()),
    )
