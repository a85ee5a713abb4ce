"""Concurrent histories: the call and return of every operation of one run.

A ``Recorder`` wraps an object (or is told about each call with ``invoke``
and ``respond``) and numbers every invocation and every response from one
global counter, so the history knows which operations overlapped::

    recorder = Recorder()
    q = recorder.wrap(queue.Queue(2))       # q.put(...), q.get(...) are recorded
    ... run threads that use q ...
    history = recorder.history()            # -> History, JSON round-trips

The invocation is numbered just before the call starts and the response
just after it returns, so each recorded interval contains the real one: a
history judged not linearizable is not linearizable however the operations
really fell inside their intervals.

Real threads and the checker
----------------------------
With real threads (``Recorder()``), numbering an event and storing it take
a real lock (``_thread.allocate_lock``, never the checker's stand-in).  That
lock adds synchronisation between the threads, but only at the instants of
invocation and response, never around the operation itself, so it cannot
make a non-linearizable object look linearizable; it can only make some
interleavings rarer.

Under the deterministic checker pass ``Recorder(locked=False)``: only one
controlled thread runs at a time and switches happen only at controlled
operations, and recording contains none (``next()`` on an
``itertools.count`` and ``list.append`` are single C calls, atomic even at
line granularity).  A lock there would be either a real lock the checker
does not know, or a controlled one whose acquisitions add scheduling points
and make every recorded operation depend on every other.

The thread of an event is ``threading.current_thread().name``, looked up at
each call through the ``threading`` module, so a checker that installs its
stand-ins in ``threading`` names its controlled threads; pass
``thread_name=`` to name threads any other way.
"""

from __future__ import annotations

import _thread
import dataclasses
import itertools
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from model.specs import PENDING, Call, Raised

FORMAT = "mq-history/1"


@dataclass(frozen=True, slots=True)
class Operation:
    """One call of a history: who, what, when invoked and responded, and the outcome.

    ``invoked`` and ``responded`` are positions in the run's one event order;
    ``responded`` is None for a pending operation (invoked, never returned),
    whose ``result`` is ``PENDING``.  ``result`` is the value returned, or a
    ``Raised`` when the call raised.
    """

    id: int
    thread: str
    call: Call
    invoked: int
    responded: int | None
    result: Any = None

    @property
    def pending(self) -> bool:
        return self.responded is None

    def with_call(self, call: Call) -> "Operation":
        return dataclasses.replace(self, call=call)

    def outcome(self) -> str:
        """The result as the timeline shows it: ``-> 3``, ``raise Full``, ``pending``."""
        if self.pending:
            return "pending"
        if isinstance(self.result, Raised):
            return str(self.result)
        return f"-> {self.result!r}"

    def __str__(self) -> str:
        return f"{self.call} {self.outcome()}"


