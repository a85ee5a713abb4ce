"""Is a concurrent history linearizable against a sequential spec?

A history is *linearizable* (Herlihy & Wing 1990) when every operation can
be given one instant inside its interval, from invocation to response, so
that the operations, run one at a time in that order, give the recorded
results according to the spec.  An operation still pending at the end may
have taken effect (at some instant after its invocation) or not.

The search is Wing & Gong's (1993) with Lowe's memoisation, in the
just-in-time form of Lowe's "Testing for linearizability" (2017) and of
porcupine: events sit in a doubly linked list in time order; the
candidates for the next linearization point are the calls that come before
the first response still in the list (the *minimal* operations: no
unlinearized operation returned before they were invoked).  Linearizing one
applies ``spec.step`` and unlinks its call and response; reaching a
response means that operation can no longer be placed, so the search backs
up.  Each configuration (set of linearized operations as an int bitmask,
spec state) is explored at most once.  Iterative, so no recursion limit; a
time limit makes the verdict ``Unknown``, never ``Ok``.

The order in which candidates are tried is the spec's guess
(``search_order``: earliest deadline first for the queue); a spec may
refute a state at once (``dead_end``); and a search that gets stuck under
a step budget restarts with what the spec ``learn``s from the deepest dead
end, keeping what it refuted.  None of these changes a verdict.

Independent parts (``spec.partition``, e.g. one per topic) are checked
separately: linearizability is local (Herlihy & Wing, Theorem 1).

On failure the witness is shrunk: first to the shortest prefix in time that
is already not linearizable (operations in flight at the cut become
pending), then by removing the spec's removal units (``removal_units``)
while it stays not linearizable, in halving chunks and finally one by one.
Both steps keep any linearizable history linearizable, so the witness fails
for a reason the original history has.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from time import perf_counter as _now  # the real clock, even under the checker's virtual time
from typing import Any, Iterable

from model.errors import CheckFailed, ModelError
from model.history import History, Operation
from model.specs import PENDING, Call

# How many search steps between two reads of the clock.
_CLOCK_EVERY = 1024
# How many restarts in a row may get stuck no deeper before the last search runs to the deadline.
_PATIENCE = 3


class Verdict(enum.Enum):
    OK = "Ok"
    NOT_LINEARIZABLE = "NotLinearizable"
    UNKNOWN = "Unknown"  # the time limit ran out: not a pass

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one history, with a linearization or a witness.

    ``linearization``: for ``Ok``, the operation ids in an order the spec
    accepts (an operation the spec performs in several atomic steps appears
    once per step; pending operations that took effect are included).
    ``witness``: for ``NotLinearizable``, a small sub-history that is
    already not linearizable; ``minimal`` says whether no removal unit of it
    can be removed (False when the minimising time ran out); ``cut_at`` is
    the event time after which the witness leaves the history out (calls
    invoked later are dropped, calls still running are pending), or None.
    """

    verdict: Verdict
    spec: str
    history: History
    linearization: tuple[int, ...] | None = None
    witness: History | None = None
    minimal: bool = False
    cut_at: int | None = None
    configurations: int = 0
    search_seconds: float = 0.0
    minimise_seconds: float = 0.0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK

    def __str__(self) -> str:
        return self.report()

    def report(self, *, timings: bool = True) -> str:
        """What was found, readably: for a failure, the witness as a per-thread timeline.

        ``timings=False`` leaves out the measured times (for output that
        must not change from run to run).
        """
        size = f"{_plural(len(self.history), 'operation')} from {_plural(len(self.history.threads), 'thread')}"
        if self.verdict is Verdict.OK:
            cost = f", {self.search_seconds:.3f} s" if timings else ""
            return (
                f"Ok: linearizable against {self.spec}: {size} "
                f"({_plural(self.configurations, 'configuration')}{cost})."
            )
        if self.verdict is Verdict.UNKNOWN:
            return (
                f"Unknown: {self.reason} This is not a pass: raise time_limit or check a "
                "shorter history (deciding linearizability is NP-complete in general; "
                "Gibbons & Korach 1997)."
            )
        assert self.witness is not None
        if len(self.witness) == 1:
            head = f"NotLinearizable: this operation (of the {size}) fits no run of {self.spec}:"
        else:
            head = (
                f"NotLinearizable: no order of these {len(self.witness)} operations "
                f"(of the {size}) is a run of {self.spec}:"
            )
        lines = [head, "", _indent(self.witness.timeline(width=60)), ""]
        if not self.minimal:
            lines.append("(Not shrunk to a minimum: the minimising time ran out.)")
        elif len(self.witness) > 1:
            lines.append(
                "Removing any one of them (with the operations tied to its values) "
                "leaves a linearizable history."
            )
        if self.cut_at is not None:
            last = next(op for op in self.history if self.cut_at in (op.invoked, op.responded))
            event = "returned" if last.responded == self.cut_at else "was invoked"
            lines.append(
                f"No order fits any more once {last.call} {last.outcome()} ({last.thread}) "
                f"{event}: calls invoked after that are left out"
                + (", and calls still running then are shown (pending)." if any(op.pending for op in self.witness) else ".")
            )
        lines.append(
            "Likely cause: the object breaks the spec even one call at a time (compare "
            "the results with the spec's table), or an operation is not atomic: a check "
            "and an act under separate lock acquisitions, or state touched outside the lock."
        )
        if timings:
            lines.append(
                f"Searched {self.search_seconds:.3f} s ({self.configurations:,} configurations), "
                f"minimised {self.minimise_seconds:.3f} s."
            )
        return "\n".join(lines)


