"""Exhaustive exploration: stateless depth-first search over schedules.

Every schedule is a path in a tree whose nodes are the scheduling points
(which thread runs next) and the value choices (which waiter ``notify``
wakes, ...).  The search keeps only the current path: one node per point,
with the alternatives still to try there, so memory grows with the length of
a schedule, never with the number of schedules.  Each new schedule replays
the path up to the deepest node with an untried alternative, takes that
alternative, and continues with default choices, which the scheduler can do
because the program is deterministic given the choices; a replay that meets
a different set of runnable threads than recorded raises ``Nondeterminism``.

Two reductions, each citing its paper:

* **Preemption bound** (iterative context bounding, Musuvathi & Qadeer,
  PLDI 2007): switching away from a thread that could continue is a
  preemption; only schedules with at most ``preemption_bound`` of them are
  explored.  Switching after a thread blocks or finishes is free.
* **Partial-order reduction** (dynamic POR, Flanagan & Godefroid, POPL 2005):
  two schedules that differ only in the order of independent steps
  (``base.dependent``) reach the same state, so only one is run.  A node
  starts with one alternative, the default choice; a race found later in the
  schedule adds the racing thread as an alternative at the node before the
  earlier step (``dpor.RaceTracker``).  Unbounded search also uses sleep sets
  (Godefroid 1996) so a thread already explored at a node is not explored
  again below its siblings until a dependent step wakes it.
  With a preemption bound, dependence alone is not enough: the alternative a
  race asks for may need one preemption more than the bound allows, while the
  same reordering is reachable through a switch point earlier in the
  schedule.  Bounded POR (Coons, Musuvathi & McKinley, OOPSLA 2013) therefore
  also adds the alternative at the last context switch before the race.
  Sleep sets are not used under a bound, because the schedule a sleeping
  thread stands for may need more preemptions than the one it prunes.

Order of exploration is deterministic: at each fresh node the non-preemptive
choice (the current thread if it can continue, else the lowest runnable id),
then the other alternatives in ascending id order; values in ascending order.

Sharding (``shard=(i, n)``): the first few branching nodes of every path
(enough that the tree has several subtrees per shard) are explored in full,
without reduction, so their alternatives do not depend on what races are found
below them; each subtree below them belongs to the shard ``i`` for which the
sum of the alternative indices taken at those nodes is ``i`` modulo ``n``.  The
``n`` shards together explore exactly what one process with the same split
explores; with ``por=False`` that is exactly the unsharded tree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from model.errors import Nondeterminism
from model.explore.base import Op, Point, dependent
from model.explore.dpor import RaceTracker


@dataclass(frozen=True, slots=True)
class ExhaustiveStats:
    """A snapshot of the search's counters."""

    runs: int  # schedules started (every kind below)
    schedules: int  # complete schedules that count: not pruned, owned by this shard
    sleep_blocked: int  # runs found redundant by sleep sets part way (finished blindly)
    foreign: int  # runs whose leaf belongs to another shard (needed to find the split)
    failed: int  # runs that ended with failed=True
    max_depth: int  # most scheduling points and value choices in one schedule
    exhaustive: bool


class _ThreadNode:
    """A scheduling point on the current path."""

    __slots__ = (
        "enabled",  # tuple of runnable thread ids, ascending
        "ops",  # their next operations (POR only), aligned with enabled
        "current",  # the thread that may continue without a preemption, or None
        "pre",  # preemptions taken before this point
        "chosen",  # the thread taken in the schedule being explored
        "done",  # alternatives taken or given up
        "backtrack",  # alternatives to take (POR)
        "sleep",  # thread -> op: explored elsewhere, skip (unbounded POR)
        "cs_prev",  # step index of the last context switch before this one, or None
        "cands",  # full nodes: every alternative within the bound, in DFS order
        "level",  # number of branching nodes before this one (sharding)
        "key",  # sum of alternative indices at those nodes (sharding)
    )

    def cost(self, t: int) -> int:
        """Preemptions that choosing thread t here costs."""
        return 0 if self.current is None or t == self.current else 1


class _ValueNode:
    """A value choice on the current path."""

    __slots__ = ("kind", "n", "chosen", "level", "key")


