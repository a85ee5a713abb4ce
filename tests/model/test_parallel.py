"""processes=N: the same failure as one process, found by forked workers."""

import pytest

import model
from tests.model.test_basics import Buffer, IfBuffer, scenario
from tests.model.test_determinism import NotifyOneBuffer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("cls", [IfBuffer, NotifyOneBuffer])
def test_random_search_in_two_processes_finds_exactly_what_one_process_finds(cls):
    one = model.check(scenario(cls), seed=21, max_schedules=3000)
    two = model.check(scenario(cls), seed=21, max_schedules=3000, processes=2)
    assert one.failed
    assert (two.property, two.token, two.trace, two.schedules) == (
        one.property, one.token, one.trace, one.schedules)
    assert two.report() == one.report()


def test_a_pass_in_two_processes_counts_every_schedule():
    two = model.check(scenario(Buffer), seed=2, max_schedules=400, processes=2)
    assert not two.failed and two.schedules == 400 and two.steps > 400


def test_pct_in_two_processes_is_deterministic_for_the_same_seed():
    a = model.check(scenario(NotifyOneBuffer), strategy="pct", seed=4, max_schedules=3000,
                    processes=2)
    b = model.check(scenario(NotifyOneBuffer), strategy="pct", seed=4, max_schedules=3000,
                    processes=2)
    assert a.failed and a.token == b.token and a.schedules == b.schedules


def test_exhaustive_shards_cover_the_search_together():
    pytest.importorskip("model.explore.exhaustive")
    one = model.check(scenario(Buffer, producers=1, consumers=1), strategy="exhaustive",
                      preemption_bound=1, max_schedules=100_000)
    two = model.check(scenario(Buffer, producers=1, consumers=1), strategy="exhaustive",
                      preemption_bound=1, max_schedules=100_000, processes=2)
    assert not one.failed and not two.failed
    assert one.exhaustive and two.exhaustive


def test_a_strategy_instance_cannot_be_spread_over_processes():
    from model.explore import RandomWalk

    with pytest.raises(ValueError, match="processes > 1"):
        model.check(scenario(Buffer), strategy=RandomWalk(), processes=2)
