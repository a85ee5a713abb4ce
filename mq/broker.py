"""Broker: the topic registry, publish / subscribe / consume, stats and shutdown.

Lock order, outermost first (a thread holding one may only take those after
it): broker ``_lock`` -> topic ``_lock`` -> group ``_lock`` -> dead-letter
queue ``_lock``.  No thread waits on a condition while holding any lock but
that condition's own.  docs/broker.md gives the argument in full.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from mq._args import (
    check_capacity,
    check_int_at_least_one,
    check_name,
    check_positive,
    check_priority,
    check_timeout,
)
from mq.delivery import Subscription
from mq.errors import Closed, TopicExists, UnknownTopic
from mq.message import NO_HEADERS, Message, freeze_headers
from mq.queue import BoundedQueue
from mq.reaper import Reaper
from mq.stats import BrokerStats, TopicStats
from mq.topic import Topic, TopicState
from mq.workers import Consumer, Workers


class Broker:
    """A multi-threaded message broker: topics, subscription groups, acks, TTL, stats.

    ``clock`` (a callable returning seconds) judges message expiry, ack
    timeouts and processing times; the default reads ``time.monotonic()``
    at each call.  Blocking timeouts (``timeout=`` arguments) always use
    ``time.monotonic()``.  ``reaper_interval`` is the period of the TTL
    reaper thread in seconds; None runs no reaper (expiry is then lazy, on
    ``get``, plus explicit `reap` calls).  Use as a context manager to shut
    down on exit (draining unless the block raised).
    """

    def __init__(
        self,
        clock: Callable[[], float] | None = None,
        reaper_interval: float | None = 1.0,
    ) -> None:
        if clock is not None and not callable(clock):
            raise TypeError(f"'clock' must be a callable returning seconds, or None, got {clock!r}")
        # None means time.monotonic(), looked up at each call (never captured).
        self._clock = clock
        interval = check_positive("reaper_interval", reaper_interval)
        # next() on itertools.count is one C call: ids are unique, and increasing
        # in the order publishes take them (each under its topic's lock).
        self._ids = itertools.count(1)
        # Invariant (under _lock): _topics maps the name of every topic that
        # is not deleted to it (a complete Topic: it is built before it goes
        # in); once _closed is True no topic is created and no consumer is
        # started; _workers holds every Consumer that consume() started.
        # publish reads _topics without the lock: one dict lookup, atomic.
        self._lock = threading.Lock()
        self._topics: dict[str, Topic] = {}
        self._workers: list[Consumer] = []
        self._closed = False
        self._shutdown_done = threading.Event()  # set when the first shutdown call has finished
        self._shutdown_result = False
        self._reaper = None if interval is None else Reaper(self, interval)
        if self._reaper is not None:
            self._reaper.start()

    # -- topics ---------------------------------------------------------------

    def create_topic(
        self,
        name: str,
        *,
        capacity: int | None = None,
        ttl: float | None = None,
        max_deliveries: int | None = None,
        ack_timeout: float | None = None,
    ) -> None:
        """Create a topic.

        ``capacity`` bounds each group's ready + in-flight messages (None:
        unbounded); ``ttl`` is the default TTL of its messages;
        ``max_deliveries`` dead-letters a message whose delivery number
        ``max_deliveries`` fails; ``ack_timeout`` takes back deliveries not
        acked within that many seconds.  Raises `TopicExists`, `Closed`
        after shutdown, and TypeError / ValueError for bad arguments (then
        nothing was created).
        """
        name = check_name("name", name)
        capacity = check_capacity(capacity)
        ttl = check_positive("ttl", ttl)
        max_deliveries = check_int_at_least_one("max_deliveries", max_deliveries, allow_none=True)
        ack_timeout = check_positive("ack_timeout", ack_timeout)
        topic = Topic(
            name,
            capacity=capacity,
            ttl=ttl,
            max_deliveries=max_deliveries,
            ack_timeout=ack_timeout,
            clock=self._clock,
            ids=self._ids,
        )
        with self._lock:
            if self._closed:
                raise Closed(f"cannot create topic {name!r}: the broker is shut down")
            if name in self._topics:
                raise TopicExists(f"topic {name!r} already exists; delete it first or pick another name")
            self._topics[name] = topic

    def delete_topic(self, name: str) -> TopicStats:
        """Delete a topic: publishers and consumers get errors, what it held is discarded.

        Returns the topic's final stats (``discarded`` counts what was
        ready or in flight).  Raises `UnknownTopic`.
        """
        with self._lock:
            topic = self._topics.pop(name, None)
            if topic is None:
                raise self._unknown(name, tuple(self._topics))
        topic.stop_publishing(TopicState.DELETED)
        topic.close_groups()
        return topic.snapshot()

    def topics(self) -> tuple[str, ...]:
        """The names of the existing topics, in creation order."""
        with self._lock:
            return tuple(self._topics)

    def _topic(self, name: str) -> Topic:
        # The topic named ``name``; UnknownTopic when there is none.
        topic = self._topics.get(name)
        if topic is None:
            raise self._unknown(name, self.topics())
        return topic

    @staticmethod
    def _unknown(name: object, known_names: tuple[str, ...]) -> UnknownTopic:
        # The error for a missing topic; a TypeError instead when the name is not even a str.
        check_name("topic", name)
        known = ", ".join(repr(known) for known in known_names) or "none"
        return UnknownTopic(
            f"no topic named {name!r} (topics: {known}); create it with broker.create_topic({name!r})"
        )

    # -- publish / subscribe / consume ----------------------------------------

    def publish(
        self,
        topic: str,
        payload: Any,
        *,
        ttl: float | None = None,
        priority: float = 0,
        headers: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> int:
        """Publish ``payload`` to every group of ``topic``; returns the message id.

        ``ttl`` (seconds, default the topic's) makes it expire; higher
        ``priority`` is delivered first; ``headers`` is copied.  While a
        group is full, waits (backpressure); after ``timeout`` seconds raises
        `Full` and the message is in no group.  Raises `UnknownTopic`, and
        `Closed` after shutdown.
        """
        target = self._topics.get(topic)
        if target is None:
            raise self._unknown(topic, self.topics())
        if ttl is not None:
            ttl = check_positive("ttl", ttl)
        if type(priority) is not int:
            priority = check_priority(priority)
        headers = NO_HEADERS if headers is None else freeze_headers(headers)
        if timeout is not None:
            timeout = check_timeout(timeout)
        return target.publish(payload, headers, priority, ttl, timeout)

    def subscribe(self, topic: str, group: str | None = None) -> Subscription:
        """A `Subscription` to ``group`` of ``topic`` (None: the default group).

        The group is created on its first subscribe and receives only
        messages published from then on; further subscriptions to it
        compete for its messages.
        """
        group = check_name("group", group, allow_none=True)
        return self._topic(topic).subscribe(group)

    def consume(
        self,
        topic: str,
        group: str | None,
        handler: Callable[[Message], Any],
        *,
        workers: int = 1,
    ) -> Workers:
        """Start ``workers`` consumer threads on ``group`` of ``topic`` calling ``handler(message)``.

        Each delivery is acked when the handler returns and nacked when it
        raises.  The threads end at shutdown (which joins them) or with
        ``Workers.stop()``.
        """
        workers = check_int_at_least_one("workers", workers, allow_none=False)
        group = check_name("group", group, allow_none=True)
        if not callable(handler):
            raise TypeError(f"'handler' must be callable, got {handler!r}")
        target = self._topic(topic)
        with self._lock:
            if self._closed:
                raise Closed("cannot start consumers: the broker is shut down")
            subscriptions: list[Subscription] = []
            try:
                for _ in range(workers):
                    subscriptions.append(target.subscribe(group))
            except BaseException:
                for subscription in subscriptions:  # nothing half-started
                    subscription.close()
                raise
            consumers = [
                Consumer(subscription, handler, name=f"mq-consumer-{topic}-{group or 'default'}-{index}")
                for index, subscription in enumerate(subscriptions)
            ]
            for consumer in consumers:
                consumer.start()
            self._workers.extend(consumers)
        return Workers(consumers)

    def dead_letters(self, topic: str) -> BoundedQueue:
        """The dead-letter queue of ``topic``: `DeadLetter` records, read with get / get_many."""
        return self._topic(topic).dead_letters

    # -- maintenance and stats ------------------------------------------------

    def reap(self) -> int:
        """One reaper pass now: drop expired messages, take back overdue deliveries.

        Returns how many messages it removed from groups (expired or
        dead-lettered).  The reaper thread calls this every interval.
        """
        now = time.monotonic() if self._clock is None else self._clock()
        with self._lock:
            topics = tuple(self._topics.values())
        return sum(topic.reap(now) for topic in topics)

    def stats(self) -> BrokerStats:
        """A `BrokerStats` snapshot; per group, the accounting identity holds."""
        with self._lock:
            topics = tuple(self._topics.values())
            closed = self._closed
        return BrokerStats(topics=tuple(topic.snapshot() for topic in topics), closed=closed)

    @property
    def closed(self) -> bool:
        """True once shutdown has begun."""
        return self._closed

    # -- shutdown -------------------------------------------------------------

    def shutdown(self, drain: bool = True, timeout: float | None = None) -> bool:
        """Stop the broker: refuse publishes, optionally drain, discard the rest, join threads.

        With ``drain=True`` consumers may finish what is ready and in flight
        in every group that still has an open subscription, until
        ``timeout`` (seconds in all; None: as long as it takes).  Then every
        group is closed (what is left is discarded and counted), consumers'
        gets raise `Closed`, and the reaper and every consumer thread
        `consume` started are joined.  Returns True when everything was
        drained (or ``drain=False``) and every thread ended in time.
        Idempotent: a later call waits for the first one, up to its timeout,
        and returns its result.
        """
        timeout = check_timeout(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            first = not self._closed
            self._closed = True
            topics = tuple(self._topics.values())
            workers = tuple(self._workers)
        if not first:
            return self._shutdown_done.wait(timeout) and self._shutdown_result
        for topic in topics:
            topic.stop_publishing(TopicState.SHUT_DOWN)
        drained = True
        if drain:
            for topic in topics:
                drained = topic.wait_drained(deadline) and drained
        for topic in topics:
            topic.close_groups()
        threads = [*workers, self._reaper] if self._reaper is not None else list(workers)
        if self._reaper is not None:
            self._reaper.stop()
        joined = True
        for thread in threads:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            joined = thread.join(remaining) and joined
        self._shutdown_result = (drained or not drain) and joined
        self._shutdown_done.set()
        return self._shutdown_result

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self.shutdown(drain=exc_type is None)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Broker {state} topics={list(self.topics())}>"
