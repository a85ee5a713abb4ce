"""Pure sequential reference models: the executable form of docs/.

A *spec* says what one object does when its operations run one at a time.
It is pure and knows nothing of threads (porcupine's ``Model``)::

    spec.init() -> state                      # hashable, immutable (tuples)
    spec.step(state, call, result) -> (ok, new_state)

``step`` answers: from ``state``, may ``call`` return ``result``, and where
does the object go if it does?  ``result`` is the value returned, or a
``Raised`` for an exception.  States are hashable so a linearizability check
can remember the (operations done, state) pairs it has already explored.

Optional methods, used by ``model.linearizability``:

``atomic_steps(call, result) -> list of (call, result)`` or None
    For a call that is not atomic (a batch put that inserts its items in
    several lock acquisitions), the atomic calls it performs, in program
    order, each with its own result (``PENDING`` when unknown).  The checker
    linearizes them one by one, each inside the call's interval and after
    the one before it.
``pending(state, call) -> iterable of states``
    The states a call that never returned may have left behind if it took
    effect (not taking effect at all is always possible and need not be
    listed).  Needed to check histories with pending operations.
``partition(operations) -> list of lists``
    Independent parts checked separately (P-compositionality, e.g. one part
    per topic); see ``ByKey``.
``removal_units(operations) -> iterable of sets of operation ids``
    Sets of operations that can be removed together from any linearizable
    history leaving it linearizable; the witness minimiser removes only
    these.  Without it, each operation is its own unit, which is right only
    when operations do not depend on each other's effects.

Search hints: they change how fast a verdict comes, never the verdict.

``search_order(operations, learned=()) -> key(call, result, operation)``
    A sort key for the candidates of the next linearization point, best
    first (default: invocation order).
``dead_end(operations) -> dead(call, state, new_state)``
    True only when no linearization can go on from ``new_state`` (it must
    be sound: a wrong True turns a linearizable history into a rejected one).
``learn(operations) -> facts(state, call, result)``
    When a search is stuck, why ``call`` could not come next: facts the next
    restart passes to ``search_order`` as ``learned``.

Specs import neither ``mq`` nor the scheduler: they are written from docs/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Mapping, NamedTuple, Protocol


class Call(NamedTuple):
    """One invocation: method name, positional and keyword arguments."""

    name: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = {}

    def __str__(self) -> str:
        parts = [repr(a) for a in self.args]
        parts += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class Raised:
    """The outcome of a call that raised: the exception's class name and message.

    ``attrs`` holds the exception's public, plain-data attributes (for example
    how many items a batch put accepted before it timed out).
    """

    type: str
    message: str = ""
    attrs: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def attr(self, name: str, default: Any = None) -> Any:
        return dict(self.attrs).get(name, default)

    def __str__(self) -> str:
        return f"raise {self.type}({self.message!r})" if self.message else f"raise {self.type}"


class _Pending:
    """The result of a call that never returned (``PENDING``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PENDING"


PENDING = _Pending()


def raised(result: Any, *types: str) -> bool:
    """True when ``result`` is a ``Raised`` of one of ``types``."""
    return isinstance(result, Raised) and result.type in types


class Spec(Protocol):
    """What ``model.linearizability`` needs of a sequential specification."""

    def init(self) -> Hashable:
        """The initial state."""

    def step(self, state: Hashable, call: Call, result: Any) -> tuple[bool, Hashable]:
        """Whether ``call`` may return ``result`` from ``state``, and the next state."""


class ByKey:
    """Many independent objects, one ``spec`` each, told apart by ``key(call)``.

    A history over many topics is linearizable when each topic's sub-history
    is (linearizability is local: Herlihy & Wing 1990, Theorem 1), so the
    checker checks each part on its own (P-compositionality, Horn & Kroening
    2015).  ``project(call)`` rewrites a call for the inner spec, for example
    dropping the topic argument; ``partition`` applies it, so ``step`` sees
    projected calls only (the checker always partitions first).
    """

    def __init__(
        self,
        spec: Any,
        key: Callable[[Call], Hashable],
        project: Callable[[Call], Call] | None = None,
    ) -> None:
        self.spec = spec
        self.key = key
        self.project = project

    def __repr__(self) -> str:
        return f"ByKey({self.spec!r})"

    def partition(self, operations: list) -> list[list]:
        parts: dict[Hashable, list] = {}
        for op in operations:
            key = self.key(op.call)
            if self.project is not None:
                op = op.with_call(self.project(op.call))
            parts.setdefault(key, []).append(op)
        return list(parts.values())

    def __getattr__(self, name: str) -> Any:
        # init, step, pending, atomic_steps, removal_units: the inner spec's.
        if name == "spec":
            raise AttributeError(name)
        return getattr(self.spec, name)


from model.specs.queue import QueueSpec  # noqa: E402  (needs Call and Raised above)

__all__ = ["PENDING", "ByKey", "Call", "QueueSpec", "Raised", "Spec", "raised"]
