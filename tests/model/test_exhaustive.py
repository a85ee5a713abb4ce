"""Exhaustive exploration (model/explore/exhaustive.py) against a toy transition system.

The strategy is tested without the scheduler: tests/model/toy.py interprets
tiny programs (threads of reads, writes, locks, condition variables, value
choices) through the same protocol the scheduler uses, and ``brute_force``
enumerates their schedules independently.  The key property: with partial-order
reduction the strategy reaches exactly the final states that plain search
reaches, at every preemption bound.
"""

from __future__ import annotations

import itertools
from math import comb

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from model.errors import Nondeterminism
from model.explore import dpor
from model.explore.exhaustive import Exhaustive
from tests.model.toy import Program, brute_force, run

BOUNDS = (None, 0, 1, 2)


def threads_of(sched) -> str:
    """The thread choices of a schedule, as a string like "0110"."""
    return "".join(str(v) for kind, v in sched.choices if kind == "t")


def finals(program: Program, strategy: Exhaustive) -> set[tuple]:
    schedules = run(program, strategy)
    assert strategy.exhaustive
    return {s.final for s in schedules}


def independent(n_threads: int, steps: int) -> Program:
    """Each thread writes its own variable ``steps`` times."""
    return tuple(tuple(("w", t, 1) for _ in range(steps)) for t in range(n_threads))


# -- plain search: the counts are the combinatorial ones --------------------


@pytest.mark.parametrize("steps", [1, 2, 3, 4])
def test_without_reduction_two_threads_run_every_interleaving(steps):
    strategy = Exhaustive(preemption_bound=None, por=False)
    schedules = run(independent(2, steps), strategy)
    assert len(schedules) == comb(2 * steps, steps)
    assert len({threads_of(s) for s in schedules}) == len(schedules)
    assert strategy.exhaustive and strategy.stats().schedules == len(schedules)


