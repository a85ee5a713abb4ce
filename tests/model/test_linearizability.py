"""The linearizability checker on hand-made histories with known verdicts.

Times are positions in one event order: ("A", "put", (1,), None, 0, 3) is a
put(1) by thread A invoked at 0 that returned None at 3; a response of None
in the last column makes the operation pending.
"""

import pytest

from model.errors import CheckFailed, ModelError
from model.history import History, Operation
from model.linearizability import (
    LinearizabilityError,
    SpecError,
    Verdict,
    _cut,
    assert_linearizable,
    check_history,
)
from model.specs import PENDING, ByKey, Call, QueueSpec, Raised

H = History.from_rows
FULL, EMPTY, CLOSED = Raised("Full"), Raised("Empty"), Raised("Closed")


def verdict(rows, spec=None):
    return check_history(H(rows), spec or QueueSpec()).verdict


OK, NOT = Verdict.OK, Verdict.NOT_LINEARIZABLE


# -- Herlihy & Wing (1990)'s FIFO queue examples ----------------------------------


def test_overlapping_enqueues_may_take_effect_in_either_order():
    # A's enq(x) spans B's enq(y); the dequeues return y then x: enq(y) took effect first.
    rows = [
        ("A", "put", ("x",), None, 0, 3),
        ("B", "put", ("y",), None, 1, 2),
        ("B", "get", (), "y", 4, 5),
        ("A", "get", (), "x", 6, 7),
    ]
    assert verdict(rows) is OK


def test_a_dequeue_cannot_return_a_later_enqueue_first():
    # enq(x) returned before enq(y) was invoked, so x is ahead of y.
    rows = [
        ("A", "put", ("x",), None, 0, 1),
        ("B", "put", ("y",), None, 2, 3),
        ("A", "get", (), "y", 4, 5),
    ]
    assert verdict(rows) is NOT


def test_a_dequeue_overlapping_the_enqueue_may_see_its_item():
    rows = [
        ("A", "put", ("x",), None, 0, 4),
        ("B", "put", ("y",), None, 1, 2),
        ("B", "get", (), "y", 3, 5),
    ]
    assert verdict(rows) is OK


def test_an_item_cannot_be_dequeued_before_its_enqueue_was_invoked():
    rows = [("A", "get", (), "x", 0, 1), ("B", "put", ("x",), None, 2, 3)]
    assert verdict(rows) is NOT


def test_an_item_cannot_be_dequeued_twice():
    rows = [
        ("A", "put", ("x",), None, 0, 1),
        ("A", "get", (), "x", 2, 3),
        ("B", "get", (), "x", 4, 5),
    ]
    assert verdict(rows) is NOT
    concurrent = [("A", "put", ("x",), None, 0, 1), ("A", "get", (), "x", 2, 4), ("B", "get", (), "x", 3, 5)]
    assert verdict(concurrent) is NOT


def test_empty_needs_an_instant_when_the_queue_was_empty():
    put_then_empty = [("A", "put", (1,), None, 0, 1), ("B", "get_nowait", (), EMPTY, 2, 3)]
    assert verdict(put_then_empty) is NOT
    overlapping = [("A", "put", (1,), None, 0, 3), ("B", "get_nowait", (), EMPTY, 1, 2)]
    assert verdict(overlapping) is OK


def test_capacity_is_respected_across_threads():
    spec = QueueSpec(1)
    two_puts = [("A", "put", (1,), None, 0, 1), ("B", "put", (2,), None, 2, 3)]
    assert verdict(two_puts, spec) is NOT
    room_made = two_puts[:1] + [("C", "get", (), 1, 2, 5), ("B", "put", (2,), None, 3, 4)]
    assert verdict(room_made, spec) is OK  # the get overlaps the put: it may have made room


def test_the_overlapping_pair_is_ordered_by_what_later_operations_saw():
    pair = [("A", "put", (1,), None, 0, 3), ("B", "put", (2,), None, 1, 2)]
    first_1 = check_history(H(pair + [("C", "get", (), 1, 4, 5), ("C", "get", (), 2, 6, 7)]), QueueSpec())
    first_2 = check_history(H(pair + [("C", "get", (), 2, 4, 5), ("C", "get", (), 1, 6, 7)]), QueueSpec())
    assert first_1.ok and first_2.ok
    assert first_1.linearization == (0, 1, 2, 3)
    assert first_2.linearization == (1, 0, 2, 3)


