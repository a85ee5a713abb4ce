"""Each kind of failure is detected on a tiny program, and its report says what and where."""

import _thread
import socket
import threading
import time

import pytest

import model
from model.errors import ModelError


def lines_of(result):
    return result.report().splitlines()


def line_no(fn, text):
    """The line number of the first line of ``fn``'s source containing ``text``."""
    import inspect

    source, first = inspect.getsourcelines(fn)
    for i, line in enumerate(source):
        if text in line:
            return first + i
    raise AssertionError(f"{text!r} not in {fn.__name__}")


def lock_order():
    first = threading.Lock()
    second = threading.Lock()

    def forward():
        with first:
            with second:
                pass

    def backward():
        with second:
            with first:
                pass

    a = threading.Thread(target=forward, name="forward")
    b = threading.Thread(target=backward, name="backward")
    a.start()
    b.start()
    a.join()
    b.join()


def test_a_deadlock_names_each_blocked_thread_its_operation_object_and_line():
    result = model.check(lock_order, max_schedules=500)
    assert result.failed and result.property == "deadlock"
    blocked = {(s.thread, s.op, s.object, s.line) for s in result.blocked}
    assert ("forward", "acquire", "second", line_no(lock_order, "with second:\n                pass")
            if False else line_no(lock_order, "            with second:")) in blocked
    assert ("backward", "acquire", "first", line_no(lock_order, "            with first:")) in blocked
    assert ("MainThread", "join", "forward", line_no(lock_order, "a.join()")) in blocked
    text = result.report()
    assert text.startswith("FAILED: deadlock")
    assert "forward waits in acquire on second" in text
    assert "Blocked threads:" in text and "Replay: model.replay(lock_order, \"mq1:" in text
    assert len(text.splitlines()) <= 50


def test_an_exception_in_a_thread_is_property_exception_with_its_type_thread_and_line():
    def body():
        def divide():
            return 1 / 0

        t = threading.Thread(target=divide)
        t.start()
        t.join()

    result = model.check(body, max_schedules=5)
    assert result.property == "exception"
    assert result.message.startswith("Thread-1 (divide) raised ZeroDivisionError: division by zero at ")
    assert result.message.endswith(f":{line_no(body, 'return 1 / 0')}")


def test_a_failed_assert_is_property_assertion():
    def body():
        box = []
        t = threading.Thread(target=box.append, args=(1,))
        t.start()
        assert box == [1], "read before the thread wrote"
        t.join()

    result = model.check(body, max_schedules=50)
    assert result.property == "assertion"
    assert "AssertionError: read before the thread wrote" in result.message
    assert "MainThread" in result.message


def test_a_violation_names_its_own_property():
    def body():
        raise model.Violation("duplicate", "item (0, 1) was got twice")

    result = model.check(body, max_schedules=5)
    assert (result.property, result.message) == ("duplicate", "item (0, 1) was got twice")
    assert lines_of(result)[:2] == ["FAILED: duplicate", "  item (0, 1) was got twice"]


def test_a_spin_that_never_sees_progress_is_a_livelock_with_a_compact_report():
    def body():
        flag = []

        def spin():
            while not flag:
                time.sleep(0.01)

        t = threading.Thread(target=spin)
        t.start()
        t.join()

    result = model.check(body, max_schedules=3, max_steps=1000)
    assert result.property == "livelock"
    assert "max_steps=1000" in result.message
    assert len(result.trace) == 1000
    assert len(lines_of(result)) < 30
    assert any("repeat" in line for line in lines_of(result))


@pytest.mark.parametrize("call, name", [
    (lambda: _thread.start_new_thread(print, ()), "_thread.start_new_thread()"),
    (lambda: _thread.allocate_lock(), "_thread.allocate_lock()"),
])
def test_raw_thread_calls_are_unsupported_and_named(call, name):
    def body():
        call()

    result = model.check(body, max_schedules=2)
    assert result.property == "unsupported"
    assert f"MainThread called {name} at " in result.message


def test_socket_io_is_unsupported_not_a_hang():
    def body():
        a, b = socket.socketpair()
        try:
            a.recv(1)
        finally:
            a.close()
            b.close()

    result = model.check(body, max_schedules=2)
    assert result.property == "unsupported"
    assert "socket.recv()" in result.message


def test_a_thread_created_before_the_check_cannot_be_started_in_it():
    early = threading.Thread(target=print)

    def body():
        early.start()

    result = model.check(body, max_schedules=1)
    assert result.property == "unsupported"
    assert "created before the check" in result.message


