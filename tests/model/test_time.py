"""Virtual time: timeouts are choices, sleeps are free, polling is fair."""

import queue
import threading
import time

import pytest

import model
from tests.model.conftest import DFS, outcomes

REAL_CLOCK = time.perf_counter


def test_a_timed_wait_can_time_out_even_though_the_notifier_could_run():
    def factory(record):
        def body():
            c = threading.Condition()
            box = {}

            def waiter():
                with c:
                    box["notified"] = c.wait(1.0)

            def notifier():
                with c:
                    c.notify()

            threads = [threading.Thread(target=waiter), threading.Thread(target=notifier)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            record(box["notified"])
        return body

    assert outcomes(factory) == {True, False}


def test_an_hour_of_sleep_costs_no_real_time_and_the_clock_jumps_exactly():
    seen = []

    def body():
        start = time.monotonic()
        wall = time.time()
        time.sleep(3600)
        seen.append((time.monotonic() - start, round(time.time() - wall, 6),
                     time.perf_counter_ns() - int(start * 1e9)))

    begin = REAL_CLOCK()
    result = model.check(body, max_schedules=20)
    assert not result.failed, result.report()
    assert REAL_CLOCK() - begin < 5
    assert set(seen) == {(3600.0, 3600.0, 3600 * 10**9)}


def test_every_schedule_starts_at_the_same_virtual_time():
    starts = []
    model.check(lambda: starts.append((time.monotonic(), time.time())), max_schedules=5)
    assert len(set(starts)) == 1


@pytest.mark.parametrize("operation", [
    "lock", "rlock", "semaphore", "event", "join", "queue", "condition", "wait_for",
])
def test_every_timed_blocking_operation_returns_after_its_virtual_timeout(operation):
    seen = []

    def body():
        lock, rlock = threading.Lock(), threading.RLock()
        sem, event, q = threading.Semaphore(0), threading.Event(), queue.Queue()
        cond = threading.Condition()
        never = threading.Event()
        holder = threading.Thread(target=lambda: (lock.acquire(), rlock.acquire(), never.wait()),
                                  daemon=True)
        holder.start()
        while not (lock.locked() and rlock._owner is not None):
            time.sleep(0)
        start = time.monotonic()
        if operation == "lock":
            got = lock.acquire(timeout=2.5)
        elif operation == "rlock":
            got = rlock.acquire(timeout=2.5)
        elif operation == "semaphore":
            got = sem.acquire(timeout=2.5)
        elif operation == "event":
            got = event.wait(2.5)
        elif operation == "join":
            holder.join(2.5)
            got = holder.is_alive() and False
        elif operation == "queue":
            try:
                got = q.get(timeout=2.5)
            except queue.Empty:
                got = False
        elif operation == "condition":
            with cond:
                got = cond.wait(2.5)
        else:
            with cond:
                got = cond.wait_for(lambda: False, 2.5)
        seen.append((got, time.monotonic() - start))

    result = model.check(body, max_schedules=10, spurious_wakeups=False)
    assert not result.failed, result.report()
    assert set(seen) == {(False, 2.5)}


def poller_body(kind):
    """A thread polls for a flag another thread sets after some work."""

    def body():
        lock = threading.Lock()
        cond = threading.Condition(lock)
        event = threading.Event()
        flag = []

        def poll():
            if kind == "sleep":
                while not flag:
                    time.sleep(0.01)
            elif kind == "event":
                while not event.wait(0.01):
                    pass
            elif kind == "condition":
                with cond:
                    while not flag:
                        cond.wait(0.01)
            else:  # sleep(0): a pure yield
                while not flag:
                    time.sleep(0)

        def work():
            for _ in range(3):
                with lock:
                    pass
            with cond:
                flag.append(1)
            event.set()

        threads = [threading.Thread(target=poll), threading.Thread(target=work)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    return body


@pytest.mark.parametrize("kind", ["sleep", "event", "condition", "yield"])
@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_a_fair_poller_never_trips_the_livelock_bound(kind, strategy):
    strat = DFS(limit=20_000) if strategy == "dfs" else strategy
    result = model.check(poller_body(kind), strategy=strat, max_schedules=300,
                         max_steps=300, spurious_wakeups=False)
    assert not result.failed, result.report()


@pytest.mark.slow
def test_the_fair_poller_is_explored_exhaustively_by_dfs():
    strat = DFS()
    result = model.check(poller_body("sleep"), strategy=strat, max_schedules=100_000,
                         max_steps=300)
    assert not result.failed, result.report()
    assert strat.exhaustive


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_a_genuine_spin_without_progress_is_a_livelock(strategy):
    def body():
        flag = []

        def poll():
            while not flag:
                time.sleep(0.01)

        t = threading.Thread(target=poll)
        t.start()
        t.join()

    strat = DFS() if strategy == "dfs" else strategy
    result = model.check(body, strategy=strat, max_schedules=10, max_steps=400)
    assert result.property == "livelock"


def test_a_timer_fires_after_its_interval_in_virtual_time():
    fired = []

    def body():
        start = time.monotonic()
        t = threading.Timer(30, lambda: fired.append(time.monotonic() - start))
        t.start()
        t.join()

    assert not model.check(body, max_schedules=5).failed
    assert fired == [30.0] * 5
