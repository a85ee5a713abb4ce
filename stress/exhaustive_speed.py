"""Seconds per exhaustive search, and runs per second, on small fixed configurations.

    python -m stress.exhaustive_speed [--repeats 5] [--config NAME ...] [--json FILE]
    python -m stress.exhaustive_speed --breakdown [--config NAME ...]

Runs each configuration of ``stress.exhaustive_counts`` named (default: 2p2c,
1 item, bound 2, with POR, and 2p1c, 2 items, bound 2, with POR) ``--repeats``
times, interleaved, and prints the median, minimum and maximum seconds and
the median runs per second.  To compare two checkouts on a noisy machine, run
this in each, alternately, with the same arguments (``--json`` keeps every
sample).  ``--breakdown`` instead runs each configuration once and splits a
run's time between the search's calls (begin, fresh and replayed scheduling
points, value choices, end) and everything else (scheduler, controlled
primitives, the body), with ``perf_counter`` around each call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from model.explore.exhaustive import Exhaustive
from stress.exhaustive_counts import run

DEFAULT = ("2p2c1 b2 por", "2p1c2 b2 por")


class _Timed:
    """Wraps an Exhaustive search; adds up the seconds spent in each of its calls."""

    def __init__(self, inner: Exhaustive) -> None:
        self._inner = inner
        self.seconds = dict.fromkeys(("begin", "fresh points", "replayed points", "values", "end"),
                                     0.0)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def _timed(self, key, call, *args):
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.seconds[key] += time.perf_counter() - started

    def begin_schedule(self):
        return self._timed("begin", self._inner.begin_schedule)

    def next_thread(self, point):
        replayed = self._inner._pos < len(self._inner._path)
        key = "replayed points" if replayed else "fresh points"
        return self._timed(key, self._inner.next_thread, point)

    def next_value(self, kind, n):
        return self._timed("values", self._inner.next_value, kind, n)

    def end_schedule(self, failed):
        return self._timed("end", self._inner.end_schedule, failed)


def breakdown(name: str) -> None:
    """Print where one search of configuration ``name`` spends a run's time."""
    seconds, runs, timed = once(name, timed=True)
    print(f"{name}: {runs} runs, {seconds:.2f} s, {1e6 * seconds / runs:.1f} us/run")
    parts = dict(timed.seconds)
    parts["scheduler, primitives, body"] = seconds - sum(parts.values())
    for key, value in parts.items():
        print(f"  {key:28} {1e6 * value / runs:7.1f} us/run {100 * value / seconds:5.1f}%")


def once(name: str, timed: bool = False):
    """Seconds of one search of configuration ``name``, and its runs (and the _Timed)."""
    search, strategy, _, seconds = run(name, _Timed if timed else (lambda search: search))
    if timed:
        return seconds, search.stats().runs, strategy
    return seconds, search.stats().runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.exhaustive_speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--config", action="append", metavar="NAME")
    parser.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    parser.add_argument("--breakdown", action="store_true",
                        help="where a run's time goes, per configuration (one search each)")
    args = parser.parse_args(argv)
    names = args.config or list(DEFAULT)
    if args.breakdown:
        for name in names:
            breakdown(name)
        return 0
    samples: dict[str, list[float]] = {n: [] for n in names}
    runs = {}
    for _ in range(args.repeats):
        for name in names:
            seconds, runs[name] = once(name)
            samples[name].append(seconds)
    for name in names:
        s = samples[name]
        med = statistics.median(s)
        print(f"{name:32} {runs[name]:>7} runs  median {med:7.3f} s (min {min(s):.3f}, "
              f"max {max(s):.3f})  {runs[name] / med:8.0f} runs/s  "
              f"{1e6 * med / runs[name]:7.1f} us/run", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"samples": samples, "runs": runs}, handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
