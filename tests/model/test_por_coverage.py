"""Partial-order reduction loses nothing: every trace of the full search is explored.

The exhaustive search with reduction runs one schedule per Mazurkiewicz trace
(schedules equal up to swapping adjacent independent steps).  These tests run
the search without reduction, which runs every schedule within the bound,
and with it, and compare the traces they reached: each trace of the first
must be among the traces of the second.  The races that the search moves to
the start of a critical section (``dpor.RaceTracker.lock_race``) and the
exit/join races it drops are covered here on bodies that exercise them: a
condition variable on an RLock with a timed wait, a non-blocking acquire, a
Lock released by a thread that did not take it, ``join(0)`` and
``is_alive()``.  A deliberately broken reduction shows that the comparison
fails when a trace is lost.
"""

from __future__ import annotations

import functools
import threading

import pytest

import model
from model.explore import dpor, exhaustive
from model.explore.base import WILDCARD
from model.explore.exhaustive import Exhaustive
from model.scenarios import BufferScenario
from stress.checker_bench import ConditionBuffer
from tests.buggy import load
from tests.checked.harness import run_beside, run_threads


class TraceRecorder:
    """Wraps a strategy and collects the trace of every schedule it runs.

    A trace is recorded in a canonical form that is equal for two schedules
    exactly when they differ only by swapping adjacent independent steps:
    each thread's sequence of operations, the order of the modifying steps on
    each object, which of them each read-only step came after, and, for each
    step on unknown memory (dependent with everything), how many steps each
    thread had taken before it.
    """

    def __init__(self, inner) -> None:
        self._inner = inner
        self.traces: set = set()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def begin_schedule(self) -> bool:
        self._steps = []
        return self._inner.begin_schedule()

    def next_thread(self, point) -> int:
        t = self._inner.next_thread(point)
        self._steps.append((t, point.next_op(t)))
        return t

    def next_value(self, kind: str, n: int) -> int:
        return self._inner.next_value(kind, n)

    def end_schedule(self, failed: bool) -> None:
        self._inner.end_schedule(failed)
        self.traces.add((canonical(self._steps), failed))


def canonical(steps) -> tuple:
    threads: dict[int, list] = {}
    writes: dict[int, list] = {}
    reads: dict[int, set] = {}
    cuts = []
    for t, op in steps:
        mine = threads.setdefault(t, [])
        mine.append((op.kind, op.obj))
        here = (t, len(mine))
        if op.obj == WILDCARD:
            cuts.append((here, tuple(sorted((u, len(s)) for u, s in threads.items()))))
        elif op.read_only:
            reads.setdefault(op.obj, set()).add((here, len(writes.get(op.obj, ()))))
        else:
            writes.setdefault(op.obj, []).append(here)
    return (
        tuple(sorted((t, tuple(s)) for t, s in threads.items())),
        tuple(sorted((o, tuple(s)) for o, s in writes.items())),
        tuple(sorted((o, tuple(sorted(s))) for o, s in reads.items())),
        tuple(cuts),
    )


@functools.lru_cache(maxsize=None)
def full_traces(name, bound):
    """Traces of the search without reduction (cached: two tests compare with them)."""
    body, on_deadlock = body_of(name)
    return frozenset(traces_of(body, bound, por=False, on_deadlock=on_deadlock))


def traces_of(body, bound, por, on_deadlock=None):
    recorder = TraceRecorder(Exhaustive(preemption_bound=bound, por=por))
    result = model.check(body, strategy=recorder, max_schedules=10**6, time_limit=None,
                         on_deadlock=on_deadlock, shrink=False)
    assert result.exhaustive
    return recorder.traces


# -- bodies ------------------------------------------------------------------


def buffer_body(buffer, producers, consumers, items):
    scenario = BufferScenario(buffer, producers=producers, consumers=consumers, items=items,
                              capacity=1)
    return scenario, scenario.on_deadlock


def rlock_condition_with_timed_wait():
    lock = threading.RLock()
    ready = threading.Condition(lock)
    box = []

    def producer():
        with lock:
            with lock:
                box.append(1)
                ready.notify()

    def consumer():
        with ready:
            while not box:
                ready.wait(timeout=5)
            box.pop()

    run_threads(producer, consumer)


