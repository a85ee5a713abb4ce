"""Monitor: the sampler thread (occupancy, the broker's identity, dead letters) and the watchdog.

The `Sampler` takes a `Broker.stats` snapshot every ``sample_interval``:
each group's accounting identity must hold, and ``in_queue + in_flight`` -
sampled, and the broker's own ``high_water`` mark, which no sample can
miss - must stay within the capacity the harness asked for.  It also reads
the dead-letter queues into the ledger (under one lock, so an audit that
drains after its snapshot has seen every record put before it).

The `Watchdog` never calls the broker: it reads what each thread says it
is doing and since when, and the ledger's progress counters.  A producer
inside ``publish`` past its timeout plus the stall timeout, a consumer
inside an ack / nack or its handler past the stall timeout, a harness
thread inside ``stats``, or a group with ready messages and no delivery
for the stall timeout is a stall.  `dump_stacks` gives every thread's stack.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any

from mq import Broker, Closed, Empty

from stress.harness.config import Config
from stress.harness.faults import Fault
from stress.harness.ledger import Ledger
from stress.harness.violations import Violations
from stress.harness.workload import Consumer, Producer, Worker


class Sampler(Worker):
    """Samples the broker until ``stop`` is set; also the audits' way to take a checked snapshot."""

    def __init__(self, broker: Broker, ledger: Ledger, config: Config, violations: Violations,
                 stop: threading.Event) -> None:
        super().__init__("stress-sampler", violations)
        self._broker = broker
        self._ledger = ledger
        self._config = config
        self._stop = stop
        self._drain_lock = threading.Lock()  # one drainer at a time: records are in the ledger when it is released
        self._reported: set[tuple[str, str, str]] = set()
        self.samples = 0
        self.sampled_at = float("-inf")
        self.ready: dict[tuple[str, str], int] = {}  # in_queue per group, latest sample
        self.occupancy: dict[tuple[str, str], int] = {}  # in_queue + in_flight per group, latest sample
        self.peak: dict[tuple[str, str], int] = {}  # the largest sampled occupancy per group
        self.high_water: dict[tuple[str, str], int] = {}  # the broker's high-water mark per group
        self.last: Any = None  # the latest BrokerStats

    def run(self) -> None:
        interval = self._config.sample_interval
        while not self._stop.wait(interval):  # a sampling period, not synchronisation
            self.sample(self)

    def sample(self, caller: Worker | Any) -> Any:
        """Take, check and record one snapshot; returns it (None when the broker's own asserts failed)."""
        caller._doing("stats")
        try:
            stats = self._broker.stats()
        except AssertionError as error:  # Group.snapshot asserts the identity itself
            self._once("identity", "broker", "stats", f"Broker.stats() failed its own check: {error}")
            return None
        finally:
            caller._doing("check")
        self._check(stats)
        caller._doing("drain")
        self.drain_dead_letters()
        caller._doing("idle")
        return stats

    def _check(self, stats: Any) -> None:
        # Identity and capacity of every group; remember the occupancies.
        capacity = self._config.capacity
        for topic in stats.topics:
            for group in topic.groups:
                key = (topic.topic, group.name)
                occupancy = group.in_queue + group.in_flight
                self.ready[key] = group.in_queue
                self.occupancy[key] = occupancy
                self.peak[key] = max(self.peak.get(key, 0), occupancy)
                self.high_water[key] = group.high_water
                if not group.identity_holds():
                    try:
                        group.check_identity()
                    except AssertionError as error:
                        self._once("identity", *key, str(error), **_numbers(group))
                if occupancy > capacity:
                    self._once("overflow", *key, f"{key[0]}/{key[1]}: in_queue {group.in_queue} + in_flight "
                               f"{group.in_flight} = {occupancy} > capacity {capacity}", **_numbers(group))
                elif group.high_water > capacity:
                    self._once("overflow", *key, f"{key[0]}/{key[1]}: high-water mark {group.high_water} "
                               f"> capacity {capacity}", **_numbers(group))
        self.last = stats
        self.samples += 1
        self.sampled_at = time.monotonic()

    def drain_dead_letters(self) -> int:
        """Read every dead letter queued now into the ledger; returns how many."""
        count = 0
        with self._drain_lock:
            for topic in self._broker.topics():
                queue = self._broker.dead_letters(topic)
                while True:
                    try:
                        records = queue.get_many(1000, timeout=0)
                    except (Empty, Closed):
                        break
                    for record in records:
                        message = record.message
                        p, seq, _ = message.payload
                        self._ledger.groups[(topic, record.group)].dead_lettered(
                            p, seq, message.delivery_count, record.reason)
                    count += len(records)
        return count

    def _once(self, kind: str, topic: str, group: str, message: str, **details: Any) -> None:
        # Report a sampled violation once per (kind, group): it stays true on every later sample.
        if (kind, topic, group) not in self._reported:
            self._reported.add((kind, topic, group))
            self._violations.add(kind, message, topic=topic, group=group, **details)