def test_an_empty_history_is_linearizable():
    result = check_history(History([]), QueueSpec())
    assert result.ok and result.linearization == ()


# -- pending operations ----------------------------------------------------------------


def test_a_pending_put_may_have_taken_effect():
    rows = [("A", "put", (1,), None, 0, None), ("B", "get", (), 1, 1, 2)]
    assert verdict(rows) is OK


def test_a_pending_put_may_not_have_taken_effect():
    rows = [("A", "put", (1,), None, 0, None), ("B", "get_nowait", (), EMPTY, 1, 2)]
    assert verdict(rows) is OK


def test_a_pending_get_may_have_taken_the_front_item():
    rows = [
        ("A", "put", (1,), None, 0, 1),
        ("A", "put", (2,), None, 2, 3),
        ("B", "get", (), None, 4, None),
        ("A", "get", (), 2, 5, 6),
    ]
    assert verdict(rows) is OK


def test_a_pending_operation_cannot_act_before_its_invocation():
    rows = [("B", "get", (), 1, 0, 1), ("A", "put", (1,), None, 2, None)]
    assert verdict(rows) is NOT


def test_a_pending_close_may_explain_closed():
    rows = [("A", "close", (), None, 0, None), ("B", "put", (1,), CLOSED, 1, 2)]
    assert verdict(rows) is OK
    before = [("B", "put", (1,), CLOSED, 0, 1), ("A", "close", (), None, 2, None)]
    assert verdict(before) is NOT


def test_a_pending_put_many_may_have_put_any_prefix_in_order():
    rows = [("A", "put_many", ([1, 2, 3],), None, 0, None), ("B", "get_many", (5,), [1, 2], 1, 2)]
    assert verdict(rows) is OK
    out_of_order = [("A", "put_many", ([1, 2, 3],), None, 0, None), ("B", "get", (), 2, 1, 2)]
    assert verdict(out_of_order) is NOT


def test_a_spec_without_pending_cannot_judge_pending_operations():
    class NoPending:
        def init(self):
            return 0

        def step(self, state, call, result):
            return True, state

    with pytest.raises(SpecError, match="no pending"):
        check_history(H([("A", "f", (), None, 0, None)]), NoPending())
    assert issubclass(SpecError, ModelError) and issubclass(SpecError, TypeError)


# -- batches -------------------------------------------------------------------------


def test_other_puts_may_land_between_the_items_of_one_put_many():
    rows = [
        ("A", "put_many", ([1, 2],), 2, 0, 5),
        ("B", "put", ("b",), None, 1, 2),
        ("C", "get_many", (9,), [1, "b", 2], 6, 7),
    ]
    assert verdict(rows, QueueSpec(1 + 2)) is OK


def test_the_items_of_one_put_many_keep_their_order():
    rows = [("A", "put_many", ([1, 2],), 2, 0, 1), ("C", "get_many", (9,), [2, 1], 2, 3)]
    assert verdict(rows) is NOT


def test_put_many_timeout_tells_exactly_which_items_went_in():
    full = Raised("Full", "", (("accepted", 1),))
    rows = [
        ("A", "put_many", ([1, 2],), full, 0, 1, {"timeout": 0.1}),
        ("B", "get_many", (9,), [1], 2, 3),
    ]
    assert verdict(rows, QueueSpec(1)) is OK
    assert verdict(rows, QueueSpec(2)) is NOT  # there was room for 2: no timeout
    rows[1] = ("B", "get_many", (9,), [1, 2], 2, 3)
    assert verdict(rows, QueueSpec(1)) is NOT  # 2 never went in


def test_get_many_takes_everything_available_at_one_instant():
    rows = [("A", "put_many", ([1, 2],), 2, 0, 1), ("B", "get_many", (5,), [1], 2, 3)]
    assert verdict(rows) is NOT


# -- independent parts ------------------------------------------------------------------


def topics():
    return ByKey(QueueSpec(), key=lambda call: call.args[0], project=lambda call: Call(call.name, call.args[1:], call.kwargs))


