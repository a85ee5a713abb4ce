"""Ledger: the client side's own account of every message, independent of the broker's counters.

Every message is tagged ``(producer, seq)``: producer ``p`` publishes
``seq = 0, 1, 2, ...`` to topic ``p % topics``.  The ledger learns

* from each producer: the outcome of each publish (`ProducerTrack`);
* from each consumer: each delivery it got and how it settled it;
* from the dead-letter queues: each dead letter;

and checks as it goes (`GroupLedger`): no delivery attempt handed out twice
(same ``delivery_count`` of the same message), no delivery after the
message's ack, no message acked twice or both acked and dead-lettered, and
each consumer sees a producer's first deliveries in sequence order (the
group is FIFO and every message has priority 0, so a redelivery never
reorders first deliveries).

At an audit (`audit_topic`, producers paused and the broker quiescent) it
checks the end state of every message since the previous audit: acked
once, or dead-lettered once, or - when it had a TTL and neither - expired;
a message published without a TTL that is none of those is lost.  It then
compares its totals with the broker's counters, and forgets the audited
messages: all per-message state lives in `Bitmap`s (bits, not a set of
ids) from the last audit on, so memory stays flat over hours.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from stress.harness.bitmap import Bitmap, ones
from stress.harness.violations import Violations

MAX_LISTED = 10  # lost messages listed one by one per audit; the rest are counted


class ProducerTrack:
    """What one producer published.  Written only by its thread; audits read it while the producer is paused."""

    def __init__(self, index: int, topic: str) -> None:
        self.index = index
        self.topic = topic
        # Invariant: every seq < next_seq has an outcome: published, or failed (bit set);
        # ttl has the bit of every seq published with a TTL; the bitmaps share one base.
        self.next_seq = 0
        self.audited = 0  # every seq below it was checked by an audit
        self.failed = Bitmap()
        self.ttl = Bitmap()
        self.published = 0  # publishes that returned an id
        self.failures = 0  # publishes refused with Full (under backpressure)
        self.progress = 0  # publish outcomes so far (for the watchdog)

    def record(self, seq: int, ok: bool, ttl: bool) -> None:
        """The publish of ``seq`` returned (``ok``) or raised Full."""
        assert seq == self.next_seq, (seq, self.next_seq)
        if ttl:
            self.ttl.set(seq)
        if ok:
            self.published += 1
        else:
            self.failed.set(seq)
            self.failures += 1
        self.next_seq = seq + 1
        self.progress += 1

    def advance(self, base: int) -> None:
        """Forget the outcomes below ``base``."""
        self.failed.advance(base)
        self.ttl.advance(base)


@dataclass
class _Track:
    # The state of producer p's messages in one group, from ``base`` on.
    base: int = 0
    first: Bitmap = field(default_factory=Bitmap)  # delivery 1 was handed out
    acked: Bitmap = field(default_factory=Bitmap)  # an ack was accepted
    dead: Bitmap = field(default_factory=Bitmap)  # a dead letter was read
    later: dict[int, set[int]] = field(default_factory=dict)  # seq -> delivery counts > 1 handed out
    acked_count: dict[int, int] = field(default_factory=dict)  # seq -> delivery count of its ack, when > 1
    audited_at: float = float("-inf")  # monotonic time of the audit that set base

    def advance(self, base: int, now: float) -> None:
        self.first.advance(base)
        self.acked.advance(base)
        self.dead.advance(base)
        for table in (self.later, self.acked_count):  # in place: the tables keep their size
            for seq in [seq for seq in table if seq < base]:
                del table[seq]
        self.base = base
        self.audited_at = now


class GroupLedger:
    """The ledger of one subscription group; thread-safe (one lock, never held across a broker call)."""

    def __init__(self, topic: str, group: str, producers: list[int], violations: Violations) -> None:
        self.topic = topic
        self.group = group
        self._violations = violations
        # Invariant (under _lock): _tracks[p] describes producer p's messages from its base on;
        # _holding maps (p, seq, delivery_count) of every delivery a consumer got and has not
        # settled yet to that consumer; counters count every event recorded.
        self._lock = threading.Lock()
        self._tracks = {p: _Track() for p in producers}
        self._holding: dict[tuple[int, int, int], str] = {}
        self._last_first: dict[tuple[str, int], int] = {}  # (consumer, p) -> seq of its latest first delivery
        self.deliveries = 0
        self.redeliveries = 0
        self.acked = 0
        self.nacked = 0
        self.rejected = 0
        self.abandoned = 0
        self.stale = 0  # acks / nacks the broker refused (it had taken the delivery back)
        self.late = 0  # deliveries recorded after an audit that had already settled their message
        self.dead = 0
        self.dead_reasons: dict[str, int] = {}
        self.expired = 0  # inferred at audits
        self.lost = 0
        self.progress = 0  # events so far (for the watchdog)

    # -- consumers ------------------------------------------------------------

    def delivered(self, consumer: str, p: int, seq: int, count: int, delivered_at: float, state: str) -> None:
        """``consumer`` got delivery number ``count`` of (p, seq); ``state`` is the delivery's state name then."""
        with self._lock:
            self.progress += 1
            self.deliveries += 1
            if count > 1:
                self.redeliveries += 1
            track = self._tracks[p]
            where = (p, seq, count, consumer)
            if state in ("ACKED", "NACKED"):
                self._add("duplicate", f"get handed out a delivery that was already {state.lower()}", where)
            if seq < track.base:
                if delivered_at > track.audited_at:
                    self._add("duplicate", "delivered after an audit had found the message settled", where)
                else:
                    self.late += 1  # handed out before that audit, taken back since: recorded late
                return
            if count == 1:
                if track.first.set(seq):
                    self._add("duplicate", "delivery 1 handed out twice", where)
                key = (consumer, p)
                previous = self._last_first.get(key, -1)
                if seq < previous:
                    self._add("order", f"first delivery of seq {seq} after that of seq {previous} "
                                       "to the same consumer", where)
                else:
                    self._last_first[key] = seq
            else:
                counts = track.later.setdefault(seq, set())
                if count in counts:
                    self._add("duplicate", f"delivery {count} handed out twice", where)
                counts.add(count)
            if track.acked.test(seq) and count > track.acked_count.get(seq, 1):
                self._add("duplicate", "delivered after its ack", where,
                          acked_delivery=track.acked_count.get(seq, 1))
            holder = self._holding.setdefault((p, seq, count), consumer)
            if holder != consumer:
                self._add("duplicate", f"held by two consumers at once ({holder} and {consumer})", where)

    def settled(self, consumer: str, p: int, seq: int, count: int, outcome: str) -> None:
        """``consumer`` finished with its delivery: "acked", "stale" (broker refused), "nacked", "rejected", "abandoned"."""
        with self._lock:
            self.progress += 1
            self._holding.pop((p, seq, count), None)
            if outcome == "acked":
                self._acked(consumer, p, seq, count)
            elif outcome == "stale":
                self.stale += 1
            elif outcome == "nacked":
                self.nacked += 1
            elif outcome == "rejected":
                self.rejected += 1
            else:
                assert outcome == "abandoned", outcome
                self.abandoned += 1

    def _acked(self, consumer: str, p: int, seq: int, count: int) -> None:
        # Caller holds _lock: the broker accepted consumer's ack of delivery ``count`` of (p, seq).
        self.acked += 1
        track = self._tracks[p]
        where = (p, seq, count, consumer)
        if seq < track.base:
            self._add("duplicate", "ack accepted after an audit had found the message settled", where)
            return
        if track.acked.set(seq):
            self._add("duplicate", "acked twice", where, first_ack_delivery=track.acked_count.get(seq, 1))
        if track.dead.test(seq):
            self._add("duplicate", "acked after it was dead-lettered", where)
        if count > 1:
            track.acked_count[seq] = count

    # -- dead letters ---------------------------------------------------------

    def dead_lettered(self, p: int, seq: int, count: int, reason: str) -> None:
        """A dead letter of (p, seq), delivery ``count``, was read from the topic's dead-letter queue."""
        with self._lock:
            self.progress += 1
            self.dead += 1
            self.dead_reasons[reason] = self.dead_reasons.get(reason, 0) + 1
            track = self._tracks[p]
            where = (p, seq, count, None)
            if seq < track.base:
                self._add("duplicate", "dead-lettered after an audit had found the message settled", where,
                          reason=reason)
                return
            if track.dead.set(seq):
                self._add("duplicate", "dead-lettered twice", where, reason=reason)
            if track.acked.test(seq):
                self._add("duplicate", "dead-lettered after its ack", where, reason=reason)

    # -- audits ---------------------------------------------------------------

    def audit(self, producer: ProducerTrack) -> int:
        """Check the end state of each of ``producer``'s messages since the last audit (quiescent broker).

        Covers seqs ``producer.audited .. producer.next_seq - 1``; returns how
        many of them expired (had a TTL, were neither acked nor dead-lettered).
        """
        with self._lock:
            track = self._tracks[producer.index]
            assert producer.failed.base == track.base, (producer.failed.base, track.base)
            end = producer.next_seq
            start = producer.audited
            if end <= start:
                return 0
            span = ((1 << (end - track.base)) - 1) & ~((1 << (start - track.base)) - 1)
            failed = producer.failed.as_int(end)
            ttl = producer.ttl.as_int(end)
            acked = track.acked.as_int(end)
            dead = track.dead.as_int(end)
            published = span & ~failed
            if (acked | dead) & failed:
                for offset in ones((acked | dead) & failed)[:MAX_LISTED]:
                    self._add("accounting", "a publish that raised Full was delivered and settled",
                              (producer.index, track.base + offset, None, None))
            missing = published & ~acked & ~dead
            lost = missing & ~ttl
            if lost:
                positions = ones(lost)
                self.lost += len(positions)
                for offset in positions[:MAX_LISTED]:
                    self._add("loss", "published (no TTL) but never acked nor dead-lettered",
                              (producer.index, track.base + offset, None, None))
                if len(positions) > MAX_LISTED:
                    self._add("loss", f"{len(positions) - MAX_LISTED} more lost messages of this producer "
                                      "in this group (not listed)", (producer.index, None, None, None))
            expired = (missing & ttl).bit_count()
            self.expired += expired
            return expired

    def advance(self, p: int, base: int, now: float) -> None:
        """Forget producer ``p``'s messages below ``base`` (after an audit found them settled)."""
        with self._lock:
            self._tracks[p].advance(base, now)

    def holding(self) -> int:
        """Deliveries consumers got and have not settled yet."""
        with self._lock:
            return len(self._holding)

    def memory(self) -> int:
        """Bytes of bitmaps held (for the report)."""
        with self._lock:
            return sum(len(t.first) + len(t.acked) + len(t.dead) for t in self._tracks.values())

    def counters(self) -> dict[str, Any]:
        """The totals, for snapshots and the summary."""
        with self._lock:
            return {
                "deliveries": self.deliveries,
                "redeliveries": self.redeliveries,
                "acked": self.acked,
                "nacked": self.nacked,
                "rejected": self.rejected,
                "abandoned": self.abandoned,
                "stale": self.stale,
                "late": self.late,
                "dead_lettered": self.dead,
                "dead_reasons": dict(self.dead_reasons),
                "expired": self.expired,
                "lost": self.lost,
            }

    # -- helpers --------------------------------------------------------------

    def _add(self, kind: str, what: str, where: tuple[int, int | None, int | None, str | None],
             **more: Any) -> None:
        # Record a violation about ``where`` = (producer, seq, delivery count, consumer), any but
        # the producer None; message "topic/group producer p seq s delivery n: what".
        p, seq, count, consumer = where
        details: dict[str, Any] = {"topic": self.topic, "group": self.group, "producer": p}
        label = f"{self.topic}/{self.group} producer {p}"
        if seq is not None:
            details["seq"] = seq
            label += f" seq {seq}"
        if count is not None:
            details["delivery"] = count
            label += f" delivery {count}"
        if consumer is not None:
            details["consumer"] = consumer
        details.update(more)
        self._violations.add(kind, f"{label}: {what}", **details)


