"""The bounded queue as a pure sequential model (``mq.BoundedQueue``, docs/broker.md).

State: ``(items, closed)``; ``items`` is a tuple in service order, front first.
"May give up" means the call can time out: a ``timeout`` that is not None
(0 included), a ``*_nowait`` method, or ``block=False`` (``queue.Queue``).

=================  ======================  ===================================
call               in state                legal result -> next state
=================  ======================  ===================================
put(x, timeout)    closed                  raise Closed
                   full, may give up       raise Full
                   not full                None -> x inserted
get(timeout)       not empty               the front item -> front removed
                   empty, closed           raise Closed
                   empty, may give up      raise Empty
get_many(n, t)     not empty               the first min(n, len) items, removed
                   empty                   as get
put_many(xs, t)    (not atomic)            a put of each x in order: returns
                                           len(xs), or raises Full / Closed with
                                           ``accepted`` = how many went in
qsize(), len()     any                     len(items)
close()            any                     None -> closed (idempotent)
bad arguments      any                     raise TypeError / ValueError
=================  ======================  ===================================

"Inserted" is at the back, or with ``priority=True`` behind every item whose
``priority`` attribute (0 when absent) is at least the new item's.  A put
that cannot give up never raises Full: it waits.  The _nowait methods
behave like their method with timeout 0.  Arguments are read with
BoundedQueue's signatures (``put(item, timeout=None)``,
``get(timeout=None)``); record ``queue.Queue`` calls with keywords.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import numbers
from typing import Any, Hashable, Iterable

from model.specs import PENDING, Call, Raised, raised

State = tuple[tuple, bool]  # (items in service order, closed)

_SIZE = ("qsize", "__len__")
_PUTS = ("put", "put_nowait")
_GETS = ("get", "get_nowait")
_NAMES = _SIZE + _PUTS + _GETS + ("get_many", "put_many", "close")

# How many positional arguments a call can have with nothing optional given:
# such calls have no argument that can be wrong (the fast path of ``step``).
_ARGUMENT_ERRORS = ("TypeError", "ValueError")
_PLAIN = {"put": 1, "put_nowait": 1, "get": 0, "get_nowait": 0, "qsize": 0, "__len__": 0, "close": 0}

# Where each call takes its timeout positionally (BoundedQueue's signatures).
_TIMEOUT_AT = {"put": 1, "get": 0, "get_many": 1, "put_many": 1}


class QueueSpec:
    """``BoundedQueue(capacity=None, *, priority=False)`` one call at a time."""

    def __init__(self, capacity: int | None = None, *, priority: bool = False) -> None:
        if capacity is not None and (type(capacity) is not int or capacity < 1):
            raise ValueError(f"'capacity' must be an int >= 1 or None, got {capacity!r}")
        self.capacity = capacity
        self.priority = priority

    def __repr__(self) -> str:
        mode = ", priority=True" if self.priority else ""
        return f"QueueSpec(capacity={self.capacity}{mode})"

    def init(self) -> State:
        return ((), False)

    # -- the sequential semantics ---------------------------------------------

    def step(self, state: State, call: Call, result: Any) -> tuple[bool, State]:
        """May ``call`` return ``result`` in ``state``? Returns (ok, next state)."""
        items, closed = state
        name, args, kwargs = call
        if kwargs or len(args) > _PLAIN.get(name, -1):  # arguments that can be wrong
            _check_name(call)
            error = _argument_error(call)
            if error or raised(result, "TypeError", "ValueError"):
                return raised(result, error or "-"), state
        elif isinstance(result, Raised) and result.type in _ARGUMENT_ERRORS:
            return False, state
        if name in _GETS:
            if items:
                return not isinstance(result, Raised) and result == items[0], (items[1:], closed)
        elif name in _PUTS:
            if closed:
                return raised(result, "Closed"), state
            if self._full(items):
                return raised(result, "Full") and _may_give_up(call), state
            return result is None, (self._insert(items, _arg(call, 0, "item")), False)
        elif name in _SIZE:
            return type(result) is int and result == len(items), state
        elif name == "close":
            return result is None, (items, True)
        elif name == "put_many":  # reached only when atomic_steps cannot split it
            empty = not _batch(call)
            if closed:
                return empty and raised(result, "Closed"), state
            return empty and type(result) is int and result == 0, state
        elif name == "get_many":
            if items:
                count = min(_arg(call, 0, "max_items"), len(items))
                ok = isinstance(result, (list, tuple)) and _same(tuple(result), items[:count])
                return ok, (items[count:], closed)
        # A get or get_many from an empty queue.
        if closed:
            return raised(result, "Closed"), state
        return raised(result, "Empty") and _may_give_up(call), state

    def atomic_steps(self, call: Call, result: Any) -> list[tuple[Call, Any]] | None:
        """A put_many is a put of each item in order (other puts may land between).

        None when the call is atomic, or when its result cannot be split
        (then ``step`` judges the whole call, and rejects a wrong result).
        """
        if call.name != "put_many" or _argument_error(call):
            return None
        batch = _batch(call)
        timeout = _arg(call, 1, "timeout")
        puts = [Call("put", (x,), {} if timeout is None else {"timeout": timeout}) for x in batch]
        if result is PENDING:
            return [(put, PENDING) for put in puts]
        if type(result) is int and result == len(batch) and batch:
            return [(put, None) for put in puts]
        accepted = result.attr("accepted") if raised(result, "Full", "Closed") else None
        if type(accepted) is int and 0 <= accepted < len(batch):
            return [(put, None) for put in puts[:accepted]] + [(puts[accepted], result)]
        return None

    def pending(self, state: State, call: Call) -> Iterable[State]:
        """The states a call that never returned may have left (besides no effect)."""
        items, closed = state
        name = _check_name(call)
        if _argument_error(call):
            return ()
        if name == "close":
            return () if closed else ((items, True),)
        if name in _PUTS:
            if closed or self._full(items):
                return ()
            return ((self._insert(items, _arg(call, 0, "item")), False),)
        if name in _GETS + ("get_many",) and items:
            count = 1 if name in _GETS else min(_arg(call, 0, "max_items"), len(items))
            return ((items[count:], closed),)
        return ()

    def _full(self, items: tuple) -> bool:
        return self.capacity is not None and len(items) >= self.capacity

    def _insert(self, items: tuple, item: Any) -> tuple:
        # Behind every item served before it: all of them (FIFO), or those of priority >= its own.
        if not self.priority:
            return items + (item,)
        rank = _priority(item)
        at = len(items)
        while at and _priority(items[at - 1]) < rank:
            at -= 1
        return items[:at] + (item,) + items[at:]

    # -- hints for the checker ---------------------------------------------------

    def search_order(self, operations: list, learned: Iterable[tuple] = ()) -> Any:
        """A sort key for trying candidate operations, best first: a guess, never a rule.

        Earliest deadline first: an operation is tried at its response
        time, the latest instant it can take effect.  A put gets an earlier
        deadline when FIFO forces its item ahead of another: if the get of
        its item returned before the get of a second item (of the same
        priority) was invoked, or put it first in one batch, its put must
        come before the second item's put, hence before that put's
        deadline.  Without this, a put whose call happened to return early
        goes in first, and the mistake shows only when the items reach the
        front, maybe hundreds of operations later, after a search
        exponential in the operations between.
        """
        inf = math.inf
        own: dict[Any, float] = {}  # item -> response of its put
        for op in operations:
            if op.call.name in _PUTS + ("put_many",):
                for item in _values(op)[0]:
                    with _ignoring(TypeError):
                        own[item] = min(own.get(item, inf), inf if op.pending else op.responded)
        # The gets of items: (invoked, responded, position, item), per priority level.
        levels: dict[Any, list[tuple[float, float, int, Any]]] = {}
        got: set = set()
        for op in operations:
            for position, item in enumerate(_values(op)[1]):
                with _ignoring(TypeError):
                    if item in own and item not in got:
                        got.add(item)
                        level = _priority(item) if self.priority else 0
                        levels.setdefault(level, []).append((op.invoked, op.responded, position, item))
        for item in own.keys() - got:  # never taken: behind every item that was
            level = _priority(item) if self.priority else 0
            levels.setdefault(level, []).append((inf, inf, 0, item))
        deadline = dict(own)
        for gets in levels.values():
            gets.sort(key=lambda g: (g[0], g[2]))
            starts = [g[0] for g in gets]
            later = [inf] * (len(gets) + 1)  # later[k]: earliest deadline among gets[k:]
            for k in range(len(gets) - 1, -1, -1):
                invoked, responded, position, item = gets[k]
                after = later[bisect.bisect_right(starts, responded)] if responded < inf else inf
                if k + 1 < len(gets) and gets[k + 1][0] == invoked and gets[k + 1][2] > position:
                    after = min(after, deadline[gets[k + 1][3]])  # next in the same batch
                deadline[item] = min(deadline[item], after)
                later[k] = min(later[k + 1], deadline[item])
        # Orders the search learned it got wrong (see ``learn``): first strictly before second.
        learned = list(learned)
        for _ in learned:
            changed = False
            for first, second in learned:
                with _ignoring(TypeError, KeyError):
                    if deadline[second] - _NUDGE < deadline[first]:
                        deadline[first], changed = deadline[second] - _NUDGE, True
            if not changed:
                break
        # Among puts with one deadline, the item that came out first goes first.
        out = {g[3]: (g[1], g[2]) for gets in levels.values() for g in gets}

        def key(call: Call, result: Any, op: Any) -> tuple:
            mine = inf if op.responded is None else op.responded
            if call.name in _PUTS:
                with _ignoring(TypeError):
                    item = _arg(call, 0, "item")
                    return (min(mine, deadline.get(item, mine)), out.get(item, (inf, 0)))
            return (mine, (0, 0))

        return key

    def learn(self, operations: list) -> Any:
        """Why a call could not come next: pairs (x, y), "x should have gone in before y".

        A get that returned ``x`` while ``x`` sits behind ``y``, or a put of
        ``x`` that ``dead_end`` refused because ``y`` is ahead of it: the
        puts of ``x`` and ``y`` were probably linearized the wrong way
        round.  Hints for ``search_order``, never rules.
        """
        window = _windows(operations)

        def facts(state: State, call: Call, result: Any) -> list[tuple[Any, Any]]:
            items = state[0]
            if call.name in _PUTS:
                item = _arg(call, 0, "item")
                with _ignoring(KeyError, TypeError):
                    _, returned = window[item]
                    ahead = [y for y in items if not self.priority or _priority(y) >= _priority(item)]
                    return [(item, y) for y in ahead if _window_start(window, y) > returned]
                return []
            if call.name in _GETS and not isinstance(result, Raised):
                wanted = [result]
            elif call.name == "get_many" and isinstance(result, (list, tuple)):
                wanted = list(result)
            else:
                return []
            for k, item in enumerate(wanted):
                if k < len(items) and _same(item, items[k]):
                    continue
                try:
                    at = items.index(item)
                except ValueError:
                    return []
                return [(item, other) for other in items[k:at]]
            return []

        return facts

    def dead_end(self, operations: list) -> Any:
        """A test of each state a put leads to: True when no run can go on from it.

        An item ahead of another in the queue comes out first.  So a put
        that places item ``x`` behind ``y`` is a dead end when the history
        says otherwise: the get of ``x`` returned before the get of ``y``
        was invoked, or ``y`` never came out while ``x`` did (unless a
        pending get may have taken it).  The search then drops that order at
        once instead of finding out when the items reach the front.  Only
        items put once and taken at most once are judged.
        """
        window = _windows(operations)

        def dead(call: Call, state: State, new_state: State) -> bool:
            if call.name not in _PUTS:
                return False
            item = _arg(call, 0, "item")
            try:
                got_at, returned_at = window[item]
            except (KeyError, TypeError):
                return False
            items = new_state[0]
            at = len(items) - 1 if not self.priority else _position(items, item)
            for k, other in enumerate(items):
                if k == at:
                    continue
                try:
                    other_got, other_returned = window[other]
                except (KeyError, TypeError):
                    continue
                if (other_got > returned_at) if k < at else (got_at > other_returned):
                    return True
            return False

        return dead

    # -- which operations can be removed together (for minimal witnesses) -----

    def removal_units(self, operations: list) -> list[frozenset[int]]:
        """Sets of operations whose removal leaves a linearizable history linearizable.

        The puts and gets of one value go together: removing a get alone
        would leave its item in the queue and break later gets.  With them
        go the occupancy observers (qsize, a put that found the queue full)
        that overlap the span from the first put to the last get of the
        value, whose answers counted it.  ``close`` goes with every Closed
        outcome.  Read-only outcomes (Empty, Full, Closed, qsize) can also go
        alone.  A pending get cannot go: it may have taken an item.
        """
        groups = _Groups()
        observers: list = []
        units: list[frozenset[int]] = []
        for op in operations:
            name, result = _check_name(op.call), op.result
            produced, consumed = _values(op)
            for value in produced:
                groups.link(op, ("value", value), produces=True)
            for value in consumed:
                groups.link(op, ("value", value), produces=False)
            if name == "close" or raised(result, "Closed"):
                groups.link(op, ("closed",), produces=True)
            if name in _SIZE or raised(result, "Full"):
                observers.append(op)
            changed = produced or consumed or name == "close"
            if not changed and (op.responded is not None or name in _SIZE):
                units.append(frozenset([op.id]))  # read-only, or a result no state allows
        for members, start, end in groups.components():
            span = {op.id for op in observers if op.invoked < end and (op.responded or 0) > start}
            units.append(frozenset(members) | span)
        return units


# -- helpers ----------------------------------------------------------------------


def _check_name(call: Call) -> str:
    if call.name not in _NAMES:
        raise ValueError(
            f"QueueSpec has no operation {call.name!r}; it models {', '.join(_NAMES)}"
        )
    return call.name


def _arg(call: Call, position: int, name: str) -> Any:
    # The argument ``name``, given by keyword or at ``position``; None when absent.
    if name in call.kwargs:
        return call.kwargs[name]
    return call.args[position] if len(call.args) > position else None


def _timeout(call: Call) -> Any:
    at = _TIMEOUT_AT.get(call.name)
    return None if at is None else _arg(call, at, "timeout")


def _may_give_up(call: Call) -> bool:
    return (
        call.name.endswith("_nowait")
        or call.kwargs.get("block", True) is False
        or _timeout(call) is not None
    )


def _argument_error(call: Call) -> str | None:
    # The exception BoundedQueue raises for this call's arguments, or None when they are valid.
    timeout = _timeout(call)
    if timeout is not None:
        if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool):
            return "TypeError"
        if math.isnan(timeout) or timeout < 0:
            return "ValueError"
    if call.name == "get_many":
        count = _arg(call, 0, "max_items")
        if type(count) is not int:
            return "TypeError"
        if count < 1:
            return "ValueError"
    if call.name == "put_many":
        try:
            iter(_arg(call, 0, "items"))
        except TypeError:
            return "TypeError"
    return None


_ignoring = contextlib.suppress

# How much earlier than the second item's deadline a learned first item goes
# (event times are integers, so a learned chain of up to 999 stays in order).
_NUDGE = 1e-3


def _batch(call: Call) -> list:
    return list(_arg(call, 0, "items"))


def _priority(item: Any) -> Any:
    return getattr(item, "priority", 0)


def _windows(operations: list) -> dict[Any, tuple[float, float]]:
    # item -> (invocation, response) of the get that took it, or (inf, inf)
    # when it never came out and no pending get could have taken it; only
    # for items put once and taken at most once.
    inf = math.inf
    puts: dict[Any, int] = {}
    gets: dict[Any, list[tuple[float, float]]] = {}
    pending_get = False
    for op in operations:
        produced, consumed = _values(op)
        pending_get |= op.responded is None and op.call.name in _GETS + ("get_many",)
        with _ignoring(TypeError):
            for item in produced:
                puts[item] = puts.get(item, 0) + 1
            for item in consumed:
                gets.setdefault(item, []).append((op.invoked, op.responded))
    never = None if pending_get else (inf, inf)
    window: dict[Any, tuple[float, float]] = {}
    for item, count in puts.items():
        taken = gets.get(item, [])
        if count == 1 and len(taken) <= 1:
            span = taken[0] if taken else never
            if span is not None:
                window[item] = span
    return window


def _window_start(window: dict, item: Any) -> float:
    try:
        return window[item][0]
    except (KeyError, TypeError):
        return -math.inf


def _position(items: tuple, item: Any) -> int:
    for k, other in enumerate(items):
        if other is item:
            return k
    return items.index(item)


def _same(result: Any, expected: Any) -> bool:
    return not isinstance(result, Raised) and result == expected


def _values(op: Any) -> tuple[list, list]:
    # (values the operation put in, values it took out); a pending get took nothing we know of.
    name, result, done = op.call.name, op.result, op.responded is not None
    if name in _PUTS and (not done or result is None):
        return [_arg(op.call, 0, "item")], []
    if name == "put_many" and not _argument_error(op.call):
        batch = _batch(op.call)
        if raised(result, "Full", "Closed") and type(result.attr("accepted")) is int:
            return batch[: result.attr("accepted")], []
        return (batch, []) if (not done or type(result) is int) else ([], [])
    if done and not isinstance(result, Raised):
        if name in _GETS:
            return [], [result]
        if name == "get_many" and isinstance(result, (list, tuple)):
            return [], list(result)
    return [], []


class _Groups:
    """Union-find of operations linked through the values they share."""

    def __init__(self) -> None:
        self.parent: dict[Hashable, Hashable] = {}
        self.ops: dict[int, Any] = {}
        self.balance: dict[Hashable, int] = {}  # value -> producers - consumers

    def _find(self, key: Hashable) -> Hashable:
        root = key
        while self.parent.setdefault(root, root) != root:
            root = self.parent[root]
        while key != root:
            key, self.parent[key] = self.parent[key], root
        return root

    def link(self, op: Any, token: tuple, *, produces: bool) -> None:
        self.ops[op.id] = op
        self.parent[self._find(("op", op.id))] = self._find(token)
        self.balance[token] = self.balance.get(token, 0) + (1 if produces else -1)

    def components(self) -> list[tuple[list[int], float, float]]:
        """Each group: its operation ids and the span it keeps values in the queue."""
        groups: dict[Hashable, list] = {}
        for op_id, op in self.ops.items():
            groups.setdefault(self._find(("op", op_id)), []).append(op)
        open_roots = {
            self._find(token)
            for token, balance in self.balance.items()
            if token[0] == "value" and balance > 0
        }
        result = []
        for root, ops in groups.items():
            start = min(op.invoked for op in ops)
            if root in open_roots or any(op.responded is None for op in ops):
                end = math.inf
            else:
                end = max(op.responded for op in ops)
            result.append((sorted(op.id for op in ops), start, end))
        return sorted(result)