PROGRAMS = {
    "independent 3x2": independent(3, 2),
    "shared variable": ((("w", 0, 1), ("r", 0)), (("w", 0, 2), ("r", 0)), (("inc", 0),)),
    "locks": (
        (("acq", 0), ("inc", 0), ("rel", 0), ("r", 1)),
        (("acq", 0), ("inc", 0), ("rel", 0)),
        (("w", 1, 5), ("acq", 0), ("r", 0), ("rel", 0)),
    ),
    "condition": (
        (("acq", 0), ("wait", 0), ("rel", 0)),
        (("acq", 0), ("wait", 0), ("rel", 0)),
        (("acq", 0), ("notify", 0), ("notify", 0), ("rel", 0)),
    ),
    "choices": ((("choose", 3), ("w", 0, 1)), (("r", 0), ("choose", 2))),
    "spawn and join": (
        (("spawn", 1), ("spawn", 2), ("join", 1), ("join", 2), ("r", 0)),
        (("inc", 0), ("inc", 0)),
        (("inc", 0),),
    ),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("bound", [None, 0, 1, 2, 3])
def test_without_reduction_counts_match_a_brute_force_enumerator(name, bound):
    program = PROGRAMS[name]
    count, states = brute_force(program, bound)
    strategy = Exhaustive(preemption_bound=bound, por=False)
    schedules = run(program, strategy)
    assert len(schedules) == count
    assert {s.final for s in schedules} == states
    assert len({tuple(s.choices) for s in schedules}) == count  # no schedule twice


def test_depth_first_order_takes_the_non_preemptive_choice_first():
    schedules = run(independent(2, 2), Exhaustive(preemption_bound=None, por=False))
    assert [threads_of(s) for s in schedules] == ["0011", "0110", "0101", "1100", "1001", "1010"]


def test_preemption_bound_zero_runs_each_thread_to_completion():
    schedules = run(independent(3, 2), Exhaustive(preemption_bound=0, por=False))
    assert sorted(threads_of(s) for s in schedules) == sorted(
        "".join(t * 2 for t in order) for order in itertools.permutations("012")
    )


# -- partial-order reduction: sound, and it reduces ---------------------------


@pytest.mark.parametrize("bound", BOUNDS)
def test_with_reduction_independent_threads_run_one_schedule(bound):
    strategy = Exhaustive(preemption_bound=bound, por=True)
    assert len(run(independent(3, 3), strategy)) == 1
    assert strategy.exhaustive


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("bound", BOUNDS)
def test_with_reduction_the_example_programs_reach_every_final_state(name, bound):
    program = PROGRAMS[name]
    assert finals(program, Exhaustive(preemption_bound=bound)) == brute_force(program, bound)[1]


@pytest.mark.slow
def test_reduction_explores_far_fewer_schedules_on_a_locked_counter():
    # Three threads, each: lock; read; increment; unlock; plus private work.
    program = tuple((("w", 1 + t, 1), ("acq", 0), ("inc", 0), ("rel", 0), ("w", 1 + t, 2)) for t in range(3))
    plain, reduced = (Exhaustive(preemption_bound=None, por=por) for por in (False, True))
    assert finals(program, plain) == finals(program, reduced)
    # 3! orders of the critical sections; each run's private steps fold away.
    assert plain.stats().schedules == 13356
    assert reduced.stats().schedules == 6


def program_shapes(max_threads: int = 3, max_ops: int = 8):
    """Hypothesis strategy: small toy programs with balanced lock blocks."""
    var, lock = st.integers(0, 1), st.integers(0, 1)
    simple = st.one_of(
        st.tuples(st.just("r"), var),
        st.tuples(st.just("w"), var, st.integers(1, 2)),
        st.tuples(st.just("inc"), var),
        st.just(("choose", 2)),
        st.tuples(st.just("peek"), lock),
        st.just(("line",)),
    )

    def locked(l: int):
        inner = st.lists(
            st.one_of(simple, st.sampled_from([("wait", l), ("notify", l), ("notify_all", l)])),
            max_size=2,
        )
        return inner.map(lambda ops: [("acq", l), *ops, ("rel", l)])

    block = st.one_of(simple.map(lambda op: [op]), lock.flatmap(locked))
    thread = st.lists(block, min_size=1, max_size=3).map(
        lambda blocks: tuple(op for b in blocks for op in b)
    )

    @st.composite
    def build(draw):
        n = draw(st.integers(2, max_threads))
        threads = tuple(draw(thread) for _ in range(n))
        assume(sum(map(len, threads)) <= max_ops)
        return threads

    return build()


def reaches_every_state(program: Program, bound: int | None, make=Exhaustive) -> bool:
    """The property under test: reduced search reaches what plain search reaches."""
    return finals(program, make(preemption_bound=bound)) == brute_force(program, bound)[1]


@pytest.mark.slow
@settings(max_examples=max(300, settings().max_examples))
@given(program_shapes())
def test_reduction_reaches_the_same_final_states_as_plain_search(program):
    for bound in BOUNDS:
        plain = Exhaustive(preemption_bound=bound, por=False)
        expected = brute_force(program, bound)[1]
        assert finals(program, plain) == expected
        assert finals(program, Exhaustive(preemption_bound=bound)) == expected, bound


@st.composite
def main_with_workers(draw):
    """Thread 0 starts the others, maybe touches shared state, joins them, reads."""
    workers = draw(program_shapes(max_threads=3, max_ops=6))
    main = [("spawn", t + 1) for t in range(len(workers))]
    extra = draw(st.sampled_from([[], [("w", 0, 3)], [("acq", 0), ("inc", 1), ("rel", 0)]]))
    main[1:1] = extra
    main += [("join", t + 1) for t in range(len(workers))] + [("r", 0), ("r", 1)]
    return (tuple(main), *workers)


@pytest.mark.slow
@given(main_with_workers())
def test_reduction_is_sound_when_threads_are_started_and_joined(program):
    for bound in BOUNDS:
        assert reaches_every_state(program, bound), bound


# -- the property above can fail: broken variants are caught -----------------


def test_the_soundness_check_catches_a_reduction_that_ignores_dependence(monkeypatch):
    program = PROGRAMS["shared variable"]
    assert reaches_every_state(program, None)
    monkeypatch.setattr(dpor, "dependent", lambda a, b: False)
    assert not reaches_every_state(program, None)
    assert not reaches_every_state(program, 2)


class _NoConservativePoints(Exhaustive):
    """Bounded DPOR without Coons et al.'s compensation: unsound."""

    def _conservative_point(self, i):
        return None


class _AddTheRacer(Exhaustive):
    """Flanagan & Godefroid's "add the racing thread" with sleep sets: unsound.

    The racing thread may be asleep where the race began while another
    initial of the reversal is not.
    """

    def _initials(self, i, p, op, m):
        return None if p in self._covered(self._steps[i]) else [p]


def test_bounded_reduction_needs_the_backtrack_point_at_the_last_context_switch():
    # Reversing inc(1) and w(1) at the race needs a preemption; at bound 0 it
    # is reachable only by running thread 1 first, from the context switch.
    program = ((("inc", 0), ("inc", 1)), (("w", 1, 2),))
    assert reaches_every_state(program, 0)
    assert not reaches_every_state(program, 0, make=_NoConservativePoints)


def test_sleep_sets_need_the_source_set_choice_of_backtrack_thread():
    # Thread 0's r(0) races with thread 2's w(0), but reversing it also needs
    # thread 1's w(1) between thread 2's r(1) and thread 0's r(1); adding
    # thread 0 (asleep there) loses that state, adding an initial does not.
    program = ((("r", 1), ("r", 0)), (("w", 1, 1),), (("r", 1), ("w", 0, 1)))
    assert reaches_every_state(program, None)
    assert not reaches_every_state(program, None, make=_AddTheRacer)


class _SleepRegardlessOfCost(Exhaustive):
    """Sleep sets under a bound without the preemption-cost admission rule."""

    @staticmethod
    def _may_sleep(node, u):
        return True


class _SleepAcrossBlocking(Exhaustive):
    """Sleep sets under a bound that survive a switch after a thread blocked."""

    def _blocked_switch(self, current):
        return False


def test_bounded_sleep_sets_admit_only_threads_whose_schedules_cost_no_more():
    # Thread 0, explored first at the (free) first point and still runnable
    # after its step, must not sleep under thread 1: the schedule it would
    # stand for pays a preemption the pruned one does not, and at bound 1
    # "1: w(1); 0: inc(0), inc(1); 1: r(1)" is then lost.
    program = ((("inc", 0), ("inc", 1)), (("w", 1, 1), ("r", 1)))
    assert reaches_every_state(program, 1)
    assert not reaches_every_state(program, 1, make=_SleepRegardlessOfCost)


def test_bounded_sleep_sets_wake_up_where_a_thread_blocked():
    # Thread 0's set would enable thread 2's await: run earlier, it turns the
    # free switch after thread 2 blocked into a preemption.
    program = ((("set", 1),), (("acq", 2), ("inc", 0), ("rel", 2), ("clear", 1)), (("r", 1), ("r", 0), ("await", 1)))
    assert reaches_every_state(program, 0)
    assert not reaches_every_state(program, 0, make=_SleepAcrossBlocking)


# -- blocking and value choices ----------------------------------------------


def test_every_waiter_a_notify_can_wake_is_explored():
    program = PROGRAMS["condition"]
    for por in (False, True):
        states = finals(program, Exhaustive(preemption_bound=None, por=por))
        stuck = {tuple(t for t, status in enumerate(f[2]) if status != "done") for f in states}
        # Both woken, or a notify lost (sent before a wait), leaving either stuck.
        assert stuck == {(), (0,), (1,), (0, 1)}, por


def test_every_value_of_a_choice_is_explored():
    program = ((("choose", 3),),)
    logs = {f[1][0] for f in finals(program, Exhaustive())}
    assert logs == {(("c", 0),), (("c", 1),), (("c", 2),)}


def test_a_lock_order_deadlock_needs_one_preemption():
    program = (
        (("acq", 0), ("acq", 1), ("rel", 1), ("rel", 0)),
        (("acq", 1), ("acq", 0), ("rel", 0), ("rel", 1)),
    )
    for bound in (0, 1):
        schedules = run(program, Exhaustive(preemption_bound=bound))
        assert any(s.deadlock for s in schedules) == (bound == 1)


def test_spurious_wakeups_are_not_explored_when_off():
    class Body:
        def __init__(self, strategy):
            self.values = []
            while strategy.begin_schedule():
                self.values.append(strategy.next_value("spurious", 2))
                strategy.end_schedule(False)

    assert Body(Exhaustive(spurious_wakeups=False)).values == [0]
    assert Body(Exhaustive(spurious_wakeups=True)).values == [0, 1]


# -- budget, determinism, replay, memory -------------------------------------


def test_stopping_early_leaves_exhaustive_false():
    strategy = Exhaustive(preemption_bound=None, por=False)
    assert len(run(independent(2, 3), strategy, max_schedules=5)) == 5
    assert not strategy.exhaustive
    assert strategy.stats().schedules == 5
    assert "stopped before" in strategy.summary()


def test_exhaustive_becomes_true_when_the_tree_is_covered_and_stays_over():
    strategy = Exhaustive(preemption_bound=1)
    run(PROGRAMS["locks"], strategy)
    assert strategy.exhaustive and "every interleaving covered" in strategy.summary()
    assert not strategy.begin_schedule()


@pytest.mark.parametrize("por", [False, True])
def test_two_searches_run_the_same_schedules_in_the_same_order(por):
    program = PROGRAMS["locks"]
    a, b = (run(program, Exhaustive(preemption_bound=2, por=por)) for _ in range(2))
    assert [s.choices for s in a] == [s.choices for s in b]


def test_a_replay_that_meets_other_runnable_threads_is_nondeterminism():
    strategy = Exhaustive(preemption_bound=None, por=False)
    run(((("w", 0, 1),), (("w", 0, 2),)), strategy, max_schedules=1)
    # The "same" body now has one thread: the recorded prefix cannot be replayed.
    with pytest.raises(Nondeterminism, match="can run"):
        run(((("w", 0, 1),),), strategy, max_schedules=1)


@pytest.mark.parametrize("por", [False, True])
def test_memory_is_the_current_path_only(por):
    program = PROGRAMS["locks"]
    strategy = Exhaustive(preemption_bound=None, por=por)
    depths = []
    run(program, strategy, on_schedule=lambda s: depths.append((len(strategy._path), len(s.choices))))
    assert all(path <= choices for path, choices in depths)
    assert strategy.stats().max_depth == max(choices for _, choices in depths)


# -- sharding ------------------------------------------------------------------


def owned_schedules(program: Program, strategy: Exhaustive) -> list[tuple]:
    """The choices of each run the strategy counted as one of its schedules."""
    owned = []

    def keep(sched):
        if strategy.stats().schedules > len(owned):
            owned.append(tuple(sched.choices))

    run(program, strategy, on_schedule=keep)
    assert strategy.exhaustive
    return owned


@pytest.mark.parametrize("n", [2, 3, 5])
@pytest.mark.parametrize("bound", [None, 1])
def test_shards_without_reduction_partition_the_schedules(n, bound):
    program = PROGRAMS["locks"]
    whole = owned_schedules(program, Exhaustive(preemption_bound=bound, por=False))
    parts = [
        owned_schedules(program, Exhaustive(preemption_bound=bound, por=False, shard=(i, n)))
        for i in range(n)
    ]
    assert sum(map(len, parts)) == len(whole)
    assert sorted(itertools.chain(*parts)) == sorted(whole)
    assert all(parts)  # every shard has work


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("bound", [None, 2])
def test_shards_with_reduction_reach_every_final_state_between_them(n, bound):
    program = PROGRAMS["locks"]
    expected = brute_force(program, bound)[1]
    together = Exhaustive(preemption_bound=bound, shard=(0, 1), split_levels=3)
    assert finals(program, together) == expected
    reached, counted = set(), 0
    for i in range(n):
        strategy = Exhaustive(preemption_bound=bound, shard=(i, n), split_levels=3)
        reached |= finals(program, strategy)
        counted += strategy.stats().schedules
    assert reached == expected
    # One process with the same split explores exactly the union.
    assert counted == together.stats().schedules


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="preemption_bound"):
        Exhaustive(preemption_bound=-1)
    with pytest.raises(ValueError, match="shard"):
        Exhaustive(shard=(2, 2))
