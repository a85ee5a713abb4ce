"""What the exhaustive search explores, pinned: counters and a digest of every choice.

    python -m stress.exhaustive_counts [--check FILE] [--write FILE] [--fast] [--only NAME]

Runs ``Exhaustive`` through ``model.check`` on a fixed list of small
configurations (each completes in seconds) and records, per configuration,
``search.stats()`` (runs, schedules, sleep-blocked runs, failed runs, deepest
schedule, whether it completed) and a digest of the exploration itself: for
every run, in order, each scheduling point with more than one runnable thread
(the runnable ids and the one chosen), each value choice, and whether the run
failed.  Two versions of the search explore the same tree in the same order
exactly when their records are equal, so a change meant only to make the
search cheaper must leave this file unchanged: ``--check FILE`` compares
against a recorded one (tests/data/exhaustive_counts.json) and exits 1 on any
difference; ``--write FILE`` records.  ``--fast`` keeps the configurations
marked fast (what tests/model/test_exhaustive_counts.py runs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time

import model
from model.explore.exhaustive import Exhaustive
from model.scenarios import BufferScenario
from stress.checker_bench import ConditionBuffer


class _Digest:
    """Wraps a strategy; folds every real choice of the exploration into a hash.

    Forced points (one runnable thread) are left out, so the digest describes
    the tree the search walks, not how often the scheduler asks.
    """

    def __init__(self, inner) -> None:
        self._inner = inner
        self._hash = hashlib.sha256()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def begin_schedule(self) -> bool:
        return self._inner.begin_schedule()

    def next_thread(self, point) -> int:
        c = self._inner.next_thread(point)
        enabled = tuple(point.enabled)
        if len(enabled) > 1:
            self._hash.update(f"t{enabled}{c};".encode())
        return c

    def next_value(self, kind: str, n: int) -> int:
        v = self._inner.next_value(kind, n)
        self._hash.update(f"v{kind}{n}:{v};".encode())
        return v

    def end_schedule(self, failed: bool) -> None:
        self._hash.update(b"F|" if failed else b"|")
        self._inner.end_schedule(failed)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()[:16]


def _buggy(name: str):
    from tests.buggy import load

    return load(name)


# name -> (buffer module or None for ConditionBuffer, p, c, items, capacity,
#          preemption bound, por, options, fast); options go to Exhaustive, except
#          the model.check options in _CHECK_OPTIONS
_CHECK_OPTIONS = ("max_steps", "granularity")
CONFIGS: dict[str, tuple] = {}


def _add(name, module, p, c, k, bound, por, fast, cap=1, **options):
    CONFIGS[name] = (module, p, c, k, cap, bound, por, options, fast)


for _p, _c, _k in ((1, 1, 2), (2, 1, 1), (1, 2, 1), (2, 2, 1), (2, 1, 2)):
    for _bound in (0, 1, 2):
        for _por in (True, False):
            if _bound == 2 and not _por and _p + _c + _k == 5:
                continue  # 15-35 s each: too slow for this list
            _add(f"{_p}p{_c}c{_k} b{_bound} {'por' if _por else 'nopor'}", None, _p, _c, _k,
                 _bound, _por, fast=_p + _c + _k <= 4 or (_bound < 2 and _por))
for _p, _c, _k, _fast in ((1, 1, 2, True), (2, 1, 1, True), (1, 2, 1, True), (2, 2, 1, False),
                          (2, 1, 2, False)):
    _add(f"{_p}p{_c}c{_k} unbounded por", None, _p, _c, _k, None, True, fast=_fast)
# A spurious wake-up can repeat forever: these end in a livelock at max_steps.
_add("1p1c1 b1 por spurious", None, 1, 1, 1, 1, True, True, spurious_wakeups=True, max_steps=40)
_add("1p1c1 b1 nopor spurious", None, 1, 1, 1, 1, False, True, spurious_wakeups=True,
     max_steps=40)
_add("2p1c1 b2 por shard 0/2", None, 2, 1, 1, 2, True, True, shard=(0, 2))
_add("2p1c1 b2 por shard 1/2", None, 2, 1, 1, 2, True, True, shard=(1, 2))
_add("if_not_while 1p2c2 b2 por", "if_not_while", 1, 2, 2, 2, True, True)
_add("if_not_while 1p2c2 b2 nopor", "if_not_while", 1, 2, 2, 2, False, True)
_add("if_not_while 1p2c1 unbounded por", "if_not_while", 1, 2, 1, None, True, True)
_add("missing_notify 2p2c1 b2 por", "missing_notify", 2, 2, 1, 2, True, True)
_add("correct_semaphores 1p1c2 b2 por", "correct_semaphores", 1, 1, 2, 2, True, True)
_add("correct_semaphores 2p1c1 b2 por", "correct_semaphores", 2, 1, 1, 2, True, False)
_add("correct_semaphores 2p1c1 unbounded por", "correct_semaphores", 2, 1, 1, None, True, False)
_add("correct_timed_poll 1p1c1 b2 por", "correct_timed_poll", 1, 1, 1, 2, True, True)
_add("correct_timed_poll 1p1c2 b1 por", "correct_timed_poll", 1, 1, 2, 1, True, False)
_add("correct_timed_poll 1p1c1 b2 nopor", "correct_timed_poll", 1, 1, 1, 2, False, True)
_add("correct_notify_all 2p1c1 b2 por", "correct_notify_all", 2, 1, 1, 2, True, True)
_add("unsync_counter line 1p1c1 b1 por", "unsync_counter", 1, 1, 1, 1, True, True,
     granularity="line")
_add("unsync_counter line 1p1c1 b2 nopor", "unsync_counter", 1, 1, 1, 2, False, True,
     granularity="line")


def run(name: str, wrap=lambda search: search):
    """One search of configuration ``name`` through ``model.check``.

    ``wrap(search)`` is the strategy given to the check (a wrapper that
    watches the search, or the search itself).  Returns the search, that
    strategy, the result and the seconds it took.
    """
    module_name, p, c, k, cap, bound, por, options, _ = CONFIGS[name]
    module = _buggy(module_name) if module_name else None
    buffer = module.Buffer if module else ConditionBuffer
    scenario = BufferScenario(buffer, producers=p, consumers=c, items=k, capacity=cap)
    extra = {key: options[key] for key in _CHECK_OPTIONS if key in options}
    options = {key: v for key, v in options.items() if key not in _CHECK_OPTIONS}
    search = Exhaustive(preemption_bound=bound, por=por, **options)
    strategy = wrap(search)
    if module:
        extra["modules"] = [module]
    started = time.perf_counter()
    result = model.check(scenario, strategy=strategy, max_schedules=10**9, time_limit=None,
                         on_deadlock=scenario.on_deadlock, shrink=False, **extra)
    return search, strategy, result, time.perf_counter() - started


def measure(name: str) -> dict:
    search, digest, result, seconds = run(name, _Digest)
    stats = search.stats()
    return {
        "runs": stats.runs, "schedules": stats.schedules, "sleep_blocked": stats.sleep_blocked,
        "foreign": stats.foreign, "failed": stats.failed, "max_depth": stats.max_depth,
        "exhaustive": stats.exhaustive, "verdict": result.property or "pass",
        "digest": digest.hexdigest(), "seconds": round(seconds, 2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stress.exhaustive_counts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", metavar="FILE", help="compare with a recorded file")
    parser.add_argument("--write", metavar="FILE", help="record to FILE")
    parser.add_argument("--fast", action="store_true", help="only the configurations marked fast")
    parser.add_argument("--only", metavar="NAME", action="append", help="one configuration")
    args = parser.parse_args(argv)
    names = args.only or [n for n, cfg in CONFIGS.items() if cfg[-1] or not args.fast]
    expected = {}
    if args.check:
        with open(args.check, encoding="utf-8") as handle:
            expected = json.load(handle)
    rows, differ = {}, []
    for name in names:
        row = rows[name] = measure(name)
        verdict = ""
        if args.check:
            want = {key: v for key, v in expected.get(name, {}).items() if key != "seconds"}
            got = {key: v for key, v in row.items() if key != "seconds"}
            if want == got:
                verdict = "same"
            else:
                verdict = f"DIFFERS (recorded {want})"
                differ.append(name)
        print(f"{name:40} runs {row['runs']:>7} sched {row['schedules']:>7} "
              f"sleep {row['sleep_blocked']:>7} {row['verdict']:9} {row['digest']} "
              f"{row['seconds']:>6} s {verdict}", flush=True)
    if args.write:
        with open(args.write, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)
            handle.write("\n")
    if differ:
        print(f"{len(differ)} configuration(s) differ: {differ}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
