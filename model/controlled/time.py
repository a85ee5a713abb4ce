"""Controlled stand-ins for ``time``: a virtual clock and sleeps that cost nothing.

The clock starts at a fixed value in every schedule and advances only when the
schedule takes a timeout step (a sleep ends, a timed wait times out): it then
jumps to that deadline.  Reading it is a scheduling point (an operation on the
clock), so the order of a read and a timeout of another thread is explored.
"""

from __future__ import annotations

import time as _time
from _thread import get_ident as _get_ident

from greenlet import GreenletExit

from model import scheduler as _sched
from model.scheduler import CLOCK, internal_file, seconds_to_ns

internal_file(__file__)

REAL = {
    name: getattr(_time, name)
    for name in ("sleep", "monotonic", "monotonic_ns", "time", "time_ns",
                 "perf_counter", "perf_counter_ns")
}

# Virtual readings at the start of every schedule.
MONOTONIC_START_NS = 1_000 * 1_000_000_000
WALL_START_NS = 1_700_000_000 * 1_000_000_000


def _here():
    s = _sched._active
    if s is None or s.busy or s.cur is None or _get_ident() != s.os_ident:
        return None
    return s


def _now_ns(s) -> int:
    if not s.mode:
        s.point(s.cur, "clock", CLOCK)
    return s.now


def monotonic():
    s = _here()
    if s is None:
        return REAL["monotonic"]()
    return (MONOTONIC_START_NS + _now_ns(s)) / 1e9


def monotonic_ns():
    s = _here()
    if s is None:
        return REAL["monotonic_ns"]()
    return MONOTONIC_START_NS + _now_ns(s)


def perf_counter():
    s = _here()
    if s is None:
        return REAL["perf_counter"]()
    return (MONOTONIC_START_NS + _now_ns(s)) / 1e9


def perf_counter_ns():
    s = _here()
    if s is None:
        return REAL["perf_counter_ns"]()
    return MONOTONIC_START_NS + _now_ns(s)


def time():
    s = _here()
    if s is None:
        return REAL["time"]()
    return (WALL_START_NS + _now_ns(s)) / 1e9


def time_ns():
    s = _here()
    if s is None:
        return REAL["time_ns"]()
    return WALL_START_NS + _now_ns(s)


def sleep(secs):
    """Sleep in virtual time: the thread is disabled until the schedule lets its deadline pass.

    ``sleep(0)`` is a yield.  Either way the sleeper then owes a yield to the
    threads enabled at that moment (fair scheduling), so polling loops with
    ``sleep`` never starve the threads they wait for.
    """
    s = _here()
    if s is None:
        return REAL["sleep"](secs)
    if isinstance(secs, str) or secs is None:
        raise TypeError(f"'{type(secs).__name__}' object cannot be interpreted as an integer")
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    ns = seconds_to_ns(secs)
    if s.mode:
        raise GreenletExit
    t = s.cur
    if ns == 0:
        s.point(t, "sleep", t)
        s.yield_now(t)
        return
    s.disable(t)
    t.deadline = s.now + ns
    s.timed.append(t)
    s.point(t, "sleep", t)
    # Only the timeout step resumes a sleeper.
    assert t.wake == _sched.TIMEOUT, f"sleeping thread {t.tid} resumed early"
    t.wake = None
