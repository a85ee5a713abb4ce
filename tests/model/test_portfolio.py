"""Bounded exhaustive search: the bounded and the unbounded search in alternation."""

from __future__ import annotations

import pytest

import model
from model.explore import make_strategy
from model.explore.exhaustive import Exhaustive
from model.explore.portfolio import Bounded
from model.scenarios import BufferScenario
from stress.checker_bench import ConditionBuffer
from tests.buggy import load


def scenario(buffer=ConditionBuffer, producers=2, consumers=1, items=2):
    return BufferScenario(buffer, producers=producers, consumers=consumers, items=items,
                          capacity=1)


def alone(bound, sc):
    """Runs of one search on its own, to completion."""
    search = Exhaustive(preemption_bound=bound, por=True)
    result = model.check(sc, strategy=search, max_schedules=10**6, on_deadlock=sc.on_deadlock,
                         shrink=False)
    assert result.exhaustive
    return search.stats().runs


def check(sc, bound, processes=1, **options):
    return model.check(sc, strategy="exhaustive", preemption_bound=bound, processes=processes,
                       max_schedules=options.pop("max_schedules", 10**6),
                       on_deadlock=sc.on_deadlock, **options)


def test_the_exhaustive_strategy_with_a_bound_is_the_pair():
    assert isinstance(make_strategy("exhaustive", preemption_bound=2), Bounded)
    assert make_strategy("exhaustive", preemption_bound=2, shard=(1, 2)).component == 1
    assert isinstance(make_strategy("exhaustive", preemption_bound=None), Exhaustive)


@pytest.mark.parametrize("bound, winner", [(0, "within the bound"), (2, "unbounded search")])
def test_the_first_search_to_complete_decides_and_it_runs_at_most_twice_the_smaller(bound, winner):
    sc = scenario(producers=2, consumers=2, items=1)
    bounded, unbounded = alone(bound, sc), alone(None, sc)
    result = check(sc, bound)
    assert result.exhaustive and winner in result.guarantee
    smaller = min(bounded, unbounded)
    # Alternation: the winner's last attempt comes right after (or before) the other's.
    assert result.schedules == 2 * smaller + (0 if bounded <= unbounded else 1)


def test_a_budget_stops_the_pair_without_a_claim():
    result = check(scenario(), 2, max_schedules=100)
    assert not result.exhaustive and result.stopped_by == "schedules"
    assert "stopped before covering" in result.guarantee


@pytest.mark.parametrize("name", ["if_not_while", "missing_notify", "semaphore_order"])
def test_two_processes_find_what_one_finds(name):
    module = load(name)
    sc = scenario(module.Buffer, producers=1, consumers=2, items=2)
    one, two = check(sc, 2, processes=1), check(sc, 2, processes=2)
    assert one.failed and one.property in (module.EXPECT if isinstance(module.EXPECT, tuple)
                                            else (module.EXPECT,))
    assert (two.property, two.schedules, two.token, two.guarantee) == (
        one.property, one.schedules, one.token, one.guarantee)


def test_two_processes_pass_with_the_same_counts_as_one():
    sc = scenario()
    one, two = check(sc, 1, processes=1), check(sc, 1, processes=4)
    assert one.exhaustive and two.exhaustive
    assert (two.schedules, two.guarantee) == (one.schedules, one.guarantee)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="preemption_bound"):
        Bounded(None)
    with pytest.raises(ValueError, match="component"):
        Bounded(2, component=2)


def test_stats_add_up_the_two_searches():
    sc = scenario(producers=2, consumers=2, items=1)
    pair = Bounded(0)
    result = model.check(sc, strategy=pair, max_schedules=10**6, on_deadlock=sc.on_deadlock)
    stats = pair.stats()
    assert stats.exhaustive and result.exhaustive and not pair.spurious_default
    assert stats.runs == stats.schedules == result.schedules == 128
    assert [s.stats().runs for s in pair.searches] == [64, 64]
