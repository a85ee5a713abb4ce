"""The queue spec on its own: each row of its table, purity, and agreement with queue.Queue."""

import queue
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.history import History
from model.specs import PENDING, Call, QueueSpec, Raised

FULL, EMPTY, CLOSED = Raised("Full"), Raised("Empty"), Raised("Closed")


def put(item, **kw):
    return Call("put", (item,), kw)


def get(**kw):
    return Call("get", (), kw)


def run(spec, *steps, state=None):
    """Apply (call, result) steps in order; return the final state, failing on the first refusal."""
    state = spec.init() if state is None else state
    for call, result in steps:
        ok, state = spec.step(state, call, result)
        assert ok, f"{call} -> {result!r} refused"
    return state


def allows(spec, state, call, result):
    return spec.step(state, call, result)[0]


def test_items_come_out_in_the_order_they_went_in():
    spec = QueueSpec()
    state = run(spec, (put(1), None), (put(2), None), (put(3), None))
    assert allows(spec, state, get(), 1)
    assert not allows(spec, state, get(), 2)
    assert run(spec, (get(), 1), (get(), 2), (get(), 3), state=state) == ((), False)


def test_a_full_queue_refuses_a_put_and_only_a_put_that_may_give_up_reports_full():
    spec = QueueSpec(2)
    state = run(spec, (put(1), None), (put(2), None))
    assert not allows(spec, state, put(3), None)
    assert not allows(spec, state, put(3), FULL)  # a blocking put waits, never raises Full
    assert allows(spec, state, put(3, timeout=0.1), FULL)
    assert allows(spec, state, put(3, timeout=0), FULL)
    assert allows(spec, state, Call("put_nowait", (3,)), FULL)
    assert allows(spec, state, put(3, block=False), FULL)  # queue.Queue's keyword
    assert allows(spec, state, Call("put", (3, 0.5)), FULL)  # timeout given positionally
    assert spec.step(state, put(3, timeout=1), FULL)[1] == state


def test_a_put_with_room_must_succeed():
    spec = QueueSpec(2)
    assert not allows(spec, spec.init(), put(1, timeout=1), FULL)
    assert not allows(spec, spec.init(), put(1), CLOSED)


def test_an_unbounded_queue_is_never_full():
    spec = QueueSpec(None)
    state = run(spec, *[(put(i), None) for i in range(100)])
    assert not allows(spec, state, put(100, timeout=0), FULL)


def test_an_empty_queue_gives_empty_only_to_a_get_that_may_give_up():
    spec = QueueSpec()
    empty = spec.init()
    assert allows(spec, empty, get(timeout=0.5), EMPTY)
    assert allows(spec, empty, Call("get_nowait"), EMPTY)
    assert allows(spec, empty, get(block=False), EMPTY)
    assert not allows(spec, empty, get(), EMPTY)
    assert not allows(spec, empty, get(timeout=1), None)
    state = run(spec, (put("x"), None))
    assert not allows(spec, state, get(timeout=0), EMPTY)


def test_priority_serves_higher_first_and_fifo_among_equals_and_zero_when_absent():
    spec = QueueSpec(priority=True)
    low, high1, high2 = SimpleNamespace(priority=-1), SimpleNamespace(priority=5), SimpleNamespace(priority=5)
    plain = "no priority attribute"
    state = run(spec, (put(low), None), (put(high1), None), (put(plain), None), (put(high2), None))
    assert state == ((high1, high2, plain, low), False)
    assert run(spec, (get(), high1), (get(), high2), (get(), plain), (get(), low), state=state)[0] == ()


def test_fifo_spec_ignores_priority():
    spec = QueueSpec()
    item = SimpleNamespace(priority=9)
    state = run(spec, (put("a"), None), (put(item), None))
    assert allows(spec, state, get(), "a")


def test_close_refuses_puts_and_lets_gets_drain_then_raises_closed():
    spec = QueueSpec(1)
    state = run(spec, (put("last"), None), (Call("close"), None))
    assert state == (("last",), True)
    assert allows(spec, state, put("x"), CLOSED)
    assert allows(spec, state, put("x", timeout=0), CLOSED)  # closed wins over full
    assert not allows(spec, state, put("x", timeout=0), FULL)
    assert not allows(spec, state, get(), CLOSED)  # an item is still inside
    drained = run(spec, (get(), "last"), state=state)
    assert allows(spec, drained, get(), CLOSED)
    assert allows(spec, drained, get(timeout=0), CLOSED)
    assert not allows(spec, drained, get(timeout=0), EMPTY)
    assert run(spec, (Call("close"), None), state=drained) == drained  # idempotent


