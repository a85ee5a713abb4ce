"""Producer / consumer workloads on any queue with ``put`` / ``get`` (or the batch calls).

Each workload returns messages per second.  The same code drives
``mq.BoundedQueue`` and ``queue.Queue``: only the factory differs.
Consumers take fixed quotas that add up to what the producers put, so a
run ends when every item went through; a worker that raises, a run that
does not end within ``timeout`` seconds, or an item left behind is a
`BenchError`, never a figure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from stress.bench.figures import BenchError

_perf = time.perf_counter


def shares(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` non-negative ints that differ by at most one."""
    if parts < 1 or total < 0:
        raise ValueError(f"cannot split {total!r} into {parts!r} parts")
    base, extra = divmod(total, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def run_workers(bodies: Sequence[Callable[[], Any]], timeout: float) -> float:
    """Run each body in its own thread, released together; seconds from release to the last end."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(bodies) + 1)

    def worker(body: Callable[[], Any]) -> None:
        try:
            start.wait()
            body()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(body,), daemon=True) for body in bodies]
    for thread in threads:
        thread.start()
    start.wait()
    began = _perf()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    elapsed = _perf() - began
    if errors:
        raise BenchError(f"{len(errors)} worker(s) raised; the first: {errors[0]!r}") from errors[0]
    alive = sum(thread.is_alive() for thread in threads)
    if alive:
        raise BenchError(f"{alive} of {len(threads)} workers still running after {timeout} s")
    return elapsed


def check_drained(queue: Any) -> None:
    """BenchError when ``queue`` still holds items after every consumer took its quota."""
    left = queue.qsize()
    if left:
        raise BenchError(f"{left} items left in the queue after the run: the queue duplicated items")


def single(queue: Any, count: int) -> float:
    """``put`` then ``get`` of one item, ``count`` times, in this thread: items per second."""
    put, get = queue.put, queue.get
    began = _perf()
    for item in range(count):
        put(item)
        get()
    elapsed = _perf() - began
    check_drained(queue)
    return count / elapsed


def _produce(put: Callable[[Any], Any], count: int) -> None:
    for item in range(count):
        put(item)


def _consume(get: Callable[[], Any], count: int) -> None:
    for _ in range(count):
        get()


def cross(make_queue: Callable[[], Any], producers: int, consumers: int, count: int, timeout: float) -> float:
    """``count`` items through one queue, ``producers`` putting and ``consumers`` getting: items per second."""
    queue = make_queue()
    bodies = [lambda n=n: _produce(queue.put, n) for n in shares(count, producers)]
    bodies += [lambda n=n: _consume(queue.get, n) for n in shares(count, consumers)]
    elapsed = run_workers(bodies, timeout)
    check_drained(queue)
    return count / elapsed


def _produce_many(put_many: Callable[[Any], Any], count: int, batch: int) -> None:
    items = list(range(batch))
    for _ in range(count // batch):
        put_many(items)
    if count % batch:
        put_many(items[: count % batch])


def _consume_many(get_many: Callable[[int], list], count: int, batch: int) -> None:
    while count:
        count -= len(get_many(min(batch, count)))


def batched(
    make_queue: Callable[[], Any], producers: int, consumers: int, count: int, batch: int, timeout: float
) -> float:
    """Like `cross` with ``put_many`` / ``get_many`` of up to ``batch`` items: items per second."""
    queue = make_queue()
    bodies = [lambda n=n: _produce_many(queue.put_many, n, batch) for n in shares(count, producers)]
    bodies += [lambda n=n: _consume_many(queue.get_many, n, batch) for n in shares(count, consumers)]
    elapsed = run_workers(bodies, timeout)
    check_drained(queue)
    return count / elapsed


def fanout(
    make_queue: Callable[[], Any], groups: int, producers: int, consumers_per_group: int, count: int, timeout: float
) -> float:
    """The baseline of the broker figures: each item put into ``groups`` queues, each drained by its own consumers.

    Messages (items put by the producers) per second; with one group this is `cross`.
    """
    queues = [make_queue() for _ in range(groups)]

    def produce(n: int) -> None:
        puts = [queue.put for queue in queues]
        for item in range(n):
            for put in puts:
                put(item)

    bodies: list[Callable[[], Any]] = [lambda n=n: produce(n) for n in shares(count, producers)]
    for queue in queues:
        bodies += [lambda n=n, q=queue: _consume(q.get, n) for n in shares(count, consumers_per_group)]
    elapsed = run_workers(bodies, timeout)
    for queue in queues:
        check_drained(queue)
    return count / elapsed
