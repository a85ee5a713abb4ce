"""mq.BoundedQueue under the checker: put/get, batches, close and timeouts.

Items are ``(producer, sequence)``.  Producers look at ``qsize()`` right
after each of their puts (overflow); the consumer checks each producer's
order as it receives; the body checks at the end that what went in came out
exactly once (what is still queued counts as received: the body drains it).
"""

from __future__ import annotations

import time

import pytest

from mq import BoundedQueue, Closed, Empty, Full
from tests.checked.harness import (
    catch, exactly_once, in_producer_order, prove, run_beside, run_threads, within,
)


def drain(queue: BoundedQueue) -> list:
    """What is still in ``queue`` (the body calls it once every thread has ended)."""
    left = []
    while True:
        try:
            left.append(queue.get_nowait())
        except (Empty, Closed):
            return left


# -- put and get: two producers, one consumer, capacity 1 ---------------------


def two_producers_one_consumer():
    capacity = 1
    queue = BoundedQueue(capacity)
    sent = {0: [(0, 0), (0, 1)], 1: [(1, 0)]}
    received = []

    def producer(p):
        def run():
            for item in sent[p]:
                queue.put(item)
                within(queue.qsize(), capacity, f"after put {item}: ")
        return run

    def consumer():
        for _ in range(3):
            received.append(queue.get())
            in_producer_order(received)

    # The main thread is producer 1.
    run_beside(producer(1), producer(0), consumer, names=["producer-0", "consumer"])
    exactly_once(sent[0] + sent[1], received + drain(queue))


@pytest.mark.slow
def test_put_and_get_lose_nothing_duplicate_nothing_and_never_overfill():
    prove(two_producers_one_consumer)


def put_waiting_with_if(self, item, timeout=None):
    # BROKEN: waits at most once for room (`if`, not `while`): a put woken by a
    # get can find the slot taken again by a third thread and still append.
    with self._lock:
        if self._closed:
            raise Closed("put on a closed queue")
        if len(self._items) >= self._limit:
            self._putters += 1
            try:
                self._not_full.wait()
            finally:
                self._putters -= 1
        self._items.append(item)
        if self._getters:
            self._not_empty.notify()


def put_without_notify(self, item, timeout=None):
    # BROKEN: never wakes a waiting get.
    with self._lock:
        if self._closed:
            raise Closed("put on a closed queue")
        if len(self._items) >= self._limit:
            self._wait_for_room(timeout)
        self._items.append(item)


@pytest.mark.slow
def test_a_put_that_waits_with_if_instead_of_while_is_caught_overfilling(monkeypatch):
    monkeypatch.setattr(BoundedQueue, "put", put_waiting_with_if)
    catch(two_producers_one_consumer, "overflow")


def test_a_put_that_skips_the_notify_is_caught_deadlocking(monkeypatch):
    monkeypatch.setattr(BoundedQueue, "put", put_without_notify)
    catch(two_producers_one_consumer, "deadlock")


# -- put and get: one producer, two consumers, capacity 1 ---------------------


def one_producer_two_consumers():
    capacity = 1
    queue = BoundedQueue(capacity)
    sent = [(0, 0), (0, 1)]
    received = {0: [], 1: []}

    def producer():
        for item in sent:
            queue.put(item)
            within(queue.qsize(), capacity, f"after put {item}: ")

    def consumer(c):
        def run():
            received[c].append(queue.get())
        return run

    # The main thread is the producer.
    run_beside(producer, consumer(0), consumer(1), names=["consumer-0", "consumer-1"])
    exactly_once(sent, received[0] + received[1] + drain(queue))


@pytest.mark.slow
def test_competing_gets_each_take_a_different_item():
    prove(one_producer_two_consumers)


def wait_for_item_with_if(self, timeout):
    # BROKEN: waits at most once for an item (`if`, not `while`): a get woken
    # by a put can find the item taken by the other get and pop an empty deque.
    if not self._items:
        if self._closed:
            raise Closed("get on a closed and drained queue")
        self._getters += 1
        try:
            self._not_empty.wait()
        finally:
            self._getters -= 1


@pytest.mark.slow
def test_a_get_that_waits_with_if_instead_of_while_is_caught_popping_an_empty_queue(monkeypatch):
    monkeypatch.setattr(BoundedQueue, "_wait_for_item", wait_for_item_with_if)
    result = catch(one_producer_two_consumers, "exception")
    assert "IndexError" in result.message, result.report()


