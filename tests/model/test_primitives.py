"""The controlled primitives behave like the real ones.

Contract tests run one body twice: with real threads, and under the checker
(several schedules); both must record the same observations.  Bodies only
make observations that do not depend on the interleaving.
"""

import threading
import time

import pytest

import model
from model.controlled import threading as controlled

SCHEDULES = 25


def same_under_checker(factory, schedules=SCHEDULES):
    """Run ``factory(record)`` with real threads, then under the checker; compare records."""
    real = []
    factory(real.append)()
    runs = []

    def body():
        seen = []
        factory(seen.append)()
        runs.append(seen)

    result = model.check(body, max_schedules=schedules, seed=7)
    assert not result.failed, result.report()
    assert len(runs) == schedules
    for seen in runs:
        assert seen == real
    return real


def error_of(call):
    try:
        call()
    except Exception as e:
        return type(e).__name__, str(e)
    return None


# ----------------------------------------------------------------------- Lock
def test_lock_acquire_release_locked_and_errors_match_the_real_lock():
    def factory(record):
        def body():
            lock = threading.Lock()
            record(lock.locked())
            record(lock.acquire())
            record(lock.locked())
            record(lock.acquire(False))
            record(lock.acquire(True, 0))
            record(error_of(lambda: lock.acquire(False, 1)))
            record(error_of(lambda: lock.acquire(True, -2)))
            lock.release()
            record(error_of(lock.release))
            with lock:
                record(lock.locked())
            record(lock.locked())
        return body

    assert same_under_checker(factory)[-2:] == [True, False]


def test_a_lock_may_be_released_by_another_thread_as_in_cpython():
    def factory(record):
        def body():
            lock = threading.Lock()
            lock.acquire()
            t = threading.Thread(target=lock.release)
            t.start()
            t.join()
            record(lock.locked())
        return body

    assert same_under_checker(factory) == [False]


# ---------------------------------------------------------------------- RLock
def test_rlock_is_reentrant_and_only_its_owner_may_release_it():
    def factory(record):
        def body():
            r = threading.RLock()
            record(r.acquire())
            record(r.acquire(False))
            record(r._is_owned())
            errors = []

            def other():
                errors.append(error_of(r.release))
                errors.append(r.acquire(False))

            t = threading.Thread(target=other)
            t.start()
            t.join()
            record(errors)
            r.release()
            r.release()
            record(error_of(r.release))
            with r:
                with r:
                    record(r._is_owned())
        return body

    result = same_under_checker(factory)
    assert result[3] == [("RuntimeError", "cannot release un-acquired lock"), False]


# ------------------------------------------------------------------ Condition
def test_condition_errors_without_the_lock_and_wait_zero_returns_false():
    def factory(record):
        def body():
            c = threading.Condition()
            record(error_of(c.wait))
            record(error_of(c.notify))
            record(error_of(c.notify_all))
            with c:
                record(c.wait(0))
                record(c.wait_for(lambda: False, 0))
                record(c.wait_for(lambda: 42))
                c.notify()
                c.notify_all()
        return body

    result = same_under_checker(factory)
    assert result[0] == ("RuntimeError", "cannot wait on un-acquired lock")
    assert result[1] == ("RuntimeError", "cannot notify on un-acquired lock")


def waiters_then(notify):
    """Three waiters block on a condition; then the main thread calls ``notify(c)``."""

    def factory(record):
        def body():
            c = threading.Condition()
            state = {"waiting": 0, "woken": 0, "go": 0}

            def waiter():
                with c:
                    state["waiting"] += 1
                    c.notify_all()  # tell main
                    while state["go"] == 0:
                        c.wait()
                    state["go"] -= 1
                    state["woken"] += 1
                    c.notify_all()  # tell main

            threads = [threading.Thread(target=waiter) for _ in range(3)]
            for t in threads:
                t.start()
            with c:
                c.wait_for(lambda: state["waiting"] == 3)
                notify(c, state)
            with c:
                c.wait_for(lambda: state["woken"] == state["expected"])
                record(state["woken"])
                state["go"] = 3
                c.notify_all()
            for t in threads:
                t.join()
            record(state["woken"])
        return body

    return factory


