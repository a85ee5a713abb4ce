"""Delivery: one subscription group's ready queue, in-flight deliveries, acks and dead letters.

A `Group` holds the messages of one subscription group on one lock: the
*ready* messages (a `PriorityBuffer`: highest priority first, FIFO among
equals) and the *in-flight* deliveries (handed out by ``get``, not yet
acked).  Consumers reach it through handles: each `Subscription` is one
competing consumer (``get`` hands each message to exactly one of them at a
time), and a `Delivery` is the handle on one delivered message.  Group,
Subscription and Delivery are one unit: the handles' hot methods work on
the group's fields directly, under the group's lock.  A delivery:

* ``ack()`` settles it: the message leaves the group and frees its slot.
* ``nack(requeue=True)`` puts a copy with ``delivery_count + 1`` back at the
  end of its priority class; ``nack(requeue=False)`` dead-letters it at once.
* A delivery not acked within the group's ``ack_timeout`` is taken back
  (the consumer is presumed dead) and treated like ``nack(requeue=True)``;
  a late ``ack`` of it raises `AckError`.  Taking back happens lazily, on
  the group's next ``get``, and on every reaper pass.
* A message whose delivery number ``max_deliveries`` fails (nack or ack
  timeout) goes to the topic's dead-letter queue instead of back.

Expired messages (TTL) are never delivered: ``get`` drops them when they
reach the head of the queue, and the reaper drops them wherever they are.
"""

from __future__ import annotations

import dataclasses
import enum
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mq._args import check_timeout
from mq.errors import AckError, Closed, Empty
from mq.message import Message, redelivery
from mq.queue import BoundedQueue, PriorityBuffer
from mq.stats import GroupStats, LatencyHistogram

if TYPE_CHECKING:
    from mq.topic import Topic


class DeliveryState(enum.Enum):
    """Where a delivery stands; only IN_FLIGHT may still be acked or nacked."""

    IN_FLIGHT = "in flight"
    ACKED = "already acked"
    NACKED = "already nacked"
    TIMED_OUT = "taken back after its ack timeout (the message was requeued or dead-lettered)"
    DISCARDED = "discarded (topic deleted, or broker shut down without draining)"


