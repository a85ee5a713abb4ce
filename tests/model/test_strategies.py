"""The strategies on their own, against a toy point, and through check()."""

from dataclasses import dataclass

import pytest

import model
from model.errors import Nondeterminism
from model.explore import PCT, Guided, RandomWalk, Replay, default_choice, make_strategy


@dataclass
class ToyPoint:
    step: int
    current: int | None
    enabled: tuple


def drive(strategy, points):
    strategy.begin_schedule()
    return [strategy.next_thread(p) for p in points]


POINTS = [ToyPoint(i, i % 3 if i % 4 else None, (0, 1, 2)) for i in range(40)]


def test_random_walk_is_a_pure_function_of_seed_and_schedule_index():
    a, b = RandomWalk(seed=4), RandomWalk(seed=4)
    runs_a = [drive(a, POINTS) for _ in range(5)]
    runs_b = [drive(b, POINTS) for _ in range(5)]
    assert runs_a == runs_b
    assert len({tuple(r) for r in runs_a}) == 5
    assert all(c in (0, 1, 2) for r in runs_a for c in r)
    # A strided walker (one process of several) runs the same schedule i.
    odd = RandomWalk(seed=4, first_index=1, stride=2)
    assert drive(odd, POINTS) == runs_a[1]
    assert drive(odd, POINTS) == runs_a[3]
    assert RandomWalk(seed=5).begin_schedule() and drive(RandomWalk(seed=5), POINTS) != runs_a[0]


def test_random_walk_value_choices_are_in_range_and_spurious_is_rare():
    w = RandomWalk(seed=0, spurious_probability=0.05)
    w.begin_schedule()
    assert {w.next_value("notify", 3) for _ in range(300)} == {0, 1, 2}
    spurious = sum(w.next_value("spurious", 2) for _ in range(2000))
    assert 40 < spurious < 170


def test_pct_runs_the_highest_priority_thread_until_a_change_point():
    p = PCT(seed=1, depth=1)  # no change points: one thread runs while it can
    picks = drive(p, POINTS)
    assert len(set(picks)) == 1
    p3 = PCT(seed=1, depth=3, k_estimate=40)
    p3.begin_schedule()
    assert len(p3._changes) == 2 and all(0 <= k < 40 for k in p3._changes)
    picks = [p3.next_thread(pt) for pt in POINTS]
    assert 2 <= len(set(picks)) <= 3  # priorities change at the change points only
    changes = sum(1 for a, b in zip(picks, picks[1:]) if a != b)
    assert changes <= 2


def test_pct_is_deterministic_and_learns_k_from_the_schedules_run():
    a, b = PCT(seed=9, depth=3), PCT(seed=9, depth=3)
    assert [drive(a, POINTS) for _ in range(4)] == [drive(b, POINTS) for _ in range(4)]
    a.end_schedule(False)
    a.begin_schedule()
    assert a.k == 40
    text = a.guarantee(10)
    assert "1/(n*k^(d-1)) = 1/(3*40^2)" in text


def test_default_choice_keeps_the_current_thread_else_the_lowest():
    assert default_choice(ToyPoint(0, 2, (0, 2))) == 2
    assert default_choice(ToyPoint(0, None, (1, 2))) == 1
    assert default_choice(ToyPoint(0, 3, (1, 2))) == 1


def test_guided_follows_choices_where_there_is_a_choice_then_the_default():
    g = Guided([2, 0])
    g.begin_schedule()
    pts = [ToyPoint(0, 0, (0,)), ToyPoint(1, 0, (0, 2)), ToyPoint(2, 2, (0, 2)),
           ToyPoint(3, 0, (0, 1))]
    assert [g.next_thread(p) for p in pts] == [0, 2, 0, 0]
    assert g.preemptions == 2
    assert g.taken_deviations == {1: 2, 2: 0}
    assert g.sequence == [2, 0, 0] and g.trimmed_sequence() == [2, 0]
    assert not g.begin_schedule()


def test_replay_raises_nondeterminism_when_a_recorded_thread_cannot_run():
    r = Replay([5])
    r.begin_schedule()
    with pytest.raises(Nondeterminism, match="recorded choice is thread 5"):
        r.next_thread(ToyPoint(0, 0, (0, 1)))
    v = Replay([7])
    v.begin_schedule()
    with pytest.raises(Nondeterminism, match="not among the 2 alternatives"):
        v.next_value("notify", 2)


def test_make_strategy_names_and_errors():
    assert make_strategy("random", seed=3).seed == 3
    assert make_strategy("pct", depth=4).depth == 4
    with pytest.raises(ValueError, match="unknown strategy"):
        make_strategy("bfs")


def test_a_custom_strategy_instance_drives_check():
    class AlwaysLowest:
        name = "lowest"
        exhaustive = False

        def __init__(self):
            self.runs = 0

        def begin_schedule(self):
            self.runs += 1
            return self.runs <= 3

        def next_thread(self, point):
            return point.enabled[0]

        def next_value(self, kind, n):
            return 0

        def end_schedule(self, failed):
            pass

    result = model.check(lambda: None, strategy=AlwaysLowest(), max_schedules=10)
    assert result.schedules == 3 and result.strategy == "lowest"


def test_a_time_limit_stops_exploration_and_says_so():
    import threading

    def body():
        t = threading.Thread(target=len, args=((),))
        t.start()
        t.join()

    result = model.check(body, max_schedules=10**9, time_limit=0.05)
    assert not result.failed and result.stopped_by == "time"
    assert 0 < result.schedules < 10**9
    assert "stopped by the time limit" in result.summary()
    assert "Stopped by the time limit." in result.report()


def test_the_summary_says_how_a_failure_was_found_and_shrunk():
    def body():
        raise model.Violation("order", "out of order")

    result = model.check(body, seed=3, max_schedules=10)
    assert result.summary().startswith("strategy random, seed 3: 1 schedule, failure in schedule 1")
