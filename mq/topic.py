"""Topic: fans each published message out to every subscription group, all or nothing.

A topic owns its subscription groups (created on the first subscribe to a
name; ``None`` names the default group) and its dead-letter queue.  A group
only receives messages published after it was created; a message published
while the topic has no group is counted as ``unrouted``.

**Backpressure, all or nothing.**  ``capacity`` bounds every group's
``ready + in flight``.  `Topic.publish` holds the topic's lock while it
checks that *every* group has room and then pushes the message into every
group; only publishers add to a group, and they are serialised by this lock,
so room seen under it stays room until the pushes are done.  When some group
is full the publisher waits on the topic's ``room`` condition (releasing the
lock) and re-checks every group when woken; on timeout it raises `Full` and
the message is in no group.  A publisher never holds one group's lock while
it waits for another.

**Waking publishers without the topic's lock.**  A consumer frees a slot
under its group's lock (ack, dead letter, expiry) and, after releasing it,
reads ``topic.sleeping``; if non-zero it takes the topic's lock and notifies
``room``.  The read needs no lock because a waiting publisher increments
``sleeping`` (under the topic's lock) *before* it checks the groups: either
its check sees the freed slot, or the consumer's later read sees
``sleeping > 0`` and then blocks on the topic's lock until the publisher is
inside ``wait`` - so the notify cannot be lost.

``sleeping`` counts the publishers that may be inside ``wait`` without a
notify aimed at them yet: a notify of ``n`` takes ``n`` off it.  Without
that, every ack while a publisher waits would take the topic's lock to
notify again, though the woken publishers are still on their way back to
the lock (measured: 0.6-1 extra lock round trip per message at 4
producers / 4 consumers).
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from mq.delivery import Group, Subscription
from mq.errors import Closed, Full, UnknownTopic
from mq.message import published
from mq.queue import BoundedQueue
from mq.stats import TopicStats


class TopicState(enum.Enum):
    """Whether a topic accepts publishes."""

    OPEN = "open"
    DELETED = "deleted"
    SHUT_DOWN = "shut down"


# TopicState.OPEN as a module constant: reading an Enum member off its class
# costs ~20 times a global lookup in CPython 3.11, and publish reads it every call.
_OPEN = TopicState.OPEN


class Topic:
    """Internal: one topic of a `Broker`; see the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        capacity: int | None,
        ttl: float | None,
        max_deliveries: int | None,
        ack_timeout: float | None,
        clock: Callable[[], float] | None,
        ids: itertools.count,
    ) -> None:
        self.name = name
        self.capacity = capacity
        self.ttl = ttl
        self.max_deliveries = max_deliveries
        self.ack_timeout = ack_timeout
        self._clock = clock  # None: time.monotonic(), looked up at each call
        self._ids = ids
        self.dead_letters = BoundedQueue()
        # Invariant (under _lock): every published message went into every
        # group of _groups at that moment, or into none (publish checks room
        # in all of them first, and only publishers - serialised by this
        # lock - add to a group); _group_list is _groups' values in creation
        # order (a tuple, replaced, never mutated); waiting counts publishers
        # inside _wait_for_room; sleeping >= the number of publishers inside
        # _room.wait() that no notify was aimed at (it may count more: a
        # publisher that wakes by timeout or spuriously is not taken off, which
        # costs at most one needless notify); _state only moves away from OPEN.
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # a group freed a slot, or the topic closed
        self._groups: dict[str | None, Group] = {}
        self._group_list: tuple[Group, ...] = ()
        self.waiting = 0
        self.sleeping = 0  # read lock-free by consumers: see the module docstring
        self._state = TopicState.OPEN
        self._published = 0
        self._unrouted = 0
        self._publish_waits = 0

    # -- publishing -----------------------------------------------------------

    def publish(
        self,
        payload: Any,
        headers: Mapping[str, Any],
        priority: float,
        ttl: float | None,
        timeout: float | None,
    ) -> int:
        """Fan a new message out to every group, all or nothing; returns its id.

        Arguments are already checked.  Raises `Full` when ``timeout`` passes
        with some group still full (the message is then in no group), and
        `Closed` / `UnknownTopic` when the topic is shut down / deleted.
        """
        lock = self._lock
        lock.acquire()  # not `with`: acquire / try / finally costs half as much on this hot path
        try:
            if self._state is not _OPEN:
                raise self._closed_error()
            groups = self._group_list
            capacity = self.capacity
            if capacity is not None:
                for group in groups:
                    # Lock-free read of the group's occupancy.  Under our lock it can
                    # only fall (only publishers add, and they hold our lock), so "room"
                    # stays true; "full" may be stale and is re-checked under the
                    # group's lock in _wait_for_room.
                    if group._occupied >= capacity:
                        groups = self._wait_for_room(timeout)
                        break
            clock = self._clock
            message = published(
                next(self._ids),
                self.name,
                payload,
                headers,
                priority,
                self.ttl if ttl is None else ttl,
                time.monotonic() if clock is None else clock(),
            )
            for group in groups:
                group.push(message)
            if not groups:
                self._unrouted += 1
            self._published += 1
            return message.id  # type: ignore[return-value]
        finally:
            lock.release()

    def _wait_for_room(self, timeout: float | None) -> tuple[Group, ...]:
        # Caller holds _lock and saw a full group.  Before each check of the
        # groups announce a sleeper (sleeping += 1), then wait if one is full.
        # Returns the groups, all with room; raises Full on timeout, or the
        # closed error.
        deadline = None if timeout is None else time.monotonic() + timeout
        self._publish_waits += 1
        self.waiting += 1
        try:
            while True:
                self.sleeping += 1
                groups = self._group_list
                full = next((group for group in groups if not group.has_room()), None)
                if full is None:
                    # We held _lock since the increment, so no notify took it
                    # off: take it back (we will not wait).
                    self.sleeping -= 1
                    assert self.sleeping >= 0
                    return groups
                if deadline is None:
                    self._room.wait()
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self.sleeping -= 1  # as above: we will not wait
                        ready, in_flight = full.occupancy()
                        raise Full(
                            f"publish to topic {self.name!r} timed out after {timeout} s: group "
                            f"{full.display_name} is full ({ready} ready + {in_flight} in flight = "
                            f"capacity {self.capacity}); the message went to no group"
                        )
                    self._room.wait(remaining)
                if self._state is not TopicState.OPEN:
                    raise self._closed_error()
        finally:
            self.waiting -= 1

    def wake_publishers(self, count: int) -> None:
        """``count`` slots were freed: wake up to ``count`` waiting publishers.

        Called by a group *after* releasing its lock (the topic's lock comes
        first in the lock order).  Each freed slot wakes one publisher; all
        publishers of a topic wait for the same predicate, so a woken one
        that finds no room leaves the slot for the next notify.
        """
        with self._lock:
            sleeping = self.sleeping
            if sleeping:
                woken = min(count, sleeping)
                self.sleeping = sleeping - woken
                self._room.notify(woken)

    def _closed_error(self) -> Exception:
        if self._state is TopicState.DELETED:
            return UnknownTopic(f"topic {self.name!r} was deleted")
        return Closed(f"topic {self.name!r} is closed: the broker is shutting down")

    # -- subscribing ----------------------------------------------------------

    def subscribe(self, group: str | None) -> Subscription:
        """A new `Subscription` to ``group``, creating the group on first use."""
        with self._lock:
            if self._state is not TopicState.OPEN:
                raise self._closed_error()
            target = self._groups.get(group)
            if target is None:
                target = Group(
                    self,
                    group,
                    capacity=self.capacity,
                    max_deliveries=self.max_deliveries,
                    ack_timeout=self.ack_timeout,
                    clock=self._clock,
                    dead_letters=self.dead_letters,
                )
                self._groups[group] = target
                self._group_list = self._group_list + (target,)
            target.attach()
            return Subscription(target)

    # -- closing --------------------------------------------------------------

    def stop_publishing(self, state: TopicState) -> None:
        """Refuse publishes and subscribes from now on; wake blocked publishers. Idempotent."""
        assert state is not TopicState.OPEN
        with self._lock:
            if self._state is TopicState.OPEN:
                self._state = state
                self.sleeping = 0
                self._room.notify_all()

    def wait_drained(self, deadline: float | None) -> bool:
        """`Group.wait_idle` for every group, one ``time.monotonic()`` deadline; True if all are empty."""
        drained = True
        for group in self.groups():
            drained = group.wait_idle(deadline) and drained
        return drained

    def close_groups(self) -> int:
        """Close every group (discarding what is left) and the dead-letter queue; returns the number discarded."""
        discarded = sum(group.close() for group in self.groups())
        self.dead_letters.close()
        return discarded

    # -- maintenance and stats ------------------------------------------------

    def groups(self) -> tuple[Group, ...]:
        """The groups, in creation order."""
        with self._lock:
            return self._group_list

    def reap(self, now: float) -> int:
        """`Group.reap` for every group, then wake publishers for the freed slots; returns the number freed."""
        freed = sum(group.reap(now) for group in self.groups())
        if freed and self.sleeping:
            self.wake_publishers(freed)
        return freed

    def snapshot(self) -> TopicStats:
        """A `TopicStats`: the topic's counters together, then each group's consistent snapshot."""
        with self._lock:
            published_count = self._published
            unrouted = self._unrouted
            waits = self._publish_waits
            state = self._state
            groups = self._group_list
        return TopicStats(
            topic=self.name,
            published=published_count,
            unrouted=unrouted,
            publish_waits=waits,
            dead_letters=len(self.dead_letters),
            capacity=self.capacity,
            closed=state is not TopicState.OPEN,
            groups=tuple(group.snapshot() for group in groups),
        )
