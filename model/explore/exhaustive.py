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

Two reductions, each citing its paper (details: docs/checker.md):

* **Preemption bound** (iterative context bounding, Musuvathi & Qadeer,
  PLDI 2007): switching away from a thread that could continue is a
  preemption; only schedules with at most ``preemption_bound`` of them are
  explored.  Switching after a thread blocks or finishes is free.
* **Partial-order reduction**: two schedules that differ only in the order of
  independent steps (``base.dependent``) reach the same state, so only one is
  run.  Dynamic POR (Flanagan & Godefroid, POPL 2005): a node starts with one
  alternative, the default choice; at the end of each run, every race (a
  step and a later dependent step of another thread, unordered by
  happens-before; ``dpor.RaceTracker``) adds, at the node before the earlier
  step, a thread that starts the race's reversal: an *initial* of the
  reversal (source sets, Abdulla, Aronis, Jonsson & Sagonas, POPL 2014).
  Sleep sets (Godefroid 1996) keep a thread explored at a node from being
  explored again below its later siblings until a dependent step wakes it.
  Under a preemption bound the reversal a race asks for may need a
  preemption more than the bound allows while the same reordering is
  reachable from the last context switch, so the racing thread is added there
  too (bounded POR, Coons, Musuvathi & McKinley, OOPSLA 2013); a thread may
  only sleep where the schedule it stands for needs no more preemptions than
  the ones it prunes (see ``_may_sleep`` and ``_blocked_switch``).
* Races that cannot be reversed where they occur are reversed where they can
  be: a step inside a critical section and an operation that needs the same
  lock, at the acquisitions that began the two critical sections; a blocking
  join and the exit it waited for, never (``_settle``).  Unbounded, the
  search then runs exactly one schedule per trace on the lock-and-condition
  programs measured (no sleep-blocked runs).

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
from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

