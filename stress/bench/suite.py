"""Which workload measures which figure, against which baseline, at which size.

`run` measures the figures named in ``names`` (all of `NAMES` by default)
and returns them in that order.  Every queue and broker figure runs ours
and the ``queue.Queue`` baseline alternately (`measure_pair`), capacity
1000 throughout.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import mq
from stress.bench import broker, memory, queues
from stress.bench.figures import NAMES, Figure, measure_pair, summarise

CAPACITY = 1000
BATCH = 100


@dataclass(frozen=True)
class Sizes:
    """How much each figure does per repeat, and how many repeats."""

    repeats: int = 7
    single: int = 200_000  # put/get pairs
    cross: int = 200_000  # items through the queue, per run
    batch: int = 1_000_000  # items through the queue in batches, per run
    broker: int = 100_000  # messages published, per run
    fanout: int = 50_000  # messages published (each acked in 4 groups), per run
    schedules: int = 2_000  # checker schedules per repeat
    memory: int = 20_000  # messages queued
    timeout: float = 120.0  # seconds one run may take before it is a BenchError


FULL = Sizes()
QUICK = Sizes(repeats=5, single=50_000, cross=40_000, batch=200_000, broker=20_000, fanout=10_000,
              schedules=300, memory=5_000)


def _ours() -> mq.BoundedQueue:
    return mq.BoundedQueue(CAPACITY)


def _theirs() -> queue.Queue:
    return queue.Queue(CAPACITY)


def _pair(name: str, unit: str, ours: Callable[[], float], theirs: Callable[[], float] | None,
          sizes: Sizes) -> Figure:
    mine, baseline = measure_pair(ours, theirs, sizes.repeats)
    return summarise(name, unit, mine, baseline)


def _single(make: Callable[[], object], count: int) -> Callable[[], float]:
    return lambda: queues.single(make(), count)


def _cross(make: Callable[[], object], threads: int, sizes: Sizes) -> Callable[[], float]:
    return lambda: queues.cross(make, threads, threads, sizes.cross, sizes.timeout)


def _checker(sizes: Sizes) -> tuple[Figure, Figure]:
    from stress.checker_bench import bench_random  # imports model: only when asked for

    result = bench_random(sizes.schedules, sizes.repeats)
    points, rates = result["points_per_second"], result["schedules_per_second"]
    return (
        Figure("checker.points_per_s", "points/s", points["median"], points["min"], points["max"], None, None),
        Figure("checker.schedules_per_s", "schedules/s", rates["median"], rates["min"], rates["max"], None, None),
    )


def measure(name: str, sizes: Sizes) -> Figure:
    """One figure (the checker's two come from one run: see `run`)."""
    t = sizes.timeout
    rate = "messages/s"
    if name == "queue.single":
        return _pair(name, rate, _single(_ours, sizes.single), _single(_theirs, sizes.single), sizes)
    if name in ("queue.1p1c", "queue.4p4c", "queue.16p16c"):
        threads = int(name.split(".")[1].split("p")[0])
        return _pair(name, rate, _cross(_ours, threads, sizes), _cross(_theirs, threads, sizes), sizes)
    if name == "queue.batch.4p4c":
        return _pair(name, rate, lambda: queues.batched(_ours, 4, 4, sizes.batch, BATCH, t),
                     _cross(_theirs, 4, sizes), sizes)
    if name == "broker.1group.4p4c":
        return _pair(name, rate, lambda: broker.end_to_end(1, 4, 4, sizes.broker, t, capacity=CAPACITY),
                     lambda: queues.cross(_theirs, 4, 4, sizes.broker, t), sizes)
    if name == "broker.fanout4.4p4c":
        return _pair(name, rate, lambda: broker.end_to_end(4, 4, 1, sizes.fanout, t, capacity=CAPACITY),
                     lambda: queues.fanout(_theirs, 4, 4, 1, sizes.fanout, t), sizes)
    if name == "memory.bytes_per_message":
        return _pair(name, "bytes", lambda: memory.bytes_per_message(sizes.memory), None, sizes)
    raise ValueError(f"unknown figure {name!r}; the figures are {', '.join(NAMES)}")


def run(sizes: Sizes, names: Iterable[str] = NAMES, progress: Callable[[str], None] = lambda line: None) -> list[Figure]:
    """Measure the figures named in ``names``, in the order of `NAMES`."""
    wanted = set(names)
    unknown = wanted - set(NAMES)
    if unknown:
        raise ValueError(f"unknown figure(s) {sorted(unknown)}; the figures are {', '.join(NAMES)}")
    figures: list[Figure] = []
    checker: tuple[Figure, Figure] | None = None
    for name in NAMES:
        if name not in wanted:
            continue
        progress(f"measuring {name} ...")
        if name.startswith("checker."):
            if checker is None:
                checker = _checker(sizes)
            figures.append(checker[0] if name == "checker.points_per_s" else checker[1])
        else:
            figures.append(measure(name, sizes))
    return figures