class History:
    """The operations of one run, in invocation order, and free-form ``meta`` data."""

    def __init__(self, operations: Iterable[Operation], meta: Mapping[str, Any] | None = None):
        self.operations: tuple[Operation, ...] = tuple(sorted(operations, key=lambda op: op.invoked))
        self.meta = dict(meta or {})
        self._check()

    def _check(self) -> None:
        times: set[int] = set()
        ids: set[int] = set()
        for op in self.operations:
            if op.id in ids:
                raise ValueError(f"operation id {op.id} appears twice in the history")
            ids.add(op.id)
            if op.responded is not None and op.responded <= op.invoked:
                raise ValueError(
                    f"operation {op.id} ({op.call}) responded at {op.responded}, "
                    f"not after its invocation at {op.invoked}"
                )
            for time in (op.invoked, op.responded):
                if time is None:
                    continue
                if time in times:
                    raise ValueError(f"two events at time {time}: event times must be distinct")
                times.add(time)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple], meta: Mapping[str, Any] | None = None) -> "History":
        """Build a history by hand: rows of (thread, name, args, result, invoked, responded).

        ``args`` is a tuple of positional arguments; an optional seventh
        element is a dict of keyword arguments.  ``responded`` None makes the
        operation pending (its ``result`` is ignored).  Ids are the row
        numbers.
        """
        ops = []
        for i, (thread, name, args, result, invoked, responded, *kwargs) in enumerate(rows):
            ops.append(
                Operation(
                    id=i,
                    thread=str(thread),
                    call=Call(name, tuple(args), dict(*kwargs)),
                    invoked=invoked,
                    responded=responded,
                    result=PENDING if responded is None else result,
                )
            )
        return cls(ops, meta)

    # -- reading ------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __getitem__(self, index: int) -> Operation:
        return self.operations[index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, History) and self.operations == other.operations

    def __repr__(self) -> str:
        return f"<History of {len(self)} operations from {len(self.threads)} threads>"

    @property
    def threads(self) -> tuple[str, ...]:
        """Thread names in order of first invocation."""
        return tuple(dict.fromkeys(op.thread for op in self.operations))

    def by_id(self, op_id: int) -> Operation:
        for op in self.operations:
            if op.id == op_id:
                return op
        raise KeyError(op_id)

    def subset(self, ids: Iterable[int]) -> "History":
        """The sub-history of the operations with these ids (their times unchanged)."""
        keep = set(ids)
        return History((op for op in self.operations if op.id in keep), self.meta)

    def events(self) -> list[tuple[int, bool, Operation]]:
        """Every event as (time, is_invocation, operation), in time order."""
        events = [(op.invoked, True, op) for op in self.operations]
        events += [(op.responded, False, op) for op in self.operations if op.responded is not None]
        events.sort(key=lambda event: event[0])
        return events

    def timeline(self, *, width: int = 32) -> str:
        """A per-thread timeline: one column per thread, time going down.

        An operation with no other event inside it takes one line
        (``put(1) -> None``); otherwise its call opens (``get() ...``), a
        ``|`` marks it in flight while other threads act, and its outcome
        closes it (``-> 1``).  A pending operation ends in ``(pending)``.
        """
        threads = self.threads
        column = {thread: i for i, thread in enumerate(threads)}
        rows: list[list[str]] = []
        open_ops: dict[str, int] = {thread: 0 for thread in threads}
        events = self.events()
        i = 0
        while i < len(events):
            _, invocation, op = events[i]
            row = ["|" if open_ops[t] else "" for t in threads]
            nxt = events[i + 1] if i + 1 < len(events) else None
            if invocation and nxt is not None and nxt[2] is op:
                row[column[op.thread]] = f"{op.call} {op.outcome()}"
                i += 2
            elif invocation:
                row[column[op.thread]] = f"{op.call} ..."
                open_ops[op.thread] += 1
                i += 1
            else:
                row[column[op.thread]] = op.outcome()
                open_ops[op.thread] -= 1
                i += 1
            rows.append(row)
        pending = [op for op in self.operations if op.pending]
        if pending:
            row = ["" for _ in threads]
            for op in pending:
                row[column[op.thread]] = "(pending)"
            rows.append(row)
        return _table(list(threads), rows, width)

    # -- JSON -------------------------------------------------------------------

    def to_json(self) -> str:
        """JSON text that ``History.from_json`` reads back to an equal history.

        One operation per line.  Values are JSON values; tuples, sets,
        non-finite floats, exceptions and mappings with keys other than
        strings are tagged objects (``{"$tuple": [...]}``); any other object
        becomes a ``Record`` of its class name and public fields (equal to
        its own round trip, not to the original object).
        """
        head = json.dumps({"format": FORMAT, "meta": _encode(self.meta)})
        rows = ",\n".join(json.dumps(_encode_op(op)) for op in self.operations)
        return f'{head[:-1]},\n"operations": [\n{rows}\n]}}'


    @classmethod
    def from_json(cls, text: str) -> "History":
        data = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"not a history: format is {data.get('format')!r}, expected {FORMAT!r}")
        return cls((_decode_op(row) for row in data["operations"]), _decode(data.get("meta", {})))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "History":
        return cls.from_json(Path(path).read_text())