class Exhaustive:
    """Depth-first search of every schedule within a preemption bound.

    ``preemption_bound`` None means unbounded.  ``por`` turns on partial-order
    reduction.  ``shard=(i, n)`` explores only the i-th of n disjoint parts.
    With ``spurious_wakeups`` False, a "spurious" value choice is answered 0
    without branching.  ``split_levels`` (sharding) overrides how many leading
    branching nodes are explored in full and split between shards.
    """

    name = "exhaustive"

    def __init__(
        self,
        preemption_bound: int | None = 2,
        por: bool = True,
        shard: tuple[int, int] | None = None,
        spurious_wakeups: bool = False,
        split_levels: int | None = None,
    ) -> None:
        if preemption_bound is not None and (
            isinstance(preemption_bound, bool)
            or not isinstance(preemption_bound, int)
            or preemption_bound < 0
        ):
            raise ValueError(
                f"'preemption_bound' must be None or an int >= 0, got {preemption_bound!r}"
            )
        if shard is not None:
            if (
                not isinstance(shard, tuple)
                or len(shard) != 2
                or not all(isinstance(v, int) for v in shard)
                or not 0 <= shard[0] < shard[1]
            ):
                raise ValueError(f"'shard' must be a pair (i, n) with 0 <= i < n, got {shard!r}")
        self.preemption_bound = preemption_bound
        self.por = bool(por)
        self.shard = shard
        self.spurious_wakeups = bool(spurious_wakeups)
        if shard is None:
            self._split = 0
        elif split_levels is not None:
            self._split = max(1, split_levels)
        else:
            # Enough leading branching nodes for a few subtrees per shard.
            self._split = math.ceil(math.log2(shard[1])) + 1 if shard[1] > 1 else 1
        self._sleep_on = self.por and preemption_bound is None
        self._tracker = RaceTracker(self._race) if self.por else None
        self._path: list[_ThreadNode | _ValueNode] = []
        self._steps: list[_ThreadNode] = []  # the thread nodes of _path, by step
        self._started = False
        self._over = False
        self._exhaustive = False
        self._runs = self._schedules = self._sleep_blocked = 0
        self._foreign = self._failed = self._max_depth = 0
        self._reset_run()

    # -- the Strategy protocol ------------------------------------------------

    @property
    def exhaustive(self) -> bool:
        """True once every schedule of this search (and shard) has been run."""
        return self._exhaustive

    def begin_schedule(self) -> bool:
        """Prepare the next schedule; False when the tree is exhausted."""
        if self._over:
            return False
        if self._started and not self._advance():
            self._over = self._exhaustive = True
            self._path.clear()
            self._steps.clear()
            return False
        self._started = True
        self._reset_run()
        self._runs += 1
        return True

    def next_thread(self, point: Point) -> int:
        """Replay the recorded choice, or take a fresh node's default choice."""
        if self._pos < len(self._path):
            return self._replay_thread(point)
        if self._blind is not None:
            if self._awaited:
                self._reveal(point)
            return _default(point)
        return self._fresh_thread(point)

    def next_value(self, kind: str, n: int) -> int:
        """Replay the recorded value, or branch on a fresh value choice."""
        if n < 2 or (kind == "spurious" and not self.spurious_wakeups):
            return 0
        if self._pos < len(self._path):
            return self._replay_value(kind, n)
        if self._blind is not None:
            return 0
        return self._fresh_value(kind, n)

    def end_schedule(self, failed: bool) -> None:
        """Classify the run that just ended."""
        if self._pos < len(self._path):
            raise Nondeterminism(
                f"the schedule ended after {self._pos} choices, but when it was "
                f"recorded it made {len(self._path)}; the body does something the "
                "checker does not control (random, the wall clock, id() or set order)"
            )
        self._max_depth = max(self._max_depth, self._pos)
        if failed:
            self._failed += 1
        if self._blind == "sleep":
            self._sleep_blocked += 1
        elif self._blind == "foreign" or not self._owned_at_end():
            self._foreign += 1
        else:
            self._schedules += 1

    # -- reporting ------------------------------------------------------------

    def stats(self) -> ExhaustiveStats:
        """A frozen snapshot of the counters."""
        return ExhaustiveStats(
            runs=self._runs,
            schedules=self._schedules,
            sleep_blocked=self._sleep_blocked,
            foreign=self._foreign,
            failed=self._failed,
            max_depth=self._max_depth,
            exhaustive=self._exhaustive,
        )

    def summary(self) -> str:
        """One line: what was explored and what that proves."""
        bound = (
            "unbounded"
            if self.preemption_bound is None
            else f"preemption bound {self.preemption_bound}"
        )
        por = "with partial-order reduction" if self.por else "without reduction"
        part = "" if self.shard is None else f", shard {self.shard[0]} of {self.shard[1]}"
        what = (
            "every interleaving covered"
            if self._exhaustive
            else "stopped before covering every interleaving"
        )
        return f"exhaustive, {bound}, {por}{part}: {self._schedules} schedules, {what}"

    # -- one run --------------------------------------------------------------

    def _reset_run(self) -> None:
        self._pos = 0  # index into _path of the next choice
        self._k = 0  # index of the next step (thread nodes only)
        self._pre = 0  # preemptions so far
        self._prev_tid: int | None = None  # thread of the previous step
        self._last_switch: int | None = None  # last step where the thread changed
        self._blind: str | None = None  # "sleep" or "foreign": no more nodes this run
        self._level = 0  # branching nodes passed (sharding)
        self._key = 0  # sum of their alternative indices (sharding)
        self._next_sleep: dict[int, Op] = {}
        self._awaited: set[int] = set()  # blocked threads whose operation is still unknown
        self._horizon = 0  # the step at which the run stopped building the tree
        if self._tracker is not None:
            self._tracker.reset()
            self._tracker.checking = not self._path

    def _replay_thread(self, point: Point) -> int:
        node = self._path[self._pos]
        if type(node) is not _ThreadNode:
            raise Nondeterminism(
                f"replaying choice {self._pos}: the body reached a scheduling point "
                f"where it made a {node.kind!r} value choice when the schedule was recorded"
            )
        enabled = tuple(point.enabled)
        if enabled != node.enabled:
            raise Nondeterminism(
                f"replaying step {self._k}: threads {list(enabled)} can run, but "
                f"{list(node.enabled)} could when the schedule was recorded; the body "
                "does something the checker does not control (random, the wall "
                "clock, id() or set order)"
            )
        self._pos += 1
        chosen = node.chosen
        if self._tracker is not None:
            op = node.ops[node.enabled.index(chosen)]
            now = point.next_op(chosen)
            if now != op:
                raise Nondeterminism(
                    f"replaying step {self._k}: thread {chosen} is about to {now}, "
                    f"but was about to {op} when the schedule was recorded"
                )
            self._tracker.visible(self._k, node.enabled, node.ops)
            if self._pos == len(self._path):
                self._tracker.checking = True  # the new alternative: fresh races
            self._tracker.execute(self._k, chosen, op)
        self._passed(node, chosen)
        return chosen

    def _replay_value(self, kind: str, n: int) -> int:
        node = self._path[self._pos]
        if type(node) is not _ValueNode or node.kind != kind or node.n != n:
            raise Nondeterminism(
                f"replaying choice {self._pos}: the body asked for a {kind!r} choice "
                f"among {n}, which is not what it did when the schedule was recorded"
            )
        self._pos += 1
        if self._pos == len(self._path) and self._tracker is not None:
            self._tracker.checking = True
        self._passed_value(node)
        return node.chosen

    def _fresh_thread(self, point: Point) -> int:
        enabled = tuple(point.enabled)
        current = point.current
        if current not in enabled:
            current = None
        k = self._k
        node = _ThreadNode()
        node.enabled = enabled
        node.current = current
        node.pre = self._pre
        node.cs_prev = self._last_switch
        node.level = self._level
        node.key = self._key
        node.ops = None
        node.sleep = None
        if self._tracker is not None:
            node.ops = tuple(point.next_op(t) for t in enabled)
            self._tracker.visible(k, enabled, node.ops)
            if self._sleep_on and self._next_sleep:
                node.sleep = _still_asleep(self._next_sleep, enabled, node.ops)
        if not self.por or self._level < self._split:
            node.cands = self._candidates(enabled, current, node.pre)
            node.backtrack = None
            chosen = self._first_of_full(node)
        else:
            node.cands = None
            chosen = self._default_awake(node)
        if chosen is None:
            # Every alternative here is asleep or belongs to another shard.
            if self._blind_reason_sleep(node):
                self._blind = "sleep"
                self._sleep_blocked_at(k, enabled)
            else:
                self._blind = "foreign"
            return _default(point)
        node.chosen = chosen
        node.done = {chosen}
        if node.cands is None:
            node.backtrack = {chosen}
        self._path.append(node)
        self._steps.append(node)
        self._pos += 1
        if self._tracker is not None:
            self._tracker.execute(k, chosen, node.ops[enabled.index(chosen)])
        self._passed(node, chosen)
        return chosen

    def _fresh_value(self, kind: str, n: int) -> int:
        node = _ValueNode()
        node.kind = kind
        node.n = n
        node.level = self._level
        node.key = self._key
        chosen = self._next_value_of(node, -1)
        if chosen is None:
            self._blind = "foreign"
            return 0
        node.chosen = chosen
        self._path.append(node)
        self._pos += 1
        self._passed_value(node)
        return chosen

    def _sleep_blocked_at(self, k: int, enabled: tuple[int, ...]) -> None:
        """The run is redundant from step k on; finish it blind.

        Flanagan & Godefroid check, even at a sleep-blocked state, the next
        operation of every thread, blocked ones included.  Threads blocked
        there whose operation this strategy cannot see yet are watched for
        while the run finishes, and checked as of step k once they show it.
        """
        self._horizon = k
        if self._tracker is not None:
            self._awaited = self._tracker.invisible(enabled)

    def _reveal(self, point: Point) -> None:
        awaited = self._awaited
        for t in point.enabled:
            if t in awaited:
                awaited.discard(t)
                self._tracker.reveal(t, point.next_op(t), self._horizon)

    def _passed(self, node: _ThreadNode, chosen: int) -> None:
        """Bookkeeping after taking thread node ``node``."""
        k = self._k
        if k == 0 or chosen != self._prev_tid:
            self._last_switch = k
        self._prev_tid = chosen
        self._pre = node.pre + node.cost(chosen)
        self._k = k + 1
        if node.cands is not None and len(node.cands) >= 2 and node.level < self._split:
            self._key += node.cands.index(chosen)
            self._level += 1
        if self._sleep_on:
            # Alternatives explored here before ``chosen`` sleep below it.  At a
            # full node that is every candidate before it in DFS order, whether
            # this shard ran it or not, so every shard computes the same sets.
            if node.cands is not None:
                before = node.cands[: node.cands.index(chosen)]
            else:
                before = [t for t in node.done if t != chosen]
            op = node.ops[node.enabled.index(chosen)]
            sleep = dict(node.sleep) if node.sleep else {}
            for t in before:
                sleep[t] = node.ops[node.enabled.index(t)]
            self._next_sleep = {u: o for u, o in sleep.items() if not dependent(o, op)}

    def _passed_value(self, node: _ValueNode) -> None:
        if node.level < self._split:
            self._key += node.chosen
            self._level += 1

    # -- choosing -------------------------------------------------------------

    def _candidates(self, enabled: tuple[int, ...], current: int | None, pre: int) -> list[int]:
        """Every alternative within the bound, non-preemptive choice first."""
        first = current if current is not None else enabled[0]
        order = [first, *(t for t in enabled if t != first)]
        bound = self.preemption_bound
        if bound is None or pre < bound or current is None:
            return order
        return [first]  # at the bound only the free choice remains

    def _default_awake(self, node: _ThreadNode) -> int | None:
        """The non-preemptive choice, or the lowest thread not asleep."""
        sleep = node.sleep
        if not sleep:
            return node.current if node.current is not None else node.enabled[0]
        if node.current is not None and node.current not in sleep:
            return node.current
        for t in node.enabled:
            if t not in sleep:
                return t
        return None

    def _first_of_full(self, node: _ThreadNode) -> int | None:
        """First alternative of a full node (everything within the bound)."""
        return self._next_full(node, set())

    def _next_full(self, node: _ThreadNode, done: set[int]) -> int | None:
        sleep = node.sleep or ()
        last_split = node.level == self._split - 1 and len(node.cands) >= 2
        for index, t in enumerate(node.cands):
            if t in done or t in sleep:
                continue
            if last_split and not self._owns(node.key + index):
                continue
            return t
        return None

    def _blind_reason_sleep(self, node: _ThreadNode) -> bool:
        sleep = node.sleep or ()
        return all(t in sleep for t in node.enabled)

    def _next_value_of(self, node: _ValueNode, after: int) -> int | None:
        last_split = node.level == self._split - 1
        for v in range(after + 1, node.n):
            if last_split and not self._owns(node.key + v):
                continue
            return v
        return None

    def _owns(self, key: int) -> bool:
        return self.shard is None or key % self.shard[1] == self.shard[0]

    def _owned_at_end(self) -> bool:
        # A run that passed fewer than _split branching nodes is split by the
        # sum it reached; one that passed them all was steered into this shard.
        return self._level >= self._split or self._owns(self._key)

    # -- backtracking ---------------------------------------------------------

    def _advance(self) -> bool:
        """Set the deepest node with an untried alternative to it; False if none."""
        path = self._path
        while path:
            node = path[-1]
            if type(node) is _ValueNode:
                v = self._next_value_of(node, node.chosen)
                if v is not None:
                    node.chosen = v
                    return True
            else:
                t = self._next_alternative(node)
                if t is not None:
                    node.chosen = t
                    node.done.add(t)
                    return True
                self._steps.pop()
            path.pop()
        return False

    def _next_alternative(self, node: _ThreadNode) -> int | None:
        if node.cands is not None:
            return self._next_full(node, node.done)
        bound = self.preemption_bound
        sleep = node.sleep or ()
        for t in sorted(node.backtrack - node.done):
            node.done.add(t)
            if bound is not None and node.pre + node.cost(t) > bound:
                continue
            if t in sleep:
                continue
            return t
        return None

    def _race(self, step: int, tid: int, op: Op, k: int) -> None:
        """RaceTracker callback: tid's pending ``op`` (before step k) races with step ``step``."""
        node = self._steps[step]
        if node.cands is not None:
            return  # full node: every alternative is explored anyway
        if self.preemption_bound is None:
            # Source sets: one initial of the reversal suffices, and none is
            # needed if one is already explored, scheduled or asleep here.
            covered = node.done | node.backtrack
            if node.sleep:
                covered |= node.sleep.keys()
            initials = self._tracker.initials(step, tid, op, k, covered)
            if initials is None:
                return
            for q in initials:
                if q in node.enabled:
                    node.backtrack.add(q)
                    return
            node.backtrack.update(t for t in node.enabled if t not in node.done)
            return
        self._add_backtrack(node, tid)
        if node.cs_prev is not None:
            # Bounded POR: the same reordering, from the last context switch.
            self._add_backtrack(self._steps[node.cs_prev], tid)

    @staticmethod
    def _add_backtrack(node: _ThreadNode, tid: int) -> None:
        if node.cands is not None:
            return  # full node: every alternative is explored anyway
        if tid in node.enabled:
            if tid not in node.done:
                node.backtrack.add(tid)
        else:
            # tid cannot run here: reverse the race from any thread that can.
            node.backtrack.update(t for t in node.enabled if t not in node.done)


def _default(point: Point) -> int:
    """The non-preemptive choice, for runs that no longer build the tree."""
    enabled = point.enabled
    current = point.current
    return current if current is not None and current in enabled else enabled[0]


def _still_asleep(sleep: dict[int, Op], enabled: Sequence[int], ops: Sequence[Op]) -> dict[int, Op]:
    """Sleeping threads that are still enabled with the same next operation."""
    awake_ops = dict(zip(enabled, ops))
    return {t: o for t, o in sleep.items() if awake_ops.get(t) == o}