def test_a_primitive_kept_from_an_earlier_schedule_is_reported():
    kept = []

    def body():
        if not kept:
            kept.append(threading.Lock())
        with kept[0]:
            pass

    result = model.check(body, max_schedules=3)
    assert result.property == "unsupported"
    assert "earlier schedule" in result.message


@pytest.mark.slow
def test_a_real_lock_contended_inside_the_check_is_caught_by_the_watchdog():
    real = _thread.allocate_lock()  # created before the check: not controlled

    def body():
        def holder():
            with real:
                threading.Event().wait(0)  # a scheduling point while holding it

        t = threading.Thread(target=holder)
        t.start()
        time.sleep(0)  # let the holder run first
        with real:  # blocks the one OS thread if the holder was switched out
            pass
        t.join()

    result = model.check(body, max_schedules=50, watchdog=0.3)
    assert result.property == "unsupported"
    assert "no scheduling point for 0.3 s" in result.message
    assert "test_failures.py" in result.message


def test_a_thread_that_calls_sys_exit_just_ends_like_a_real_thread():
    import sys

    def body():
        t = threading.Thread(target=sys.exit)
        t.start()
        t.join()

    assert not model.check(body, max_schedules=5).failed


def test_unjoined_threads_are_waited_for_and_blocked_daemons_are_abandoned():
    def body():
        box = []
        threading.Thread(target=box.append, args=(1,)).start()
        threading.Thread(target=threading.Event().wait, daemon=True).start()

    result = model.check(body, max_schedules=20)
    assert not result.failed, result.report()


def test_after_a_failure_the_surviving_threads_are_unwound_and_their_finally_blocks_run():
    unwound = []

    def body():
        gate = threading.Lock()
        gate.acquire()

        def stuck(i):
            try:
                with gate:
                    pass
            finally:
                unwound.append(i)

        threads = [threading.Thread(target=stuck, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    result = model.check(body, max_schedules=1, shrink=False)
    assert result.property == "deadlock"
    # One exploring run and one traced run, each unwinding both threads.
    assert sorted(unwound) == [0, 0, 1, 1]


def test_on_deadlock_can_rename_the_stuck_state():
    def body():
        threading.Event().wait()

    renamed = model.check(body, max_schedules=1, on_deadlock=lambda: "loss")
    assert renamed.property == "loss"
    assert renamed.message.startswith("on_deadlock classified the stuck state as 'loss'")
    kept = model.check(body, max_schedules=1, on_deadlock=lambda: None)
    assert kept.property == "deadlock"

    def raises():
        raise model.Violation("overflow", "qsize() said 3")

    assert model.check(body, max_schedules=1, on_deadlock=raises).property == "overflow"

    def blocks():
        threading.Event().wait()

    assert model.check(body, max_schedules=1, on_deadlock=blocks).property == "deadlock"


def test_checks_cannot_be_nested():
    def inner():
        pass

    def body():
        model.check(inner, max_schedules=1)

    result = model.check(body, max_schedules=1)
    assert result.property == "exception"
    assert "ModelError" in result.message and "nested" in result.message


def test_misused_options_are_rejected_with_the_argument_named():
    with pytest.raises(ValueError, match="'max_schedules'"):
        model.check(lock_order, max_schedules=0)
    with pytest.raises(ValueError, match="'granularity'"):
        model.check(lock_order, granularity="bytecode")
    with pytest.raises(ValueError, match="unknown strategy 'dfs'"):
        model.check(lock_order, strategy="dfs")
    with pytest.raises(TypeError, match="'body'"):
        model.check(42)
    for option, value in [("time_limit", 0), ("max_steps", 0), ("processes", 0), ("watchdog", -1.0)]:
        with pytest.raises(ValueError, match=f"'{option}'"):
            model.check(lock_order, **{option: value})
    assert issubclass(model.CheckerBug, ModelError)


def test_assert_passes_raises_check_failed_with_the_report_and_returns_a_pass():
    with pytest.raises(model.CheckFailed) as failed:
        model.assert_passes(lock_order, strategy="exhaustive", max_schedules=200)
    assert isinstance(failed.value, AssertionError)
    assert failed.value.result.property == "deadlock"
    assert str(failed.value) == failed.value.result.report()

    def alone():
        with threading.Lock():
            pass

    assert not model.assert_passes(alone, max_schedules=5).failed