def test_qsize_and_len_report_the_number_of_items():
    spec = QueueSpec()
    state = run(spec, (put(1), None), (put(2), None))
    for name in ("qsize", "__len__"):
        assert allows(spec, state, Call(name), 2)
        assert not allows(spec, state, Call(name), 1)
        assert not allows(spec, state, Call(name), True)  # not an int count


def test_get_many_returns_every_available_item_up_to_max_items():
    spec = QueueSpec()
    state = run(spec, (put(1), None), (put(2), None), (put(3), None))
    assert allows(spec, state, Call("get_many", (2,)), [1, 2])
    assert not allows(spec, state, Call("get_many", (2,)), [1])
    assert not allows(spec, state, Call("get_many", (2,)), [2, 3])
    assert spec.step(state, Call("get_many", (5,)), [1, 2, 3]) == (True, ((), False))
    assert allows(spec, spec.init(), Call("get_many", (5, 0)), EMPTY)
    assert not allows(spec, spec.init(), Call("get_many", (5,)), [])


def test_put_many_is_a_put_of_each_item_in_order():
    spec = QueueSpec(2)
    steps = spec.atomic_steps(Call("put_many", ([1, 2, 3],)), 3)
    assert steps == [(put(1), None), (put(2), None), (put(3), None)]
    full = Raised("Full", "", (("accepted", 1),))
    steps = spec.atomic_steps(Call("put_many", ([1, 2, 3],), {"timeout": 0.1}), full)
    assert steps == [(put(1, timeout=0.1), None), (put(2, timeout=0.1), full)]
    closed = Raised("Closed", "", (("accepted", 0),))
    assert spec.atomic_steps(Call("put_many", ([7],)), closed) == [(put(7), closed)]
    pending = spec.atomic_steps(Call("put_many", ([1, 2],)), PENDING)
    assert pending == [(put(1), PENDING), (put(2), PENDING)]
    assert spec.atomic_steps(put(1), None) is None


def test_put_many_results_that_cannot_be_split_are_refused():
    spec = QueueSpec()
    for result in (2, Raised("Full"), Raised("Full", "", (("accepted", 3),)), None):
        call = Call("put_many", ([1, 2, 3],), {"timeout": 1})
        assert spec.atomic_steps(call, result) is None
        assert not allows(spec, spec.init(), call, result)


def test_put_many_of_nothing_returns_zero_or_raises_closed():
    spec = QueueSpec()
    call = Call("put_many", ([],))
    assert allows(spec, spec.init(), call, 0)
    closed = run(spec, (Call("close"), None))
    assert allows(spec, closed, call, Raised("Closed", "", (("accepted", 0),)))
    assert not allows(spec, closed, call, 0)


@pytest.mark.parametrize(
    "call, error",
    [
        (put(1, timeout=-1), "ValueError"),
        (put(1, timeout=float("nan")), "ValueError"),
        (put(1, timeout="soon"), "TypeError"),
        (put(1, timeout=True), "TypeError"),
        (get(timeout=-0.5), "ValueError"),
        (Call("get_many", (0,)), "ValueError"),
        (Call("get_many", (1.5,)), "TypeError"),
        (Call("put_many", (None,)), "TypeError"),
    ],
)
def test_bad_arguments_raise_the_named_error_and_change_nothing(call, error):
    spec = QueueSpec(1)
    state = run(spec, (put("x"), None))
    assert spec.step(state, call, Raised(error)) == (True, state)
    assert not allows(spec, state, call, Raised("ValueError" if error == "TypeError" else "TypeError"))
    assert spec.atomic_steps(call, Raised(error)) is None
    assert tuple(spec.pending(state, call)) == ()


def test_good_arguments_never_raise_argument_errors():
    spec = QueueSpec()
    assert not allows(spec, spec.init(), put(1), Raised("TypeError"))


def test_a_pending_call_may_have_taken_effect():
    spec = QueueSpec(1)
    empty = spec.init()
    assert tuple(spec.pending(empty, put(1))) == (((1,), False),)
    one = ((1,), False)
    assert tuple(spec.pending(one, put(2))) == ()  # full: it is still waiting
    assert tuple(spec.pending(one, get())) == (((), False),)
    assert tuple(spec.pending(empty, get())) == ()
    assert tuple(spec.pending(one, Call("get_many", (3,)))) == (((), False),)
    assert tuple(spec.pending(empty, Call("close"))) == (((), True),)
    assert tuple(spec.pending(((), True), Call("close"))) == ()
    assert tuple(spec.pending(one, Call("qsize"))) == ()


