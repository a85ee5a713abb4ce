"""RSS: the process's memory now and at its peak, and the growth per hour fitted from a report.

    python -m stress.harness.rss REPORT.jsonl [--warmup SECONDS]

reads the snapshots of a ``python -m stress --report`` file and prints the
least-squares slope of peak RSS (and of current RSS) against elapsed time,
in MB per hour, over the steady state: snapshots after ``--warmup``
seconds (default: the first 10% of the run, at most 60 s).  The run's own
summary carries the same fit (``rss_growth_mb_per_hour``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
from collections.abc import Iterable

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def peak_rss_kb() -> int:
    """The process's peak resident set size, KB (``getrusage``; Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def current_rss_kb() -> int:
    """The resident set size now, KB (``/proc/self/statm``; the peak where there is no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE // 1024
    except (OSError, IndexError, ValueError):
        return peak_rss_kb()


def slope_per_hour(points: Iterable[tuple[float, float]]) -> float | None:
    """The least-squares slope of (seconds, KB) points, in MB per hour; None with fewer than 3 points."""
    points = list(points)
    if len(points) < 3:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread  # KB per second
    return slope * 3600.0 / 1024.0


def default_warmup(duration: float) -> float:
    """The start of the steady state: 10% of the run, at most 60 s."""
    return min(60.0, duration * 0.1)


def growth(snapshots: list[dict], warmup: float) -> dict[str, float | int | None]:
    """Peak and current RSS growth (MB/hour) over the snapshots at or after ``warmup`` seconds."""
    steady = [s for s in snapshots if s["elapsed"] >= warmup]
    return {
        "warmup_s": round(warmup, 1),
        "points": len(steady),
        "peak_mb_per_hour": _round(slope_per_hour((s["elapsed"], s["peak_rss_kb"]) for s in steady)),
        "current_mb_per_hour": _round(slope_per_hour((s["elapsed"], s["rss_kb"]) for s in steady)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.harness.rss", description=__doc__.splitlines()[0])
    parser.add_argument("report", help="a JSON-lines report written by python -m stress --report")
    parser.add_argument("--warmup", type=float, default=None, metavar="SECONDS")
    args = parser.parse_args(argv)
    with open(args.report, encoding="utf-8") as file:
        records = [json.loads(line) for line in file if line.strip()]
    snapshots = [r for r in records if r.get("type") == "snapshot"]
    if not snapshots:
        print(f"{args.report}: no snapshots", file=sys.stderr)
        return 1
    warmup = args.warmup if args.warmup is not None else default_warmup(snapshots[-1]["elapsed"])
    result = growth(snapshots, warmup)
    first = next((s for s in snapshots if s["elapsed"] >= warmup), snapshots[-1])
    print(f"{len(snapshots)} snapshots over {snapshots[-1]['elapsed']:.0f} s; steady state from {warmup:.0f} s "
          f"({result['points']} points)")
    print(f"peak RSS {first['peak_rss_kb'] / 1024:.1f} MB -> {snapshots[-1]['peak_rss_kb'] / 1024:.1f} MB; "
          f"growth {result['peak_mb_per_hour']} MB/hour (current RSS: {result['current_mb_per_hour']} MB/hour)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
