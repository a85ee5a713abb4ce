"""Edges of the controlled primitives: argument errors, reprs, misuse, teardown, objects kept too long.

Contract tests (``same_under_checker``) compare the checker with real threads;
the others check behaviour only the checker has: what an operation does while
the threads of a failed schedule are unwound, and the report for an object
used after its schedule ended.
"""

import _thread
import functools
import pickle
import re
import threading
import time

import pytest

import model
from model.controlled import threading as controlled
from tests.model.test_primitives import error_of, same_under_checker


# ------------------------------------------------------------- Lock and RLock
def test_non_blocking_and_timed_acquires_of_a_free_lock_succeed():
    def factory(record):
        def body():
            lock, rlock = threading.Lock(), threading.RLock()
            record([lock.acquire(False), lock.locked()])
            lock.release()
            record([lock.acquire(timeout=3600), lock.acquire(timeout=0)])
            lock.release()
            record([rlock.acquire(False), rlock.acquire(timeout=0), rlock.acquire(timeout=3600)])
            for _ in range(3):
                rlock.release()
            record(error_of(rlock.release))
        return body

    assert same_under_checker(factory)[:3] == [[True, True], [True, False], [True, True, True]]


def test_rlock_timeout_argument_errors_match_the_real_rlock():
    def factory(record):
        def body():
            r = threading.RLock()
            record(error_of(lambda: r.acquire(False, 1)))
            record(error_of(lambda: r.acquire(True, -2)))
            record(r.acquire(True, -1))
            r.release()
        return body

    assert same_under_checker(factory) == [
        ("ValueError", "can't specify a timeout for a non-blocking call"),
        ("ValueError", "timeout value must be positive"),
        True,
    ]


@pytest.mark.parametrize("kind", ["Lock", "RLock"])
@pytest.mark.parametrize("timeout", [float("inf"), float("nan")])
def test_an_acquire_rejected_for_a_nan_or_infinite_timeout_leaves_the_caller_running(kind, timeout):
    def factory(record):
        def body():
            lock = getattr(threading, kind)()
            owner = threading.Thread(target=lock.acquire)
            owner.start()
            owner.join()  # held by a finished thread: the acquire below would block
            record(error_of(lambda: lock.acquire(timeout=timeout))[0])
            record(lock.locked() if kind == "Lock" else lock.acquire(False))
        return body

    assert same_under_checker(factory, schedules=3)[1] is (kind == "Lock")


@pytest.mark.parametrize("kind", ["Lock", "RLock", "Condition", "Semaphore",
                                  "BoundedSemaphore", "Event"])
def test_a_primitive_cannot_be_pickled_as_with_real_threading(kind):
    def factory(record):
        def body():
            e = error_of(lambda: pickle.dumps(getattr(threading, kind)()))
            record(e[0])
            record(e[1].startswith("cannot pickle"))
        return body

    assert same_under_checker(factory, schedules=2) == ["TypeError", True]


def test_reprs_show_the_state_as_the_real_ones_do():
    def factory(record):
        def body():
            lock, rlock = threading.Lock(), threading.RLock()
            sem, bsem, event = threading.Semaphore(2), threading.BoundedSemaphore(2), threading.Event()
            record(repr(lock).split()[0])
            lock.acquire()
            record(repr(lock).split()[0])
            rlock.acquire()
            rlock.acquire()
            record("count=2" in repr(rlock))
            record(["value=2" in repr(sem), "value=2" in repr(bsem)])
            record(repr(event).endswith(" unset>"))
            event.set()
            record(repr(event).endswith(" set>"))
        return body

    assert same_under_checker(factory) == ["<unlocked", "<locked", True, [True, True], True, True]