# -- batches: put_many and a put against get_many, capacity 2 -----------------


def batches():
    capacity = 2
    queue = BoundedQueue(capacity)
    sent = {0: [(0, 0), (0, 1), (0, 2)], 1: [(1, 0)]}
    received = []

    def batch_producer():
        assert queue.put_many(sent[0]) == len(sent[0])
        within(queue.qsize(), capacity, "after put_many: ")

    def single_producer():
        queue.put(sent[1][0])
        within(queue.qsize(), capacity, "after put: ")

    def consumer():
        while len(received) < 4:
            batch = queue.get_many(2)
            assert 1 <= len(batch) <= 2, batch
            received.extend(batch)
            in_producer_order(received)

    # The main thread is the single producer.
    run_beside(single_producer, batch_producer, consumer, names=["producer-0", "consumer"])
    exactly_once(sent[0] + sent[1], received + drain(queue))


@pytest.mark.slow
def test_put_many_and_get_many_keep_order_and_lose_nothing():
    prove(batches)


def get_many_without_notify(self, max_items, timeout=None):
    # BROKEN: frees slots but never wakes the waiting put_many.
    with self._lock:
        if not self._items:
            self._wait_for_item(timeout)
        count = min(max_items, len(self._items))
        return [self._items.popleft() for _ in range(count)]


def test_a_get_many_that_skips_the_notify_is_caught_deadlocking(monkeypatch):
    monkeypatch.setattr(BoundedQueue, "get_many", get_many_without_notify)
    catch(batches, "deadlock")


# -- close: a producer and a consumer, closed by the main thread meanwhile ----


def closing():
    capacity = 1
    queue = BoundedQueue(capacity)
    accepted = []
    received = []

    def producer():
        for item in [(0, 0), (0, 1)]:
            try:
                queue.put(item)
            except Closed:
                return
            accepted.append(item)
            within(queue.qsize(), capacity, f"after put {item}: ")

    def consumer():
        while True:
            try:
                received.append(queue.get())
            except Closed:
                return
            in_producer_order(received)

    run_beside(queue.close, producer, consumer, names=["producer", "consumer"])
    # A get raises Closed only once the queue is drained: everything accepted was received.
    exactly_once(accepted, received)
    assert queue.closed and queue.qsize() == 0


def test_close_wakes_blocked_puts_and_gets_and_gets_drain_first():
    prove(closing)


def close_without_waking(self):
    # BROKEN: marks the queue closed but wakes nobody.
    with self._lock:
        self._closed = True


def test_a_close_that_wakes_nobody_is_caught_deadlocking(monkeypatch):
    monkeypatch.setattr(BoundedQueue, "close", close_without_waking)
    catch(closing, "deadlock")


# -- timeouts: every timed wait may run out (virtual time) --------------------


def timeouts():
    capacity = 1
    queue = BoundedQueue(capacity)
    accepted = []
    received = []

    def producer():
        for item in [(0, 0), (0, 1)]:
            try:
                queue.put(item, timeout=1.0)
            except Full:
                continue
            accepted.append(item)
            within(queue.qsize(), capacity, f"after put {item}: ")

    def consumer():
        for _ in range(2):
            try:
                received.append(queue.get(timeout=1.0))
            except Empty:
                continue
            in_producer_order(received)

    run_threads(producer, consumer, names=["producer", "consumer"])
    exactly_once(accepted, received + drain(queue))


@pytest.mark.slow
def test_timed_put_and_get_either_complete_or_time_out_cleanly():
    prove(timeouts)


def wait_for_room_trusting_the_timeout(self, timeout):
    # BROKEN: takes the end of a timed wait for a notification (no re-check).
    deadline = None if timeout is None else time.monotonic() + timeout
    self._putters += 1
    try:
        while len(self._items) >= self._limit:
            if deadline is None:
                self._not_full.wait()
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise Full("put timed out")
                self._not_full.wait(remaining)
                return
    finally:
        self._putters -= 1


def test_a_put_that_takes_a_timeout_for_room_is_caught_overfilling(monkeypatch):
    monkeypatch.setattr(BoundedQueue, "_wait_for_room", wait_for_room_trusting_the_timeout)
    catch(timeouts, "overflow")
