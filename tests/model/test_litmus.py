"""Litmus tests: the exact set of outcomes each tiny program can reach.

Each set is collected by an exhaustive depth-first search (tests/model/conftest.py),
so it proves both directions: every listed outcome is reachable, no other is.
"""

import threading

import pytest

from tests.model.conftest import outcomes


class Counter:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def racy_increment(self):
        self.count += 1

    def locked_increment(self):
        with self.lock:
            self.count += 1


def two_increments(method):
    def factory(record):
        def body():
            c = Counter()
            t = threading.Thread(target=getattr(c, method))
            t.start()
            getattr(c, method)()
            t.join()
            record(c.count)
        return body

    return factory


def test_an_unsynchronised_increment_can_lose_an_update_at_line_granularity():
    assert outcomes(two_increments("racy_increment"), granularity="line") == {1, 2}


def test_at_sync_granularity_the_same_race_is_invisible():
    assert outcomes(two_increments("racy_increment")) == {2}


def test_with_a_lock_only_two_is_reachable_even_at_line_granularity():
    assert outcomes(two_increments("locked_increment"), granularity="line") == {2}


@pytest.mark.slow
def test_notify_can_wake_either_waiter():
    def factory(record):
        def body():
            lock = threading.Lock()
            wake = threading.Condition(lock)
            arrived = threading.Condition(lock)  # waiters -> main
            state = {"waiting": 0, "woken": []}

            def waiter(name):
                with lock:
                    state["waiting"] += 1
                    arrived.notify()
                    wake.wait()
                    state["woken"].append(name)
                    arrived.notify()

            threads = [threading.Thread(target=waiter, args=(n,)) for n in "ab"]
            for t in threads:
                t.start()
            with lock:
                while state["waiting"] < 2:
                    arrived.wait()
                wake.notify()  # wakes one waiter: which one is the schedule's choice
                while not state["woken"]:
                    arrived.wait()
                record(state["woken"][0])
                wake.notify()  # release the other one
            for t in threads:
                t.join()
        return body

    assert outcomes(factory) == {"a", "b"}


def test_a_released_lock_can_go_to_either_contender():
    def factory(record):
        def body():
            lock = threading.Lock()
            order = []
            lock.acquire()

            def contender(name):
                with lock:
                    order.append(name)

            threads = [threading.Thread(target=contender, args=(n,)) for n in "ab"]
            for t in threads:
                t.start()
            lock.release()
            for t in threads:
                t.join()
            record("".join(order))
        return body

    assert outcomes(factory) == {"ab", "ba"}


def test_a_semaphore_unit_can_go_to_either_waiter():
    def factory(record):
        def body():
            s = threading.Semaphore(0)
            first = []

            def taker(name):
                s.acquire()
                first.append(name)
                s.release()

            threads = [threading.Thread(target=taker, args=(n,)) for n in "ab"]
            for t in threads:
                t.start()
            s.release()
            for t in threads:
                t.join()
            record(first[0])
        return body

    assert outcomes(factory) == {"a", "b"}


def test_event_set_then_clear_still_releases_a_thread_already_waiting():
    def factory(record):
        def body():
            e = threading.Event()
            got = []
            t = threading.Thread(target=lambda: got.append(e.wait(5)))
            t.start()
            e.set()
            e.clear()
            t.join()
            record(got[0])
        return body

    # True when the waiter was waiting (or saw the flag) before clear(); False
    # when it only started waiting after clear() and then timed out.
    assert outcomes(factory) == {True, False}


def test_spurious_wakeups_make_an_if_guarded_wait_observable():
    def factory(record):
        def body():
            c = threading.Condition()
            ready = []

            def waiter():
                with c:
                    if not ready:
                        c.wait()
                    record(bool(ready))

            t = threading.Thread(target=waiter)
            t.start()
            with c:
                ready.append(1)
                c.notify()
            t.join()
        return body

    assert outcomes(factory, spurious_wakeups=False) == {True}
    assert outcomes(factory, spurious_wakeups=True) == {True, False}
