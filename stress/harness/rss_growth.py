"""Fit RSS growth from a stress report: ``python -m stress.harness.rss_growth REPORT.jsonl [--warmup SECONDS]``.

Reads the snapshots of a ``python -m stress --report`` file and prints the
least-squares slope of peak RSS (and of current RSS) against elapsed time,
in MB per hour, over the steady state: the snapshots after ``--warmup``
seconds (default: the first half of the run, at most 10 minutes).  The 10-minute
measurement in docs/stress.md is::

    python -m stress --duration 10m --seed 1 --report r.jsonl
    python -m stress.harness.rss_growth r.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys

from stress.harness.rss import default_warmup, growth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.harness.rss_growth", description=__doc__.splitlines()[0])
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
