"""Edges of the controlled ``time``: every clock form, sleep's argument errors, calls outside a check."""

import time

import pytest

import model
from model.controlled import time as ctime
from tests.model.conftest import fail_while_waiting
from tests.model.test_primitives import error_of, same_under_checker


def test_every_clock_form_reads_the_one_virtual_clock_and_the_ns_forms_are_ints():
    seen = []

    def body():
        before = (time.monotonic_ns(), time.perf_counter(), time.perf_counter_ns(), time.time_ns())
        time.sleep(1.5)
        after = (time.monotonic_ns(), time.perf_counter(), time.perf_counter_ns(), time.time_ns())
        seen.append((before, after, time.monotonic(), time.time()))

    result = model.check(body, max_schedules=5)
    assert not result.failed, result.report()
    assert len(seen) == 5 and len(set(seen)) == 1
    (mono_ns, perf, perf_ns, wall_ns), after, mono, wall = seen[0]
    assert all(type(v) is int for v in (mono_ns, perf_ns, wall_ns, after[0], after[2], after[3]))
    assert perf_ns == mono_ns and perf == mono_ns / 1e9
    assert [a - b for a, b in zip(after, (mono_ns, perf, perf_ns, wall_ns))] == [
        1_500_000_000, 1.5, 1_500_000_000, 1_500_000_000]
    assert mono == after[0] / 1e9 and wall == after[3] / 1e9


@pytest.mark.parametrize("secs", ["1", None, -1, -0.5, float("nan")])
def test_sleep_rejects_a_bad_argument_with_the_real_error_and_message(secs):
    def factory(record):
        def body():
            record(error_of(lambda: time.sleep(secs)))
        return body

    (error,) = same_under_checker(factory, schedules=2)
    assert error is not None and error[0] in ("TypeError", "ValueError")


@pytest.mark.parametrize("secs", [float("inf"), [1], b"1"])
def test_sleep_rejects_other_bad_arguments_with_the_real_exception_type(secs):
    real = error_of(lambda: time.sleep(secs))
    seen = []

    def body():
        seen.append(error_of(lambda: time.sleep(secs)))

    result = model.check(body, max_schedules=2)
    assert not result.failed, result.report()
    assert real is not None and [e[0] for e in seen] == [real[0]] * 2


def test_outside_a_check_the_controlled_clocks_read_the_real_clocks():
    for name in ("monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns"):
        real = ctime.REAL[name]
        low = real()
        reading = getattr(ctime, name)()
        assert low <= reading <= real(), name
    for name, second in (("time", 1), ("time_ns", 10**9)):
        # The wall clock may be stepped: compare loosely.
        assert abs(getattr(ctime, name)() - ctime.REAL[name]()) < 60 * second, name
    start = ctime.REAL["monotonic"]()
    assert ctime.sleep(0.001) is None
    assert ctime.REAL["monotonic"]() - start >= 0.001  # a real sleep, not a virtual one
    with pytest.raises(ValueError, match="sleep length must be non-negative"):
        ctime.sleep(-1)


def test_while_unwinding_after_a_failure_a_clock_read_works_and_a_sleep_ends_the_thread():
    def cleanup(log):
        log.append(("clock", time.monotonic() - ctime.MONOTONIC_START_NS / 1e9))
        time.sleep(1)  # would block: ends the unwinding thread
        log.append("after sleep")

    result, log = fail_while_waiting(cleanup)
    assert result.property == "stop"
    # One exploring run and one traced run; the clock never moved.
    assert log == [("clock", 0.0)] * 2
