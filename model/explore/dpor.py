"""Happens-before and races along one schedule, for exhaustive search.

Dynamic partial-order reduction (Flanagan & Godefroid, POPL 2005) needs the
races of each run: a step ``i`` of thread ``v`` and an operation ``o`` of
another thread ``p`` race when they are dependent (``base.dependent``) and
step ``i`` does not happen before ``p`` got to ``o``.  ``RaceTracker`` keeps
one vector clock per thread and per step and answers:

* ``races_of_step(m)``: for step m, the last step of each other thread that
  races with it (what source-set DPOR checks for every executed step);
* ``initials(i, p, o, k)``: the threads that can begin the reversal of a race
  (Abdulla, Aronis, Jonsson & Sagonas, POPL 2014);
* ``leads_to(i, m, q)``: whether thread q takes a step after step i that
  happens before step m (Flanagan & Godefroid's set E, for a racing thread
  that cannot run where the race began).

It also reports (``on_race``), as Flanagan & Godefroid check at every state
for every thread, races of *pending* operations: the operation a thread is
about to perform, shown by ``Point.next_op``, even if it never runs.  A
thread that blocks right after its own step shows its next operation only
when it becomes enabled again; until then it is *invisible*, and when it
reappears its operation is checked retroactively against every step taken in
the meantime, and against the last dependent step of each other thread
before that.  A thread disabled with a known operation (another thread's
step disabled it) is checked as the steps happen.

Happens-before is the transitive closure of program order, dependence, and
enabling: a thread that was disabled and became enabled after step k runs its
next step after step k (threads started by step k inherit its clock).  Per
object the tracker keeps the clock of its last modifying step and the join of
the read-only steps since, which is all the dependence order needs: modifying
steps on one object are totally ordered.

The per-thread and per-object tables are restored from an undo log
(``mark`` / ``rollback``) when the search backtracks, so a replayed prefix
costs nothing here.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Callable, Sequence

from model.explore.base import WILDCARD, Op, dependent

Clock = list[int]
_MISSING = object()
_FREE: tuple = ((), None)  # a thread's mutexes (see RaceTracker._hold) when it holds none
_TAKES = frozenset({"acquire", "reacquire"})


def _join(a: Clock, b: Clock) -> Clock:
    """A fresh clock, the component-wise maximum of ``a`` and ``b``."""
    la, lb = len(a), len(b)
    if la == lb:
        return [x if x > y else y for x, y in zip(a, b)]
    if la < lb:
        a, b, la, lb = b, a, lb, la
    joined = [x if x > y else y for x, y in zip(a, b)]  # zip stops at the shorter b
    joined.extend(a[lb:])
    return joined


class RaceTracker:
    """Vector clocks and races of the current schedule.

    ``on_race(step, tid, op, k)`` is called for each race between step
    ``step`` and thread ``tid``'s pending operation ``op`` at the state before
    step ``k``, while ``checking`` is True.  Races may be reported more than
    once.  ``reset`` starts a schedule; ``rollback`` returns to a ``mark``.
    """

    __slots__ = (
        "checking",
        "_on_race",
        "_tid",
        "_lidx",
        "_op",
        "_eclock",
        "_clock",
        "_count",
        "_last_step",
        "_pending",
        "_hist",
        "_wild",
        "_w",
        "_r",
        "_wild_clock",
        "_wild_step",
        "_dependent",
        "_prev_enabled",
        "_enabler",
        "_preclock",
        "_log",
        "_stepped",
        "_held",
        "_holding",
        "_unreliable",
    )

    def __init__(self, on_race: Callable[[int, int, Op, int], None]) -> None:
        self._on_race = on_race
        # Looked up through the module so a test can break it deliberately.
        self._dependent = dependent
        self.reset()

    def reset(self) -> None:
        """Forget the schedule; the next step is step 0."""
        self.checking = True
        self._tid: list[int] = []  # per step: the thread that took it
        self._lidx: list[int] = []  # per step: its position in its thread, from 1
        self._op: list[Op] = []  # per step: the operation performed
        self._eclock: list[Clock] = []  # per step: its vector clock
        self._preclock: list[Clock] = []  # per step: its thread's clock just before it
        self._clock: dict[int, Clock] = {}  # per thread: clock of its last step
        self._count: dict[int, int] = {}  # per thread: steps taken
        self._last_step: dict[int, int] = {}  # per thread: its last step (or creation - 1)
        self._pending: dict[int, Op] = {}  # per thread: next operation, when known
        self._hist: dict[int, list[int]] = {}  # per object: steps touching it
        self._wild: list[int] = []  # steps with a WILDCARD operation
        self._w: dict[int, tuple[Clock, int]] = {}  # per object: last modifying step
        self._r: dict[int, tuple[Clock, int]] = {}  # per object: reads since it
        self._wild_clock: Clock = []
        self._wild_step = -1
        self._prev_enabled: Sequence[int] = ()  # enabled threads at the previous state
        self._enabler: dict[int, int] = {}  # thread -> the step that enabled it, until it runs
        self._log: list[tuple] = []  # undo log of the per-thread and per-object tables
        self._held: list[tuple] = []  # per step: its thread's mutexes (see _hold) before it
        self._holding: dict[int, tuple] = {}  # per thread: its mutexes now (see _hold)
        # Mutexes released by a thread not known to hold them: holders unknown.
        self._unreliable: dict[int, bool] = {}
        # Invariant: _stepped == number of threads whose _count is > 0.
        self._stepped = 0

    # -- what the strategy reports ------------------------------------------

    def visible(self, k: int, enabled: Sequence[int], ops: Sequence[Op]) -> None:
        """At the state before step ``k``: thread ``enabled[j]`` will perform ``ops[j]``."""
        pending = self._pending
        count = self._count
        log = self._log
        prev = self._prev_enabled
        for t, o in zip(enabled, ops):
            if t not in count:
                self._start(t, k)
            elif k and t not in prev:
                # Step k - 1 enabled t: t's next step causally follows it.
                enabler = self._enabler
                log.append((enabler, t, enabler.get(t, _MISSING)))
                enabler[t] = k - 1
            po = pending.get(t, _MISSING)
            # Ops are interned by the scheduler: identity settles most comparisons.
            if po is not o and po != o:
                log.append((pending, t, po))
                pending[t] = o
                if self.checking:
                    self._scan(t, o, self._last_step[t] + 1, k)
        log.append(("_prev_enabled", prev))
        self._prev_enabled = enabled

    def execute(self, k: int, c: int, o: Op) -> None:
        """Step ``k``: thread ``c`` performs ``o`` (its pending operation)."""
        pending = self._pending
        log = self._log
        races = ()
        if self.checking:
            dep = self._dependent
            races = [(p, po) for p, po in pending.items() if p != c and dep(po, o)]
        po = pending.pop(c, _MISSING)
        if po is not _MISSING:
            log.append((pending, c, po))
        count = self._count
        if c not in count:  # defensive: a thread never shown by visible()
            self._start(c, k)
        n = count[c] + 1
        clocks = self._clock
        own = clocks[c]
        enabler = self._enabler
        e = enabler.pop(c, _MISSING)
        if e is not _MISSING:
            log.append((enabler, c, e))
            own = _join(own, self._eclock[e])
        self._preclock.append(own)
        clock = self._clock_of_step(k, c, o, n, own)
        last_step = self._last_step
        # One entry undoes the thread's count, clock and last step.
        log.append((c, n - 1, clocks[c], last_step[c]))
        count[c] = n
        if n == 1:
            self._stepped += 1
        clocks[c] = clock
        last_step[c] = k
        self._tid.append(c)
        self._lidx.append(n)
        self._op.append(o)
        self._eclock.append(clock)
        held = self._holding.get(c, _FREE)
        self._held.append(held)
        if o.mutex:
            self._hold(c, k, o, held)
        for p, po in races:
            self._on_race(k, p, po, k + 1)

    # -- undo ------------------------------------------------------------------

    # Entries of the undo log, told apart by length:
    #   (table, key, old)                    a dict entry (old _MISSING: absent)
    #   (name, old)                          an attribute of the tracker
    #   (hist,)                              a step appended to an object's history
    #   (tid, count, clock, last_step)       a step of thread tid (execute)

    def mark(self) -> tuple[int, int, int]:
        """A point of the schedule to come back to with ``rollback``."""
        return (len(self._log), len(self._tid), len(self._wild))

    def rollback(self, mark: tuple[int, int, int]) -> None:
        """Restore the state as it was at ``mark`` (of this schedule)."""
        size, steps, wild = mark
        log = self._log
        count, clocks, last_step = self._count, self._clock, self._last_step
        for entry in reversed(log[size:]):
            n = len(entry)
            if n == 3:
                table, key, old = entry
                if old is _MISSING:
                    del table[key]
                else:
                    table[key] = old
            elif n == 4:
                t, count[t], clocks[t], last_step[t] = entry
                if not entry[1]:
                    self._stepped -= 1
            elif n == 1:
                entry[0].pop()
            else:
                setattr(self, entry[0], entry[1])
        del log[size:]
        for seq in (self._tid, self._lidx, self._op, self._eclock, self._preclock, self._held):
            del seq[steps:]
        del self._wild[wild:]

    def _dset(self, table: dict, key, value) -> None:
        self._log.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def _dpop(self, table: dict, key) -> None:
        self._log.append((table, key, table.pop(key)))

    def invisible(self, enabled: Sequence[int]) -> set[int]:
        """Threads that ran, are not enabled now, and whose next operation is unknown.

        They are blocked, or finished: the protocol does not tell which.
        """
        pending = self._pending
        return {
            t for t in self._count if t not in pending and t not in enabled and self._count[t]
        }

    def reveal(self, t: int, o: Op, k: int) -> None:
        """Thread t, invisible at the state before step k, turned out to be about to do o.

        Reports the races Flanagan & Godefroid's check at that state would have
        found; used when the schedule after step k is not tracked.
        """
        if self.checking:
            self._scan(t, o, self._last_step[t] + 1, k)

    def initials(self, i: int, p: int, o: Op, k: int, covered) -> list[int] | None:
        """Threads that can begin the reversal of a race, or None if one is ``covered``.

        The race is between step i and thread p's operation o, pending at the
        state before step k.  The reversal is the sequence v of the steps
        after i that do not happen after it, followed by o; its *initials* are
        the threads whose first step in v has no predecessor in v (Abdulla,
        Aronis, Jonsson & Sagonas, "Optimal dynamic partial order reduction",
        POPL 2014: source sets).  Exploring any one of them at the state before
        step i covers the reversal; if one is already explored or scheduled
        there (``covered``), nothing needs adding.  p comes first when it is
        an initial.
        """
        ti, li = self._tid[i], self._lidx[i]
        eclock, tids, lidx, ops = self._eclock, self._tid, self._lidx, self._op
        dep = self._dependent
        first: dict[int, int] = {}  # thread -> position of its first step in v
        found: list[int] = []
        o_has_pred = False
        for j in range(i + 1, k):
            cj = eclock[j]
            if ti < len(cj) and cj[ti] >= li:
                continue  # happens after step i: not part of the reversal
            q = tids[j]
            if not o_has_pred and q != p and dep(o, ops[j]):
                o_has_pred = True
            if q in first:
                continue
            has_pred = False
            for u, lu in first.items():
                if u < len(cj) and cj[u] >= lu:
                    has_pred = True
                    break
            first[q] = lidx[j]
            if not has_pred:
                if q in covered:
                    return None
                found.append(q)
        if p not in first:
            cp = self._preclock[k] if k < len(self._tid) and self._tid[k] == p else self._clock[p]
            if not o_has_pred and not any(
                u < len(cp) and cp[u] >= lu for u, lu in first.items()
            ):
                if p in covered:
                    return None
                found.insert(0, p)
        return found

    def op_of(self, i: int) -> Op:
        """The operation of step i."""
        return self._op[i]

    def lock_race(self, i: int, p: int, o: Op, m: int | None) -> tuple[int, Op, int | None] | None:
        """The race between two critical sections that a race with step i stands for.

        Step i's thread holds a mutex L (a Lock or RLock) that thread p needs
        for o: p holds L when it performs o (at step m, or pending if m is
        None), or o is p's blocking acquisition of L.  o cannot then run
        before step i: only p's whole critical section can, before the step
        that began the one step i is in.  Returns (j, o2, m2): j that step, o2
        the operation that began p's critical section (o itself when it is the
        acquisition) and m2 the step where o2 ran (None: pending).  None when no
        such mutex is known: taking a lock with try_acquire, or releasing a Lock
        another thread took, makes its holders unknown, and then races stay
        where they are.
        """
        mine = self._held[i][0]
        if not mine:
            return None
        theirs = (self._held[m] if m is not None else self._holding.get(p, _FREE))[0]
        takes = o.mutex and o.kind in _TAKES
        best = None
        for lock, j, _ in mine:
            if lock in self._unreliable:
                continue
            for lock2, j2, _ in theirs:
                if lock2 == lock:
                    break
            else:
                if not (takes and o.obj == lock):
                    continue
                j2 = m
            if best is None or j < best[0]:
                best = (j, j2)
        if best is None:
            return None
        j, j2 = best
        if j2 is None or j2 == m:
            return (j, o, m)
        return (j, self._op[j2], j2)

    def races_of_step(self, m: int) -> list[int]:
        """Steps that race with step m: per other thread, its last step dependent with
        step m's operation that does not happen before step m's thread got there."""
        p, o = self._tid[m], self._op[m]
        before = self._preclock[m]
        tids, lidx, ops = self._tid, self._lidx, self._op
        dep = self._dependent
        others = self._stepped - 1  # threads besides p that take a step in this run
        resolved: set[int] = set()
        out = []
        for i in self._candidates(o.obj, m):
            v = tids[i]
            if v == p or v in resolved or not dep(o, ops[i]):
                continue
            resolved.add(v)
            if v >= len(before) or before[v] < lidx[i]:
                out.append(i)
            if len(resolved) >= others:
                break  # every other thread is resolved: the rest would be skipped
        return out

    def races_from(self, first: int, last: int) -> list[tuple[int, int, Op, int]]:
        """(i, p, o, m) for each step m in [first, last), of thread p performing o,
        and each step i of ``races_of_step(m)``, in that order."""
        tids, ops = self._tid, self._op
        return [(i, tids[m], ops[m], m) for m in range(first, last) for i in self.races_of_step(m)]

    def finished(self, t: int) -> bool:
        """True when t's last step was the scheduler's "exit" of the thread."""
        last = self._last_step.get(t, -1)
        return last >= 0 and self._tid[last] == t and self._op[last].kind == "exit"

    def steps_of(self) -> dict[int, list[int]]:
        """Per thread, the steps it took in this schedule, ascending."""
        out: dict[int, list[int]] = {}
        for k, t in enumerate(self._tid):
            out.setdefault(t, []).append(k)
        return out

    def leads_to(self, i: int, m: int, q: int, steps_of: dict[int, list[int]]) -> bool:
        """True when thread q takes a step after step i that happens before step m."""
        mine = steps_of.get(q, ())
        f = bisect_right(mine, i)
        if f == len(mine) or mine[f] >= m:
            return False
        first = mine[f]
        cm = self._eclock[m]
        return q < len(cm) and cm[q] >= self._lidx[first]

    # -- internals ----------------------------------------------------------

    def _start(self, t: int, k: int) -> None:
        # A thread first seen before step k was started by step k - 1.
        self._dset(self._count, t, 0)
        self._dset(self._clock, t, list(self._clock[self._tid[k - 1]]) if k else [])
        self._dset(self._last_step, t, k - 1)

    def _hold(self, c: int, k: int, o: Op, held: tuple) -> None:
        """Thread c's mutexes after step k (o, a mutex operation).

        A thread's state is (entries, saved): entries are (lock, step that took
        it, count) for the mutexes it is known to hold; ``saved`` is what a
        Condition wait set aside until the thread reacquires its lock.  Only
        what is certain is claimed: a lock taken with try_acquire is not
        claimed, and while a thread waits it claims none.
        """
        entries, saved = held
        kind, lock = o.kind, o.obj
        if kind == "acquire":
            for e in entries:
                if e[0] == lock:  # reentry into an RLock
                    new = tuple((x, j, n + 1) if x == lock else (x, j, n) for x, j, n in entries)
                    break
            else:
                new = (*entries, (lock, k, 1))
            state = (new, None)
        elif kind == "reacquire":
            # The critical section on ``lock`` starts again here.
            base = saved if saved is not None else entries
            if any(e[0] == lock for e in base):
                new = tuple((x, k, n) if x == lock else (x, j, n) for x, j, n in base)
            else:
                new = (*base, (lock, k, 1))
            state = (new, None)
        elif kind == "release":
            for e in entries:
                if e[0] == lock:
                    break
            else:
                if lock not in self._unreliable:
                    self._dset(self._unreliable, lock, True)
                return
            new = tuple(
                (x, j, n - 1) if x == lock else (x, j, n)
                for x, j, n in entries
                if x != lock or n > 1
            )
            state = (new, None)
        elif kind == "wait":  # a Condition's: its lock is released until "reacquire"
            state = ((), entries)
        else:
            return
        self._dset(self._holding, c, state)

    def _clock_of_step(self, k: int, c: int, o: Op, n: int, own: Clock) -> Clock:
        """Clock of step k; updates the per-object tables."""
        x = o.obj
        log = self._log
        if x == WILDCARD:
            # Every step before it: a thread's clock covers its earlier steps.
            clock = own
            for other in self._clock.values():
                clock = _join(clock, other)
            clock = _set(clock, c, n)
            log.append(("_wild_clock", self._wild_clock))
            log.append(("_wild_step", self._wild_step))
            self._wild_clock = clock
            self._wild_step = k
            self._wild.append(k)
            return clock
        last_w = self._w.get(x)
        if last_w is None or last_w[1] < self._wild_step:
            dep_clock, w_step = self._wild_clock, self._wild_step
        else:
            dep_clock, w_step = last_w
        clock = _join(own, dep_clock)
        reads = self._r.get(x)
        if reads is not None and reads[1] != w_step:
            reads = None  # stale: a later modifying step ordered them
        if o.read_only:
            clock = _set(clock, c, n)
            self._dset(self._r, x, (clock if reads is None else _join(reads[0], clock), w_step))
        else:
            if reads is not None:
                clock = _join(clock, reads[0])
            clock = _set(clock, c, n)
            self._dset(self._w, x, (clock, k))
            if x in self._r:
                self._dpop(self._r, x)
        hist = self._hist.get(x)
        if hist is None:
            hist = self._hist[x] = []
        hist.append(k)
        log.append((hist,))
        return clock

    def _candidates(self, x: int, k: int):
        """Steps before k that touch object x (or everything), latest first."""
        if x == WILDCARD:
            return range(k - 1, -1, -1)
        hist = self._hist.get(x, ())
        if hist and hist[-1] >= k:
            hist = hist[: bisect_left(hist, k)]
        wild = self._wild
        if not wild:
            return reversed(hist)
        if wild[-1] >= k:
            wild = wild[: bisect_left(wild, k)]
        return sorted((*hist, *wild), reverse=True)

    def _scan(self, t: int, o: Op, window: int, k: int) -> None:
        """Report the races of t's new pending operation o at the state before step k.

        Steps in [window, k) were taken while t's operation was not known (t was
        invisible); each dependent one is a race.  Before ``window``, only the
        last dependent step of each other thread counts, and only if it does not
        happen before t.
        """
        clock_t = self._clock[t]
        tids, lidx, ops = self._tid, self._lidx, self._op
        dep = self._dependent
        others = -1  # threads other than t that took a step: counted when first needed
        resolved: set[int] = set()
        for i in self._candidates(o.obj, k):
            v = tids[i]
            if v == t:
                continue
            if i >= window:
                if dep(o, ops[i]):
                    self._on_race(i, t, o, k)
                continue
            if v in resolved or not dep(o, ops[i]):
                continue
            resolved.add(v)
            if v >= len(clock_t) or clock_t[v] < lidx[i]:
                self._on_race(i, t, o, k)
            if others < 0:
                others = self._stepped - (1 if self._count[t] else 0)
            if len(resolved) >= others:
                break


def _set(clock: Clock, tid: int, value: int) -> Clock:
    """clock (fresh, owned by the caller) with component tid set to value."""
    if len(clock) <= tid:
        clock.extend([0] * (tid + 1 - len(clock)))
    clock[tid] = value
    return clock