def try_acquire_join_zero_and_is_alive():
    lock = threading.Lock()
    seen = []

    def worker():
        if lock.acquire(blocking=False):
            seen.append("worker")
            lock.release()
        with lock:
            seen.append("worker again")

    t = threading.Thread(target=worker)
    t.start()
    with lock:
        seen.append("main")
    t.join(0)
    seen.append(t.is_alive())
    t.join()


def lock_released_by_another_thread():
    gate = threading.Lock()
    gate.acquire()
    shared = threading.Lock()

    def opener():
        with shared:
            pass
        gate.release()  # a lock the main thread took

    def passer():
        with gate:
            with shared:
                pass

    def main_role():
        with shared:
            pass

    run_beside(main_role, opener, passer)


BUFFERS = {
    "condvar 2p1c1": (ConditionBuffer, 2, 1, 1),
    "condvar 1p2c1": (ConditionBuffer, 1, 2, 1),
    "condvar 1p1c2": (ConditionBuffer, 1, 1, 2),
    "semaphores 2p1c1": (load("correct_semaphores").Buffer, 2, 1, 1),
    "notify_all 1p2c1": (load("correct_notify_all").Buffer, 1, 2, 1),
    "timed_poll 1p1c1": (load("correct_timed_poll").Buffer, 1, 1, 1),
    "ring 1p2c1": (load("correct_ring").Buffer, 1, 2, 1),
}
BODIES = {
    "rlock condition, timed wait": rlock_condition_with_timed_wait,
    "try_acquire, join(0), is_alive": try_acquire_join_zero_and_is_alive,
    "lock released by another thread": lock_released_by_another_thread,
}


def body_of(name):
    if name in BUFFERS:
        return buffer_body(*BUFFERS[name])
    return BODIES[name], None


@pytest.mark.slow
@pytest.mark.parametrize("bound", [0, 1, 2])
@pytest.mark.parametrize("name", [*BUFFERS, *BODIES])
def test_the_reduced_search_reaches_every_trace_within_the_bound(name, bound):
    body, on_deadlock = body_of(name)
    full = full_traces(name, bound)
    reduced = traces_of(body, bound, por=True, on_deadlock=on_deadlock)
    assert full <= reduced, f"{len(full - reduced)} of {len(full)} traces never explored"


@pytest.mark.slow
@pytest.mark.parametrize("name", [*BUFFERS, *BODIES])
def test_the_unbounded_reduced_search_reaches_every_trace_and_each_once(name):
    body, on_deadlock = body_of(name)
    full = full_traces(name, 2)
    recorder = TraceRecorder(Exhaustive(preemption_bound=None, por=True))
    result = model.check(body, strategy=recorder, max_schedules=10**6, time_limit=None,
                         on_deadlock=on_deadlock, shrink=False)
    assert full <= recorder.traces
    stats = recorder.stats()
    # Sleep sets: no trace twice.  A run cut short by them is not a trace.
    assert result.exhaustive and stats.schedules == len(recorder.traces)


def careless_lock_race(real):
    """lock_race, broken: it moves a race even when the other thread needs no lock."""

    def lock_race(self, i, p, o, m):
        moved = real(self, i, p, o, m)
        if moved is not None or not self._held[i][0]:
            return moved
        _lock, j, _count = self._held[i][0][0]
        return (j, o, m)

    return lock_race


def test_the_comparison_fails_when_races_move_to_critical_sections_they_do_not_need(monkeypatch):
    body, on_deadlock = body_of("rlock condition, timed wait")
    full = full_traces("rlock condition, timed wait", 2)
    careless = careless_lock_race(dpor.RaceTracker.lock_race)
    monkeypatch.setattr(dpor.RaceTracker, "lock_race", careless)
    reduced = traces_of(body, None, por=True, on_deadlock=on_deadlock)
    assert not full <= reduced


def test_the_comparison_fails_when_a_join_that_never_blocks_races_with_no_exit(monkeypatch):
    body, on_deadlock = body_of("try_acquire, join(0), is_alive")
    full = full_traces("try_acquire, join(0), is_alive", 2)
    monkeypatch.setattr(exhaustive, "_never_reversed",
                        lambda first, later: first.kind == "exit" and "join" in later.kind)
    reduced = traces_of(body, None, por=True, on_deadlock=on_deadlock)
    assert not full <= reduced
