"""The protocol between the scheduler and an exploration strategy.

The scheduler (model/scheduler.py) runs the threads of a check one at a time.
Before every operation on a controlled primitive it stops at a *scheduling
point* and asks the strategy which thread runs next; wherever else the run
could go more than one way (which waiter ``notify`` wakes, whether a wait
wakes spuriously) it asks the strategy for a *value choice*.  A strategy never
sees a thread or a primitive, only small integers, so it can be tested on its
own against a toy transition system and replayed from a list of numbers.

One *schedule* is one execution of the scenario from the start::

    while strategy.begin_schedule():
        run the scenario; at each point call strategy.next_thread(point)
        and, for value choices, strategy.next_value(kind, n)
        strategy.end_schedule(failed)

Thread ids are small deterministic integers: 0 is the scenario's main thread,
then 1, 2, ... in the order threads are started.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

# Objects of the model are numbered deterministically in creation order.
# Operations that touch unknown memory (line-granularity steps) use WILDCARD:
# they are dependent with every other operation.
WILDCARD = -1


@dataclass(frozen=True, slots=True)
class Op:
    """What a thread is about to do at a scheduling point.

    ``kind`` names the operation ("acquire", "release", "wait", "notify",
    "notify_all", "set", "is_set", "start", "join", "sleep", "timeout",
    "line", ...).  ``obj`` is the serial number of the object it touches, or
    WILDCARD.  ``read_only`` marks operations that observe without changing
    (e.g. ``Event.is_set``, ``Lock.locked``); two read-only operations on the
    same object commute.  ``mutex`` marks the operations that take or give up
    a ``Lock`` or ``RLock``: a blocking "acquire", the "reacquire" after a
    wait, "release", and a ``Condition``'s "wait" (which releases its lock).
    While one thread holds a mutex no other thread can take it, so the search
    reorders critical sections on it as wholes (``dpor.RaceTracker.lock_race``).
    """

    kind: str
    obj: int
    read_only: bool = False
    mutex: bool = False


def dependent(a: Op, b: Op) -> bool:
    """True when swapping two adjacent steps of different threads could change the outcome."""
    if a.obj == WILDCARD or b.obj == WILDCARD:
        return True
    return a.obj == b.obj and not (a.read_only and b.read_only)


class Point(Protocol):
    """What a strategy may ask about the run at a scheduling point.

    Reading ``next_op`` is optional: random and PCT strategies never do, so the
    scheduler computes it lazily.
    """

    @property
    def step(self) -> int:
        """Number of scheduling points passed in this schedule so far."""

    @property
    def current(self) -> int | None:
        """The thread that ran the previous step, or None when it blocked or finished."""

    @property
    def enabled(self) -> Sequence[int]:
        """Threads that can take a step now, ascending; never empty."""

    def next_op(self, tid: int) -> Op:
        """The operation thread ``tid`` (enabled) performs if chosen."""


class Strategy(Protocol):
    """Chooses every thread switch and every value of one exploration."""

    name: str

    def begin_schedule(self) -> bool:
        """Prepare the next schedule; False when exploration is over."""

    def next_thread(self, point: Point) -> int:
        """Pick the thread to run next; must be one of ``point.enabled``."""

    def next_value(self, kind: str, n: int) -> int:
        """Pick one of ``n`` >= 2 alternatives (0 is the default) for a value choice.

        ``kind`` says what is chosen: "notify" (which waiter wakes),
        "spurious" (0: no spurious wake-up, 1: wake up spuriously), ...
        """

    def end_schedule(self, failed: bool) -> None:
        """The schedule ended; ``failed`` when it violated a property."""

    @property
    def exhaustive(self) -> bool:
        """True once every schedule within the strategy's bounds has been run."""