from model.errors import Nondeterminism
from model.explore.base import WILDCARD, Op, Point, dependent
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
        "cont",  # thread -> could it run again right after its step here (bounded sleep sets)
        "vmark",  # RaceTracker.mark() at this point, before its step
        "xmark",  # RaceTracker.mark() after its step
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
            # Enough leading branching nodes for several subtrees per shard:
            # subtrees differ wildly in size, so a few per shard balance badly
            # (2p2c, bound 2, 2 shards: 1 level 99.6% / 0.4%, 4 levels 49/51%).
            self._split = math.ceil(math.log2(shard[1])) + 3 if shard[1] > 1 else 1
        self._sleep_on = self.por
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
    def spurious_default(self) -> bool:
        """Whether ``model.check`` should offer spurious wake-ups (read when not told)."""
        return self.spurious_wakeups

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
        last = self._last_taken
        if last is not None:
            node, t = last
            cont = node.cont
            if t not in cont:
                cont[t] = t in point.enabled
            self._last_taken = None
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
        if self._last_taken is not None:
            node, t = self._last_taken
            node.cont.setdefault(t, False)
            self._last_taken = None
        if self._tracker is not None:
            if failed:
                self._blocked_at_end()
            self._settle()
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
        part = "" if self.shard is None else f", shard {self.shard[0]} of {self.shard[1]}"
        return describe(self.preemption_bound, self.por, part, self._schedules, self._exhaustive)

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
        self._deferred: list[tuple[int, int, Op, int]] = []  # races settled at the end
        self._fresh_from = 0  # first step not replayed from the previous run
        self._last_taken: tuple[_ThreadNode, int] | None = None  # the step just taken
        self._end_enabled: tuple[int, ...] = ()  # enabled after the last tracked step
        # Index in _path of the last thread node up to the divergence: the only
        # replayed node whose sleep set the fresh part of the run needs.
        self._last_thread_pos = -1
        tracker = self._tracker
        if tracker is not None:
            # Back to the state before the divergence, where it was recorded.
            path = self._path
            for pos in range(len(path) - 1, -1, -1):
                node = path[pos]
                if type(node) is _ThreadNode:
                    self._last_thread_pos = pos
                    tracker.rollback(node.vmark if pos == len(path) - 1 else node.xmark)
                    break
            else:
                tracker.reset()

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
        if self._tracker is not None and self._pos == len(self._path):
            # The divergence: the tracker was rolled back to this state.
            op = node.ops[node.enabled.index(chosen)]
            now = point.next_op(chosen)
            if now != op:
                raise Nondeterminism(
                    f"replaying step {self._k}: thread {chosen} is about to {now}, "
                    f"but was about to {op} when the schedule was recorded"
                )
            self._fresh_from = self._k
            self._tracker.execute(self._k, chosen, op)
            node.xmark = self._tracker.mark()
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
            self._fresh_from = self._k
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
        node.pre = pre = self._pre
        node.cs_prev = self._last_switch
        node.level = self._level
        node.key = self._key
        node.ops = None
        node.sleep = sleep = None
        node.cont = {}
        tracker = self._tracker
        if tracker is not None:
            node.ops = ops = tuple(map(point.next_op, enabled))
            tracker.visible(k, enabled, ops)
            node.vmark = tracker.mark()
            if self._sleep_on and self._next_sleep and not self._blocked_switch(current):
                node.sleep = sleep = _still_asleep(self._next_sleep, enabled, ops)
        if not self.por or self._level < self._split:
            node.cands = self._candidates(enabled, current, pre)
            node.backtrack = None
            chosen = self._first_of_full(node)
        else:
            node.cands = None
            if not sleep:  # _default_awake, inlined for the common case
                chosen = current if current is not None else enabled[0]
            else:
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
        if tracker is not None:
            tracker.execute(k, chosen, ops[enabled.index(chosen)])
            node.xmark = tracker.mark()
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
        self._end_enabled = enabled
        if self._tracker is not None:
            self._awaited = self._tracker.invisible(enabled)

    def _blocked_at_end(self) -> None:
        """A failed run may end with threads blocked on operations never shown.

        Flanagan & Godefroid check them at the final state too; their
        operation is unknown, so it is taken to be dependent with everything.
        (A run that passes ends with every thread finished, or blocked daemon
        threads, which are not checked: see docs/checker-exhaustive.md.)
        """
        tracker = self._tracker
        if self._blind == "sleep":
            stuck, k = self._awaited, self._horizon
        elif self._blind is None:
            stuck, k = tracker.invisible(()), len(self._steps)
        else:
            return
        for t in sorted(stuck):
            if not tracker.finished(t):
                tracker.reveal(t, _UNKNOWN, k)

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
        current = node.current  # node.cost(chosen), inlined
        self._pre = node.pre if current is None or chosen == current else node.pre + 1
        self._k = k + 1
        cands = node.cands
        if cands is not None and len(cands) >= 2 and node.level < self._split:
            self._key += cands.index(chosen)
            self._level += 1
        if self._sleep_on:
            self._last_taken = (node, chosen)
            if self._pos <= self._last_thread_pos:
                return  # replayed: the fresh part needs only the last one's sleep set
            # Alternatives explored here before ``chosen`` sleep below it.  At a
            # full node that is every candidate before it in DFS order, whether
            # this shard ran it or not, so every shard computes the same sets.
            if cands is not None:
                before = cands[: cands.index(chosen)]
            elif len(node.done) == 1:
                before = ()  # a fresh node: chosen is all it has done
            else:
                before = [t for t in node.done if t != chosen and t in node.cont]
            if not before and not node.sleep:
                self._next_sleep = {}
                return
            if self.preemption_bound is not None:
                before = [t for t in before if self._may_sleep(node, t)]
            op = node.ops[node.enabled.index(chosen)]
            sleep = dict(node.sleep) if node.sleep else {}
            for t in before:
                sleep[t] = node.ops[node.enabled.index(t)]
            self._next_sleep = {u: o for u, o in sleep.items() if not dependent(o, op)}

    def _blocked_switch(self, current: int | None) -> bool:
        """Under a bound: does this point follow a step after which its thread blocked?

        Such a switch is free.  A sleeping thread stands for a schedule that
        runs it earlier; its step might then enable the blocked thread, making
        this switch a preemption and the earlier schedule dearer than the one
        pruned.  What the blocked thread waits for is not shown, so every
        sleeping thread is woken here.  (A thread whose last step was "exit" has
        finished, not blocked.)
        """
        if self.preemption_bound is None or current is not None or self._k == 0:
            return False
        return not self._tracker.finished(self._prev_tid)

    @staticmethod
    def _may_sleep(node: _ThreadNode, u: int) -> bool:
        """Under a bound: may thread u, explored here first, sleep below a later sibling?

        A schedule the sleeping u prunes further down is equivalent to one
        that takes u here instead; that one must need no more preemptions, or
        u's subtree (explored within the same bound) may not contain it.  It
        needs no more when u is the thread that could continue here (the
        sibling pays the preemption u saves), or when u could not run again
        right after its step (switching back from it is free).
        """
        if u == node.current:
            return True
        return node.cands is None and node.cont.get(u) is False

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
        """RaceTracker callback: tid's pending ``op`` (before step k) races with step ``step``.

        Settled at the end of the run (``_settle``), when the whole run is known.
        """
        if self._steps[step].cands is None:
            self._deferred.append((step, tid, op, k))

    def _conservative_point(self, i: int) -> int | None:
        """Where Coons et al.'s bounded POR also reverses a race with step i.

        The last context switch before step i.  Needed only when step i
        continues the thread that ran before it: switching to another thread
        there costs a preemption that switching at the last context switch
        does not.  When step i is itself a context switch, taking another
        thread there costs no more than the step taken, so nothing is saved
        by going further back.
        """
        if self.preemption_bound is None:
            return None
        steps = self._steps
        if i == 0 or steps[i - 1].chosen != steps[i].chosen:
            return None
        return steps[i].cs_prev

    def _covered(self, node: _ThreadNode) -> set[int]:
        """Threads explored, to be explored (within the bound), or asleep at node."""
        covered = set(node.cont)
        covered.add(node.chosen)
        bound = self.preemption_bound
        for t in node.backtrack - node.done:
            if bound is None or node.pre + node.cost(t) <= bound:
                covered.add(t)
        if node.sleep:
            covered |= node.sleep.keys()
        return covered

    def _settle(self) -> None:
        """Settle the races of the run, now that all of it is known.

        Source sets (Abdulla et al.): a race's reversal is taken up to the step
        where the racing operation actually ran (or the end of the run if it
        never did), and one of its initials that can run where the race began
        is added there, unless one is already covered (explored, scheduled
        within the bound, or asleep).

        A thread that cannot run where the race began (Flanagan & Godefroid):
        unbounded, the reversal must start with a thread that can run there
        and leads to the racing operation (takes a step after the race that
        happens before it, enabling steps included); any one will do.  Under a
        bound, and when no such thread is known, every thread that can run
        there is added.  A race with the very step that enabled the thread is
        no race: the two could not be enabled together.

        Under a bound, the racing thread is also added at the last context
        switch before the race (Coons, Musuvathi & McKinley), or every thread
        that can run there if it cannot, or is asleep there.

        Two kinds of race are never reversed where they occur.  A race between
        a step inside a critical section and an operation that needs the same
        mutex is moved to the steps that began the two critical sections
        (``RaceTracker.lock_race``): only there can the order change.  A
        blocking join never runs before the exit it waits for
        (``_never_reversed``).  Reversing either at the race itself leads to
        runs that are redundant (sleep-blocked) at best, as the reversal
        cannot happen.
        """
        tracker = self._tracker
        last = len(self._steps)
        deferred = self._deferred
        self._deferred = []
        # Every step this run took anew races with the last dependent step of
        # each other thread that does not happen before it.
        deferred.extend(tracker.races_from(self._fresh_from, last))
        if not deferred:
            return
        steps_of = tracker.steps_of()
        for i, p, op, k in deferred:
            if _never_reversed(tracker.op_of(i), op):
                continue
            mine = steps_of.get(p, ())
            f = bisect_left(mine, k)
            m = mine[f] if f < len(mine) else None  # where p's operation ran
            moved = tracker.lock_race(i, p, op, m)
            if moved is not None:
                i, op, m = moved  # the race of the two critical sections
            node = self._steps[i]
            if node.cands is not None:
                continue
            if p in node.enabled:
                initials = self._initials(i, p, op, last if m is None else m)
                if initials is not None:
                    runnable = [q for q in initials if q in node.enabled]
                    if not runnable:
                        self._lead(node, i, m, steps_of)
                    elif self.preemption_bound is None:
                        node.backtrack.add(runnable[0])
                    else:
                        # Under a bound a reversal explored from one initial may
                        # need more preemptions than from another: take them all,
                        # and the racing thread (Coons et al.).
                        node.backtrack.update(runnable)
                        if not (node.sleep and p in node.sleep):
                            node.backtrack.add(p)
            elif p in (self._steps[i + 1].enabled if i + 1 < last else self._end_enabled):
                continue  # step i enabled p: not a race
            else:
                self._lead(node, i, m, steps_of)
            j = self._conservative_point(i)
            if j is not None:
                prev = self._steps[j]
                if prev.cands is None:
                    if p in prev.enabled and not (prev.sleep and p in prev.sleep):
                        if p not in prev.done:
                            prev.backtrack.add(p)
                    else:
                        covered = self._covered(prev)
                        prev.backtrack.update(t for t in prev.enabled if t not in covered)

    def _initials(self, i: int, p: int, op: Op, m: int) -> list[int] | None:
        """Threads that can begin the reversal of the race (i, p), or None if covered.

        Unbounded, an initial explored or scheduled at step i covers the
        reversal; under a bound only a sleeping one does (sleep sets admit only
        threads whose covering schedules need no more preemptions).
        """
        node = self._steps[i]
        if self.preemption_bound is None:
            covered = self._covered(node)
        else:
            covered = node.sleep.keys() if node.sleep else ()
        return self._tracker.initials(i, p, op, m, covered)

    def _lead(self, node: _ThreadNode, i: int, m: int | None, steps_of) -> None:
        """Add a thread that can run before step i and leads to step m, or all."""
        lead = []
        if m is not None and self.preemption_bound is None:
            lead = [q for q in node.enabled if self._tracker.leads_to(i, m, q, steps_of)]
        covered = self._covered(node)
        if lead:
            if not any(q in covered for q in lead):
                node.backtrack.add(lead[0])
        else:
            node.backtrack.update(t for t in node.enabled if t not in covered)


