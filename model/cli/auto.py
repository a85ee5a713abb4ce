"""The ``auto`` strategy of the command line: three searches taking turns, one schedule each.

No single strategy finds every classic buffer bug fastest.  Measured on the
19 buggy buffers of tests/buggy, each strategy alone (seed 0, schedules until
the bug): a random walk found all 19 within 33 schedules (most in 1-7), including
the unsynchronised ones at line granularity; bounded exhaustive search
(iterative context bounding, Musuvathi and Qadeer, PLDI 2007, with the
checker's partial-order reduction) found a `notify` that wakes the wrong
waiter in 1 schedule where the random walk needed 33, but missed a
check-then-act race in 3000; PCT (Burckhardt et al., ASPLOS 2010) was never
the fastest here, but it is the one with a guarantee for deeper bugs (a bug
of depth d is hit with probability at least 1/(n*k^(d-1)) per schedule).
Only exhaustive search can *prove* absence, within its preemption bound.

So ``Auto`` interleaves them round-robin, one schedule at a time, on a single
budget: schedule 0 random, 1 exhaustive, 2 PCT, 3 random, ...  The slowest
case costs three times the best strategy's schedules instead of the sum of
the strategies' budgets.  The exhaustive turn runs iterative context
bounding: every interleaving with 0 preemptions, then with at most 1, ...,
up to the bound (2 by default); when the last bound is covered, its turns go
to the other two and the result says the bound was covered.  Exhaustive
search answers spurious wake-ups "no" (the random and PCT turns inject them).
At line granularity, where every line conflicts with every other and
exhaustive search drowns, the exhaustive turn comes every fourth schedule.

Each sub-strategy only ever sees its own schedules and draws from its own
seeded generator, so a seed fixes the whole exploration.
"""

from __future__ import annotations

from model.explore.pct import PCT
from model.explore.random_walk import RandomWalk


def _exhaustive(bound: int):
    from model.explore.exhaustive import Exhaustive

    return Exhaustive(preemption_bound=bound, por=True, spurious_wakeups=False)


class Auto:
    """Round-robin of random walk, bounded exhaustive search (ICB) and PCT."""

    name = "auto"
    spurious_default = True

    def __init__(self, seed: int = 0, *, depth: int = 3, preemption_bound: int | None = 2,
                 granularity: str = "sync"):
        self.seed = seed
        self.depth = depth
        self.max_bound = preemption_bound
        self.random = RandomWalk(seed)
        self.pct = PCT(seed, depth)
        self.bound = 0  # the exhaustive search's current preemption bound
        self.search = _exhaustive(0)
        self.covered: int | None = None  # highest bound whose every interleaving ran
        self.done = False  # the exhaustive turn is over (max bound covered)
        if granularity == "line":
            self.turns = ("random", "pct", "random", "exhaustive")
        else:
            self.turns = ("random", "exhaustive", "pct")
        self.turn = -1
        self.current = self.random
        self.counts = {"random": 0, "pct": 0, "exhaustive": 0}

    # -- the Strategy protocol ------------------------------------------------

    def begin_schedule(self) -> bool:
        while True:
            self.turn = (self.turn + 1) % len(self.turns)
            kind = self.turns[self.turn]
            if kind != "exhaustive":
                break
            if self.done:
                continue
            if self.search.begin_schedule():
                break
            self._next_bound()
            if not self.done and self.search.begin_schedule():
                break
        self.current = getattr(self, kind) if kind != "exhaustive" else self.search
        if kind != "exhaustive":
            self.current.begin_schedule()
        self.counts[kind] += 1
        return True

    def next_thread(self, point) -> int:
        return self.current.next_thread(point)

    def next_value(self, kind: str, n: int) -> int:
        return self.current.next_value(kind, n)

    def end_schedule(self, failed: bool) -> None:
        self.current.end_schedule(failed)

    @property
    def exhaustive(self) -> bool:
        """True once every interleaving within the preemption bound has been run."""
        return self.done

    # -- reporting ------------------------------------------------------------

    def _next_bound(self) -> None:
        """The current bound is covered: go one preemption deeper, or stop searching."""
        self.covered = self.bound
        if self.max_bound is not None and self.bound >= self.max_bound:
            self.done = True
            return
        self.bound += 1
        self.search = _exhaustive(self.bound)

    def guarantee(self, schedules: int) -> str:
        c = self.counts
        if self.covered is None:
            proof = (f"exhaustive search (preemption bound {self.bound}) did not complete "
                     f"in {c['exhaustive']} schedules")
        else:
            proof = (f"every interleaving with at most {self.covered} preemptions was run "
                     f"({c['exhaustive']} exhaustive schedules)")
        return (f"{proof}; plus {c['random']} random-walk and {c['pct']} PCT (depth "
                f"{self.depth}) schedules, which prove nothing absent")

    def describe(self) -> str:
        """How the schedules were spent, for the report (deterministic)."""
        c = self.counts
        return (f"auto, seed {self.seed}: {c['random']} random-walk + {c['exhaustive']} "
                f"exhaustive + {c['pct']} PCT schedules")