class LinearizabilityError(CheckFailed):
    """Raised by ``assert_linearizable`` (an AssertionError); its text is the report, the result is ``.result``."""


class SpecError(ModelError, TypeError):
    """The spec cannot judge this history: no ``pending()`` for pending calls, or unhashable states."""


def assert_linearizable(history: History, spec: Any, **options: Any) -> CheckResult:
    """``check_history``, raising ``LinearizabilityError`` unless the verdict is Ok."""
    result = check_history(history, spec, **options)
    if not result.ok:
        raise LinearizabilityError(result)
    return result


def check_history(
    history: History,
    spec: Any,
    *,
    time_limit: float | None = 10.0,
    minimise: bool = True,
    minimise_time_limit: float | None = None,
) -> CheckResult:
    """Decide whether ``history`` is linearizable against ``spec``.

    ``time_limit`` bounds the search in seconds (None: no bound); when it
    runs out the verdict is ``Unknown``.  On ``NotLinearizable`` the witness
    is minimised within ``minimise_time_limit`` (default: ``time_limit``).
    """
    started = _now()
    deadline = None if time_limit is None else started + time_limit
    ops = list(history)
    parts = spec.partition(ops) if hasattr(spec, "partition") else [ops]
    order: list[int] = []
    configurations = 0
    unknown = ""
    for part in parts:
        outcome = _search_learning(part, spec, deadline)
        configurations += outcome.configurations
        if outcome.verdict is Verdict.NOT_LINEARIZABLE:
            searched = _now() - started
            budget = time_limit if minimise_time_limit is None else minimise_time_limit
            witness, minimal, cut_at = (part, False, None)
            if minimise:
                witness, minimal, cut_at = _minimise(part, spec, None if budget is None else _now() + budget)
            originals = {op.id: op for op in history}
            shown = [_shown(op, originals[op.id]) for op in witness]
            return CheckResult(
                Verdict.NOT_LINEARIZABLE,
                repr(spec),
                history,
                witness=History(shown, {"witness of": history.meta}),
                minimal=minimal,
                cut_at=cut_at,
                configurations=configurations,
                search_seconds=searched,
                minimise_seconds=_now() - started - searched,
            )
        if outcome.verdict is Verdict.UNKNOWN:
            unknown = (
                f"the search ran out of its time limit of {time_limit} s after "
                f"{configurations:,} configurations of {len(history):,} operations."
            )
        else:
            order += outcome.order
    elapsed = _now() - started
    if unknown:
        return CheckResult(
            Verdict.UNKNOWN, repr(spec), history, configurations=configurations,
            search_seconds=elapsed, reason=unknown,
        )
    return CheckResult(
        Verdict.OK, repr(spec), history, linearization=tuple(order),
        configurations=configurations, search_seconds=elapsed,
    )


def _shown(op: Operation, original: Operation) -> Operation:
    # The witness shows the caller's own calls (a partition may have rewritten them).
    return op.with_call(original.call)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


# -- the search -----------------------------------------------------------------


@dataclass
class _Outcome:
    verdict: Verdict
    order: list[int] = field(default_factory=list)
    configurations: int = 0
    over_budget: bool = False  # Unknown because the step budget ran out, not the time
    stuck: tuple = ()  # (depth, (state, [(call, result), ...])) at the deepest dead end