class Ledger:
    """Every producer's track and every group's ledger of a run."""

    def __init__(self, topics: list[str], groups: list[str], producers: int, violations: Violations) -> None:
        self.producers = [ProducerTrack(p, topics[p % len(topics)]) for p in range(producers)]
        self.groups: dict[tuple[str, str], GroupLedger] = {}
        for t, topic in enumerate(topics):
            mine = [p for p in range(producers) if p % len(topics) == t]
            for group in groups:
                self.groups[(topic, group)] = GroupLedger(topic, group, mine, violations)

    def of_topic(self, topic: str) -> tuple[list[ProducerTrack], list[GroupLedger]]:
        """The producers publishing to ``topic`` and its groups' ledgers."""
        producers = [track for track in self.producers if track.topic == topic]
        groups = [ledger for (name, _), ledger in self.groups.items() if name == topic]
        return producers, groups

    def totals(self) -> dict[str, Any]:
        """Counters summed over all groups, plus the publish totals."""
        sums: dict[str, Any] = {}
        reasons: dict[str, int] = {}
        for ledger in self.groups.values():
            for key, value in ledger.counters().items():
                if key == "dead_reasons":
                    for reason, count in value.items():
                        reasons[reason] = reasons.get(reason, 0) + count
                else:
                    sums[key] = sums.get(key, 0) + value
        sums["dead_reasons"] = reasons
        sums["published"] = sum(track.published for track in self.producers)
        sums["publish_failed"] = sum(track.failures for track in self.producers)
        return sums