def test_controlled_reprs_name_the_object_and_its_state():
    seen = []

    def body():
        c = threading.Condition()
        waiting = threading.Event()

        def waiter():
            with c:
                waiting.set()
                c.wait()

        t = threading.Thread(target=waiter)
        t.start()
        waiting.wait()
        with c:  # the waiter released the lock: it is waiting
            seen.append(repr(c))
            seen.append(repr(c._lock))
            c.notify()
        t.join()
        seen.append(repr(c._lock))

    result = model.check(body, max_schedules=1)
    assert not result.failed, result.report()
    assert seen == ["<model.Condition #1 waiters=1>",
                    "<model.RLock #1 owner='MainThread' count=1>",
                    "<model.RLock #1 owner=None count=0>"]


# ------------------------------------------------------------------ Condition
def test_condition_is_owned_and_wait_for_with_a_timeout_that_runs_out():
    def factory(record):
        def body():
            c = threading.Condition()
            record(c._is_owned())
            with c:
                record(c._is_owned())
                record(c.wait_for(lambda: False, 0.01))
                record(c._is_owned())
        return body

    assert same_under_checker(factory) == [False, True, False, True]


def test_a_condition_over_a_lock_created_before_the_check_is_unsupported():
    early = threading.Lock()  # real: created before the check

    def body():
        threading.Condition(early)

    result = model.check(body, max_schedules=1)
    assert result.property == "unsupported"
    assert "threading.Condition(lock object)" in result.message
    assert "create the lock inside the body" in result.message


# ------------------------------------------------------------------ Semaphores
def test_semaphore_timed_acquire_and_release_above_zero():
    def factory(record):
        def body():
            s = threading.Semaphore(1)
            record(s.acquire(timeout=3600))
            s.release()
            s.release()  # from 1 to 2: nobody to wake
            record([s.acquire(timeout=0), s.acquire(timeout=0), s.acquire(timeout=0)])
        return body

    assert same_under_checker(factory) == [True, [True, True, False]]


# --------------------------------------------------------------------- Barrier
def test_a_barrier_wait_that_times_out_breaks_the_barrier():
    def factory(record):
        def body():
            b = threading.Barrier(2, timeout=0.01)
            record(error_of(b.wait)[0])
            record(b.broken)
            record(error_of(lambda: b.wait(0.01))[0])
            b.reset()
            record([b.broken, b.n_waiting])
        return body

    assert same_under_checker(factory) == [
        "BrokenBarrierError", True, "BrokenBarrierError", [False, 0]]


def test_a_barrier_whose_action_raises_is_broken_for_every_party():
    def factory(record):
        def body():
            def action():
                raise KeyError("in action")

            b = threading.Barrier(2, action=action)
            errors = []

            def party():
                errors.append(error_of(b.wait)[0])

            t = threading.Thread(target=party)
            t.start()
            errors.append(error_of(b.wait)[0])
            t.join()
            record(sorted(errors))
            record(b.broken)
        return body

    assert same_under_checker(factory) == [["BrokenBarrierError", "KeyError"], True]


# -------------------------------------------------------------------- Events
def test_a_nan_timeout_makes_event_and_condition_waits_return_false_at_once():
    def factory(record):
        def body():
            e, c = threading.Event(), threading.Condition()
            record(e.wait(float("nan")))
            with c:
                record(c.wait(float("nan")))
        return body

    assert same_under_checker(factory, schedules=2) == [False, False]


def test_waits_given_a_timeout_of_the_wrong_type_raise_type_error_like_the_real_ones():
    def factory(record):
        def body():
            c = threading.Condition()
            record(error_of(lambda: threading.Event().wait(object()))[0])
            record(error_of(lambda: threading.Semaphore(0).acquire(timeout=object()))[0])
            with c:
                record(error_of(lambda: c.wait(object()))[0])
            record(error_of(lambda: threading.Lock().acquire(timeout="1"))[0])
        return body

    assert same_under_checker(factory, schedules=2) == ["TypeError"] * 4