@dataclass
class _Atoms:
    """The atomic steps of a part: one per operation, or several for a split operation."""

    op_id: list[int] = field(default_factory=list)
    call: list[Call] = field(default_factory=list)
    result: list[Any] = field(default_factory=list)
    pending: list[bool] = field(default_factory=list)
    after: list[int] = field(default_factory=list)  # the atom that must come first, or -1
    invoked: list[int] = field(default_factory=list)
    responded: list[int | None] = field(default_factory=list)

    @classmethod
    def of(cls, ops: Iterable[Operation], spec: Any) -> "_Atoms":
        atoms = cls()
        split = getattr(spec, "atomic_steps", None)
        for op in ops:
            steps = split(op.call, op.result) if split is not None else None
            if steps is None:
                steps = [(op.call, op.result)]
            previous = -1
            for call, result in steps:
                pending = op.pending or result is PENDING
                atoms.op_id.append(op.id)
                atoms.call.append(call)
                atoms.result.append(PENDING if pending else result)
                atoms.pending.append(pending)
                atoms.after.append(previous)
                atoms.invoked.append(op.invoked)
                atoms.responded.append(None if pending else op.responded)
                previous = len(atoms.op_id) - 1
        return atoms


def _search(
    ops: list[Operation],
    spec: Any,
    deadline: float | None,
    *,
    budget: int | None = None,
    learned: tuple = (),
    dead: set | None = None,
) -> _Outcome:
    """Wing & Gong / Lowe just-in-time search over one part; see the module docstring.

    ``budget`` caps the steps (then Unknown with ``over_budget``); ``learned``
    goes to the spec's ``search_order``; ``dead`` holds configurations known
    to lead nowhere, and receives those this search refutes.
    """
    atoms = _Atoms.of(ops, spec)
    count = len(atoms.op_id)
    if any(atoms.pending) and not hasattr(spec, "pending"):
        raise SpecError(
            f"the history has pending operations but {spec!r} has no pending() method "
            "to say what they may have done; add one (see docs/linearizability.md)"
        )
    # Events in time order; the atoms of one operation keep their program order.
    events = [(atoms.invoked[a], a, True) for a in range(count)]
    events += [(atoms.responded[a], a, False) for a in range(count) if not atoms.pending[a]]
    events.sort(key=lambda event: (event[0], event[1]))
    size = len(events)
    head, tail = 0, size + 1
    # Doubly linked list of nodes 1..size between the sentinels head and tail.
    nxt = list(range(1, size + 2)) + [tail]
    prv = [head] + list(range(0, size + 1))
    atom_of = [0] * (size + 2)
    is_call = [False] * (size + 2)
    call_node = [0] * count
    return_node = [0] * count
    for node, (_, atom, invocation) in enumerate(events, start=1):
        atom_of[node] = atom
        is_call[node] = invocation
        if invocation:
            call_node[atom] = node
        else:
            return_node[atom] = node

    step, pending_states = spec.step, getattr(spec, "pending", None)
    calls, results, pending, after = atoms.call, atoms.result, atoms.pending, atoms.after
    hints = _hints(spec, ops, atoms, learned)
    dead_end = getattr(spec, "dead_end", None)
    dead_end = dead_end(ops) if dead_end is not None else None
    linearized = bytearray(count)

    def candidates() -> list[int]:
        # The atoms whose call comes before the first response still in the
        # list (and whose predecessor step, if any, is done), best hint first.
        found = []
        node = nxt[head]
        while is_call[node]:
            atom = atom_of[node]
            before = after[atom]
            if before < 0 or linearized[before]:
                found.append(atom)
            node = nxt[node]
        if hints is not None and len(found) > 1:
            found.sort(key=hints.__getitem__)
        return found

    need = count - sum(pending)
    done = 0
    state = spec.init()
    bits = 0
    dead = set() if dead is None else dead
    seen: set = set(dead)
    deepest: tuple = (-1, ())
    # One frame per linearized atom: the candidates of its level, which one
    # was taken (cands[i]), its successor states and the next one to try
    # (j), and the state before it.  Backing up resumes that level there.
    stack: list[tuple[list[int], int, Any, int, Any]] = []
    cands, i, successors, j = candidates(), 0, None, 0
    steps = 0
    while done < need:
        if steps % _CLOCK_EVERY == 0:
            if deadline is not None and _now() > deadline:
                return _Outcome(Verdict.UNKNOWN, configurations=len(seen))
            if budget is not None and steps >= budget:
                return _Outcome(Verdict.UNKNOWN, configurations=len(seen), over_budget=True, stuck=deepest)
        steps += 1
        if i == len(cands):
            # No candidate fits: undo the last choice and try its alternatives.
            if not stack:
                return _Outcome(Verdict.NOT_LINEARIZABLE, configurations=len(seen))
            if len(stack) > deepest[0]:
                deepest = (len(stack), (state, [(calls[a], results[a]) for a in cands]))
            dead.add((bits, state))
            cands, i, successors, j, state = stack.pop()
            atom = cands[i]
            bits ^= 1 << atom
            linearized[atom] = 0
            done -= not pending[atom]
            r = return_node[atom]
            if r:
                nxt[prv[r]] = prv[nxt[r]] = r
            c = call_node[atom]
            nxt[prv[c]] = prv[nxt[c]] = c
            continue
        atom = cands[i]
        if successors is None:
            if pending[atom]:
                successors = tuple(pending_states(state, calls[atom]))
            else:
                ok, new_state = step(state, calls[atom], results[atom])
                successors = (new_state,) if ok else ()
            if dead_end is not None and successors:
                successors = tuple(s for s in successors if not dead_end(calls[atom], state, s))
            j = 0
        if j == len(successors):
            i, successors = i + 1, None
            continue
        successor = successors[j]
        j += 1
        new_bits = bits | (1 << atom)
        key = (new_bits, successor)
        try:
            if key in seen:
                continue
        except TypeError as error:
            raise _unhashable(spec, successor) from error
        seen.add(key)
        stack.append((cands, i, successors, j, state))
        state = successor
        bits = new_bits
        linearized[atom] = 1
        done += not pending[atom]
        # Unlink the call and its response.
        c = call_node[atom]
        nxt[prv[c]], prv[nxt[c]] = nxt[c], prv[c]
        r = return_node[atom]
        if r:
            nxt[prv[r]], prv[nxt[r]] = nxt[r], prv[r]
        cands, i, successors = candidates(), 0, None
    order = [atoms.op_id[frame[0][frame[1]]] for frame in stack]
    return _Outcome(Verdict.OK, order, configurations=len(seen))


