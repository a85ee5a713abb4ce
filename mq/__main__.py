"""``python -m mq demo``: five short scenarios of the broker, each with its stats.

1. pub/sub: one topic fans out to two groups of competing consumers;
2. backpressure: producers faster than the consumer fill a bounded topic;
3. TTL: expired messages are dropped, never delivered;
4. priority: a worker pool serves urgent tasks first;
5. failures: redelivery, an ack timeout, and dead letters.

The scenarios run in a worker thread; the main thread only waits, so Ctrl-C
lands there: it shuts the current broker down without draining, prints a
final stats line and exits with status 130.  Outcomes never depend on
timing; the TTL scenario waits a few tenths of a second for messages to
expire, and consumer handlers burn a little CPU to stand for real work.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any, Callable, TextIO

from mq.broker import Broker
from mq.errors import AckError, MQError
from mq.message import Message
from mq.workers import Producer


# How long a scenario's graceful shutdown waits for its consumers to drain the
# queues. The demo drains in well under a second; the limit only guards against
# a hang, so it is generous enough for a machine overloaded many times over.
DRAIN_TIMEOUT = 60.0


def _work(units: int) -> int:
    # Stands for the real work of a handler: CPU, not a sleep.
    return sum(i * i for i in range(units))


class Demo:
    """Runs the scenarios in order; `stop` interrupts them from another thread."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        # Guards _broker and _stopped: stop() and the scenario thread agree on
        # which broker is current, and no broker is created after a stop.
        self._lock = threading.Lock()
        self._broker: Broker | None = None
        self._stopped = False
        self.started = threading.Event()  # set when the first scenario begins
        self.finished = threading.Event()  # set when run() returns, however it ends

    def say(self, text: str = "") -> None:
        """Print a line of the demo's output."""
        print(text, file=self.out, flush=True)

    def broker(self, **options: Any) -> Broker:
        """A new broker for a scenario; raises `Interrupted` after `stop`."""
        with self._lock:
            if self._stopped:
                raise Interrupted()
            self._broker = Broker(**options)
            return self._broker

    def stop(self) -> None:
        """Interrupt: no new scenario starts, the current broker shuts down without draining."""
        with self._lock:
            self._stopped = True
            broker = self._broker
        if broker is not None:
            broker.shutdown(drain=False, timeout=2)

    def final_line(self) -> str:
        """One line of totals for the current (last) broker."""
        with self._lock:
            broker = self._broker
        if broker is None:
            return "no broker was started"
        totals = broker.stats().totals()
        return "final stats: " + ", ".join(f"{key} {value}" for key, value in totals.items())

    def run(self) -> None:
        """Every scenario in order, unless stopped."""
        try:
            for number, (title, scenario) in enumerate(SCENARIOS, start=1):
                self.started.set()
                self.say(f"== {number}. {title} ==")
                try:
                    scenario(self)
                except (Interrupted, MQError) as error:
                    if not self._stopped:
                        raise
                    self.say(f"   interrupted ({type(error).__name__})")
                    return
                self.say()
        finally:
            self.finished.set()

    def show_stats(self, broker: Broker, topic: str) -> None:
        """Print a topic's stats and check the accounting identity."""
        stats = broker.stats()[topic]
        stats.check_identity()
        for line in stats.format().splitlines():
            self.say("   " + line.strip())


class Interrupted(Exception):
    """The demo was stopped between steps."""


def pub_sub(demo: Demo) -> None:
    """Fan-out to two groups; consumers within a group compete."""
    broker = demo.broker(reaper_interval=None)
    broker.create_topic("orders")
    pools = {
        "billing": broker.consume("orders", "billing", lambda message: _work(20000), workers=2),
        "shipping": broker.consume("orders", "shipping", lambda message: _work(20000), workers=1),
    }
    for number in range(1, 21):
        broker.publish("orders", {"order": number})
    broker.shutdown(drain=True, timeout=DRAIN_TIMEOUT)
    for group, workers in pools.items():
        split = ", ".join(f"worker {index} {consumer.processed}" for index, consumer in enumerate(workers))
        demo.say(f"   {group}: {workers.processed} of 20 orders ({split})")
    demo.show_stats(broker, "orders")


def backpressure(demo: Demo) -> None:
    """Three producers, one slow consumer, capacity 5: publishers wait for room."""
    broker = demo.broker(reaper_interval=None)
    broker.create_topic("jobs", capacity=5)
    workers = broker.consume("jobs", "workers", lambda message: _work(3000), workers=1)
    producers = [Producer(broker, "jobs", range(40), name=f"producer-{n}").start() for n in range(3)]
    for producer in producers:
        producer.join()
    broker.shutdown(drain=True, timeout=DRAIN_TIMEOUT)
    stats = broker.stats()["jobs"]
    group = stats["workers"]
    demo.say(
        f"   3 producers published {sum(p.published for p in producers)} jobs; the consumer processed "
        f"{workers.processed}; occupancy never passed {group.high_water} of 5; "
        f"{stats.publish_waits} publishes waited for room"
    )
    demo.show_stats(broker, "jobs")