def test_independent_topics_are_checked_apart_and_the_witness_names_the_caller_s_calls():
    rows = [
        ("A", "put", ("t1", 1), None, 0, 1),
        ("A", "put", ("t2", 1), None, 2, 3),
        ("A", "put", ("t1", 2), None, 4, 5),
        ("B", "get", ("t2",), 1, 6, 7),
        ("B", "get", ("t1",), 2, 8, 9),
    ]
    result = check_history(H(rows), topics())
    assert result.verdict is NOT
    assert [str(op.call) for op in result.witness] == ["put('t1', 1)", "put('t1', 2)", "get('t1')"]
    rows[-1] = ("B", "get", ("t1",), 1, 8, 9)
    result = check_history(H(rows), topics())
    assert result.ok and sorted(result.linearization) == [0, 1, 2, 3, 4]


def test_by_key_delegates_to_its_spec():
    spec = topics()
    assert spec.init() == QueueSpec().init()
    assert repr(spec) == "ByKey(QueueSpec(capacity=None))"
    assert spec.removal_units is not None
    with pytest.raises(AttributeError):
        spec.no_such_method


# -- the witness ----------------------------------------------------------------------


def units_of(witness):
    return QueueSpec().removal_units(list(witness))


def assert_minimal(result, spec):
    """The witness is not linearizable, and removing any one removal unit makes it so."""
    witness = result.witness
    assert result.minimal
    assert check_history(witness, spec).verdict is NOT
    for unit in spec.removal_units(list(witness)):
        rest = History(op for op in witness if op.id not in unit)
        assert check_history(rest, spec).ok, f"still not linearizable without {sorted(unit)}"


LONG_BAD_HISTORY = (
    # Twenty good put/get pairs, then a FIFO violation, then twenty more good pairs.
    [row for i in range(20) for row in (("A", "put", (i,), None, 4 * i, 4 * i + 1), ("B", "get", (), i, 4 * i + 2, 4 * i + 3))]
    + [
        ("A", "put", ("x",), None, 80, 81),
        ("A", "put", ("y",), None, 82, 83),
        ("B", "qsize", (), 2, 84, 85),
        ("B", "get", (), "y", 86, 87),
        ("B", "get", (), "x", 88, 89),
    ]
    + [row for i in range(20) for row in (("A", "put", (i,), None, 90 + 4 * i, 91 + 4 * i), ("B", "get", (), i, 92 + 4 * i, 93 + 4 * i))]
)


def test_the_witness_is_small_minimal_and_still_not_linearizable():
    spec = QueueSpec()
    result = check_history(H(LONG_BAD_HISTORY), spec)
    assert result.verdict is NOT
    assert [str(op) for op in result.witness] == ["put('x') -> None", "put('y') -> None", "get() -> 'y'"]
    assert_minimal(result, spec)


@pytest.mark.parametrize(
    "rows",
    [
        # Concurrent getters both take x.
        [("A", "put", ("x",), None, 0, 1), ("B", "get", (), "x", 2, 5), ("C", "get", (), "x", 3, 4), ("A", "put", ("y",), None, 6, 7)],
        # An overflow: three completed puts into a queue of two, then a drain.
        [("A", "put", (1,), None, 0, 1), ("B", "put", (2,), None, 2, 3), ("C", "put", (3,), None, 4, 5),
         ("A", "get", (), 1, 6, 7), ("A", "get", (), 2, 8, 9), ("A", "get", (), 3, 10, 11)],
        # qsize disagrees with the puts it overlapped.
        [("A", "put", (1,), None, 0, 3), ("B", "qsize", (), 2, 1, 2), ("A", "get", (), 1, 4, 5)],
        # A get that returned after close although the queue was drained.
        [("A", "put", (1,), None, 0, 1), ("A", "close", (), None, 2, 3), ("B", "get", (), 1, 4, 5),
         ("B", "get", (), 1, 6, 7)],
    ],
)
def test_witnesses_of_assorted_bugs_are_minimal(rows):
    spec = QueueSpec(2)
    result = check_history(H(rows), spec)
    assert result.verdict is NOT
    assert_minimal(result, spec)
    assert "NotLinearizable" in result.report()


def test_operations_in_flight_at_the_cut_are_pending_and_dropped_when_they_can_be():
    rows = [
        ("A", "put", (1,), None, 0, 1),
        ("A", "put", (2,), None, 2, 3),
        ("C", "qsize", (), 2, 4, 9),  # still running when the bad get returns: read-only, dropped
        ("B", "get", (), 2, 5, 6),
        ("B", "get", (), 1, 7, 8),
    ]
    result = check_history(H(rows), QueueSpec())
    assert [str(op) for op in result.witness] == ["put(1) -> None", "put(2) -> None", "get() -> 2"]


