"""The bounded-buffer scenario: producers and consumers against one buffer.

This is the standard scenario of the checker, of its benchmark and of the
``check`` and ``grade`` commands.  A *buffer* is any class constructed with
the capacity as its one positional argument, with ``put(item)`` (blocks while
full), ``get()`` (blocks while empty) and, optionally, ``qsize()``.

P producer threads each put K distinct items ``(producer, sequence)``.  C
consumer threads share the P*K gets as evenly as possible: consumer i does
P*K // C gets, plus one for the first P*K % C consumers.  When the buffer has
``qsize()``, every producer and consumer calls it right after each of its own
puts and gets.

Properties, each raised as ``model.Violation`` the moment it is observed:

========== ==============================================================
loss       an item put was never got, or a get returned an item never put
duplicate  an item got twice
overflow   a ``qsize()`` result above the capacity or below 0
exception  a producer or consumer raised
order      one consumer got one producer's items out of their put order
========== ==============================================================

``deadlock`` and ``livelock`` come from the checker itself.  When every
unfinished thread is blocked after all producers finished and items are still
undelivered, the buffer lost them if its ``qsize()`` says 0 (``loss``);
otherwise, or without ``qsize()``, it is a ``deadlock``.
"""

from __future__ import annotations

import linecache
import os
import threading
from typing import Any, Callable

from model.errors import Violation

Item = tuple[int, int]


class BufferScenario:
    """A re-runnable body for ``model.check``; one instance per configuration."""

    def __init__(
        self,
        buffer_class: Callable[[int], Any],
        *,
        producers: int = 2,
        consumers: int = 2,
        items: int = 2,
        capacity: int = 1,
    ) -> None:
        for arg, value, least in (
            ("producers", producers, 1),
            ("consumers", consumers, 1),
            ("items", items, 1),
            ("capacity", capacity, 1),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{arg!r} must be an int >= {least}, got {value!r}")
        self.buffer_class = buffer_class
        self.producers = producers
        self.consumers = consumers
        self.items = items
        self.capacity = capacity
        self.has_qsize = callable(getattr(buffer_class, "qsize", None))
        self._run: _Run | None = None

    @property
    def name(self) -> str:
        return f"{self.producers}p{self.consumers}c-cap{self.capacity}"

    def gets_for(self, consumer: int) -> int:
        """How many gets consumer ``consumer`` performs."""
        total = self.producers * self.items
        return total // self.consumers + (1 if consumer < total % self.consumers else 0)

    def __call__(self) -> None:
        """One schedule: build the buffer, run every thread, check the ledger."""
        run = self._run = _Run(self)
        buffer = run.buffer = _call("constructor", self.buffer_class, self.capacity)
        threads = [
            threading.Thread(target=run.produce, args=(buffer, p), name=f"producer-{p}")
            for p in range(self.producers)
        ] + [
            threading.Thread(target=run.consume, args=(buffer, c), name=f"consumer-{c}")
            for c in range(self.consumers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        run.check_complete()

    def on_deadlock(self) -> str | None:
        """Called by the checker in a probe thread when every thread is blocked."""
        run = self._run
        if run is None or run.producers_done < self.producers or not run.undelivered():
            return None
        if self.has_qsize and _call("qsize", run.buffer.qsize) == 0:
            return "loss"
        return None


class _Run:
    """The ledger of one schedule: what was offered, what was got, by whom."""

    def __init__(self, scenario: BufferScenario) -> None:
        self.scenario = scenario
        self.buffer: Any = None
        self.offered: set[Item] = set()  # items whose put has started
        self.got: set[Item] = set()
        self.producers_done = 0

    def produce(self, buffer: Any, producer: int) -> None:
        check_size = self.scenario.has_qsize
        for seq in range(self.scenario.items):
            item = (producer, seq)
            self.offered.add(item)
            _call("put", buffer.put, item)
            if check_size:
                self.check_size(_call("qsize", buffer.qsize))
        self.producers_done += 1

    def consume(self, buffer: Any, consumer: int) -> None:
        check_size = self.scenario.has_qsize
        last_seq: dict[int, int] = {}
        for _ in range(self.scenario.gets_for(consumer)):
            item = _call("get", buffer.get)
            self.record_get(item, last_seq)
            if check_size:
                self.check_size(_call("qsize", buffer.qsize))

    def record_get(self, item: Any, last_seq: dict[int, int]) -> None:
        if not isinstance(item, tuple) or item not in self.offered:
            raise Violation("loss", f"get returned {item!r}, which no producer put")
        if item in self.got:
            raise Violation("duplicate", f"item {item!r} was got twice")
        self.got.add(item)
        producer, seq = item
        if seq < last_seq.get(producer, -1):
            raise Violation(
                "order",
                f"got {item!r} after ({producer}, {last_seq[producer]}): "
                f"producer {producer}'s items came out of put order",
            )
        last_seq[producer] = seq

    def check_size(self, size: Any) -> None:
        capacity = self.scenario.capacity
        if not isinstance(size, int) or not 0 <= size <= capacity:
            raise Violation("overflow", f"qsize() returned {size!r} with capacity {capacity}")

    def undelivered(self) -> list[Item]:
        return sorted(self.offered - self.got)

    def check_complete(self) -> None:
        missing = self.undelivered()
        if missing:
            raise Violation("loss", f"items put but never got: {missing}")


def _call(what: str, function: Callable[..., Any], *args: Any) -> Any:
    """Call into the buffer; any exception it raises is the ``exception`` property."""
    try:
        return function(*args)
    except Violation:
        raise
    except Exception as error:
        raise Violation(
            "exception",
            f"{what}() raised {type(error).__name__}{_text(error)}{_where(error)}",
        ) from error


def _text(error: BaseException) -> str:
    text = str(error)
    return f": {text}" if text else ""


def _where(error: BaseException) -> str:
    """Where ``error`` was raised: the innermost frame outside the checker (file, line, source)."""
    site = None
    tb = error.__traceback__
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if site is None or not path.startswith(_CHECKER_DIR):
            site = (path, tb.tb_lineno)
        tb = tb.tb_next
    if site is None:
        return ""
    source = linecache.getline(*site).strip()
    return f" at {site[0]}:{site[1]}" + (f": {source}" if source else "")


_CHECKER_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