def describe(bound: int | None, por: bool, part: str, schedules: int, complete: bool) -> str:
    """The summary line of an exhaustive search (``part``: which share of it ran)."""
    bound_text = "unbounded" if bound is None else f"preemption bound {bound}"
    por_text = "with partial-order reduction" if por else "without reduction"
    what = ("every interleaving covered" if complete
            else "stopped before covering every interleaving")
    return f"exhaustive, {bound_text}, {por_text}{part}: {schedules} schedules, {what}"


def _never_reversed(first: Op, later: Op) -> bool:
    """A race no schedule reverses: a blocking join performed after the exit it waits for.

    Had the join come first it would have waited for the exit, so it still runs
    after it.  (``try_join``, a join that never blocks, does race with the exit.)
    """
    return later.kind == "join" and first.kind == "exit"


_UNKNOWN = Op("blocked", WILDCARD)  # the operation of a thread blocked out of sight


def _default(point: Point) -> int:
    """The non-preemptive choice, for runs that no longer build the tree."""
    enabled = point.enabled
    current = point.current
    return current if current is not None and current in enabled else enabled[0]


def _still_asleep(sleep: dict[int, Op], enabled: Sequence[int], ops: Sequence[Op]) -> dict[int, Op]:
    """Sleeping threads that are still enabled with the same next operation."""
    awake_ops = dict(zip(enabled, ops))
    return {t: o for t, o in sleep.items() if awake_ops.get(t) == o}