def test_an_unknown_operation_is_named_in_the_error():
    with pytest.raises(ValueError, match="no operation 'peek'"):
        QueueSpec().step(QueueSpec().init(), Call("peek"), None)


def test_capacity_must_be_a_positive_int_or_none():
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match="'capacity'"):
            QueueSpec(bad)
    assert repr(QueueSpec(3, priority=True)) == "QueueSpec(capacity=3, priority=True)"


def test_removal_units_tie_a_value_s_put_and_get_with_the_observers_that_counted_it():
    history = History.from_rows(
        [
            ("A", "put", (1,), None, 0, 1),
            ("B", "qsize", (), 1, 2, 3),  # sees 1 in the queue
            ("A", "get", (), 1, 4, 5),
            ("B", "qsize", (), 0, 6, 7),  # after: not tied to 1
            ("A", "get", (), EMPTY, 8, 9),
            ("B", "close", (), None, 10, 11),
            ("A", "put", (2,), CLOSED, 12, 13),
            ("B", "get", (), None, 14, None),  # pending get: may have taken an item
        ]
    )
    units = set(QueueSpec().removal_units(list(history)))
    assert frozenset({0, 1, 2}) in units
    assert frozenset({5, 6}) in units
    assert {frozenset({1}), frozenset({3}), frozenset({4}), frozenset({6})} <= units
    assert not any(7 in unit for unit in units)


# -- agreement with the standard library's queue.Queue, one call at a time -------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("put_nowait"), st.integers(0, 9)),
        st.tuples(st.just("get_nowait"), st.none()),
        st.tuples(st.just("qsize"), st.none()),
    ),
    max_size=40,
)


@pytest.mark.slow
@given(capacity=st.integers(1, 4), ops=operations)
def test_the_spec_accepts_exactly_what_queue_queue_does_sequentially(capacity, ops):
    real, spec = queue.Queue(capacity), QueueSpec(capacity)
    state = spec.init()
    for name, arg in ops:
        args = () if arg is None else (arg,)
        try:
            result = getattr(real, name)(*args)
        except (queue.Full, queue.Empty) as error:
            result = Raised(type(error).__name__)
        call = Call(name, args)
        # The real result is the only one the spec accepts.
        for other in (None, FULL, EMPTY, -1, len(state[0])):
            assert spec.step(state, call, other)[0] == (other == result), (call, other, result)
        state = spec.step(state, call, result)[1]


@pytest.mark.slow
@given(st.lists(st.tuples(st.integers(-2, 2), st.integers()), max_size=20))
def test_the_priority_spec_serves_in_the_order_of_a_stable_sort(items):
    spec = QueueSpec(priority=True)
    records = [SimpleNamespace(priority=p, n=i) for i, (p, _) in enumerate(items)]
    state = run(spec, *[(put(r), None) for r in records])
    expected = sorted(records, key=lambda r: -r.priority)  # stable: FIFO among equals
    assert list(state[0]) == expected


# -- agreement with mq.BoundedQueue, one call at a time ----------------------------------

class Item:
    """A hashable item with a priority, told apart by its number."""

    def __init__(self, n, priority):
        self.n, self.priority = n, priority

    def __eq__(self, other):
        return isinstance(other, Item) and (self.n, self.priority) == (other.n, other.priority)

    def __hash__(self):
        return hash((self.n, self.priority))

    def __repr__(self):
        return f"Item({self.n}, p={self.priority})"


mq_calls = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["put", "put_nowait"]), st.integers(0, 99), st.integers(-1, 1)),
        st.tuples(st.just("put_many"), st.lists(st.integers(0, 99), max_size=4), st.integers(-1, 1)),
        st.tuples(st.sampled_from(["get", "get_nowait", "qsize", "__len__", "close"]), st.none(), st.none()),
        st.tuples(st.just("get_many"), st.integers(0, 4), st.none()),
        st.tuples(st.just("put"), st.just("bad timeout"), st.none()),
    ),
    max_size=30,
)