def test_notify_n_wakes_n_waiters_and_notify_all_wakes_every_waiter():
    def notify_two(c, state):
        state["go"] = 2
        state["expected"] = 2
        c.notify(2)

    def notify_all(c, state):
        state["go"] = 3
        state["expected"] = 3
        c.notify_all()

    assert same_under_checker(waiters_then(notify_two)) == [2, 3]
    assert same_under_checker(waiters_then(notify_all)) == [3, 3]


def test_a_condition_on_a_plain_lock_counts_a_locked_lock_as_owned_like_cpython():
    def factory(record):
        def body():
            lock = threading.Lock()
            c = threading.Condition(lock)
            lock.acquire()
            done = []

            def other():
                with c:  # blocks until main waits
                    done.append(1)
                    c.notify()

            t = threading.Thread(target=other)
            t.start()
            while not done:
                c.wait()
            lock.release()
            t.join()
            record(done)
        return body

    assert same_under_checker(factory) == [[1]]


# ------------------------------------------------------------------ Semaphores
def test_semaphore_counts_and_errors_match():
    def factory(record):
        def body():
            s = threading.Semaphore(2)
            record([s.acquire(), s.acquire(), s.acquire(False), s.acquire(timeout=0)])
            s.release(2)
            record([s.acquire(False), s.acquire(False), s.acquire(False)])
            record(error_of(lambda: s.acquire(False, 1)))
            record(error_of(lambda: s.release(0)))
            record(error_of(lambda: threading.Semaphore(-1)))
            b = threading.BoundedSemaphore(1)
            record(error_of(b.release))
            b.acquire()
            b.release()
            with b:
                record(b.acquire(False))
        return body

    result = same_under_checker(factory)
    assert result[0] == [True, True, False, False]
    assert result[5] == ("ValueError", "Semaphore released too many times")


def test_a_semaphore_release_lets_a_blocked_acquirer_through():
    def factory(record):
        def body():
            s = threading.Semaphore(0)
            got = []
            t = threading.Thread(target=lambda: got.append(s.acquire()))
            t.start()
            s.release()
            t.join()
            record(got)
        return body

    assert same_under_checker(factory) == [[True]]


# ----------------------------------------------------------------------- Event
def test_event_set_clear_wait():
    def factory(record):
        def body():
            e = threading.Event()
            record([e.is_set(), e.wait(0)])
            t = threading.Thread(target=e.set)
            t.start()
            record(e.wait())
            t.join()
            e.clear()
            record([e.is_set(), e.wait(0)])
        return body

    assert same_under_checker(factory) == [[False, False], True, [False, False]]


# --------------------------------------------------------------------- Barrier
def test_barrier_indices_action_and_parties():
    def factory(record):
        def body():
            ran = []
            b = threading.Barrier(3, action=lambda: ran.append(1))
            indices = []
            threads = [threading.Thread(target=lambda: indices.append(b.wait())) for _ in range(2)]
            for t in threads:
                t.start()
            indices.append(b.wait())
            for t in threads:
                t.join()
            record(sorted(indices))
            record(ran)
            record([b.parties, b.n_waiting, b.broken])
        return body

    assert same_under_checker(factory) == [[0, 1, 2], [1], [3, 0, False]]


def test_barrier_abort_breaks_it_for_waiters_and_later_callers():
    def factory(record):
        def body():
            b = threading.Barrier(2)
            errors = []

            def waiter():
                try:
                    b.wait()
                except threading.BrokenBarrierError:
                    errors.append("broken")

            t = threading.Thread(target=waiter)
            t.start()
            while b.n_waiting == 0:  # poll, yielding, until the waiter has arrived
                time.sleep(0)
            b.abort()
            t.join()
            record(errors)
            record(b.broken)
            record(error_of(b.wait)[0])
            b.reset()
            record(b.broken)
        return body

    assert same_under_checker(factory, schedules=5) == [
        ["broken"], True, "BrokenBarrierError", False]


# ----------------------------------------------------------------------- Timer
def test_timer_runs_its_function_and_a_cancelled_timer_does_not():
    def factory(record):
        def body():
            ran = []
            t = threading.Timer(0, ran.append, args=("fired",))
            t.start()
            t.join()
            # Cancelled before it starts: under virtual time a started timer's
            # interval may run out before any later step of this thread.
            c = threading.Timer(3600, ran.append, args=("cancelled",))
            c.cancel()
            c.start()
            c.join()
            record(ran)
        return body

    assert same_under_checker(factory) == [["fired"]]