@pytest.mark.parametrize("op", ["Event.wait", "Condition.wait", "Semaphore.acquire"])
def test_a_string_timeout_raises_type_error_like_the_real_primitives(op):
    def factory(record):
        def body():
            c = threading.Condition()
            calls = {
                "Event.wait": lambda: threading.Event().wait(""),
                "Condition.wait": lambda: c.wait(""),
                "Semaphore.acquire": lambda: threading.Semaphore(0).acquire(timeout=""),
            }
            with c:
                record(error_of(calls[op])[0])
        return body

    assert same_under_checker(factory, schedules=2) == ["TypeError"]


# ---------------------------------------------------------------------- local
class Slot(threading.local):
    """Defined at import: a subclass of the real local (a documented limit)."""


def test_local_rejects_arguments_without_init_and_a_new_dict_like_the_real_one():
    def factory(record):
        def body():
            record(error_of(lambda: threading.local(1)))
            data = threading.local()
            data.x = 1
            del data.x
            record(hasattr(data, "x"))
            for attempt in (lambda: setattr(data, "__dict__", {}),
                            lambda: delattr(data, "__dict__")):
                kind, message = error_of(attempt)
                record((kind, message.endswith("object attribute '__dict__' is read-only")))
        return body

    assert same_under_checker(factory) == [
        ("TypeError", "Initialization arguments are not supported"), False,
        ("AttributeError", True), ("AttributeError", True)]


