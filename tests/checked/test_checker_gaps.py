"""Behaviours real threads show that the checker once failed to explore, found while checking mq.

Each test states a behaviour and asserts the checker reaches it.
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


# The fairness rule once treated a fired timeout like a yield: the timed-out
# thread could not run before every thread runnable at that moment took a
# step, so it never retook the lock first.  Now a timeout only holds back the
# thread's next timeout (model/scheduler.py, ``yield_now``).
@pytest.mark.parametrize("strategy", ["exhaustive", "random"])
def test_a_timed_out_waiter_can_retake_the_lock_before_a_runnable_thread(strategy):
    result = model.check(timed_out_waiter_retakes_the_lock_first, strategy=strategy, seed=1,
                         max_schedules=3000, preemption_bound=3 if strategy == "exhaustive" else None,
                         spurious_wakeups=False)
    assert result.failed and result.property == "reached", result.summary()