def test_a_get_in_flight_at_the_cut_stays_pending_in_the_witness():
    rows = [
        ("A", "put", (1,), None, 0, 1),
        ("A", "put", (2,), None, 2, 3),
        ("C", "get", (), 3, 4, 11),  # may have taken 1 before B's gets: cannot be dropped
        ("B", "get", (), 2, 5, 6),
        ("B", "get", (), 1, 7, 8),
        ("A", "put", (3,), None, 9, 10),
    ]
    result = check_history(H(rows), QueueSpec())
    assert [str(op) for op in result.witness] == [
        "put(1) -> None", "put(2) -> None", "get() pending", "get() -> 2", "get() -> 1",
    ]
    assert_minimal(result, QueueSpec())
    assert "once get() -> 1 (B) returned: calls invoked after that are left out, and calls still running then are shown (pending)." in result.report()


def test_cut_keeps_what_was_invoked_and_makes_calls_in_flight_pending():
    history = H([("A", "put", (1,), None, 0, 3), ("B", "get", (), 1, 1, 2), ("A", "get", (), 1, 4, 5)])
    cut = _cut(list(history), 2)
    assert [(op.id, op.pending) for op in cut] == [(0, True), (1, False)]
    assert cut[0].result is PENDING


def test_without_removal_units_the_witness_removes_single_operations():
    class Counter:  # a register that only counts up: every operation is independent
        def init(self):
            return 0

        def step(self, state, call, result):
            return result == state + 1, state + 1

    rows = [("A", "inc", (), 1, 0, 1), ("A", "inc", (), 2, 2, 3), ("B", "inc", (), 2, 4, 5)]
    result = check_history(H(rows), Counter())
    assert result.verdict is NOT and result.minimal


def test_the_report_shows_the_witness_as_a_per_thread_timeline():
    result = check_history(H(LONG_BAD_HISTORY), QueueSpec())
    report = result.report()
    assert report.startswith(
        "NotLinearizable: no order of these 3 operations (of the 85 operations from 2 threads) "
        "is a run of QueueSpec(capacity=None):\n\n  A                 B\n"
    )
    assert "  put('x') -> None\n  put('y') -> None\n                    get() -> 'y'\n" in report
    assert "Removing any one of them" in report
    assert str(result) == report


# -- verdicts other than NotLinearizable ---------------------------------------------------


def test_a_time_limit_that_runs_out_gives_unknown_never_ok():
    rows = [("A", "put", (i,), None, 2 * i, 2 * i + 1) for i in range(10)]
    result = check_history(H(rows), QueueSpec(), time_limit=0)
    assert result.verdict is Verdict.UNKNOWN and not result.ok
    assert result.linearization is None and result.witness is None
    assert "not a pass" in result.report() and "time limit of 0 s" in result.report()
    with pytest.raises(LinearizabilityError) as caught:
        assert_linearizable(H(rows), QueueSpec(), time_limit=0)
    assert caught.value.result.verdict is Verdict.UNKNOWN


def test_minimising_out_of_time_still_gives_a_witness_but_not_a_minimal_one():
    result = check_history(H(LONG_BAD_HISTORY), QueueSpec(), minimise_time_limit=0)
    assert result.verdict is NOT and not result.minimal
    assert "Not shrunk to a minimum" in result.report()
    assert check_history(result.witness, QueueSpec()).verdict is NOT
    unminimised = check_history(H(LONG_BAD_HISTORY), QueueSpec(), minimise=False)
    assert len(unminimised.witness) == len(LONG_BAD_HISTORY)


def test_assert_linearizable_returns_the_result_or_raises_with_the_report():
    good = H([("A", "put", (1,), None, 0, 1)])
    assert assert_linearizable(good, QueueSpec()).ok
    with pytest.raises(LinearizabilityError, match="NotLinearizable"):
        assert_linearizable(H(LONG_BAD_HISTORY), QueueSpec())
    assert issubclass(LinearizabilityError, CheckFailed) and issubclass(LinearizabilityError, AssertionError)


