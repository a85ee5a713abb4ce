"""Benchmark of the checker on the standard scenario.

    python -m stress.checker_bench [--json FILE] [--repeats 5] [--schedules 2000]
                                   [--bound 2] [--no-exhaustive] [--mq]

Measures, on the standard scenario (2 producers, 2 consumers, capacity 1, 2
items each) with a correct condition-variable buffer:

- scheduling points per second and schedules per second with the random
  strategy at sync granularity (median of ``--repeats`` runs, with min/max);
- exhaustive exploration at preemption bound ``--bound`` (spurious wake-ups
  off) with partial-order reduction, as ``model.check(strategy="exhaustive")``
  runs it (the bounded and the unbounded search in alternation,
  model/explore/portfolio.py) on 2 processes and on 1, and each of its two
  searches alone; and without reduction (every schedule within the bound;
  its time limit, ``--exhaustive-time-limit``, may stop it first);
- with ``--mq``: the same scenario on ``mq.BoundedQueue`` (whose ``qsize`` the
  scenario calls after every put and get), exhaustive at the bound with
  reduction on 2 processes: the proof that the broker's queue is correct
  within the bound (several minutes).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time

import model

_perf = time.perf_counter


class ConditionBuffer:
    """A correct bounded buffer: one lock, two conditions, ``while`` loops."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.items = []
        self.lock = threading.Lock()
        self.not_full = threading.Condition(self.lock)
        self.not_empty = threading.Condition(self.lock)

    def put(self, item):
        with self.lock:
            while len(self.items) >= self.capacity:
                self.not_full.wait()
            self.items.append(item)
            self.not_empty.notify()

    def get(self):
        with self.lock:
            while not self.items:
                self.not_empty.wait()
            item = self.items.pop(0)
            self.not_full.notify()
            return item


def standard_body():
    """The standard scenario as a body, from model.scenarios when it exists."""
    try:
        from model.scenarios import BufferScenario
    except ImportError:  # pragma: no cover - the scenario module is another engineer's
        return _fallback_body, None
    scenario = BufferScenario(ConditionBuffer, producers=2, consumers=2, items=2, capacity=1)
    return scenario, scenario.on_deadlock


def _fallback_body():
    buf = ConditionBuffer(1)
    got = []
    threads = [threading.Thread(target=lambda p=p: [buf.put((p, i)) for i in range(2)])
               for p in range(2)]
    threads += [threading.Thread(target=lambda: [got.append(buf.get()) for _ in range(2)])
                for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == [(p, i) for p in range(2) for i in range(2)]


def bench_random(schedules: int, repeats: int) -> dict:
    body, on_deadlock = standard_body()
    model.check(body, max_schedules=50, on_deadlock=on_deadlock)  # warm up
    points, rates = [], []
    for seed in range(repeats):
        r = model.check(body, strategy="random", seed=seed, max_schedules=schedules,
                        on_deadlock=on_deadlock, granularity="sync")
        if r.failed:
            raise SystemExit(f"the correct buffer failed:\n{r.report()}")
        points.append(r.steps / r.elapsed)
        rates.append(r.schedules / r.elapsed)
    return {
        "schedules_per_run": schedules,
        "repeats": repeats,
        "steps_per_schedule": round(r.steps / r.schedules, 1),
        "points_per_second": _summary(points),
        "schedules_per_second": _summary(rates),
    }


def bench_exhaustive(bound: int, budget: int, time_limit: float) -> dict:
    from model.explore.exhaustive import Exhaustive

    body, on_deadlock = standard_body()
    runs = {
        "por_2_processes": {"strategy": "exhaustive", "processes": 2},
        "por_1_process": {"strategy": "exhaustive"},
        "por_bounded_search_alone": {"strategy": Exhaustive(preemption_bound=bound, por=True)},
        "por_unbounded_search_alone": {"strategy": Exhaustive(preemption_bound=None, por=True)},
        "no_por": {"strategy": Exhaustive(preemption_bound=bound, por=False)},
    }
    return {key: _exhaustive(body, on_deadlock, bound, budget, time_limit, **options)
            for key, options in runs.items()}


def bench_mq(bound: int, budget: int, time_limit: float) -> dict:
    import mq
    from model.scenarios import BufferScenario

    scenario = BufferScenario(mq.BoundedQueue, producers=2, consumers=2, items=2, capacity=1)
    return _exhaustive(scenario, scenario.on_deadlock, bound, budget, time_limit,
                       strategy="exhaustive", processes=2)


def _exhaustive(body, on_deadlock, bound, budget, time_limit, strategy, processes=1) -> dict:
    start = _perf()
    r = model.check(body, strategy=strategy, preemption_bound=bound, processes=processes,
                    max_schedules=budget, spurious_wakeups=False, on_deadlock=on_deadlock,
                    time_limit=time_limit)
    seconds = _perf() - start
    if r.failed:
        raise SystemExit(f"the correct buffer failed:\n{r.report()}")
    return {
        "seconds": round(seconds, 2),
        "schedules": r.schedules,
        "steps": r.steps,
        "complete": bool(r.exhaustive),
        "points_per_second": round(r.steps / seconds),
        "guarantee": r.guarantee,
    }


def _summary(values) -> dict:
    return {"median": round(statistics.median(values)), "min": round(min(values)),
            "max": round(max(values))}


def _print_exhaustive(label: str, e: dict) -> None:
    state = "complete" if e["complete"] else "stopped by the budget"
    print(f"  {label}: {e['schedules']:,} schedules in {e['seconds']} s ({state}, "
          f"{e['points_per_second']:,} points/s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.checker_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--schedules", type=int, default=2000)
    parser.add_argument("--bound", type=int, default=2, help="preemption bound of the exhaustive runs")
    parser.add_argument("--exhaustive-budget", type=int, default=1_000_000,
                        help="schedules per exhaustive run")
    parser.add_argument("--exhaustive-time-limit", type=float, default=300.0,
                        help="seconds per exhaustive run (the one without reduction needs more)")
    parser.add_argument("--no-exhaustive", action="store_true")
    parser.add_argument("--mq", action="store_true",
                        help="also prove mq.BoundedQueue on the scenario (several minutes)")
    parser.add_argument("--mq-time-limit", type=float, default=1800.0,
                        help="seconds for the mq.BoundedQueue run")
    args = parser.parse_args(argv)

    figures = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "scenario": "2 producers, 2 consumers, capacity 1, 2 items each; condition-variable buffer",
        "random_sync": bench_random(args.schedules, args.repeats),
    }
    rnd = figures["random_sync"]
    print(f"random, sync granularity ({args.repeats} x {args.schedules} schedules, "
          f"{rnd['steps_per_schedule']} points per schedule):")
    for key in ("points_per_second", "schedules_per_second"):
        s = rnd[key]
        print(f"  {key.replace('_', ' ')}: median {s['median']:,}  (min {s['min']:,}, max {s['max']:,})")
    if not args.no_exhaustive:
        ex = figures["exhaustive"] = bench_exhaustive(
            args.bound, args.exhaustive_budget, args.exhaustive_time_limit)
        print(f"exhaustive, preemption bound {args.bound}:")
        for key, e in ex.items():
            _print_exhaustive(key.replace("_", " "), e)
    if args.mq:
        e = figures["mq_bounded_queue"] = bench_mq(args.bound, args.exhaustive_budget,
                                                   args.mq_time_limit)
        _print_exhaustive(f"mq.BoundedQueue, preemption bound {args.bound}, POR, 2 processes", e)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