IN_FLIGHT = DeliveryState.IN_FLIGHT
ACKED = DeliveryState.ACKED


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record in a topic's dead-letter queue.

    ``reason`` is "rejected" (``nack(requeue=False)``) or "max_deliveries"
    (the last allowed delivery failed); ``message.delivery_count`` is the
    number of the last delivery.
    """

    message: Message
    group: str | None
    reason: str


class Delivery:
    """One delivery of a message to a consumer: ``.message``, ``.ack()``, ``.nack(requeue=True)``."""

    __slots__ = ("message", "_group", "_delivered_at", "_state")

    def __init__(self, group: Group, message: Message, delivered_at: float) -> None:
        self.message = message
        self._group = group
        self._delivered_at = delivered_at
        self._state = IN_FLIGHT

    @property
    def state(self) -> DeliveryState:
        """Where the delivery stands now."""
        return self._state

    @property
    def group(self) -> str | None:
        """The name of the group it was delivered to (None for the default group)."""
        return self._group.name

    @property
    def delivered_at(self) -> float:
        """The broker-clock time of the delivery."""
        return self._delivered_at

    def ack(self) -> None:
        """Settle the delivery: the message is done for this group.

        Raises `AckError` if the delivery was already acked or nacked, was
        taken back after its ack timeout, or was discarded.
        """
        # Delivery and Group are one unit: the body works on the group directly (hot path).
        group = self._group
        lock = group._lock
        lock.acquire()  # not `with`: acquire / try / finally costs half as much on this hot path
        try:
            if self._state is not IN_FLIGHT:
                raise AckError(group._refusal(self, "ack"))
            self._state = ACKED
            del group._in_flight[self]
            group._occupied -= 1
            group._acked += 1
            clock = group._clock
            now = time.monotonic() if clock is None else clock()
            group._processing.record(now - self._delivered_at)
            if group._idle_waiters:
                group._maybe_idle()
        finally:
            lock.release()
        if group.topic.sleeping:  # lock-free read: see Topic.wake_publishers
            group.topic.wake_publishers(1)

    def nack(self, requeue: bool = True) -> None:
        """Give the message back: requeue a copy with ``delivery_count + 1`` or dead-letter it.

        ``requeue=False`` dead-letters at once; so does a requeue of the last
        delivery ``max_deliveries`` allows.  Raises `AckError` like `ack`.
        """
        group = self._group
        with group._lock:
            if self._state is not IN_FLIGHT:
                raise AckError(group._refusal(self, "nack"))
            self._state = DeliveryState.NACKED
            del group._in_flight[self]
            group._nacked += 1
            if requeue:
                freed = group._retry(self.message)
            else:
                group._dead_letter(self.message, "rejected")
                freed = 1
            if freed and group._idle_waiters:
                group._maybe_idle()
        if freed and group.topic.sleeping:
            group.topic.wake_publishers(1)

    def __repr__(self) -> str:
        return f"<Delivery {self.message!r} group={self._group.display_name} {self._state.name}>"


class Subscription:
    """A consumer's handle on one subscription group of a topic.

    Several subscriptions to the same group compete: each message goes to
    exactly one of them.  ``close()`` detaches this handle only: a get
    blocked on it raises `Closed`; deliveries it handed out can still be
    acked.
    """

    __slots__ = ("_group", "_closed")

    def __init__(self, group: Group) -> None:
        self._group = group
        self._closed = False  # guarded by the group's lock

    @property
    def topic(self) -> str:
        """The topic's name."""
        return self._group.topic.name

    @property
    def group(self) -> str | None:
        """The group's name (None for the default group)."""
        return self._group.name

    @property
    def closed(self) -> bool:
        """True once this subscription was closed."""
        return self._closed

    def get(self, timeout: float | None = None) -> Delivery:
        """The next live message of the group as a `Delivery`, waiting while there is none.

        Raises `Empty` when ``timeout`` seconds pass (0: do not wait), and
        `Closed` when this subscription or its group is closed.
        """
        # Like Delivery.ack, the body works on the group directly (hot path).
        if timeout is not None:
            timeout = check_timeout(timeout)
        group = self._group
        freed = 0
        lock = group._lock
        lock.acquire()  # not `with`: see Delivery.ack
        try:
            if group._closed or self._closed:
                raise Closed(group._closed_message(self))
            occupied = group._occupied
            try:
                clock = group._clock
                now = time.monotonic() if clock is None else clock()
                message = group._take(now)
                if message is None:
                    message, now = group._wait_and_take(self, timeout)
            finally:
                # Taking a message for delivery keeps its slot; only expiry and
                # dead letters (of overdue deliveries) free slots on this path.
                freed = occupied - group._occupied
            delivery = Delivery(group, message, now)
            group._in_flight[delivery] = None
            group._delivered += 1
            if message.delivery_count > 1:
                group._redelivered += 1
            return delivery
        finally:
            lock.release()
            # Wake publishers blocked on a full topic - after releasing the
            # group's lock: the topic's lock comes first in the lock order.
            if freed and group.topic.sleeping:
                group.topic.wake_publishers(freed)

    def get_nowait(self) -> Delivery:
        """``get(timeout=0)``."""
        return self.get(0)

    def close(self) -> None:
        """Detach this handle; a blocked get on it raises `Closed`. Idempotent."""
        self._group.detach(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<Subscription topic={self.topic!r} group={self._group.display_name}{state}>"


class Group:
    """One subscription group: ready messages and in-flight deliveries on one lock.

    Internal: consumers reach it through `Subscription`, publishers through
    `Topic`.  ``capacity`` bounds ready + in flight; the topic checks room
    (`has_room`) before it pushes, so `push` never overflows.
    """

    def __init__(
        self,
        topic: Topic,
        name: str | None,
        *,
        capacity: int | None,
        max_deliveries: int | None,
        ack_timeout: float | None,
        clock: Callable[[], float] | None,
        dead_letters: BoundedQueue,
    ) -> None:
        self.topic = topic
        self.name = name
        self.display_name = "(default)" if name is None else name
        self._capacity = capacity
        self._max_deliveries = max_deliveries
        self._ack_timeout = ack_timeout
        self._clock = clock  # None: time.monotonic(), looked up at each call
        self._dead_letters = dead_letters
        self._created_at = self._now()
        # Invariant (under _lock):
        #   _occupied == len(_ready) + len(_in_flight) <= capacity (the topic admits a push
        #   only below it; nack and ack-timeout returns move a message from in flight to ready);
        #   published == acked + expired + dead_lettered + discarded + _occupied;
        #   _in_flight holds exactly the deliveries whose state is IN_FLIGHT, in delivery order;
        #   _ttl_ready == the number of ready messages with an expires_at;
        #   _getters / _idle_waiters count the threads inside a wait on _not_empty / _idle;
        #   _sleepers >= the number of threads inside _not_empty.wait() that no notify was
        #   aimed at (a notify takes one off; a timeout or spurious wakeup leaves it on, which
        #   costs at most one needless notify): a push notifies only while it is non-zero, so a
        #   burst of pushes notifies each sleeping consumer once, not once per message;
        #   once _closed, _ready and _in_flight stay empty.
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)  # a message became ready, or the group / a subscription closed
        self._idle = threading.Condition(self._lock)  # drain may end: ready and in flight empty, no subscription, or closed
        self._ready = PriorityBuffer()
        # With an ack timeout the oldest delivery must be found in O(1): an OrderedDict.
        self._in_flight: dict[Delivery, None] = OrderedDict() if ack_timeout is not None else {}
        self._occupied = 0  # written under _lock; the topic reads it lock-free (see Topic.publish)
        self._ttl_ready = 0
        self._getters = 0
        self._sleepers = 0
        self._idle_waiters = 0
        self._subscriptions = 0
        self._closed = False
        self._published = 0
        self._delivered = 0
        self._acked = 0
        self._nacked = 0
        self._redelivered = 0
        self._ack_timeouts = 0
        self._expired = 0
        self._dead_lettered = 0
        self._discarded = 0
        self._high_water = 0
        self._processing = LatencyHistogram()

    # -- publisher side (called by Topic, under the topic's lock) -------------

    def has_room(self) -> bool:
        """True when one more message fits: ready + in flight < capacity."""
        with self._lock:
            return self._capacity is None or self._occupied < self._capacity

    def occupancy(self) -> tuple[int, int]:
        """(ready, in flight) now; for error messages."""
        with self._lock:
            return len(self._ready), len(self._in_flight)

    def push(self, message: Message) -> None:
        """Add a newly published message; the topic made sure there is room (under its lock)."""
        lock = self._lock
        lock.acquire()  # not `with`: see Delivery.ack
        try:
            assert not self._closed, "push into a closed group"
            self._ready.push(message, message.priority)
            if message.expires_at is not None:
                self._ttl_ready += 1
            self._published += 1
            occupied = self._occupied = self._occupied + 1
            if occupied > self._high_water:
                assert self._capacity is None or occupied <= self._capacity, (occupied, self._capacity)
                self._high_water = occupied
            if self._sleepers:
                self._sleepers -= 1
                self._not_empty.notify()
        finally:
            lock.release()

    # -- consumer side --------------------------------------------------------

    def attach(self) -> None:
        """Count a new subscription (the topic, under its lock, checked that it is open)."""
        with self._lock:
            assert not self._closed, "a group closes only after its topic stopped taking subscribers"
            self._subscriptions += 1

    def detach(self, subscription: Subscription) -> None:
        """Close ``subscription``: its blocked gets raise `Closed`; idempotent."""
        with self._lock:
            if subscription._closed:
                return
            subscription._closed = True
            self._subscriptions -= 1
            assert self._subscriptions >= 0
            self._sleepers = 0
            self._not_empty.notify_all()
            if self._idle_waiters and not self._subscriptions:
                self._idle.notify_all()

    def _wait_and_take(self, subscription: Subscription, timeout: float | None) -> tuple[Message, float]:
        # Caller holds _lock and found nothing: wait for a live message; raises Empty or Closed.
        deadline = None if timeout is None else time.monotonic() + timeout
        self._getters += 1
        try:
            while True:
                if deadline is None:
                    self._sleepers += 1
                    self._not_empty.wait()
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise Empty(
                            f"get on topic {self.topic.name!r} group {self.display_name} "
                            f"timed out after {timeout} s"
                        )
                    self._sleepers += 1
                    self._not_empty.wait(remaining)
                if self._closed or subscription._closed:
                    raise Closed(self._closed_message(subscription))
                now = self._now()
                message = self._take(now)
                if message is not None:
                    return message, now
        finally:
            self._getters -= 1

    def _take(self, now: float) -> Message | None:
        # Caller holds _lock: take back overdue deliveries, then pop the first
        # ready message that has not expired (dropping expired ones); None if none.
        if self._ack_timeout is not None and self._in_flight:
            self._take_back_overdue(now)
        take = self._ready.take
        while (message := take()) is not None:
            expires_at = message.expires_at
            if expires_at is None:
                return message
            self._ttl_ready -= 1
            if now < expires_at:
                return message
            self._expired += 1
            self._occupied -= 1
        if self._idle_waiters:
            self._maybe_idle()
        return None

    # -- settling (Delivery.ack / nack, ack timeouts) -------------------------

    def _retry(self, message: Message) -> int:
        # Caller holds _lock and took ``message`` out of flight: requeue a copy
        # with delivery_count + 1, or dead-letter it after its last allowed
        # delivery.  Returns the number of slots freed (0 or 1).
        limit = self._max_deliveries
        if limit is not None and message.delivery_count >= limit:
            self._dead_letter(message, "max_deliveries")
            return 1
        again = redelivery(message)
        self._ready.push(again, again.priority)
        if again.expires_at is not None:
            self._ttl_ready += 1
        if self._sleepers:
            self._sleepers -= 1
            self._not_empty.notify()
        return 0

    def _dead_letter(self, message: Message, reason: str) -> None:
        # Caller holds _lock; the dead-letter queue's lock comes after ours in the lock order.
        self._dead_lettered += 1
        self._occupied -= 1
        self._dead_letters.put_nowait(DeadLetter(message, self.name, reason))

    def _take_back_overdue(self, now: float) -> int:
        # Caller holds _lock: every in-flight delivery older than ack_timeout
        # goes back (or to the dead letters).  Returns the slots freed.
        in_flight = self._in_flight
        limit = self._ack_timeout
        assert limit is not None
        freed = 0
        while in_flight:
            delivery = next(iter(in_flight))
            if now < delivery._delivered_at + limit:
                break
            del in_flight[delivery]
            delivery._state = DeliveryState.TIMED_OUT
            self._ack_timeouts += 1
            freed += self._retry(delivery.message)
        return freed

    def _refusal(self, delivery: Delivery, verb: str) -> str:
        message = delivery.message
        text = (
            f"cannot {verb} message {message.id} (delivery {message.delivery_count}) of topic "
            f"{self.topic.name!r} group {self.display_name}: it was {delivery._state.value}"
        )
        if delivery._state is DeliveryState.TIMED_OUT:
            text += f"; it was not acked within ack_timeout={self._ack_timeout} s, so the consumer was presumed dead"
        return text

    def _closed_message(self, subscription: Subscription) -> str:
        what = "group" if self._closed else "subscription"
        return f"{what} {self.display_name} of topic {self.topic.name!r} is closed"

    # -- clock and idleness ---------------------------------------------------

    def _now(self) -> float:
        # The broker clock now.
        clock = self._clock
        return time.monotonic() if clock is None else clock()

    def _maybe_idle(self) -> None:
        # Caller holds _lock: wake drain waiters when there is nothing left to wait for.
        if self._idle_waiters and (
            self._closed or not self._subscriptions or not (self._ready or self._in_flight)
        ):
            self._idle.notify_all()

    def wait_idle(self, deadline: float | None) -> bool:
        """Wait until ready and in flight are empty, or no subscription is open, or the group closed.

        ``deadline`` is a ``time.monotonic()`` time or None.  Returns True
        when the group is empty, False otherwise (deadline passed, or nobody
        left to consume what is there).
        """
        with self._lock:
            self._idle_waiters += 1
            try:
                while (self._ready or self._in_flight) and self._subscriptions and not self._closed:
                    if deadline is None:
                        self._idle.wait()
                    else:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        self._idle.wait(remaining)
                return not (self._ready or self._in_flight)
            finally:
                self._idle_waiters -= 1

    # -- reaper, close, stats -------------------------------------------------

    def reap(self, now: float) -> int:
        """Drop every expired ready message and take back overdue deliveries; returns the slots freed."""
        with self._lock:
            if self._closed:
                return 0
            freed = 0
            if self._ttl_ready:
                expired = self._ready.remove_if(lambda m: m.expires_at is not None and now >= m.expires_at)
                count = len(expired)
                self._ttl_ready -= count
                self._expired += count
                self._occupied -= count
                freed += count
            if self._ack_timeout is not None and self._in_flight:
                freed += self._take_back_overdue(now)
            if freed:
                self._maybe_idle()
        return freed

    def close(self) -> int:
        """Discard what is ready and in flight, wake every waiter; idempotent. Returns the number discarded."""
        with self._lock:
            if self._closed:
                return 0
            self._closed = True
            count = len(self._ready.clear())
            for delivery in self._in_flight:
                delivery._state = DeliveryState.DISCARDED
            count += len(self._in_flight)
            self._in_flight.clear()
            assert count == self._occupied, (count, self._occupied)
            self._occupied = 0
            self._ttl_ready = 0
            self._discarded += count
            self._sleepers = 0
            self._not_empty.notify_all()
            self._idle.notify_all()
            return count

    def snapshot(self) -> GroupStats:
        """A `GroupStats` taken under the lock: the accounting identity holds in it."""
        with self._lock:
            stats = GroupStats(
                topic=self.topic.name,
                group=self.name,
                published=self._published,
                delivered=self._delivered,
                acked=self._acked,
                nacked=self._nacked,
                redelivered=self._redelivered,
                ack_timeouts=self._ack_timeouts,
                expired=self._expired,
                dead_lettered=self._dead_lettered,
                discarded=self._discarded,
                in_queue=len(self._ready),
                in_flight=len(self._in_flight),
                high_water=self._high_water,
                capacity=self._capacity,
                consumers=self._subscriptions,
                p50=None,
                p99=None,
                elapsed=self._now() - self._created_at,
                closed=self._closed,
            )
            processing = self._processing.copy()
            assert self._occupied == stats.in_queue + stats.in_flight, (self._occupied, stats)
        assert stats.identity_holds(), stats
        # Percentiles walk the buckets: done on a copy, outside the lock.
        return dataclasses.replace(stats, p50=processing.percentile(0.5), p99=processing.percentile(0.99))

    def ready_messages(self) -> list[Any]:
        """The ready messages in service order (a copy; for tests and debugging)."""
        with self._lock:
            return list(self._ready)
