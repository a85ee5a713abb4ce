"""The standard scenario, proven at preemption bound 2: long runs, ``-m stress``.

Two producers and two consumers pass two items each through a queue of
capacity 1 (model.scenarios.BufferScenario: every item delivered exactly
once, per-producer order, capacity never exceeded, no deadlock).  Exhaustive
search with partial-order reduction on two processes, the checker's default
for a bound (docs/checker.md, "Exhaustive exploration"): about 35 s for the
condition-variable buffer and about 8 minutes for mq.BoundedQueue, whose
``qsize()`` the scenario calls after every put and get.  ``python -m
stress.checker_bench --mq`` measures the same runs.
"""

from __future__ import annotations

import pytest

import model
from model.scenarios import BufferScenario
from stress.checker_bench import ConditionBuffer
from tests.buggy import load

pytestmark = pytest.mark.stress


def prove(buffer_class, bound=2):
    scenario = BufferScenario(buffer_class, producers=2, consumers=2, items=2, capacity=1)
    return model.check(scenario, strategy="exhaustive", preemption_bound=bound, processes=2,
                       max_schedules=10**8, on_deadlock=scenario.on_deadlock)


def test_the_condition_variable_buffer_passes_every_schedule_within_bound_2():
    result = prove(ConditionBuffer)
    assert result.exhaustive and not result.failed, result.report()


def test_mq_bounded_queue_passes_every_schedule_within_bound_2():
    import mq

    result = prove(mq.BoundedQueue)
    assert result.exhaustive and not result.failed, result.report()


def test_the_same_run_fails_a_buffer_with_a_bug_of_the_standard_scenario():
    # One condition for producers and consumers, woken with notify(): a
    # producer can wake a producer and the signal is lost (deadlock).
    result = prove(load("notify_one_condition").Buffer)
    assert result.failed and result.property == "deadlock", result.report()
