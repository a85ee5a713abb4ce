"""Audit: pause the producers, wait until the broker is quiescent, then check every message exactly.

Quiescent means: every producer parked at the gate; a broker snapshot in
which every group has nothing ready and nothing in flight; the dead-letter
queues drained after it; and no consumer between a get and the record of
its settlement - checked by reading the consumers' operation counters
before and after the snapshot (equal, and none busy).  Then the broker has
settled everything published so far and the ledger has heard of all of it
(a consumer records an ack before it stops being busy), so the ledger's
verdicts (`GroupLedger.audit`) and its comparison with the broker's
counters are exact, not estimates.

One window is not covered by the counters: a consumer whose ``get``
returned but that has not yet run a line of harness code, whose delivery
the broker has already taken back (ack timeout) and settled otherwise.
The broker's ``delivered`` count is then ahead of the ledger's; the audit
waits up to `SETTLE` seconds for the two to agree before it judges.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from stress.harness.config import Config
from stress.harness.faults import Fault
from stress.harness.ledger import Ledger
from stress.harness.monitor import Sampler
from stress.harness.violations import Violations
from stress.harness.workload import Consumer, Gate

SETTLE = 0.5  # seconds an audit waits for the ledger's deliveries to catch up with the broker's
POLL = 0.005  # seconds between quiescence checks (a polling period, not synchronisation)


class Auditor:
    """Runs audits from the controller thread; ``op`` / ``since`` / ``name`` are for the watchdog."""

    name = "stress-controller"

    def __init__(self, config: Config, ledger: Ledger, sampler: Sampler, consumers: list[Consumer],
                 gate: Gate, fault: Fault | None, violations: Violations, give_up: threading.Event) -> None:
        self._config = config
        self._ledger = ledger
        self._sampler = sampler
        self._consumers = consumers
        self._gate = gate
        self._fault = fault
        self._violations = violations
        self._give_up = give_up  # set on a stall verdict: stop waiting for quiescence
        self._reported: set[tuple[str, str, str, int]] = set()
        self._gaps: dict[tuple[str, str], int] = {}  # broker delivered - ledger deliveries, at the last check
        self.op = "idle"
        self.since = time.monotonic()
        self.audits = 0
        self.skipped = 0
        self.paused_seconds = 0.0  # producers' time parked for audits

    def _doing(self, op: str) -> None:
        self.since = time.monotonic()
        self.op = op

    def audit(self, *, pause: bool = True, patience: float | None = None) -> str:
        """One audit: "done", "skipped" (a fault holds consumers), "not quiet" (patience ran out) or "given up"."""
        if self._fault is not None and self._fault.holding():
            self.skipped += 1
            return "skipped"
        started = time.monotonic()
        self._doing("pause")
        try:
            if pause and not self._gate.pause(self._give_up):
                return "given up"
            return self._when_quiet(patience)
        finally:
            if pause:
                self._gate.resume()
            self.paused_seconds += time.monotonic() - started
            self._doing("idle")

    def _when_quiet(self, patience: float | None) -> str:
        # Poll until quiescent, then check; see the module docstring.
        started = time.monotonic()
        behind_since: float | None = None
        while True:
            now = time.monotonic()
            if self._give_up.is_set():
                return "given up"
            if patience is not None and now - started > patience:
                return "not quiet"
            before = self._marks()
            stats = self._sampler.sample(self)
            taken_at = time.monotonic()
            if stats is not None and before == self._marks() and not any(c.busy for c in self._consumers):
                groups = [group for topic in stats.topics for group in topic.groups]
                if all(group.in_queue == 0 and group.in_flight == 0 for group in groups):
                    if self._caught_up(stats) or (behind_since is not None and now - behind_since >= SETTLE):
                        self._check(stats, taken_at)
                        return "done"
                    behind_since = now if behind_since is None else behind_since
            self._doing("wait")
            self._give_up.wait(POLL)

    def _marks(self) -> tuple[int, ...]:
        # Every consumer's operation counter.
        return tuple(consumer.ops for consumer in self._consumers)

    def _caught_up(self, stats: Any) -> bool:
        # Whether the ledger recorded as many deliveries as the broker handed out, in every group
        # (up to a gap an earlier audit already judged: a bug's gap stays, and is reported once).
        return all(
            group.delivered - self._ledger.groups[(topic.topic, group.name)].deliveries
            == self._gaps.get((topic.topic, group.name), 0)
            for topic in stats.topics
            for group in topic.groups
        )

    def _check(self, stats: Any, taken_at: float) -> None:
        # The exact checks of a quiescent broker, then forget what was checked.
        self._doing("check")
        for topic in stats.topics:
            producers, ledgers = self._ledger.of_topic(topic.topic)
            for ledger in ledgers:
                group = topic[ledger.group]
                self._gaps[(topic.topic, ledger.group)] = group.delivered - ledger.deliveries
                for producer in producers:
                    ledger.audit(producer)
                self._compare(topic.topic, ledger, group,
                              sum(producer.published for producer in producers))
            for producer in producers:
                producer.audited = producer.next_seq
                base = producer.next_seq & ~7
                producer.advance(base)
                for ledger in ledgers:
                    ledger.advance(producer.index, base, taken_at)
        self.audits += 1

    def _compare(self, topic: str, ledger: Any, group: Any, published: int) -> None:
        # The broker's counters against the ledger's, for one group.
        pairs = (
            ("published", group.published, published),
            ("delivered", group.delivered, ledger.deliveries),
            ("redelivered", group.redelivered, ledger.redeliveries),
            ("acked", group.acked, ledger.acked),
            ("dead_lettered", group.dead_lettered, ledger.dead),
            ("expired", group.expired, ledger.expired),
            ("discarded", group.discarded, 0),
        )
        for name, broker_count, ledger_count in pairs:
            difference = broker_count - ledger_count
            if difference and (topic, ledger.group, name, difference) not in self._reported:
                self._reported.add((topic, ledger.group, name, difference))
                self._violations.add(
                    "accounting",
                    f"{topic}/{ledger.group}: the broker counts {name}={broker_count}, "
                    f"the ledger {ledger_count} (difference {difference:+d})",
                    topic=topic, group=ledger.group, counter=name, broker=broker_count, ledger=ledger_count,
                )
