"""``python -m stress.bench [--json FILE] [--quick] [--only NAME ...] [--repeats N]``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time

from stress.bench.figures import NAMES, BenchError, check_records, table
from stress.bench.suite import FULL, QUICK, run


def describe_machine() -> str:
    """One line: Python, CPU count, the GIL switch interval."""
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"switch interval {sys.getswitchinterval() * 1000:g} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.bench", description=__doc__)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as a JSON list to FILE")
    parser.add_argument("--quick", action="store_true", help="fewer messages and repeats (under two minutes)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=NAMES, help="measure only these figures")
    parser.add_argument("--repeats", type=int, help="repeats per figure (at least 5 for published figures)")
    args = parser.parse_args(argv)

    sizes = QUICK if args.quick else FULL
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error("--repeats must be >= 1")
        sizes = dataclasses.replace(sizes, repeats=args.repeats)
    print(describe_machine())
    print(f"{'quick' if args.quick else 'full'} run, median of {sizes.repeats} repeats per figure; "
          "ratio = ours / queue.Queue in the same shape, measured alternately in this run", flush=True)
    began = time.monotonic()
    try:
        figures = run(sizes, args.only or NAMES, progress=lambda line: print(line, file=sys.stderr, flush=True))
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    print(table(figures))
    print(f"({time.monotonic() - began:.0f} s)")
    if args.json:
        records = [figure.record() for figure in figures]
        if not args.only:
            check_records(records)
        with open(args.json, "w") as out:
            json.dump(records, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
