"""Counters, frozen snapshots and the accounting identity.

Every snapshot is taken under the lock of the thing it describes, so its
numbers are consistent with each other.  Per subscription group the broker
keeps the identity

    published = acked + expired + dead_lettered + discarded + in_queue + in_flight

in every snapshot: each message fanned out to the group is in exactly one
of those states.  `GroupStats.check_identity` raises with the numbers when
it does not hold; tests and the stress harness call it.

Processing times (delivery to ack) go into a `LatencyHistogram`: fixed
log-scale buckets, so p50/p99 take bounded memory however many messages
pass.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueueStatistics:
    """A snapshot of one `BoundedQueue`."""

    size: int
    capacity: int | None
    closed: bool
    priority: bool
    waiting_getters: int  # threads blocked in get / get_many
    waiting_putters: int  # threads blocked in put / put_many


class LatencyHistogram:
    """Durations in fixed log-scale buckets: bounded memory, ~6% relative error.

    Bucket 0 holds durations below 2**-20 s (about 1 µs, including 0);
    then 8 buckets per power of two up to 2**12 s (68 minutes); longer
    durations land in the last bucket.  ``record`` is one binary search of
    the bucket edges (a C call: it runs on every ack).  A percentile
    reports the middle of the bucket that holds it.  Not thread-safe: the
    owner's lock guards it.
    """

    __slots__ = ("_counts",)

    SUB_BUCKETS = 8
    MIN_EXP = -20
    MAX_EXP = 12
    BUCKETS = 1 + (MAX_EXP - MIN_EXP) * SUB_BUCKETS

    def __init__(self) -> None:
        self._counts = [0] * self.BUCKETS

    @property
    def total(self) -> int:
        """The number of durations recorded."""
        return sum(self._counts)

    def record(self, seconds: float) -> None:
        """Count one duration."""
        self._counts[_bisect_right(_EDGES, seconds)] += 1

    def copy(self) -> LatencyHistogram:
        """An independent copy (to compute percentiles outside the owner's lock)."""
        other = LatencyHistogram.__new__(LatencyHistogram)
        other._counts = self._counts.copy()
        return other

    @classmethod
    def lower_edge(cls, index: int) -> float:
        """The smallest duration of bucket ``index`` >= 1 (bucket 0 starts at -inf)."""
        octave, sub = divmod(index - 1, cls.SUB_BUCKETS)
        return 2.0 ** (octave + cls.MIN_EXP) * (1.0 + sub / cls.SUB_BUCKETS)

    @classmethod
    def _middle(cls, index: int) -> float:
        # A representative duration for a bucket: 0 for bucket 0, else its midpoint.
        if index == 0:
            return 0.0
        octave, sub = divmod(index - 1, cls.SUB_BUCKETS)
        base = 2.0 ** (octave + cls.MIN_EXP)
        return base * (1.0 + (sub + 0.5) / cls.SUB_BUCKETS)

    def percentile(self, fraction: float) -> float | None:
        """The duration below which ``fraction`` (0 < fraction <= 1) of the counts fall; None when empty."""
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"'fraction' must be in (0, 1], got {fraction!r}")
        total = self.total
        if not total:
            return None
        rank = math.ceil(fraction * total)
        seen = 0
        for index, count in enumerate(self._counts):
            seen += count
            if seen >= rank:
                return self._middle(index)
        raise AssertionError("unreachable: counts sum to total")  # pragma: no cover


# The lower edges of buckets 1 .. BUCKETS-1, ascending: bisect_right gives a duration's bucket.
_EDGES = [LatencyHistogram.lower_edge(index) for index in range(1, LatencyHistogram.BUCKETS)]
_bisect_right = bisect.bisect_right


def _rate(count: int, elapsed: float) -> float:
    return count / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True, slots=True)
