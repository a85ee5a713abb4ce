"""Bounded exhaustive search with reduction: two searches in alternation.

A search that covers every schedule within a preemption bound may run any
set of schedules that includes one equivalent to each of them.  Two searches
with partial-order reduction do that (model/explore/exhaustive.py):

* the *bounded* one (``Exhaustive(preemption_bound=B)``), which runs only
  schedules within the bound, but must backtrack conservatively to stay sound
  under it (Coons, Musuvathi & McKinley, OOPSLA 2013) and so may run many
  schedules of one trace;
* the *unbounded* one (``Exhaustive(preemption_bound=None)``), which runs one
  schedule per trace of the whole program, within the bound or not.

Which is smaller depends on the program: on the standard scenario (2
producers, 2 consumers, capacity 1, 2 items) the bounded search needs 1,716
runs at bound 0 and 173,460 at bound 2, the unbounded one 86,336.  ``Bounded``
runs them in alternation, one schedule each, and stops at the first event of
either, in that order: a failure (a real one: every schedule either runs is a
schedule of the program), or the completion of one of them, which covers every
schedule within the bound.  So it never runs more than twice the smaller
search, and its result depends only on the two searches, never on timing.

``component=c`` runs only search c (0: bounded, 1: unbounded) as the c-th of
two processes: schedule j of search c is schedule ``c + 2 j`` of the
alternation, so two processes together find what one does
(model/checker.py, ``_explore_parallel``).
"""

from __future__ import annotations

from model.explore.base import Point
from model.explore.exhaustive import Exhaustive, ExhaustiveStats

NAMES = ("bounded", "unbounded")


class Bounded:
    """Exhaustive search within a preemption bound, with partial-order reduction."""

    name = "exhaustive"

    def __init__(self, preemption_bound: int = 2, spurious_wakeups: bool = False,
                 component: int | None = None) -> None:
        if preemption_bound is None:
            raise ValueError("'preemption_bound' must be an int >= 0 (unbounded: use Exhaustive)")
        if component not in (None, 0, 1):
            raise ValueError(f"'component' must be None, 0 or 1, got {component!r}")
        self.preemption_bound = preemption_bound
        self.searches = (
            Exhaustive(preemption_bound=preemption_bound, por=True,
                       spurious_wakeups=spurious_wakeups),
            Exhaustive(preemption_bound=None, por=True, spurious_wakeups=spurious_wakeups),
        )
        self.component = component
        self._turn = 0 if component is None else component
        self._active = self.searches[self._turn]
        self._started = False
        self.winner: int | None = None  # the search that completed first

    @property
    def spurious_default(self) -> bool:
        return self.searches[0].spurious_wakeups

    @property
    def exhaustive(self) -> bool:
        return self.winner is not None

    def begin_schedule(self) -> bool:
        if self.winner is not None:
            return False
        if self._started and self.component is None:
            self._turn = 1 - self._turn
            self._active = self.searches[self._turn]
        self._started = True
        if self._active.begin_schedule():
            return True
        self.winner = self._turn
        return False

    def next_thread(self, point: Point) -> int:
        return self._active.next_thread(point)

    def next_value(self, kind: str, n: int) -> int:
        return self._active.next_value(kind, n)

    def end_schedule(self, failed: bool) -> None:
        self._active.end_schedule(failed)

    def stats(self) -> ExhaustiveStats:
        """The two searches' counters added up; ``exhaustive`` is this search's."""
        a, b = (s.stats() for s in self.searches)
        return ExhaustiveStats(
            runs=a.runs + b.runs, schedules=a.schedules + b.schedules,
            sleep_blocked=a.sleep_blocked + b.sleep_blocked, foreign=0,
            failed=a.failed + b.failed, max_depth=max(a.max_depth, b.max_depth),
            exhaustive=self.exhaustive,
        )

    def summary(self) -> str:
        """One line: what was explored and what that proves."""
        return describe(self.preemption_bound, self.winner,
                        [s.stats().schedules for s in self.searches])


def describe(bound: int, winner: int | None, schedules: list[int]) -> str:
    """The summary line of a bounded search, from its parts (also for two processes)."""
    runs = f"{sum(schedules)} schedules ({schedules[0]} bounded, {schedules[1]} unbounded)"
    head = f"exhaustive, preemption bound {bound}, with partial-order reduction: {runs}"
    if winner == 0:
        return f"{head}, every interleaving within the bound covered"
    if winner == 1:
        return (f"{head}, every interleaving covered (the unbounded search completed first), "
                "so every one within the bound")
    return f"{head}, stopped before covering every interleaving"