# ---------------------------------------------------------------------- Thread
def test_thread_lifecycle_errors_names_and_liveness():
    def factory(record):
        def body():
            done = threading.Event()
            t = threading.Thread(target=done.wait, name="waiter")
            record(error_of(t.join))
            record([t.name, t.is_alive(), t.ident is None, t.daemon])
            t.start()
            record(t.is_alive())
            record(error_of(t.start))
            record(error_of(lambda: setattr(t, "daemon", True)))
            record(error_of(threading.current_thread().join))
            done.set()
            t.join()
            record([t.is_alive(), t.ident is not None])
            u = threading.Thread(target=len, args=((),), daemon=True)
            record(u.daemon)
        return body

    result = same_under_checker(factory)
    assert result[0] == ("RuntimeError", "cannot join thread before it is started")
    assert result[3] == ("RuntimeError", "threads can only be started once")
    assert result[4] == ("RuntimeError", "cannot set daemon status of active thread")
    assert result[5] == ("RuntimeError", "cannot join current thread")


def test_default_thread_names_count_per_schedule():
    names = []

    def body():
        def work():
            pass

        a = threading.Thread(target=work)
        b = threading.Thread()
        names.append((a.name, b.name, threading.current_thread().name))

    model.check(body, max_schedules=3)
    assert names == [("Thread-1 (work)", "Thread-2", "MainThread")] * 3


def test_current_thread_get_ident_main_thread_and_enumerate_are_per_controlled_thread():
    seen = []

    def body():
        me = threading.current_thread()
        box = {}

        def work():
            box["current"] = threading.current_thread()
            box["ident"] = threading.get_ident()
            box["main"] = threading.main_thread()
            box["count"] = threading.active_count()

        t = threading.Thread(target=work)
        t.start()
        t.join()
        seen.append((box["current"] is t, box["ident"] == t.ident, box["main"] is me,
                     box["count"], me.ident == threading.get_ident(), threading.enumerate() == [me]))

    result = model.check(body, max_schedules=10)
    assert not result.failed, result.report()
    assert set(seen) == {(True, True, True, 2, True, True)}


def test_thread_local_values_are_isolated_per_thread():
    def factory(record):
        def body():
            data = threading.local()
            data.x = "main"
            out = []

            def work(v):
                out.append(getattr(data, "x", None))
                data.x = v
                out.append(data.x)

            threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            record(sorted(out, key=repr))
            record(data.x)
        return body

    assert same_under_checker(factory) == [[0, 1, None, None], "main"]


class Worker(threading.Thread):
    """A Thread subclass defined before any check (at import)."""

    def __init__(self, out):
        super().__init__(name="worker")
        self.out = out

    def run(self):
        self.out.append(threading.current_thread().name)


def test_a_thread_subclass_defined_before_the_check_is_controlled():
    def factory(record):
        def body():
            out = []
            w = Worker(out)
            w.start()
            w.join()
            record(out)
            record(w.is_alive())
        return body

    assert same_under_checker(factory) == [["worker"], False]


def test_join_with_a_timeout_returns_while_the_thread_is_still_blocked():
    seen = []

    def body():
        never = threading.Event()
        t = threading.Thread(target=never.wait, daemon=True)
        t.start()
        t.join(timeout=5)
        seen.append(t.is_alive())

    result = model.check(body, max_schedules=10)
    assert not result.failed, result.report()
    assert seen == [True] * 10


def test_controlled_constructors_outside_a_check_return_the_real_primitives():
    assert type(controlled.Lock()) is type(threading.Lock())
    assert isinstance(controlled.Condition(), threading.Condition)
    assert isinstance(controlled.Event(), threading.Event)


@pytest.mark.parametrize("name", ["Lock", "RLock", "Condition", "Semaphore",
                                  "BoundedSemaphore", "Event"])
def test_under_a_check_the_threading_names_build_controlled_objects(name):
    kinds = []

    def body():
        kinds.append(type(getattr(threading, name)()).__module__)

    model.check(body, max_schedules=1)
    assert kinds == ["model.controlled.threading"]