class GroupStats:
    """A consistent snapshot of one subscription group (taken under its lock).

    ``group`` is None for the topic's default group.  ``p50`` / ``p99`` are
    processing times (delivery to ack, broker-clock seconds), None before
    the first ack.  ``elapsed`` is broker-clock seconds since the group was
    created; the rates are per second over it.
    """

    topic: str
    group: str | None
    published: int  # messages fanned out to this group
    delivered: int  # deliveries handed out by get (first deliveries and redeliveries)
    acked: int
    nacked: int
    redelivered: int  # deliveries of a message that had been delivered before
    ack_timeouts: int  # deliveries taken back because they were not acked in time
    expired: int
    dead_lettered: int
    discarded: int
    in_queue: int
    in_flight: int
    high_water: int  # the largest in_queue + in_flight seen
    capacity: int | None
    consumers: int  # open subscriptions
    p50: float | None
    p99: float | None
    elapsed: float
    closed: bool

    @property
    def name(self) -> str:
        """The group's display name: its name, or "(default)"."""
        return "(default)" if self.group is None else self.group

    @property
    def publish_rate(self) -> float:
        """Messages fanned out to the group per second."""
        return _rate(self.published, self.elapsed)

    @property
    def ack_rate(self) -> float:
        """Acks per second."""
        return _rate(self.acked, self.elapsed)

    def identity_holds(self) -> bool:
        """True when published = acked + expired + dead_lettered + discarded + in_queue + in_flight."""
        return self.published == (
            self.acked + self.expired + self.dead_lettered + self.discarded + self.in_queue + self.in_flight
        )

    def check_identity(self) -> None:
        """Raise AssertionError, with every number, when the accounting identity fails."""
        if not self.identity_holds():
            raise AssertionError(
                f"accounting identity broken for topic {self.topic!r} group {self.name}: "
                f"published={self.published} but acked={self.acked} + expired={self.expired} "
                f"+ dead_lettered={self.dead_lettered} + discarded={self.discarded} "
                f"+ in_queue={self.in_queue} + in_flight={self.in_flight} = "
                f"{self.acked + self.expired + self.dead_lettered + self.discarded + self.in_queue + self.in_flight}"
            )

    def format(self) -> str:
        """One readable line."""
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.1f}ms"

        capacity = "∞" if self.capacity is None else str(self.capacity)
        return (
            f"{self.topic}/{self.name}: published {self.published}, delivered {self.delivered}, "
            f"acked {self.acked}, nacked {self.nacked}, redelivered {self.redelivered}, "
            f"expired {self.expired}, dead-lettered {self.dead_lettered}, discarded {self.discarded}, "
            f"queued {self.in_queue}, in flight {self.in_flight}, high-water {self.high_water}/{capacity}, "
            f"p50 {ms(self.p50)}, p99 {ms(self.p99)}"
        )


@dataclass(frozen=True, slots=True)
class TopicStats:
    """A snapshot of one topic and its groups.

    The topic's own counters are consistent with each other; each group's
    snapshot is consistent in itself (groups are read one after another).
    """

    topic: str
    published: int  # successful publish calls
    unrouted: int  # of those, published while the topic had no group
    publish_waits: int  # publish calls that had to wait for room
    dead_letters: int  # records in the dead-letter queue now
    capacity: int | None
    closed: bool
    groups: tuple[GroupStats, ...]

    def __getitem__(self, group: str | None) -> GroupStats:
        for stats in self.groups:
            if stats.group == group:
                return stats
        raise KeyError(group)

    def check_identity(self) -> None:
        """`GroupStats.check_identity` for every group."""
        for stats in self.groups:
            stats.check_identity()

    def format(self) -> str:
        """A header line, then one line per group."""
        lines = [
            f"topic {self.topic}: published {self.published} (unrouted {self.unrouted}), "
            f"publishes that waited for room {self.publish_waits}, dead letters {self.dead_letters}"
        ]
        lines.extend("  " + stats.format() for stats in self.groups)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class BrokerStats:
    """A snapshot of every topic of a broker (topics read one after another)."""

    topics: tuple[TopicStats, ...]
    closed: bool

    def __getitem__(self, topic: str) -> TopicStats:
        for stats in self.topics:
            if stats.topic == topic:
                return stats
        raise KeyError(topic)

    def check_identity(self) -> None:
        """`GroupStats.check_identity` for every group of every topic."""
        for stats in self.topics:
            stats.check_identity()

    def totals(self) -> dict[str, int]:
        """Counters summed over every group of every topic."""
        keys = ("published", "delivered", "acked", "nacked", "expired", "dead_lettered", "discarded",
                "in_queue", "in_flight")
        sums = dict.fromkeys(keys, 0)
        for topic in self.topics:
            for group in topic.groups:
                for key in keys:
                    sums[key] += getattr(group, key)
        return sums

    def format(self) -> str:
        """Every topic's `TopicStats.format`."""
        return "\n".join(stats.format() for stats in self.topics) or "(no topics)"