def _hints(spec: Any, ops: list[Operation], atoms: _Atoms, learned: tuple) -> list[Any] | None:
    # A sort key per atom from the spec's search_order hook, or None (invocation order).
    order = getattr(spec, "search_order", None)
    if order is None:
        return None
    key = order(ops, learned) if learned else order(ops)
    by_id = {op.id: op for op in ops}
    return [
        key(atoms.call[a], atoms.result[a], by_id[atoms.op_id[a]]) for a in range(len(atoms.op_id))
    ]


def _search_learning(ops: list[Operation], spec: Any, deadline: float | None) -> _Outcome:
    """``_search`` with restarts that learn from where the search got stuck.

    A search that takes a wrong early turn (two concurrent puts in the
    wrong order) may refute everything after it before it backs up that
    far.  So each search gets a step budget (8 per operation, at least
    4096); when it runs out, the spec's ``learn`` turns the deepest dead
    end into hints ("this item should have gone in before that one") for
    the next search's ``search_order``.  Configurations refuted so far stay
    refuted.  Once a search learns nothing new, or three in a row get
    stuck no deeper than before (as in a history that is not
    linearizable), the last search runs to the deadline: the verdict is
    exactly the plain search's; only its speed differs.
    """
    learner = getattr(spec, "learn", None)
    if learner is None:
        return _search(ops, spec, deadline)
    learn = learner(ops)
    dead: set = set()
    learned: list = []
    budget: int | None = max(4 * _CLOCK_EVERY, 8 * len(ops))
    reached, patience = -1, _PATIENCE
    while True:
        outcome = _search(ops, spec, deadline, budget=budget, learned=tuple(learned), dead=dead)
        if not outcome.over_budget:
            return outcome
        depth, (state, failures) = outcome.stuck or (-1, (None, []))
        new = [fact for call, result in failures for fact in learn(state, call, result)]
        new = [fact for fact in dict.fromkeys(new) if fact not in learned]
        patience = _PATIENCE if depth > reached else patience - 1
        reached = max(reached, depth)
        if new and patience > 0:
            learned += new  # same budget: each restart usually mends one place
        else:  # nothing to learn, or stuck no further on (as in a history that is not linearizable)
            budget = None


def _unhashable(spec: Any, state: Any) -> SpecError:
    return SpecError(
        f"{spec!r} produced an unhashable state {state!r}: spec states must be "
        "hashable (tuples, not lists); for a queue, the items must be hashable"
    )


def _decide(ops: list[Operation], spec: Any, deadline: float | None) -> Verdict:
    if deadline is not None and _now() > deadline:
        return Verdict.UNKNOWN
    return _search_learning(ops, spec, deadline).verdict


# -- the witness ------------------------------------------------------------------