@pytest.mark.slow
@given(capacity=st.one_of(st.none(), st.integers(1, 3)), priority=st.booleans(), calls=mq_calls)
def test_the_spec_accepts_what_mq_bounded_queue_does_one_call_at_a_time(capacity, priority, calls):
    from mq import BoundedQueue, MQError

    from model.history import raised_of

    real, spec = BoundedQueue(capacity, priority=priority), QueueSpec(capacity, priority=priority)
    state = spec.init()
    for number, (name, arg, rank) in enumerate(calls):
        # Never block: a call the spec says would wait gets timeout=0 instead.
        if name in ("put", "put_nowait"):
            args, kwargs = (Item(number, rank),), {}
            if arg == "bad timeout":
                kwargs = {"timeout": -1}
            elif name == "put" and spec._full(state[0]) and not state[1]:
                kwargs = {"timeout": 0}
        elif name == "put_many":
            args, kwargs = ([Item(100 * number + i, rank) for i in range(len(arg))],), {"timeout": 0}
        elif name in ("get", "get_many"):
            args, kwargs = (() if name == "get" else (arg,)), ({} if state[0] or state[1] else {"timeout": 0})
        else:
            args, kwargs = (), {}
        call = Call(name, args, kwargs)
        try:
            result = len(real) if name == "__len__" else getattr(real, name)(*args, **kwargs)
        except (MQError, TypeError, ValueError) as error:
            result = raised_of(error)
        for step_call, step_result in spec.atomic_steps(call, result) or [(call, result)]:
            ok, state = spec.step(state, step_call, step_result)
            assert ok, (step_call, step_result, state)
        assert real.qsize() == len(state[0]) and real.closed == state[1]


# -- hints for the checker: they change the search order, never the verdict -------------

def test_search_order_tries_a_put_before_the_deadline_of_puts_whose_items_came_out_later():
    history = History.from_rows(
        [
            ("A", "put", ("a",), None, 0, 10),
            ("B", "put", ("b",), None, 1, 2),
            ("C", "get", (), "a", 11, 12),
            ("C", "get", (), "b", 13, 14),
            ("C", "qsize", (), 0, 15, 16),
        ]
    )
    key = QueueSpec().search_order(list(history))
    keys = [key(op.call, op.result, op)[0] for op in history]
    assert keys == [2, 2, 12, 14, 16]  # put(a) must precede put(b): its deadline is b's
    assert key(history[0].call, None, history[0]) < key(history[1].call, None, history[1])
    learned = QueueSpec().search_order(list(history), learned=[("b", "a")])
    assert learned(history[1].call, None, history[1])[0] == 2 - 1e-3


def test_learn_names_the_items_a_call_found_in_its_way():
    history = History.from_rows(
        [
            ("A", "put", ("x",), None, 0, 3),
            ("B", "put", ("y",), None, 1, 2),
            ("C", "get", (), "x", 4, 5),
            ("C", "get", (), "y", 6, 7),
        ]
    )
    learn = QueueSpec().learn(list(history))
    state = ((1, 2, 3), False)
    assert learn(state, get(), 3) == [(3, 1), (3, 2)]
    assert learn(state, get(), 1) == []
    assert learn(state, get(), 9) == []  # not in the queue: no order to blame
    assert learn(state, get(timeout=0), EMPTY) == []
    assert learn(state, Call("get_many", (2,)), [1, 3]) == [(3, 2)]
    assert learn(state, Call("qsize"), 2) == []
    # A put refused by dead_end: x came out before y, so it should have gone in first.
    assert learn((("y",), False), put("x"), None) == [("x", "y")]
    assert learn((("x",), False), put("y"), None) == []
    assert learn((("x",), False), put("never put"), None) == []


def test_dead_end_refuses_an_item_behind_one_that_came_out_after_it():
    rows = [
        ("A", "put", ("x",), None, 0, 3),
        ("B", "put", ("y",), None, 1, 2),
        ("C", "get", (), "x", 4, 5),
        ("C", "get", (), "y", 6, 7),
        ("A", "put", ("z",), None, 8, 9),  # never taken
    ]
    history = History.from_rows(rows)
    dead = QueueSpec().dead_end(list(history))
    assert dead(put("x"), ((), False), (("y", "x"), False))  # x came out first
    assert not dead(put("y"), ((), False), (("x", "y"), False))
    assert dead(put("x"), ((), False), (("z", "x"), False))  # z never came out, x did
    assert not dead(Call("qsize"), ((), False), (("y", "x"), False))
    assert not dead(put("unknown"), ((), False), (("y", "unknown"), False))
    pending_get = History.from_rows(rows + [("D", "get", (), None, 10, None)])
    assert not QueueSpec().dead_end(list(pending_get))(put("x"), ((), False), (("z", "x"), False))
    priority = QueueSpec(priority=True).dead_end(list(history))
    assert priority(put("y"), ((), False), (("y", "x"), False))  # y inserted ahead of x
