"""Seconds per exhaustive search, and runs per second, on small fixed configurations.

    python -m stress.exhaustive_speed [--repeats 5] [--config NAME ...] [--json FILE]

Runs each configuration of ``stress.exhaustive_counts`` named (default: 2p2c,
1 item, bound 2, with POR, and 2p1c, 2 items, bound 2, with POR) ``--repeats``
times, interleaved, and prints the median, minimum and maximum seconds and
the median runs per second.  To compare two checkouts on a noisy machine, run
this in each, alternately, with the same arguments (``--json`` keeps every
sample).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import model
from model.explore.exhaustive import Exhaustive
from model.scenarios import BufferScenario
from stress.checker_bench import ConditionBuffer
from stress.exhaustive_counts import _CHECK_OPTIONS, CONFIGS, _buggy

DEFAULT = ("2p2c1 b2 por", "2p1c2 b2 por")


def once(name: str) -> tuple[float, int]:
    """Seconds of one search of configuration ``name``, and its runs."""
    module_name, p, c, k, cap, bound, por, options, _ = CONFIGS[name]
    module = _buggy(module_name) if module_name else None
    scenario = BufferScenario(module.Buffer if module else ConditionBuffer,
                              producers=p, consumers=c, items=k, capacity=cap)
    extra = {key: options[key] for key in _CHECK_OPTIONS if key in options}
    options = {key: v for key, v in options.items() if key not in _CHECK_OPTIONS}
    search = Exhaustive(preemption_bound=bound, por=por, **options)
    if module:
        extra["modules"] = [module]
    started = time.perf_counter()
    model.check(scenario, strategy=search, max_schedules=10**9, time_limit=None,
                on_deadlock=scenario.on_deadlock, shrink=False, **extra)
    return time.perf_counter() - started, search.stats().runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.exhaustive_speed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--config", action="append", metavar="NAME")
    parser.add_argument("--json", metavar="FILE", help="also write every sample as JSON")
    args = parser.parse_args(argv)
    names = args.config or list(DEFAULT)
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
