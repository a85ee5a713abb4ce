"""Measure every checked scenario: schedules, steps and time of its exhaustive proof.

    python -m tests.checked.measure

Prints the table of docs/checker-mq.md.  Schedule and step counts depend only
on mq, the scenario and the exhaustive strategy; the times depend on the
machine and its load.
"""

from __future__ import annotations

import time

import model
from tests.checked import test_broker, test_delivery, test_queue, test_reaper, test_topic
from tests.checked.harness import BOUND, BUDGET

SCENARIOS = [
    ("queue: put/get, 2 producers (2+1 items), 1 consumer, capacity 1", test_queue.two_producers_one_consumer),
    ("queue: put/get, 1 producer (2 items), 2 consumers, capacity 1", test_queue.one_producer_two_consumers),
    ("queue: put_many(3) + put(1) against get_many(2), capacity 2", test_queue.batches),
    ("queue: close during put (2 items) and get, capacity 1", test_queue.closing),
    ("queue: timed put (2) and timed get (2), capacity 1", test_queue.timeouts),
    ("topic: fan-out, 2 messages to 2 groups, capacity 2", test_topic.fan_out),
    ("topic: fan-out with backpressure, capacity 1 [stress]", test_topic.fan_out_backpressure),
    ("topic: 2 competing consumers, 2 messages, capacity 1", test_topic.competing_consumers),
    ("delivery: nack, redelivery, dead letter (max_deliveries 2)", test_delivery.nack_until_dead_letter),
    ("delivery: ack timeout, 2 consumers with timed gets", test_delivery.ack_timeout),
    ("reaper: TTL reaper thread beside a timed get, then shutdown", test_reaper.reaper_beside_a_consumer),
    ("broker: shutdown(drain=True) during publish and consume", test_broker.shutdown_draining),
    ("broker: shutdown(drain=False) during publish and consume", test_broker.shutdown_discarding),
]


def main() -> None:
    print(f"| scenario | schedules | steps | seconds |")
    print(f"|---|---:|---:|---:|")
    for title, body in SCENARIOS:
        start = time.perf_counter()
        result = model.check(body, strategy="exhaustive", preemption_bound=BOUND, max_schedules=BUDGET)
        elapsed = time.perf_counter() - start
        state = result.verdict if result.exhaustive or result.failed else "incomplete"
        note = "" if state == "pass" else f" ({state})"
        print(f"| {title}{note} | {result.schedules:,} | {result.steps:,} | {elapsed:.2f} |", flush=True)


if __name__ == "__main__":
    main()
