"""What a check patches, and that everything is restored whatever happens."""

import _thread
import queue
import threading
import time
from threading import Lock as ImportedLock
from time import sleep as imported_sleep

import pytest

import model
from model.controlled import threading as controlled
from tests.model import sample_target

ORIGINALS = {
    (threading, "Lock"): threading.Lock,
    (threading, "RLock"): threading.RLock,
    (threading, "Condition"): threading.Condition,
    (threading, "Semaphore"): threading.Semaphore,
    (threading, "BoundedSemaphore"): threading.BoundedSemaphore,
    (threading, "Event"): threading.Event,
    (threading, "local"): threading.local,
    (threading, "current_thread"): threading.current_thread,
    (threading, "get_ident"): threading.get_ident,
    (threading, "main_thread"): threading.main_thread,
    (threading, "enumerate"): threading.enumerate,
    (threading, "active_count"): threading.active_count,
    (threading.Thread, "start"): threading.Thread.__dict__["start"],
    (threading.Thread, "join"): threading.Thread.__dict__["join"],
    (threading.Thread, "__init__"): threading.Thread.__dict__["__init__"],
    (time, "sleep"): time.sleep,
    (time, "monotonic"): time.monotonic,
    (time, "monotonic_ns"): time.monotonic_ns,
    (time, "time"): time.time,
    (time, "time_ns"): time.time_ns,
    (time, "perf_counter"): time.perf_counter,
    (time, "perf_counter_ns"): time.perf_counter_ns,
    (_thread, "start_new_thread"): _thread.start_new_thread,
    (_thread, "allocate_lock"): _thread.allocate_lock,
    (queue, "time"): queue.time,
    (queue, "SimpleQueue"): queue.SimpleQueue,
}


def assert_restored():
    for (owner, name), original in ORIGINALS.items():
        assert vars(owner)[name] is original, f"{owner.__name__}.{name} not restored"
    assert ImportedLock is _thread.allocate_lock
    assert imported_sleep is ORIGINALS[(time, "sleep")]
    assert sample_target.Lock is _thread.allocate_lock
    assert sample_target.sleep is ORIGINALS[(time, "sleep")]


def test_everything_is_restored_after_a_passing_check():
    model.check(lambda: None, max_schedules=3)
    assert_restored()


def test_everything_is_restored_after_a_failing_check():
    def body():
        raise AssertionError("boom")

    assert model.check(body, max_schedules=3, modules=[sample_target]).failed
    assert_restored()


def test_everything_is_restored_when_the_check_itself_raises():
    class Broken:
        name = "broken"

        def begin_schedule(self):
            return True

        def next_thread(self, point):
            raise RuntimeError("strategy bug")

        def next_value(self, kind, n):
            return 0

        def end_schedule(self, failed):
            pass

        exhaustive = False

    with pytest.raises(model.CheckerBug, match="strategy bug"):
        model.check(lambda: None, strategy=Broken(), modules=[sample_target])
    assert_restored()


def test_names_imported_with_from_before_the_check_are_controlled_in_target_modules():
    seen = []

    def body():
        seen.append(type(ImportedLock()).__module__)  # this test module is a target
        seen.append(type(sample_target.two_locks_in_opposite_orders()[0]).__module__)
        seen.append(type(sample_target.new_condition()).__module__)

    model.check(body, max_schedules=1, modules=[sample_target])
    assert seen == ["model.controlled.threading"] * 3


def test_without_modules_a_foreign_module_keeps_its_real_primitives():
    seen = []

    def body():
        seen.append(type(sample_target.two_locks_in_opposite_orders()[0]))

    model.check(body, max_schedules=1)
    assert seen == [type(_thread.allocate_lock())]


def test_a_from_imported_sleep_costs_no_real_time():
    naps = []

    def body():
        naps.append(sample_target.nap(3600))
        imported_sleep(3600)

    start = ORIGINALS[(time, "perf_counter")]()
    result = model.check(body, max_schedules=2, modules=["tests.model.sample_target"])
    assert not result.failed, result.report()
    assert naps == [3600.0, 3600.0]
    assert ORIGINALS[(time, "perf_counter")]() - start < 5


def test_deadlock_through_from_imported_locks_is_found():
    def body():
        first, second = sample_target.two_locks_in_opposite_orders()

        def one():
            with first:
                with second:
                    pass

        def two():
            with second:
                with first:
                    pass

        threads = [threading.Thread(target=one), threading.Thread(target=two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    result = model.check(body, max_schedules=500, modules=[sample_target])
    assert result.property == "deadlock"


def test_queue_module_classes_work_through_the_controlled_primitives():
    got = []

    def body():
        for cls in (queue.Queue, queue.LifoQueue, queue.PriorityQueue):
            q = cls(maxsize=1)
            t = threading.Thread(target=lambda: [q.put(i) for i in (2, 1)])
            t.start()
            got.append(sorted([q.get(), q.get()]))
            t.join()
            try:
                q.get(timeout=5)
            except queue.Empty:
                got.append("empty")
        s = queue.SimpleQueue()
        threading.Thread(target=s.put, args=(9,)).start()
        got.append(s.get())

    result = model.check(body, max_schedules=30)
    assert not result.failed, result.report()
    assert len(got) == 30 * 7
    assert set(map(repr, got)) == {"[1, 2]", "'empty'", "9"}


def test_controlled_functions_called_from_another_os_thread_behave_like_the_originals():
    out = []
    go = _thread.allocate_lock()
    go.acquire()
    done = _thread.allocate_lock()
    done.acquire()

    def from_real_thread():
        with go:
            out.append(type(threading.Lock()))
            out.append(threading.current_thread().name)
            time.sleep(0)
        done.release()

    ORIGINALS[(_thread, "start_new_thread")](from_real_thread, ())

    def body():
        go.release()  # real locks, used by one controlled thread only: fine
        done.acquire()  # the checker's OS thread waits for the real thread

    result = model.check(body, max_schedules=1, watchdog=None)
    assert not result.failed, result.report()
    assert out[0] is type(_thread.allocate_lock())
    assert out[1] != "MainThread"


def test_controlled_module_is_importable_and_names_its_originals():
    assert controlled.REAL["Lock"] is _thread.allocate_lock
