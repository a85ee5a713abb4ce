"""BoundedQueue: the classic bounded buffer on one lock and two conditions.

``put`` waits on ``not_full`` while the queue is full, ``get`` waits on
``not_empty`` while it is empty; each wait is a ``while not predicate:``
loop with one deadline from ``time.monotonic()`` and the remainder
recomputed on every wakeup (so spurious and stolen wakeups are harmless).
A thread notifies a condition only when its waiter count says somebody is
inside that wait: an uncontended put/get costs one lock round trip.

``priority=True`` serves items by their ``priority`` attribute (0 when an
item has none), higher first, first-in first-out among equal priorities;
subscription groups keep their ready messages in the same `PriorityBuffer`.
"""

from __future__ import annotations

import heapq
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mq._args import check_capacity, check_int_at_least_one, check_priority, check_timeout
from mq.errors import Closed, Empty, Full
from mq.stats import QueueStatistics

_UNBOUNDED = sys.maxsize  # the limit of an unbounded queue: len() never reaches it


def _checked_priority(item: object) -> float:
    # The priority an item is served by: its ``priority`` attribute, 0 when absent.
    priority = getattr(item, "priority", 0)
    if type(priority) is int or (type(priority) is float and priority == priority):
        return priority
    return check_priority(priority)


class PriorityBuffer:
    """Items served highest ``priority`` first, first-in first-out among equals.

    One deque per priority level in use, and a heap of the (negated) levels
    that are non-empty: ``append`` and ``popleft`` cost O(log L) for L levels
    in use, O(1) when every item has the same priority.  Not thread-safe: the
    owner's lock guards it.
    """

    __slots__ = ("_levels", "_order", "_len")

    def __init__(self) -> None:
        # Invariant: _levels maps each priority with at least one item to its
        # deque (no empty deque is kept); _order is a heap holding -p for
        # exactly the keys p of _levels; _len is the total number of items.
        self._levels: dict[float, deque[Any]] = {}
        self._order: list[float] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def append(self, item: Any) -> None:
        """Add ``item`` behind every item of its priority."""
        self.push(item, _checked_priority(item))

    def push(self, item: Any, priority: float) -> None:
        """Add ``item`` with a ``priority`` the caller has already checked."""
        level = self._levels.get(priority)
        if level is None:
            level = self._levels[priority] = deque()
            heapq.heappush(self._order, -priority)
        level.append(item)
        self._len += 1

    def extend(self, items: Iterable[Any]) -> None:
        """``append`` each of ``items`` in order."""
        for item in items:
            self.append(item)

    def popleft(self) -> Any:
        """Remove and return the first item of the highest priority; IndexError when empty."""
        if not self._len:
            raise IndexError("pop from an empty PriorityBuffer")
        priority = -self._order[0]
        level = self._levels[priority]
        item = level.popleft()
        if not level:
            heapq.heappop(self._order)
            del self._levels[priority]
        self._len -= 1
        return item

    def take(self) -> Any:
        """Like `popleft`, but None when empty (the group's hot path; items are never None there)."""
        if not self._len:
            return None
        priority = -self._order[0]
        level = self._levels[priority]
        item = level.popleft()
        if not level:
            heapq.heappop(self._order)
            del self._levels[priority]
        self._len -= 1
        return item

    def popleft_many(self, count: int) -> list[Any]:
        """Remove and return the first ``count`` items in service order (``count <= len``)."""
        assert 0 <= count <= self._len, (count, self._len)
        popleft = self.popleft
        return [popleft() for _ in range(count)]

    def clear(self) -> list[Any]:
        """Remove every item; return them in service order."""
        items = list(self)
        self._levels.clear()
        self._order.clear()
        self._len = 0
        return items

    def remove_if(self, predicate: Callable[[Any], bool]) -> list[Any]:
        """Remove the items for which ``predicate`` is true; return them; keep the order of the rest."""
        removed: list[Any] = []
        for priority in list(self._levels):
            level = self._levels[priority]
            kept = deque()
            for item in level:
                (removed if predicate(item) else kept).append(item)
            if kept:
                self._levels[priority] = kept
            else:
                del self._levels[priority]
        self._order = [-priority for priority in self._levels]
        heapq.heapify(self._order)
        self._len -= len(removed)
        return removed

    def __iter__(self) -> Iterator[Any]:
        """The items in service order (a snapshot is the caller's job: do not mutate meanwhile)."""
        for priority in sorted(self._levels, reverse=True):
            yield from self._levels[priority]