def _table(header: list[str], rows: list[list[str]], width: int) -> str:
    # Left-aligned columns, each as wide as its widest cell, cells cut at ``width``.
    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 3] + "..."

    cells = [[cut(c) for c in header]] + [[cut(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- recording ----------------------------------------------------------------


class _Open:
    # One recorded call, filled in as it happens.
    __slots__ = ("thread", "call", "invoked", "responded", "result")

    def __init__(self, thread: str, call: Call, invoked: int) -> None:
        self.thread = thread
        self.call = call
        self.invoked = invoked
        self.responded: int | None = None
        self.result: Any = PENDING


def _current_thread_name() -> str:
    return threading.current_thread().name  # looked up at each call: the checker's when installed


class Recorder:
    """Records invocations and responses from many threads into one ``History``.

    ``locked=False`` under the deterministic checker (see the module
    docstring); ``thread_name`` names the calling thread (default
    ``threading.current_thread().name`` at each call).
    """

    def __init__(self, *, locked: bool = True, thread_name: Callable[[], str] | None = None):
        self._clock = itertools.count()
        self._lock = _thread.allocate_lock() if locked else None
        self._ops: list[_Open] = []
        self._thread_name = thread_name or _current_thread_name

    def invoke(self, name: str, *args: Any, **kwargs: Any) -> _Open:
        """Record the invocation of ``name(*args, **kwargs)`` by this thread; returns its ticket."""
        call = Call(name, tuple(_snapshot(a) for a in args), {k: _snapshot(v) for k, v in kwargs.items()})
        thread = self._thread_name()
        if self._lock is None:
            entry = _Open(thread, call, next(self._clock))
            self._ops.append(entry)
            return entry
        with self._lock:
            entry = _Open(thread, call, next(self._clock))
            self._ops.append(entry)
        return entry

    def respond(self, ticket: _Open, result: Any = None) -> None:
        """Record that the call of ``ticket`` returned ``result``."""
        self._finish(ticket, _snapshot(result))

    def fail(self, ticket: _Open, error: BaseException | Raised) -> None:
        """Record that the call of ``ticket`` raised ``error``."""
        self._finish(ticket, error if isinstance(error, Raised) else raised_of(error))

    def _finish(self, ticket: _Open, result: Any) -> None:
        if ticket.responded is not None:
            raise ValueError(f"{ticket.call} already has a response")
        if self._lock is None:
            ticket.result = result
            ticket.responded = next(self._clock)
            return
        with self._lock:
            ticket.result = result
            ticket.responded = next(self._clock)

    def run(self, name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``function(*args, **kwargs)`` recorded as ``name``; return or raise as it does.

        An ``Exception`` is recorded as its ``Raised``; a ``BaseException``
        (KeyboardInterrupt, a thread killed at the end of a check) leaves
        the operation pending: it may or may not have taken effect.
        """
        ticket = self.invoke(name, *args, **kwargs)
        try:
            result = function(*args, **kwargs)
        except Exception as error:
            self.fail(ticket, error)
            raise
        self.respond(ticket, result)
        return result

    def wrap(self, target: Any, methods: Iterable[str] | None = None) -> Any:
        """A proxy of ``target`` whose methods are recorded.

        ``methods`` names the methods to record; by default every public
        method.  Other attributes pass through unrecorded; ``len(proxy)`` is
        recorded as ``__len__``.
        """
        return _Recorded(self, target, None if methods is None else frozenset(methods))

    def history(self, meta: Mapping[str, Any] | None = None) -> History:
        """The history so far; calls still running are pending in it."""
        if self._lock is None:
            entries = list(self._ops)
        else:
            with self._lock:
                entries = list(self._ops)
        entries.sort(key=lambda entry: entry.invoked)
        return History(
            (
                Operation(i, e.thread, e.call, e.invoked, e.responded, e.result)
                for i, e in enumerate(entries)
            ),
            meta,
        )


class _Recorded:
    """The proxy ``Recorder.wrap`` returns."""

    __slots__ = ("_recorder", "_target", "_methods")

    def __init__(self, recorder: Recorder, target: Any, methods: frozenset[str] | None):
        object.__setattr__(self, "_recorder", recorder)
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_methods", methods)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        recorded = name in self._methods if self._methods is not None else not name.startswith("_")
        if not (recorded and callable(value)):
            return value
        recorder = self._recorder

        def method(*args: Any, **kwargs: Any) -> Any:
            return recorder.run(name, value, *args, **kwargs)

        method.__name__ = name
        return method

    def __len__(self) -> int:
        target = self._target
        return self._recorder.run("__len__", lambda: len(target))

    def __repr__(self) -> str:
        return f"<recorded {self._target!r}>"


def raised_of(error: BaseException) -> Raised:
    """The ``Raised`` that records ``error``: class name, message, plain-data public attributes."""
    attrs = getattr(error, "__dict__", {})
    plain = tuple(
        (k, v) for k, v in sorted(attrs.items()) if not k.startswith("_") and _is_plain(v)
    )
    return Raised(type(error).__name__, str(error), plain)


def _is_plain(value: Any) -> bool:
    return value is None or type(value) in (bool, int, float, str)


def _snapshot(value: Any) -> Any:
    # A copy of a mutable container argument or result, so later changes do not rewrite history.
    if type(value) is list:
        return list(value)
    if type(value) is dict:
        return dict(value)
    if type(value) is set:
        return frozenset(value)
    return value


# -- JSON values --------------------------------------------------------------


class Record:
    """An object read back from JSON: its class name and public fields, immutable.

    Fields read as attributes (``record.priority``); two records are equal
    when their class names and fields are.
    """

    __slots__ = ("type", "fields", "text")

    def __init__(self, type: str, fields: Iterable[tuple[str, Any]] = (), text: str | None = None):
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "text", text)

    def __getattr__(self, name: str) -> Any:
        for key, value in object.__getattribute__(self, "fields"):
            if key == name:
                return value
        raise AttributeError(f"{self.type} record has no field {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("records are immutable")

    def _key(self) -> tuple:
        return (self.type, self.fields, self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and self._key() == other._key()

    def __hash__(self) -> int:
        try:
            return hash(self._key())
        except TypeError:  # a field holds a dict or list: hash what equality also compares
            return hash((self.type, tuple(name for name, _ in self.fields), self.text))

    def __repr__(self) -> str:
        if self.text is not None and not self.fields:
            return self.text
        return f"{self.type}({', '.join(f'{k}={v!r}' for k, v in self.fields)})"


def _fields_of(value: Any) -> list[tuple[str, Any]] | None:
    # The public fields of an object, or None when it has none we can read.
    if dataclasses.is_dataclass(value):
        return [(f.name, getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return list(zip(type(value)._fields, value))
    names: list[str] = []
    for klass in type(value).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    names += list(getattr(value, "__dict__", {}))
    fields = [(n, getattr(value, n)) for n in dict.fromkeys(names) if not n.startswith("_") and hasattr(value, n)]
    return fields or None


# Values JSON cannot hold are objects with one "$" key naming their kind:
# {"$tuple": [...]}, {"$float": "nan"}, {"$frozenset": [...]}, {"$dict": [[k, v], ...]}
# (a mapping with keys that are not plain strings), {"$raised": "Full",
# "message": ..., "attrs": {...}}, {"$pending": true}, {"$object": "Job",
# "fields": {...}, "repr": ...}.  Mappings with plain string keys stay objects.


def _encode(value: Any) -> Any:
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if type(value) is list:
        return [_encode(v) for v in value]
    if type(value) is tuple:
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, Raised):
        return {"$raised": value.type, "message": value.message, "attrs": _encode_fields(value.attrs)}
    if value is PENDING:
        return {"$pending": True}
    if isinstance(value, (set, frozenset)):
        return {"$frozenset": sorted((_encode(v) for v in value), key=json.dumps)}
    if isinstance(value, Mapping):
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, Record):
        name, fields, text = value.type, value.fields, value.text
    else:
        name, fields = type(value).__qualname__, _fields_of(value)
        text = repr(value) if fields is None else None
    encoded: dict[str, Any] = {"$object": name, "fields": _encode_fields(fields or ())}
    if text is not None:
        encoded["repr"] = text
    return encoded


def _encode_fields(fields: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    return {name: _encode(value) for name, value in fields}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = next((key for key in value if key.startswith("$")), None)
    if kind is None:
        return {k: _decode(v) for k, v in value.items()}
    body = value[kind]
    if kind == "$tuple":
        return tuple(_decode(v) for v in body)
    if kind == "$float":
        return float(body)
    if kind == "$raised":
        attrs = tuple((k, _decode(v)) for k, v in value.get("attrs", {}).items())
        return Raised(body, value.get("message", ""), attrs)
    if kind == "$pending":
        return PENDING
    if kind == "$frozenset":
        return frozenset(_decode(v) for v in body)
    if kind == "$dict":
        return {_decode(k): _decode(v) for k, v in body}
    if kind == "$object":
        fields = ((k, _decode(v)) for k, v in value.get("fields", {}).items())
        return Record(body, fields, value.get("repr"))
    raise ValueError(f"unknown tagged value in history JSON: {value!r}")


def _encode_op(op: Operation) -> dict[str, Any]:
    row = {
        "id": op.id,
        "thread": op.thread,
        "name": op.call.name,
        "args": [_encode(a) for a in op.call.args],
        "kwargs": {k: _encode(v) for k, v in op.call.kwargs.items()},
        "invoked": op.invoked,
        "responded": op.responded,
    }
    if not op.pending:
        row["result"] = _encode(op.result)
    return row


def _decode_op(row: Mapping[str, Any]) -> Operation:
    call = Call(
        row["name"],
        tuple(_decode(a) for a in row.get("args", [])),
        {k: _decode(v) for k, v in row.get("kwargs", {}).items()},
    )
    responded = row.get("responded")
    result = PENDING if responded is None else _decode(row.get("result"))
    return Operation(row["id"], row["thread"], call, row["invoked"], responded, result)