def _numbers(group: Any) -> dict[str, Any]:
    # The counters of a GroupStats, for violation details.
    names = ("published", "delivered", "acked", "nacked", "redelivered", "ack_timeouts", "expired",
             "dead_lettered", "discarded", "in_queue", "in_flight", "high_water", "capacity")
    return {name: getattr(group, name) for name in names}


class Watchdog:
    """Decides whether the run is stalled, from what threads report; never touches the broker."""

    def __init__(self, config: Config, producers: list[Producer], consumers: list[Consumer],
                 harness: list[Any], sampler: Sampler, ledger: Ledger, fault: Fault | None) -> None:
        self._config = config
        self._producers = producers
        self._consumers = consumers
        self._harness = harness  # threads that call Broker.stats (sampler, controller)
        self._sampler = sampler
        self._ledger = ledger
        self._fault = fault
        self._progress: dict[tuple[str, str], tuple[int, float]] = {}

    def check(self, now: float) -> str | None:
        """Why the run is stalled, or None."""
        stall = self._config.stall_timeout
        handler = self._config.ack_timeout * 1.5 + 0.05  # the longest a handler sleeps, with slack
        for producer in self._producers:
            age = now - producer.since
            if producer.op == "publish" and age > stall + self._config.publish_timeout:
                return (f"{producer.name} has been inside Broker.publish for {age:.1f} s "
                        f"(publish timeout {self._config.publish_timeout:g} s)")
        for consumer in self._consumers:
            age = now - consumer.since
            if consumer.op in ("record", "handle", "settle") and age > stall + handler:
                return f"{consumer.name} has been in {consumer.op!r} (ack / nack / handler) for {age:.1f} s"
        for thread in self._harness:
            age = now - thread.since
            if thread.op in ("stats", "drain") and age > stall:
                return f"{thread.name} has been inside Broker.stats / the dead-letter queue for {age:.1f} s"
        return self._idle_group(now, stall + handler)

    def _idle_group(self, now: float, limit: float) -> str | None:
        # A group with ready messages whose ledger saw nothing happen for ``limit`` seconds.
        holding = self._fault is not None and self._fault.holding()
        for key, ledger in self._ledger.groups.items():
            progress = ledger.progress
            last, since = self._progress.get(key, (-1, now))
            if progress != last:
                self._progress[key] = (progress, now)
                continue
            ready = self._sampler.ready.get(key, 0)
            if not holding and ready and now - since > limit and self._sampler.sampled_at > since + limit / 2:
                return (f"{key[0]}/{key[1]} has had {ready} ready messages and no delivery or settlement "
                        f"for {now - since:.1f} s")
        return None


def dump_stacks() -> dict[str, str]:
    """Every thread's current stack, by thread name."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    stacks = {}
    for ident, frame in sys._current_frames().items():
        name = names.get(ident, f"thread-{ident}")
        stacks[name] = "".join(traceback.format_stack(frame))
    return stacks