class BoundedQueue:
    """A thread-safe FIFO (or priority) queue with an optional capacity.

    ``BoundedQueue(capacity=None, *, priority=False)``: ``capacity`` None
    means unbounded, otherwise an int >= 1.  ``put`` blocks while full and
    ``get`` while empty; a ``timeout`` (seconds, None = forever, 0 = do not
    wait) turns a wait that runs out into `Full` / `Empty`.  ``close()``
    wakes every waiter: puts raise `Closed` from then on, gets drain what is
    left and then raise `Closed`.
    """

    def __init__(self, capacity: int | None = None, *, priority: bool = False) -> None:
        self._capacity = check_capacity(capacity)
        if not isinstance(priority, bool):
            raise TypeError(f"'priority' must be a bool, got {priority!r}")
        self._priority = priority
        self._limit = _UNBOUNDED if self._capacity is None else self._capacity
        # Invariant (under _lock): 0 <= len(_items) <= _limit; _getters and
        # _putters count the threads between entering and leaving a wait on
        # _not_empty / _not_full (so a zero count means nobody to notify);
        # _closed never goes back from True to False.
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)  # an item arrived, or the queue closed
        self._not_full = threading.Condition(self._lock)  # a slot freed, or the queue closed
        self._items: deque[Any] | PriorityBuffer = PriorityBuffer() if priority else deque()
        self._getters = 0
        self._putters = 0
        self._closed = False

    # -- introspection --------------------------------------------------------

    @property
    def capacity(self) -> int | None:
        """The capacity given at construction; None when unbounded."""
        return self._capacity

    @property
    def priority(self) -> bool:
        """True when items are served by priority."""
        return self._priority

    @property
    def closed(self) -> bool:
        """True once `close` was called."""
        return self._closed

    def qsize(self) -> int:
        """The number of items in the queue now (stale as soon as it returns)."""
        with self._lock:
            return len(self._items)

    __len__ = qsize

    def statistics(self) -> QueueStatistics:
        """A frozen, consistent snapshot: size, capacity, closed, waiting getters and putters."""
        with self._lock:
            return QueueStatistics(
                size=len(self._items),
                capacity=self._capacity,
                closed=self._closed,
                priority=self._priority,
                waiting_getters=self._getters,
                waiting_putters=self._putters,
            )

    def __repr__(self) -> str:
        stats = self.statistics()
        capacity = "unbounded" if stats.capacity is None else f"capacity={stats.capacity}"
        mode = ", priority" if stats.priority else ""
        state = ", closed" if stats.closed else ""
        return f"<BoundedQueue size={stats.size} {capacity}{mode}{state}>"

    # -- single items ---------------------------------------------------------

    def put(self, item: Any, timeout: float | None = None) -> None:
        """Add ``item``, waiting while the queue is full.

        Raises `Full` if ``timeout`` seconds pass with the queue still full,
        and `Closed` if the queue is closed before the item goes in.
        """
        if timeout is not None:
            timeout = check_timeout(timeout)
        with self._lock:
            if self._closed:
                raise Closed("put on a closed queue")
            if len(self._items) >= self._limit:
                self._wait_for_room(timeout)
            self._items.append(item)
            if self._getters:
                self._not_empty.notify()

    def put_nowait(self, item: Any) -> None:
        """Add ``item`` if there is room now; otherwise raise `Full` (or `Closed`)."""
        with self._lock:
            if self._closed:
                raise Closed("put on a closed queue")
            if len(self._items) >= self._limit:
                raise Full(f"queue is full ({self._capacity} items)")
            self._items.append(item)
            if self._getters:
                self._not_empty.notify()

    def get(self, timeout: float | None = None) -> Any:
        """Remove and return the next item, waiting while the queue is empty.

        Raises `Empty` if ``timeout`` seconds pass with the queue still
        empty, and `Closed` once the queue is closed and drained.
        """
        if timeout is not None:
            timeout = check_timeout(timeout)
        with self._lock:
            if not self._items:
                self._wait_for_item(timeout)
            item = self._items.popleft()
            if self._putters:
                self._not_full.notify()
            return item

    def get_nowait(self) -> Any:
        """Remove and return the next item if there is one; otherwise raise `Empty` (or `Closed`)."""
        with self._lock:
            if not self._items:
                if self._closed:
                    raise Closed("get on a closed and drained queue")
                raise Empty("queue is empty")
            item = self._items.popleft()
            if self._putters:
                self._not_full.notify()
            return item

    # -- batches --------------------------------------------------------------

    def put_many(self, items: Iterable[Any], timeout: float | None = None) -> int:
        """Add ``items`` in order, as many per lock acquisition as there is room for.

        Waits while the queue is full, for at most ``timeout`` seconds in
        all, and returns ``len(items)`` once every item is in.  The items go
        in as a growing prefix: when the time runs out `Full` is raised, and
        when the queue closes `Closed` is raised, each with ``accepted``
        set to the number of leading items that went in (they stay in the
        queue; ``items[accepted:]`` did not).  Items of other producers may
        land between the batches of one call; the items of one call keep
        their order.  An iterable that is not a list or tuple is read into a
        list first.
        """
        if timeout is not None:
            timeout = check_timeout(timeout)
        if not isinstance(items, (list, tuple)):
            items = list(items)
        total = len(items)
        with self._lock:
            if self._closed:
                raise Closed("put_many on a closed queue", accepted=0)
            done = self._insert(items, 0)
            if done == total:
                return total
            deadline = None if timeout is None else time.monotonic() + timeout
            self._putters += 1
            try:
                while True:
                    if deadline is None:
                        self._not_full.wait()
                    else:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise Full(
                                f"put_many timed out after {timeout} s with "
                                f"{done} of {total} items in",
                                accepted=done,
                            )
                        self._not_full.wait(remaining)
                    if self._closed:
                        raise Closed(
                            f"queue closed during put_many with {done} of {total} items in",
                            accepted=done,
                        )
                    done = self._insert(items, done)
                    if done == total:
                        return total
            finally:
                self._putters -= 1

    def get_many(self, max_items: int, timeout: float | None = None) -> list[Any]:
        """Remove and return up to ``max_items`` items in one lock acquisition.

        Waits (at most ``timeout`` seconds) only while the queue is empty;
        once at least one item is there it returns every item available, up
        to ``max_items``, without waiting for more.  Raises `Empty` on
        timeout and `Closed` once the queue is closed and drained; in both
        cases nothing was removed.
        """
        max_items = check_int_at_least_one("max_items", max_items, allow_none=False)
        if timeout is not None:
            timeout = check_timeout(timeout)
        with self._lock:
            items = self._items
            if not items:
                self._wait_for_item(timeout)
            count = len(items)
            if count <= max_items:
                if self._priority:
                    taken = items.clear()
                else:
                    taken = list(items)
                    items.clear()
            else:
                count = max_items
                if self._priority:
                    taken = items.popleft_many(count)
                else:
                    popleft = items.popleft
                    taken = [popleft() for _ in range(count)]
            if self._putters:
                self._not_full.notify(count)
            return taken

    # -- closing --------------------------------------------------------------

    def close(self) -> None:
        """Refuse further puts and wake every waiter; idempotent.

        Items already inside stay and can be drained with ``get``.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()

    # -- private helpers (caller holds _lock) ---------------------------------

    def _wait_for_room(self, timeout: float | None) -> None:
        # Returns once there is room for one item; raises Full or Closed.
        deadline = None if timeout is None else time.monotonic() + timeout
        items = self._items
        self._putters += 1
        try:
            while len(items) >= self._limit:
                if deadline is None:
                    self._not_full.wait()
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Full(f"put timed out after {timeout} s: queue full ({self._capacity} items)")
                    self._not_full.wait(remaining)
                if self._closed:
                    raise Closed("queue closed while put was waiting for room")
        finally:
            self._putters -= 1

    def _wait_for_item(self, timeout: float | None) -> None:
        # Returns once there is an item; raises Empty, or Closed when closed and drained.
        deadline = None if timeout is None else time.monotonic() + timeout
        items = self._items
        self._getters += 1
        try:
            while not items:
                if self._closed:
                    raise Closed("get on a closed and drained queue")
                if deadline is None:
                    self._not_empty.wait()
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Empty(f"get timed out after {timeout} s: queue empty")
                    self._not_empty.wait(remaining)
        finally:
            self._getters -= 1

    def _insert(self, items: list[Any] | tuple[Any, ...], done: int) -> int:
        # Inserts items[done:] as far as room allows, wakes getters; returns the new done.
        room = self._limit - len(self._items)
        count = min(room, len(items) - done)
        if count <= 0:
            return done
        if done == 0 and count == len(items):
            self._items.extend(items)
        else:
            self._items.extend(items[done : done + count])
        if self._getters:
            self._not_empty.notify(count)
        return done + count