def ttl(demo: Demo) -> None:
    """Messages with a 0.1 s TTL expire before anyone consumes them."""
    broker = demo.broker(reaper_interval=0.05)
    broker.create_topic("quotes")
    subscription = broker.subscribe("quotes", "traders")
    for number in range(10):
        broker.publish("quotes", f"stale quote {number}", ttl=0.1)
        broker.publish("quotes", f"quote {number}")
    time.sleep(0.3)  # let the TTL pass: the scenario is about time, not synchronisation
    before = broker.stats()["quotes"]["traders"]
    delivered = []
    while True:
        try:
            delivery = subscription.get(timeout=0)
        except MQError:
            break
        delivered.append(delivery.message.payload)
        delivery.ack()
    after = broker.stats()["quotes"]["traders"]
    demo.say(
        f"   20 published, 10 with ttl=0.1 s; after 0.3 s the reaper had dropped {before.expired}; "
        f"a consumer then got {len(delivered)} (all without TTL: "
        f"{all(not payload.startswith('stale') for payload in delivered)}), expired in all {after.expired}"
    )
    broker.shutdown(drain=False)
    demo.show_stats(broker, "quotes")


def priority(demo: Demo) -> None:
    """A pool of three workers serves 30 queued tasks, urgent ones first."""
    broker = demo.broker(reaper_interval=None)
    broker.create_topic("tasks")
    holder = broker.subscribe("tasks", "pool")  # creates the group before the tasks are published
    levels = {"low": 0, "normal": 5, "urgent": 9}
    for number in range(30):
        name = ("low", "normal", "urgent")[number % 3]
        broker.publish("tasks", (name, number), priority=levels[name])
    order: list[str] = []
    lock = threading.Lock()

    def handle(message: Message) -> None:
        with lock:
            order.append(message.payload[0])
        _work(2000)

    broker.consume("tasks", "pool", handle, workers=3)
    holder.close()
    broker.shutdown(drain=True, timeout=DRAIN_TIMEOUT)
    for name in ("urgent", "normal", "low"):
        positions = [index + 1 for index, value in enumerate(order) if value == name]
        mean = sum(positions) / len(positions)
        demo.say(f"   {name:6} (priority {levels[name]}): 10 tasks, mean position in service order {mean:4.1f}")
    demo.show_stats(broker, "tasks")


def failures(demo: Demo) -> None:
    """A failing handler: transient errors are redelivered, poison messages dead-lettered."""
    broker = demo.broker(reaper_interval=0.05)
    broker.create_topic("payments", max_deliveries=3, ack_timeout=0.5)
    lost = broker.subscribe("payments", "ledger")  # a consumer that will take one message and die

    def handle(message: Message) -> None:
        if message.payload % 7 == 0:
            raise ValueError(f"payment {message.payload} is malformed")  # fails every time
        if message.payload % 3 == 0 and message.delivery_count == 1:
            raise ConnectionError("ledger busy")  # fails once
        _work(1000)

    broker.publish("payments", 100)
    dead = lost.get()  # ... and never acked: after ack_timeout it is delivered again
    lost.close()
    workers = broker.consume("payments", "ledger", handle, workers=2)
    for number in range(1, 21):
        broker.publish("payments", number)
    broker.shutdown(drain=True, timeout=DRAIN_TIMEOUT)
    try:
        dead.ack()
    except AckError as error:
        demo.say(f"   late ack refused: {error}")
    demo.show_stats(broker, "payments")
    letters = sorted(broker.dead_letters("payments").get_many(100), key=lambda letter: letter.message.payload)
    described = ", ".join(
        f"{letter.message.payload} after {letter.message.delivery_count} deliveries ({letter.reason})"
        for letter in letters
    )
    demo.say(f"   handler errors {workers.failed}; dead letters: {described}")


SCENARIOS: list[tuple[str, Callable[[Demo], None]]] = [
    ("pub/sub: fan-out to two groups of competing consumers", pub_sub),
    ("backpressure: producers faster than the consumer", backpressure),
    ("TTL: expired messages are never delivered", ttl),
    ("priority: a worker pool serves urgent tasks first", priority),
    ("failures: redelivery, ack timeout, dead letters", failures),
]


def _wait(demo: Demo) -> None:
    # The main thread's only job: wait, interruptibly (Ctrl-C raises KeyboardInterrupt here).
    demo.finished.wait()


def run_demo(out: TextIO) -> int:
    """Run every scenario; returns the exit status (0, or 130 after Ctrl-C)."""
    demo = Demo(out)
    began = time.monotonic()
    runner = threading.Thread(target=demo.run, name="mq-demo", daemon=True)
    runner.start()
    try:
        _wait(demo)
    except KeyboardInterrupt:
        demo.stop()
        runner.join(5)
        demo.say(f"interrupted after {time.monotonic() - began:.1f} s; {demo.final_line()}")
        return 130
    runner.join()
    demo.say(f"demo finished in {time.monotonic() - began:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m mq demo``."""
    parser = argparse.ArgumentParser(prog="python -m mq", description="The mq message broker.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the five demo scenarios (a few seconds)")
    parser.parse_args(argv)
    return run_demo(sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
