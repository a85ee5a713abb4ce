"""What the checker does not explore, found while checking mq: strict xfails.

Each test states a behaviour real threads can show and asserts the checker
reaches it.  Strict: the day the checker reaches it, the test fails and says
so (then drop the xfail, and the workaround noted in the scenario it affects).
"""

from __future__ import annotations

import threading

import pytest

import model


def timed_out_waiter_retakes_the_lock_first():
    # `first` takes the lock twice in a row.  `second` starts waiting (timed,
    # never notified) only after the first release; with real threads its
    # timeout can fire and it can retake the lock before `first` gets back,
    # e.g. when `first` is descheduled for longer than the timeout.
    lock = threading.Lock()
    never_notified = threading.Condition(lock)
    state = {"taken": False}
    log = []

    def first():
        with lock:
            state["taken"] = True
        with lock:
            log.append("first")

    def second():
        with lock:
            if state["taken"]:
                never_notified.wait(1.0)
                log.append("second")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if log == ["second", "first"]:
        raise model.Violation("reached", "the timed-out waiter retook the lock first")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "checker gap: the fairness yield rule treats a fired timeout as a yield, so the "
    "timed-out thread may not run before every thread runnable at that moment has "
    "taken a step; when that step is the other thread's lock acquisition, the "
    "timed-out waiter can never retake the lock first (any strategy, no spurious "
    "wake-ups)"))
@pytest.mark.parametrize("strategy", ["exhaustive", "random"])
def test_a_timed_out_waiter_can_retake_the_lock_before_a_runnable_thread(strategy):
    result = model.check(timed_out_waiter_retakes_the_lock_first, strategy=strategy, seed=1,
                         max_schedules=3000, preemption_bound=3 if strategy == "exhaustive" else None,
                         spurious_wakeups=False)
    assert result.failed and result.property == "reached", result.summary()