def _cut(ops: list[Operation], time: int) -> list[Operation]:
    """The history as it stood at ``time``: later calls dropped, calls in flight pending."""
    kept = []
    for op in ops:
        if op.invoked > time:
            continue
        if op.responded is not None and op.responded > time:
            op = Operation(op.id, op.thread, op.call, op.invoked, None, PENDING)
        kept.append(op)
    return kept


def _cut_points(ops: list[Operation], *, quiescent_only: bool) -> list[int]:
    # Every event time; or, for a spec that cannot judge pending calls, the
    # times when no call is in flight (the last response always is one).
    events = sorted(
        [(op.invoked, 1) for op in ops] + [(op.responded, -1) for op in ops if not op.pending]
    )
    if not quiescent_only:
        return [time for time, _ in events]
    points, running = [], 0
    for time, change in events:
        running += change
        if running == 0:
            points.append(time)
    return points


def _minimise(
    ops: list[Operation], spec: Any, deadline: float | None
) -> tuple[list[Operation], bool, int | None]:
    """A small sub-history of ``ops`` that is not linearizable, whether it is
    minimal, and the time of the prefix cut (None when the witness is not cut).

    Each check of a history that fails costs about as much as its length
    (the search must refute every order), while one that passes is mostly
    greedy; so the big steps probe small histories first.
    """
    shrinker = _Shrinker(spec, deadline)
    # 1. Keep only the removal units that end last: as few as still fail
    # (1, 2, 4, ... of them, then a binary search).
    current = shrinker.keep_last_units(ops)
    # 2. The shortest prefix in time that still fails (every prefix of a
    # linearizable history is linearizable); calls in flight become pending.
    current = shrinker.shortest_failing_prefix(current)
    # 3. Remove units while it still fails: halving chunks, then one by one.
    current = shrinker.remove_units(current)
    return current, shrinker.sure and not shrinker.out_of_time(), shrinker.cut_at


class _Shrinker:
    """The steps of ``_minimise``; ``sure`` stays True while every check gave a definite verdict."""

    def __init__(self, spec: Any, deadline: float | None) -> None:
        self.spec = spec
        self.deadline = deadline
        self.sure = True
        self.cut_at: int | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and _now() > self.deadline

    def fails(self, ops: list[Operation]) -> bool:
        verdict = _decide(ops, self.spec, self.deadline)
        self.sure = self.sure and verdict is not Verdict.UNKNOWN
        return verdict is Verdict.NOT_LINEARIZABLE

    def units(self, ops: list[Operation]) -> list[frozenset[int]]:
        units_of = getattr(self.spec, "removal_units", None)
        if units_of is None:
            return [frozenset([op.id]) for op in ops]
        present = {op.id for op in ops}
        return [u for u in (frozenset(u) & present for u in units_of(list(ops))) if u]

    def keep_last_units(self, ops: list[Operation]) -> list[Operation]:
        end = {op.id: (_INFINITY if op.pending else op.responded) for op in ops}
        units = sorted(self.units(ops), key=lambda unit: max(end[i] for i in unit))

        def without_all_but(last: int) -> list[Operation]:
            gone = set().union(*units[: len(units) - last])
            return [op for op in ops if op.id not in gone]

        last = 1
        while last < len(units) and not self.fails(without_all_but(last)):
            last *= 2
        if last >= len(units):
            return ops
        low, high = last // 2 + 1, last  # without_all_but(high) fails
        while low < high:
            middle = (low + high) // 2
            if self.fails(without_all_but(middle)):
                high = middle
            else:
                low = middle + 1
        return without_all_but(high)

    def shortest_failing_prefix(self, ops: list[Operation]) -> list[Operation]:
        times = _cut_points(ops, quiescent_only=not hasattr(self.spec, "pending"))
        low, high = 0, len(times) - 1
        best = ops
        while low < high:
            middle = (low + high) // 2
            cut = _cut(ops, times[middle])
            if self.fails(cut):
                high, best = middle, cut
                self.cut_at = times[middle]
            else:
                low = middle + 1
        return best

    def remove_units(self, ops: list[Operation]) -> list[Operation]:
        current = {op.id for op in ops}
        first = {op.id: op.invoked for op in ops}
        units = sorted(self.units(ops), key=lambda unit: min(first[i] for i in unit))
        chunk = max(1, len(units) // 2)
        while not self.out_of_time():
            removed_any = False
            for start in range(0, len(units), chunk):
                ids = set().union(*units[start : start + chunk]) & current
                if ids and self.fails([op for op in ops if op.id in current - ids]):
                    current -= ids
                    removed_any = True
            if chunk > 1:
                chunk //= 2
            elif not removed_any:
                break
        return [op for op in ops if op.id in current]


_INFINITY = float("inf")
