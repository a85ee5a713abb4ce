"""Shortens a failing schedule: fewest preemptions first, then fewest steps.

A schedule is described by its *deviations*: the steps where it did not take
the default choice (keep running the current thread, else the lowest enabled
id; value 0).  Replaying a set of deviations through ``Guided`` reproduces the
run; dropping one makes the run non-preemptive at that point.  The shrinker
greedily drops deviations (first trying to keep only a prefix of them, then
each one alone, then the value deviations), then tries moving each deviation
a few steps or switching it to another thread that could run there, and keeps
any variant that still
fails with the same property and is smaller in (preemptions, steps), until
nothing more can be dropped or the budget of runs is spent.  This is the
"remove context switches" idea of trace simplification (Jalbert & Sen, "A
Trace Simplification Technique for Effective Debugging of Concurrent
Programs", FSE 2010) on top of replay.

The budget counts runs and steps, never seconds, so the result is
deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.errors import Nondeterminism
from model.explore.replay import Guided


@dataclass(frozen=True)
class Shrunk:
    """The shrunk schedule (a token's choices) and how much it shrank."""

    sequence: tuple[int, ...]
    steps: int
    preemptions: int
    original_steps: int
    original_preemptions: int
    runs: int


class _Best:
    __slots__ = ("devs", "vdevs", "steps", "preemptions", "sequence", "enabled_at")

    def __init__(self, g: Guided):
        self.enabled_at = g.enabled_at
        self.devs = dict(g.taken_deviations)
        self.vdevs = dict(g.taken_value_deviations)
        self.steps = g.steps
        self.preemptions = g.preemptions
        self.sequence = g.trimmed_sequence()

    def key(self):
        return (self.preemptions, self.steps)


def shrink(run, choices, prop: str, *, max_runs: int = 1500, max_total_steps: int = 6_000_000) -> Shrunk:
    """Shrink the schedule recorded as ``choices`` that fails with ``prop``.

    ``run(strategy)`` runs one schedule with ``strategy`` and returns an object
    with ``.failure`` (None or having ``.property``) and ``.steps``.
    """
    budget = {"runs": 0, "steps": 0}
    if prop == "livelock":
        # Every livelocked run is max_steps long: only preemptions can shrink,
        # and each attempt is expensive.
        max_runs = min(max_runs, 4)

    def attempt(devs, vdevs):
        g = Guided(deviations=devs, value_deviations=vdevs)
        g.begin_schedule()
        out = run(g)
        budget["runs"] += 1
        budget["steps"] += out.steps
        ok = out.failure is not None and out.failure.property == prop
        return g, ok

    def spent() -> bool:
        return budget["runs"] >= max_runs or budget["steps"] >= max_total_steps

    g = Guided(choices)
    g.begin_schedule()
    out = run(g)
    budget["runs"] += 1
    budget["steps"] += out.steps
    if out.failure is None or out.failure.property != prop:
        got = out.failure.property if out.failure else "pass"
        raise Nondeterminism(
            f"the failing schedule ({prop}) gave {got!r} when run again: the body does "
            "not run the same way twice (it depends on random numbers, the real clock, "
            "object ids, set order, files...)"
        )
    best = _Best(g)
    original = (best.steps, best.preemptions)

    def consider(devs, vdevs) -> bool:
        nonlocal best
        if spent():
            return False
        g, ok = attempt(devs, vdevs)
        if ok and (g.preemptions, g.steps) < best.key():
            best = _Best(g)
            return True
        return False

    # 1. Keep only a prefix of the deviations (often most of them are noise).
    keys = sorted(best.devs)
    for m in range(len(keys)):
        if spent():
            break
        if consider({k: best.devs[k] for k in keys[:m]}, best.vdevs):
            break
    # 2. Drop deviations one at a time; 3. move each a few steps; 4. switch
    # each to another thread that could run there.  Repeat until nothing helps.
    changed = True
    while changed and not spent():
        changed = False
        for k in sorted(best.devs):
            if k not in best.devs:
                continue
            devs = dict(best.devs)
            del devs[k]
            if consider(devs, best.vdevs):
                changed = True
        for k in sorted(best.vdevs):
            if k not in best.vdevs:
                continue
            vdevs = dict(best.vdevs)
            del vdevs[k]
            if consider(best.devs, vdevs):
                changed = True
        if changed:
            continue
        for k in sorted(best.devs):
            if k not in best.devs or spent():
                continue
            c = best.devs[k]
            for delta in (-1, 1, -2, 2, -3, 3):
                if k + delta < 0 or (k + delta) in best.devs:
                    continue
                devs = {(k + delta if j == k else j): v for j, v in best.devs.items()}
                if consider(devs, best.vdevs):
                    changed = True
                    break
            if changed:
                break
            for alt in best.enabled_at.get(k, ()):
                if alt != c:
                    devs = dict(best.devs)
                    devs[k] = alt
                    if consider(devs, best.vdevs):
                        changed = True
                        break
            if changed:
                break
    return Shrunk(
        sequence=tuple(best.sequence),
        steps=best.steps,
        preemptions=best.preemptions,
        original_steps=original[0],
        original_preemptions=original[1],
        runs=budget["runs"],
    )