def test_the_ok_report_gives_the_size_and_the_search_cost():
    report = check_history(H([("A", "put", (1,), None, 0, 1)]), QueueSpec()).report()
    assert report.startswith("Ok: linearizable against QueueSpec(capacity=None): 1 operation from 1 thread (1 configuration, ")


def test_unhashable_states_are_explained():
    with pytest.raises(TypeError, match="items must be hashable"):
        check_history(H([("A", "put", ([1],), None, 0, 1)]), QueueSpec())


@pytest.mark.slow
def test_a_long_sequential_history_needs_no_recursion():
    rows = []
    for i in range(5000):
        rows += [("A", "put", (i,), None, 4 * i, 4 * i + 1), ("A", "get", (), i, 4 * i + 2, 4 * i + 3)]
    result = check_history(H(rows), QueueSpec(1))
    assert result.ok and len(result.linearization) == 10_000


def test_operation_results_for_split_operations_repeat_the_id_per_step():
    rows = [("A", "put_many", ([1, 2],), 2, 0, 1)]
    assert check_history(H(rows), QueueSpec()).linearization == (0, 0)


def test_a_pending_operation_with_a_spec_returning_several_states_tries_each():
    class Choice:  # a pending "pick" may leave 1 or 2; a read must see what it left
        def init(self):
            return 0

        def step(self, state, call, result):
            return result == state, state

        def pending(self, state, call):
            return (1, 2)

    rows = [("A", "pick", (), None, 0, None), ("B", "read", (), 2, 1, 2)]
    assert check_history(H(rows), Choice()).ok
    rows = [("A", "pick", (), None, 0, None), ("B", "read", (), 3, 1, 2)]
    assert check_history(H(rows), Choice()).verdict is NOT


def test_histories_with_operations_built_directly_work_too():
    ops = [Operation(7, "A", Call("put", (1,)), 0, 1, None), Operation(3, "B", Call("get"), 2, 3, 1)]
    assert check_history(History(ops), QueueSpec()).linearization == (7, 3)


# -- restarts that learn -----------------------------------------------------------------


def misleading_history(groups=8):
    """put(x) and put(y) overlap; y's put returns first, but x came out first.

    The gets of x and y overlap each other and come after every group of
    three concurrent puts; only a qsize between them, which saw one item
    gone when only the get of x had started, tells that x was first.  A
    search that puts y first finds out at the end and must refute every
    order of every group (6 ** groups) before it gets back that far.
    """
    rows = [("A", "put", ("x",), None, 0, 10), ("B", "put", ("y",), None, 1, 2)]
    t = 20
    for g in range(groups):
        rows += [("C", "put", ((g, 0),), None, t, t + 5), ("D", "put", ((g, 1),), None, t + 1, t + 4),
                 ("E", "put", ((g, 2),), None, t + 2, t + 3)]
        t += 10
    size = 2 + 3 * groups
    rows += [("F", "get", (), "x", t, t + 5), ("H", "qsize", (), size - 1, t + 1, t + 2),
             ("G", "get", (), "y", t + 3, t + 6)]
    t += 10
    for g in range(groups):
        for k in range(3):
            rows.append(("F", "get", (), (g, k), t, t + 1))
            t += 2
    return H(rows)


def test_restarts_learn_the_put_order_the_first_search_got_wrong():
    class Unpruned(QueueSpec):  # without dead_end, so only learning can save the search
        dead_end = None
        lessons = []

        def learn(self, operations):
            learn = super().learn(operations)

            def recorded(state, call, result):
                facts = learn(state, call, result)
                self.lessons.extend(facts)
                return facts

            return recorded

    spec = Unpruned()
    result = check_history(misleading_history(), spec, time_limit=60)
    assert result.ok
    assert ("x", "y") in spec.lessons
    assert result.configurations < 100_000


def test_without_hints_the_plain_search_gives_the_same_verdicts():
    class Plain(QueueSpec):
        search_order = dead_end = learn = None

    for rows in (LONG_BAD_HISTORY, [("A", "put", (1,), None, 0, 3), ("B", "put", (2,), None, 1, 2),
                                    ("C", "get", (), 2, 4, 5), ("C", "get", (), 1, 6, 7)]):
        assert check_history(H(rows), Plain()).verdict is check_history(H(rows), QueueSpec()).verdict
    assert check_history(misleading_history(groups=3), Plain()).ok
