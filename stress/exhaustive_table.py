"""How big the exhaustive search trees are: schedules with and without reduction.

    python -m stress.exhaustive_table [--time-limit 40] [--json FILE]

For small bounded-buffer scenarios on the correct condition-variable buffer
of stress/checker_bench.py, runs ``Exhaustive`` at preemption bounds 0, 1, 2
with partial-order reduction and without, and unbounded with reduction; prints
for each the schedules run to completion (``>`` when the time limit stopped
the search first), the sleep-blocked runs and the seconds.  docs/checker.md,
"Exhaustive exploration", shows a run of it.
"""

from __future__ import annotations

import argparse
import json
import time

import model
from model.explore.exhaustive import Exhaustive
from model.scenarios import BufferScenario
from stress.checker_bench import ConditionBuffer

SCENARIOS = ((1, 1, 2), (2, 1, 1), (1, 2, 1), (2, 2, 1), (2, 1, 2), (2, 2, 2))
SEARCHES = ((0, True), (0, False), (1, True), (1, False), (2, True), (2, False), (None, True))


def measure(producers: int, consumers: int, items: int, bound, por: bool, time_limit: float) -> dict:
    scenario = BufferScenario(ConditionBuffer, producers=producers, consumers=consumers,
                              items=items, capacity=1)
    search = Exhaustive(preemption_bound=bound, por=por)
    started = time.perf_counter()
    result = model.check(scenario, strategy=search, max_schedules=10**9, time_limit=time_limit,
                         on_deadlock=scenario.on_deadlock, shrink=False)
    stats = search.stats()
    return {
        "scenario": f"{producers}p{consumers}c, {items} item{'s' if items > 1 else ''}",
        "bound": bound, "por": por, "failed": result.failed,
        "schedules": stats.schedules, "sleep_blocked": stats.sleep_blocked,
        "complete": stats.exhaustive, "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.exhaustive_table", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-limit", type=float, default=40.0, metavar="SECONDS",
                        help="per search (default 40)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    rows = []
    for p, c, k in SCENARIOS:
        for bound, por in SEARCHES:
            row = measure(p, c, k, bound, por, args.time_limit)
            rows.append(row)
            mark = "" if row["complete"] else ">"
            print(f"{row['scenario']:16} bound {str(bound):4} {'POR   ' if por else 'no POR'} "
                  f"{mark}{row['schedules']:>8} schedules  {row['sleep_blocked']:>8} sleep-blocked  "
                  f"{row['seconds']:>6} s{'  FAILED' if row['failed'] else ''}", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)
    return 1 if any(r["failed"] for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
