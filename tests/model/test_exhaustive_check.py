"""Exhaustive exploration through ``model.check`` and the real scheduler.

Skipped when ``model.check`` is not importable.  Small scenarios keep these
deterministic and fast; the standard scenario's figures are in
docs/checker-exhaustive.md.
"""

from __future__ import annotations

import pytest

model = pytest.importorskip("model")
if not hasattr(model, "check"):
    pytest.skip("model.check is not available yet", allow_module_level=True)

from model.explore.exhaustive import Exhaustive  # noqa: E402
from model.scenarios import BufferScenario  # noqa: E402
from tests.buggy import load  # noqa: E402


def scenario(name: str, producers: int = 2, consumers: int = 2, items: int = 1):
    return BufferScenario(
        load(name).Buffer, producers=producers, consumers=consumers, items=items, capacity=1
    )


@pytest.mark.parametrize("por", [False, True])
def test_a_correct_buffer_passes_complete_exploration_at_bound_two(por):
    strategy = Exhaustive(preemption_bound=2, por=por)
    result = model.check(scenario("correct_condvar", 1, 2), strategy=strategy, max_schedules=10**6)
    assert result.verdict == "pass"
    assert result.exhaustive and strategy.exhaustive
    assert "every interleaving covered" in result.guarantee


def test_reduction_runs_fewer_schedules_on_the_real_scheduler():
    counts = {}
    for por in (False, True):
        strategy = Exhaustive(preemption_bound=2, por=por)
        result = model.check(scenario("correct_condvar", 2, 1), strategy=strategy, max_schedules=10**6)
        assert result.verdict == "pass" and result.exhaustive
        counts[por] = result.schedules
    assert counts[True] * 5 < counts[False]


@pytest.mark.parametrize("por", [False, True])
def test_if_instead_of_while_is_found_and_replays(por):
    body = scenario("if_not_while", 1, 2, items=2)
    result = model.check(body, strategy=Exhaustive(preemption_bound=2, por=por), max_schedules=10**6)
    assert result.failed and result.property == "exception"
    again = model.replay(body, result.token)
    assert again.failed and again.property == "exception"
    assert again.trace == result.trace


def test_the_named_strategy_is_this_one():
    result = model.check(
        scenario("correct_condvar", 1, 1), strategy="exhaustive", preemption_bound=1,
        max_schedules=10**6,
    )
    assert result.verdict == "pass" and result.exhaustive and result.strategy == "exhaustive"


def test_a_budget_stops_the_search_without_claiming_completion():
    result = model.check(
        scenario("correct_condvar"), strategy=Exhaustive(preemption_bound=2), max_schedules=20
    )
    assert result.verdict == "pass" and not result.exhaustive
    assert result.schedules == 20 and result.stopped_by == "schedules"


def test_two_shards_cover_what_one_process_covers():
    body = scenario("correct_condvar", 2, 1)
    whole = model.check(body, strategy=Exhaustive(preemption_bound=1, por=False), max_schedules=10**6)
    parts = [
        Exhaustive(preemption_bound=1, por=False, shard=(i, 2)) for i in range(2)
    ]
    for strategy in parts:
        assert model.check(body, strategy=strategy, max_schedules=10**6).exhaustive
    assert sum(s.stats().schedules for s in parts) == whole.schedules


def test_processes_split_the_search_between_shards():
    body = scenario("correct_condvar", 2, 1)
    one = model.check(body, strategy="exhaustive", preemption_bound=1, max_schedules=10**6)
    two = model.check(
        body, strategy="exhaustive", preemption_bound=1, max_schedules=10**6, processes=2
    )
    assert one.verdict == two.verdict == "pass"
    assert one.exhaustive and two.exhaustive
