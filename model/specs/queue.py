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


def _batch(call: Call) -> list:
    return list(_arg(call, 0, "items"))


def _priority(item: Any) -> Any:
    return getattr(item, "priority", 0)


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
