"""Workload: the producer and consumer threads of a stress run, and the gate that pauses producers.

Producer ``p`` publishes ``(p, seq, time)`` payloads to topic ``p % topics``
as fast as backpressure lets it, with a publish timeout (so some publishes
fail with `Full`), a fraction of them with a short TTL.  Consumers (``M``
per group) take deliveries and settle each one as its fate says: ack, a
handler exception (nack, requeue), reject (nack without requeue: dead
letter), abandon (never settled: only the ack timeout returns it), or a
slow handler (sometimes slower than the ack timeout: the late ack is
refused).  Fates are a hash of (seed, producer, seq, group, delivery
number), so a seed fixes every message's fate whichever thread runs it.

Every worker publishes what it is doing (``op``, ``since``) for the
watchdog, and consumers count their operations (``ops``, ``busy``) so an
audit can tell a quiet broker from a consumer between two calls.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from mq import AckError, Broker, Closed, Empty, Full, MQError, Subscription

from stress.harness.config import Config
from stress.harness.histogram import Histogram
from stress.harness.ledger import GroupLedger, ProducerTrack
from stress.harness.violations import Violations

_SCALE = float(1 << 32)


def fraction(*key: int) -> float:
    """A deterministic number in [0, 1) from integers (tuple hashing of ints does not vary between runs)."""
    return (hash(key) & 0xFFFFFFFF) / _SCALE


class Gate:
    """Lets producers through while open; `pause` closes it and waits until every producer is parked or done."""

    def __init__(self, producers: int) -> None:
        # Invariant (under _lock): parked counts producers inside wait_open while closed;
        # done counts producers that ended; parked + done <= producers.
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # opened, or a producer parked / ended
        self._open = True
        self._producers = producers
        self._parked = 0
        self._done = 0

    def wait_open(self) -> None:
        """Called by a producer before each publish: park while closed."""
        with self._lock:
            if self._open:
                return
            self._parked += 1
            self._changed.notify_all()
            try:
                while not self._open:
                    self._changed.wait()
            finally:
                self._parked -= 1

    def ended(self) -> None:
        """Called by a producer as it ends."""
        with self._lock:
            self._done += 1
            self._changed.notify_all()

    def pause(self, give_up: threading.Event) -> bool:
        """Close the gate and wait until every producer is parked or ended; False if ``give_up`` was set first."""
        with self._lock:
            self._open = False
            while self._parked + self._done < self._producers:
                if give_up.is_set():
                    return False
                self._changed.wait(0.05)  # also re-checks give_up (a stall verdict may need us out)
            return True

    def resume(self) -> None:
        """Open the gate."""
        with self._lock:
            self._open = True
            self._changed.notify_all()


class Worker:
    """Base of the worker threads: a daemon thread, ``op`` / ``since`` for the watchdog, errors to violations."""

    def __init__(self, name: str, violations: Violations) -> None:
        self.name = name
        self.op = "starting"
        self.since = time.monotonic()
        self._violations = violations
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _doing(self, op: str) -> None:
        # Tell the watchdog what this thread does from now on.
        self.since = time.monotonic()
        self.op = op

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _main(self) -> None:
        try:
            self.run()
        except BaseException as error:  # a harness bug must show, not vanish with the thread
            self._violations.add("harness", f"{self.name} raised {error!r}", thread=self.name)
        finally:
            self._doing("ended")

    def run(self) -> None:
        raise NotImplementedError


class Producer(Worker):
    """Publishes ``(p, seq, t)`` to its topic until stopped."""

    def __init__(self, broker: Broker, track: ProducerTrack, gate: Gate, config: Config,
                 violations: Violations) -> None:
        super().__init__(f"stress-producer-{track.index}", violations)
        self._broker = broker
        self.track = track
        self._gate = gate
        self._config = config
        self._stopping = threading.Event()

    def stop(self) -> None:
        """End before the next publish."""
        self._stopping.set()

    def run(self) -> None:
        try:
            self._publish_until_stopped()
        finally:
            self._gate.ended()

    def _publish_until_stopped(self) -> None:
        config, track, publish, topic = self._config, self.track, self._broker.publish, self.track.topic
        seed, p = config.seed, track.index
        ttl_ratio, ttl, timeout = config.ttl_ratio, config.ttl, config.publish_timeout
        stopping, wait_open = self._stopping, self._gate.wait_open
        while True:
            self._doing("gate")
            wait_open()
            if stopping.is_set():
                return
            seq = track.next_seq
            with_ttl = ttl_ratio > 0 and fraction(seed, p, seq, -1) < ttl_ratio
            self._doing("publish")
            try:
                publish(topic, (p, seq, self.since), ttl=ttl if with_ttl else None, timeout=timeout)
            except Full:
                track.record(seq, False, with_ttl)
            except MQError:  # Closed: shut down under us; the message went to no group
                track.record(seq, False, with_ttl)
                return
            else:
                track.record(seq, True, with_ttl)


class Consumer(Worker):
    """Takes deliveries from one subscription and settles each as its fate says."""

    def __init__(self, name: str, subscription: Subscription, group_index: int, ledger: GroupLedger,
                 config: Config, violations: Violations) -> None:
        super().__init__(name, violations)
        self._subscription = subscription
        self._group_index = group_index
        self._ledger = ledger
        self._config = config
        self.latency = Histogram()  # publish to accepted ack; written only by this thread
        self.ops = 0  # bumped when a get returns and when its deliveries are all settled
        self.busy = False  # True from a get's return until its deliveries are settled and recorded

    def stop(self) -> None:
        """Close the subscription: a blocked get raises Closed and the thread ends."""
        self._subscription.close()

    def run(self) -> None:
        get = self._subscription.get
        batch = self._config.batch_size if self._config.batch else 1
        while True:
            self._doing("get")
            deliveries = self._take(get, batch)
            if deliveries is None:
                return
            self.busy = True
            self.ops += 1
            self._doing("record")
            for delivery in deliveries:
                self._record(delivery)
            for delivery in deliveries:
                self._settle(delivery)
            self.busy = False
            self.ops += 1

    @staticmethod
    def _take(get: Any, batch: int) -> list[Any] | None:
        # One blocking get, then up to batch - 1 more that do not wait; None once closed.
        try:
            deliveries = [get()]
        except Closed:
            return None
        while len(deliveries) < batch:
            try:
                deliveries.append(get(0))
            except (Empty, Closed):
                break
        return deliveries

    def _record(self, delivery: Any) -> None:
        # Tell the ledger about a delivery just taken.
        message = delivery.message
        p, seq, _ = message.payload
        self._ledger.delivered(self.name, p, seq, message.delivery_count, delivery.delivered_at,
                               delivery.state.name)

    def _settle(self, delivery: Any) -> None:
        # Handle one delivery according to its fate, settle it, record the outcome.
        config = self._config
        message = delivery.message
        p, seq, published_at = message.payload
        count = message.delivery_count
        fate = fraction(config.seed, p, seq, self._group_index, count)
        outcome = "acked"
        self._doing("handle")
        if fate < config.nack_ratio:
            outcome = self._call(delivery.nack, "nacked")
        elif (fate := fate - config.nack_ratio) < config.abandon_ratio:
            outcome = "abandoned"  # never settled: the ack timeout takes it back
        elif (fate := fate - config.abandon_ratio) < config.reject_ratio:
            outcome = self._call(lambda: delivery.nack(requeue=False), "rejected")
        else:
            fate -= config.reject_ratio
            if fate < config.slow_ratio:
                # A slow handler: a few ms, and one in twenty past the ack timeout (its ack is refused).
                slow = config.ack_timeout * 1.5 if fate < config.slow_ratio / 20 else 0.001 + 0.004 * fate / config.slow_ratio
                time.sleep(slow)
            outcome = self._call(delivery.ack, "acked")
            if outcome == "acked":
                self.latency.record(time.monotonic() - published_at)
        self._doing("record")
        self._ledger.settled(self.name, p, seq, count, outcome)

    def _call(self, settle: Any, outcome: str) -> str:
        # Run an ack / nack; "stale" when the broker refused it (it had taken the delivery back).
        self._doing("settle")
        try:
            settle()
        except AckError:
            return "stale"
        return outcome