def test_a_local_subclass_made_in_the_body_runs_its_init_once_per_thread():
    def factory(record):
        def body():
            class Counter(threading.local):
                def __init__(self, start):
                    self.n = start
                    inits.append(start)

            inits = []
            counter = Counter(10)
            counter.n += 1
            seen = []

            def work():
                counter.n += 5
                seen.append(counter.n)

            threads = [threading.Thread(target=work) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            record(seen)
            record(counter.n)
            record(inits)
        return body

    assert same_under_checker(factory) == [[15, 15], 11, [10, 10, 10]]


def test_outside_a_check_the_controlled_local_is_per_os_thread():
    data = controlled.local()
    data.x = "main"
    seen = []

    def other():
        seen.append(getattr(data, "x", None))
        data.x = "other"
        seen.append(data.x)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == [None, "other"]
    assert data.x == "main"


# -------------------------------------------------------------------- threads
def masked(text):
    """A thread repr with its ident (OS-assigned, or the checker's) replaced by N."""
    return re.sub(r" \d+\)>$", " N)>", text)


def test_thread_repr_daemon_before_start_and_default_names_match_the_real_ones():
    def factory(record):
        def body():
            t = threading.Thread(target=len, args=((),), name="worker")
            record(masked(repr(t)))
            t.daemon = True
            record([t.daemon, masked(repr(t))])
            t.start()
            t.join()
            record(masked(repr(t)))
            go = threading.Event()
            u = threading.Thread(target=go.wait, name="waiter")
            u.start()
            record(masked(repr(u)))
            go.set()
            u.join()
            nameless = threading.Thread(target=functools.partial(len, ()))
            record(re.fullmatch(r"Thread-\d+", nameless.name) is not None)
        return body

    assert same_under_checker(factory) == [
        "<Thread(worker, initial)>",
        [True, "<Thread(worker, initial daemon)>"],
        "<Thread(worker, stopped daemon N)>",
        "<Thread(waiter, started N)>",
        True,
    ]


def test_a_thread_made_before_the_check_keeps_its_real_join_liveness_daemon_and_repr():
    early = threading.Thread(target=len, args=((),), name="early")
    seen = []

    def body():
        seen.append(error_of(early.join))
        seen.append(early.is_alive())
        early.daemon = True
        seen.append(early.daemon)
        seen.append(repr(early))

    result = model.check(body, max_schedules=1)
    assert not result.failed, result.report()
    assert seen == [("RuntimeError", "cannot join thread before it is started"), False, True,
                    "<Thread(early, initial daemon)>"]


def test_a_thread_given_a_group_fails_the_body_with_the_real_assertion():
    assert error_of(lambda: threading.Thread(group=object())) == (
        "AssertionError", "group argument must be None for now")

    def body():
        threading.Thread(group=object())

    result = model.check(body, max_schedules=1)
    assert result.property == "assertion"
    assert "group argument must be None for now" in result.message


def test_get_native_id_is_per_controlled_thread_and_matches_the_ident():
    seen = []

    def body():
        box = {}
        t = threading.Thread(target=lambda: box.update(native=threading.get_native_id()))
        t.start()
        t.join()
        seen.append((threading.get_native_id() == threading.get_ident(),
                     box["native"] == t.native_id == t.ident, box["native"] != threading.get_ident()))

    result = model.check(body, max_schedules=3)
    assert not result.failed, result.report()
    assert seen == [(True, True, True)] * 3


def test_module_functions_called_outside_a_check_return_the_real_answers():
    assert controlled.current_thread() is threading.current_thread()
    assert controlled.get_ident() == _thread.get_ident()
    assert controlled.get_native_id() == threading.get_native_id()
    assert controlled.main_thread() is threading.main_thread()
    assert controlled.enumerate() == threading.enumerate()
    assert controlled.active_count() == threading.active_count()


def test_a_thread_made_by_a_foreign_os_thread_during_a_check_is_a_real_thread():
    # The foreign thread runs while the checker's OS thread waits on a real
    # lock, so the order is fixed; the grafted Thread methods must fall through.
    out = []
    go = _thread.allocate_lock()
    go.acquire()
    done = _thread.allocate_lock()
    done.acquire()

    def from_real_thread():
        with go:
            t = threading.Thread(target=lambda: out.append(threading.current_thread().name),
                                 name="foreign")
            t.start()
            t.join()
            out.append((t.is_alive(), type(t.ident) is int, masked(repr(t))))
        done.release()

    threading.Thread(target=from_real_thread).start()  # before the check: a real thread

    def body():
        go.release()  # real locks, used by one controlled thread only: fine
        done.acquire()

    result = model.check(body, max_schedules=1, watchdog=None)
    assert not result.failed, result.report()
    assert out == ["foreign", (False, True, "<Thread(foreign, stopped N)>")]


# ---------------------------------------------------------- objects kept too long
def keep_and_reuse(make, use):
    """Create an object in the first schedule; use it in the second."""
    kept = []

    def body():
        if not kept:
            kept.append(make())
        else:
            use(kept[0])

    return model.check(body, max_schedules=3)


def started_thread():
    t = threading.Thread(target=len, args=((),))
    t.start()
    t.join()
    return t


def held_rlock():
    r = threading.RLock()
    r.acquire()
    return r


@pytest.mark.parametrize("make, use, call", [
    (lambda: threading.Lock(), lambda lock: lock.release(), "Lock.release()"),
    (lambda: threading.RLock(), lambda r: r.acquire(), "RLock.acquire()"),
    (held_rlock, lambda r: r.release(), "RLock.release()"),
    (lambda: threading.Condition(), lambda c: c.wait(), "Condition.wait()"),
    (lambda: threading.Condition(), lambda c: c.notify(), "Condition.notify()"),
    (lambda: threading.Condition(), lambda c: c.notify_all(), "Condition.notify_all()"),
    (lambda: threading.Semaphore(), lambda s: s.acquire(), "Semaphore.acquire()"),
    (lambda: threading.Semaphore(), lambda s: s.release(), "Semaphore.release()"),
    (lambda: threading.Event(), lambda e: e.set(), "Event.set()"),
    (lambda: threading.Event(), lambda e: e.clear(), "Event.clear()"),
    (lambda: threading.Event(), lambda e: e.wait(), "Event.wait()"),
    (lambda: threading.Thread(target=len, args=((),)), lambda t: t.start(), "ThreadState.start()"),
    (started_thread, lambda t: t.join(), "ThreadState.join()"),
])
def test_each_operation_on_an_object_of_an_earlier_schedule_is_reported(make, use, call):
    result = keep_and_reuse(make, use)
    assert result.property == "unsupported"
    assert f"called {call}" in result.message
    assert "created during an earlier schedule" in result.message


def test_a_primitive_used_after_its_check_ended_raises_unsupported():
    leaked = []
    model.check(lambda: leaked.append(threading.Lock()), max_schedules=1)
    with pytest.raises(model.Unsupported, match=r"Lock\.acquire\(\): .*earlier schedule"):
        leaked[0].acquire()


# ------------------------------------------------------- unwinding after a failure
def unwound(finally_block):
    """Fail a schedule while a thread waits; return what its finally block logged.

    ``finally_block(log, shared)`` runs while that thread is unwound; ``shared``
    holds an RLock the main thread holds, a finished thread and a live one.
    """
    log = []

    def body():
        waiting = threading.Event()
        shared = {"rlock": threading.RLock(),
                  "finished": threading.Thread(target=len, args=((),)),
                  "live": threading.Thread(target=threading.Event().wait, daemon=True)}
        shared["finished"].start()
        shared["finished"].join()
        shared["live"].start()
        shared["rlock"].acquire()

        def stuck():
            waiting.set()
            try:
                threading.Event().wait()  # never set: only the unwinding ends it
            finally:
                finally_block(log, shared)

        threading.Thread(target=stuck).start()
        waiting.wait()
        raise model.Violation("stop", "the body failed while a thread waited")

    result = model.check(body, max_schedules=1, shrink=False)
    assert result.property == "stop"  # what unwinding does never changes the verdict
    return log


def test_while_unwinding_operations_that_need_not_block_take_effect():
    def cleanup(log, shared):
        lock, rlock, sem, event = (threading.Lock(), threading.RLock(),
                                   threading.Semaphore(1), threading.Event())
        log.append([lock.acquire(), lock.locked(), lock.acquire(False)])
        lock.release()
        with lock:
            pass
        log.append(error_of(lock.release))
        log.append([rlock.acquire(), rlock.acquire(False), shared["rlock"].acquire(False)])
        rlock.release()
        rlock.release()
        log.append(error_of(rlock.release))
        log.append(error_of(shared["rlock"].release))
        log.append([sem.acquire(), sem.acquire(False)])
        sem.release()
        event.set()
        log.append([event.is_set(), event.wait()])
        event.clear()
        log.append(event.is_set())
        cond = threading.Condition(threading.Lock())
        with cond:
            cond.notify()
            cond.notify_all()
        shared["finished"].join()
        log.append([shared["finished"].is_alive(), shared["live"].is_alive()])

    once = [
        [True, True, False],
        ("RuntimeError", "release unlocked lock"),
        [True, True, False],
        ("RuntimeError", "cannot release un-acquired lock"),
        ("RuntimeError", "cannot release un-acquired lock"),
        [True, False],
        [True, True],
        False,
        [False, True],
    ]
    assert unwound(cleanup) == once * 2  # the exploring run and the traced run


def condition_wait():
    c = threading.Condition()
    with c:
        c.wait()


def held_lock():
    lock = threading.Lock()
    lock.acquire()
    return lock


WOULD_BLOCK = {
    "Lock.acquire": lambda shared: held_lock().acquire(),
    "RLock.acquire": lambda shared: shared["rlock"].acquire(),
    "Semaphore.acquire": lambda shared: threading.Semaphore(0).acquire(),
    "Event.wait": lambda shared: threading.Event().wait(),
    "Condition.wait": lambda shared: condition_wait(),
    "Thread.start": lambda shared: threading.Thread(target=len, args=((),)).start(),
    "Thread.join": lambda shared: shared["live"].join(),
    "time.sleep": lambda shared: time.sleep(1),
}


@pytest.mark.parametrize("op", sorted(WOULD_BLOCK))
def test_while_unwinding_an_operation_that_would_block_ends_the_thread(op):
    def cleanup(log, shared):
        log.append("before")
        WOULD_BLOCK[op](shared)
        log.append("after")

    assert unwound(cleanup) == ["before", "before"]
