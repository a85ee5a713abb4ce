"""Bytes of memory per queued message, measured with tracemalloc.

The messages go in through ``Broker.publish`` into a topic with one
subscription group, each with a TTL and no headers, and stay queued (not
yet delivered).  Every message carries the same payload object, so the
payload costs nothing per message: what is left is the broker's overhead -
the message object, its id and timestamps, and its slot in the group's
ready queue.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable

from mq import Broker
from stress.bench.figures import BenchError

TOPIC = "memory"
PAYLOAD = b"a small payload"


def bytes_per_message(
    count: int,
    *,
    ttl: float = 3600.0,
    make_broker: Callable[[], Broker] = lambda: Broker(reaper_interval=None),
) -> float:
    """Traced bytes allocated (and still held) per message queued by ``count`` publishes."""
    if tracemalloc.is_tracing():
        raise BenchError("tracemalloc is already tracing: the figure would mix in other allocations")
    broker = make_broker()
    try:
        broker.create_topic(TOPIC)
        broker.subscribe(TOPIC, "group")
        publish = broker.publish
        payload = PAYLOAD
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(count):
                publish(TOPIC, payload, ttl=ttl)
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        queued = broker.stats()[TOPIC]["group"].in_queue
        if queued != count:
            raise BenchError(f"{count} messages published but {queued} queued")
    finally:
        broker.shutdown(drain=False)
    return (after - before) / count
