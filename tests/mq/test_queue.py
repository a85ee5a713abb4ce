import math
import threading
from collections import Counter
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mq import BoundedQueue, Closed, Empty, Full, Message, QueueStatistics
from mq.queue import PriorityBuffer

from .conftest import JOIN_TIMEOUT, WaitProbe


def item(name, priority=None):
    return SimpleNamespace(name=name) if priority is None else SimpleNamespace(name=name, priority=priority)


# -- construction -------------------------------------------------------------


@pytest.mark.parametrize("capacity", [0, -3])
def test_a_capacity_below_one_is_a_value_error_naming_the_argument(capacity):
    with pytest.raises(ValueError, match=f"'capacity' must be an int >= 1 or None, got {capacity}"):
        BoundedQueue(capacity)


@pytest.mark.parametrize("capacity", [1.5, "3", True])
def test_a_capacity_that_is_not_an_int_is_a_type_error(capacity):
    with pytest.raises(TypeError, match="'capacity' must be an int >= 1 or None"):
        BoundedQueue(capacity)


def test_priority_must_be_a_bool():
    with pytest.raises(TypeError, match="'priority' must be a bool, got 1"):
        BoundedQueue(priority=1)


def test_a_new_queue_reports_its_settings():
    queue = BoundedQueue(3)
    assert (queue.capacity, queue.priority, queue.closed, queue.qsize(), len(queue)) == (3, False, False, 0, 0)
    assert BoundedQueue().capacity is None
    assert BoundedQueue(priority=True).priority is True


# -- single items, no waiting --------------------------------------------------


def test_items_come_out_first_in_first_out():
    queue = BoundedQueue()
    for number in range(5):
        queue.put(number)
    assert [queue.get() for _ in range(5)] == [0, 1, 2, 3, 4]


def test_put_nowait_on_a_full_queue_raises_full():
    queue = BoundedQueue(2)
    queue.put_nowait("a")
    queue.put_nowait("b")
    with pytest.raises(Full, match="queue is full \\(2 items\\)"):
        queue.put_nowait("c")
    assert queue.qsize() == 2


def test_get_nowait_on_an_empty_queue_raises_empty():
    with pytest.raises(Empty):
        BoundedQueue().get_nowait()


def test_get_nowait_takes_the_next_item():
    queue = BoundedQueue()
    queue.put("a")
    assert queue.get_nowait() == "a"


def test_put_with_zero_timeout_on_a_full_queue_raises_full():
    queue = BoundedQueue(1)
    queue.put("a")
    with pytest.raises(Full, match="put timed out after 0 s"):
        queue.put("b", timeout=0)


def test_get_with_a_timeout_on_an_empty_queue_raises_empty():
    with pytest.raises(Empty, match="get timed out after 0.01 s"):
        BoundedQueue().get(timeout=0.01)


def test_put_with_a_timeout_on_a_full_queue_raises_full():
    queue = BoundedQueue(1)
    queue.put("a")
    with pytest.raises(Full):
        queue.put("b", timeout=0.01)
    assert queue.get() == "a"


@pytest.mark.parametrize("timeout", [-1, -0.001, math.nan])
def test_a_negative_timeout_is_a_value_error_naming_timeout(timeout):
    queue = BoundedQueue()
    for call in (lambda: queue.put(1, timeout=timeout), lambda: queue.get(timeout=timeout)):
        with pytest.raises(ValueError, match="'timeout' must be a non-negative number or None"):
            call()


def test_a_timeout_that_is_not_a_number_is_a_type_error():
    with pytest.raises(TypeError, match="'timeout' must be a non-negative number or None, got '1'"):
        BoundedQueue().put(1, timeout="1")


def test_a_timeout_with_room_puts_at_once():
    queue = BoundedQueue(1)
    queue.put("a", timeout=5)
    assert queue.get(timeout=5) == "a"


# -- blocking -----------------------------------------------------------------


def test_put_blocks_while_full_until_a_get(runner):
    queue = BoundedQueue(1)
    queue.put("first")
    probe = WaitProbe.install(queue, "_not_full")
    runner.start(queue.put, "second")
    probe.wait_for_waiter()
    assert queue.statistics().waiting_putters == 1
    assert queue.get() == "first"
    runner.join_all()
    assert queue.get_nowait() == "second"
    assert queue.statistics().waiting_putters == 0


def test_get_blocks_while_empty_until_a_put(runner):
    queue = BoundedQueue()
    probe = WaitProbe.install(queue, "_not_empty")
    runner.start(queue.get, name="getter")
    probe.wait_for_waiter()
    assert queue.statistics().waiting_getters == 1
    queue.put("x")
    runner.join_all()
    assert runner.results["getter"] == "x"


def test_a_blocked_get_with_a_timeout_is_served_by_a_put(runner):
    queue = BoundedQueue()
    probe = WaitProbe.install(queue, "_not_empty")
    runner.start(queue.get, JOIN_TIMEOUT, name="getter")
    probe.wait_for_waiter()
    queue.put("x")
    runner.join_all()
    assert runner.results["getter"] == "x"


def test_a_blocked_put_with_a_timeout_is_served_by_a_get(runner):
    queue = BoundedQueue(1)
    queue.put("a")
    probe = WaitProbe.install(queue, "_not_full")
    runner.start(queue.put, "b", JOIN_TIMEOUT)
    probe.wait_for_waiter()
    assert queue.get() == "a"
    runner.join_all()
    assert queue.get() == "b"


def test_each_get_wakes_one_blocked_putter(runner):
    queue = BoundedQueue(1)
    queue.put(0)
    probe = WaitProbe.install(queue, "_not_full")
    for number in (1, 2, 3):
        runner.start(queue.put, number)
    probe.wait_for_waiter(3)
    taken = [queue.get() for _ in range(4)]
    runner.join_all()
    assert taken[0] == 0 and sorted(taken[1:]) == [1, 2, 3]


# -- closing ------------------------------------------------------------------


def test_put_on_a_closed_queue_raises_closed():
    queue = BoundedQueue()
    queue.close()
    assert queue.closed
    with pytest.raises(Closed):
        queue.put(1)
    with pytest.raises(Closed):
        queue.put_nowait(1)


def test_a_closed_queue_can_be_drained_then_get_raises_closed():
    queue = BoundedQueue()
    queue.put(1)
    queue.put(2)
    queue.close()
    assert queue.get() == 1
    assert queue.get_nowait() == 2
    with pytest.raises(Closed):
        queue.get()
    with pytest.raises(Closed):
        queue.get_nowait()
    with pytest.raises(Closed):
        queue.get_many(3)


def test_close_is_idempotent():
    queue = BoundedQueue()
    queue.close()
    queue.close()
    assert queue.closed


def test_close_wakes_a_blocked_getter_with_closed(runner):
    queue = BoundedQueue()
    probe = WaitProbe.install(queue, "_not_empty")
    errors = []

    def get():
        try:
            queue.get()
        except Closed as error:
            errors.append(error)

    runner.start(get)
    probe.wait_for_waiter()
    queue.close()
    runner.join_all()
    assert len(errors) == 1


def test_close_wakes_a_blocked_putter_with_closed(runner):
    queue = BoundedQueue(1)
    queue.put("a")
    probe = WaitProbe.install(queue, "_not_full")
    errors = []

    def put():
        try:
            queue.put("b")
        except Closed as error:
            errors.append(error)

    runner.start(put)
    probe.wait_for_waiter()
    queue.close()
    runner.join_all()
    assert len(errors) == 1 and "closed while put was waiting" in str(errors[0])
    assert queue.get() == "a"


# -- batches ------------------------------------------------------------------


def test_put_many_with_room_puts_everything_and_returns_the_count():
    queue = BoundedQueue(5)
    assert queue.put_many([1, 2, 3]) == 3
    assert queue.put_many((4,)) == 1
    assert queue.get_many(10) == [1, 2, 3, 4]


def test_put_many_reads_any_iterable():
    queue = BoundedQueue()
    assert queue.put_many(number for number in range(4)) == 4
    assert queue.get_many(4) == [0, 1, 2, 3]


def test_put_many_of_nothing_returns_zero():
    assert BoundedQueue(1).put_many([]) == 0


def test_put_many_that_times_out_says_how_many_leading_items_went_in():
    queue = BoundedQueue(3)
    queue.put("old")
    with pytest.raises(Full, match="2 of 5 items in") as raised:
        queue.put_many(["a", "b", "c", "d", "e"], timeout=0.01)
    assert raised.value.accepted == 2
    assert queue.get_many(10) == ["old", "a", "b"]


def test_put_many_with_zero_timeout_on_a_full_queue_accepts_nothing():
    queue = BoundedQueue(1)
    queue.put("old")
    with pytest.raises(Full) as raised:
        queue.put_many(["a"], timeout=0)
    assert raised.value.accepted == 0


def test_put_many_on_a_closed_queue_raises_closed_with_nothing_accepted():
    queue = BoundedQueue()
    queue.close()
    with pytest.raises(Closed) as raised:
        queue.put_many([1, 2])
    assert raised.value.accepted == 0


def test_put_many_waits_for_room_and_goes_on_as_it_appears(runner):
    queue = BoundedQueue(2)
    probe = WaitProbe.install(queue, "_not_full")
    runner.start(queue.put_many, list(range(6)), name="putter")
    taken = []
    for _ in range(2):
        probe.wait_for_waiter()  # the putter filled the queue and waits for room
        taken.extend(queue.get_many(2))
    runner.join_all()  # the last two items fit without waiting
    taken.extend(queue.get_many(2))
    assert taken == [0, 1, 2, 3, 4, 5]
    assert runner.results["putter"] == 6


def test_put_many_with_a_timeout_completes_when_room_appears(runner):
    queue = BoundedQueue(1)
    probe = WaitProbe.install(queue, "_not_full")
    runner.start(queue.put_many, ["a", "b"], JOIN_TIMEOUT, name="putter")
    probe.wait_for_waiter()
    assert queue.get() == "a"
    runner.join_all()
    assert queue.get() == "b"


def test_close_during_put_many_says_how_many_went_in(runner):
    queue = BoundedQueue(2)
    probe = WaitProbe.install(queue, "_not_full")
    errors = []

    def put_many():
        try:
            queue.put_many(["a", "b", "c", "d"])
        except Closed as error:
            errors.append(error)

    runner.start(put_many)
    probe.wait_for_waiter()
    queue.close()
    runner.join_all()
    assert errors[0].accepted == 2
    assert queue.get_many(5) == ["a", "b"]


def test_put_many_wakes_as_many_blocked_getters_as_it_puts(runner):
    queue = BoundedQueue()
    probe = WaitProbe.install(queue, "_not_empty")
    for index in range(3):
        runner.start(queue.get, name=f"getter-{index}")
    probe.wait_for_waiter(3)
    queue.put_many(["a", "b", "c"])
    runner.join_all()
    assert sorted(runner.results.values()) == ["a", "b", "c"]


def test_get_many_returns_what_is_there_up_to_max_items_without_waiting_for_more():
    queue = BoundedQueue()
    queue.put_many([1, 2, 3, 4, 5])
    assert queue.get_many(2) == [1, 2]
    assert queue.get_many(10) == [3, 4, 5]
    assert queue.qsize() == 0


def test_get_many_on_an_empty_queue_times_out_with_empty():
    with pytest.raises(Empty):
        BoundedQueue().get_many(3, timeout=0.01)


@pytest.mark.parametrize("max_items", [0, -1])
def test_get_many_max_items_must_be_at_least_one(max_items):
    with pytest.raises(ValueError, match=f"'max_items' must be an int >= 1, got {max_items}"):
        BoundedQueue().get_many(max_items)


def test_get_many_max_items_must_be_an_int():
    with pytest.raises(TypeError, match="'max_items' must be an int >= 1, got 2.0"):
        BoundedQueue().get_many(2.0)


def test_get_many_blocks_until_one_item_arrives(runner):
    queue = BoundedQueue()
    probe = WaitProbe.install(queue, "_not_empty")
    runner.start(queue.get_many, 5, name="getter")
    probe.wait_for_waiter()
    queue.put("x")
    runner.join_all()
    assert runner.results["getter"] == ["x"]


def test_get_many_wakes_as_many_blocked_putters_as_it_frees(runner):
    queue = BoundedQueue(2)
    queue.put_many(["a", "b"])
    probe = WaitProbe.install(queue, "_not_full")
    runner.start(queue.put, "c")
    runner.start(queue.put, "d")
    probe.wait_for_waiter(2)
    assert queue.get_many(2) == ["a", "b"]
    runner.join_all()
    assert sorted(queue.get_many(2)) == ["c", "d"]


# -- priority mode --------------------------------------------------------------


def test_priority_mode_serves_higher_priority_first_and_fifo_among_equals():
    queue = BoundedQueue(priority=True)
    for name, priority in [("a", 1), ("b", 5), ("c", 1), ("d", 5), ("e", -2), ("f", 3)]:
        queue.put(item(name, priority))
    assert [queue.get().name for _ in range(6)] == ["b", "d", "f", "a", "c", "e"]


def test_priority_mode_counts_items_without_a_priority_as_zero():
    queue = BoundedQueue(priority=True)
    queue.put(item("plain"))
    queue.put(item("low", -1))
    queue.put(item("high", 1))
    assert [queue.get().name for _ in range(3)] == ["high", "plain", "low"]


def test_priority_mode_orders_messages_by_their_priority():
    queue = BoundedQueue(priority=True)
    queue.put(Message("later", priority=0))
    queue.put(Message("first", priority=2.5))
    assert queue.get().payload == "first"


@pytest.mark.parametrize("bad", ["high", math.nan, [1]])
def test_priority_mode_refuses_an_item_with_a_bad_priority_and_stays_intact(bad):
    queue = BoundedQueue(priority=True)
    queue.put(item("ok", 1))
    with pytest.raises((TypeError, ValueError), match="'priority' must be a number"):
        queue.put(item("bad", bad))
    assert queue.qsize() == 1
    assert queue.get().name == "ok"


def test_priority_mode_batches_keep_the_priority_order():
    queue = BoundedQueue(priority=True)
    queue.put_many([item("a", 0), item("b", 2), item("c", 1), item("d", 2)])
    assert [x.name for x in queue.get_many(3)] == ["b", "d", "c"]
    assert [x.name for x in queue.get_many(3)] == ["a"]


def test_a_bounded_priority_queue_still_blocks_and_times_out():
    queue = BoundedQueue(1, priority=True)
    queue.put(item("a", 1))
    with pytest.raises(Full):
        queue.put(item("b", 9), timeout=0)
    assert queue.get().name == "a"


def test_priority_buffer_removes_items_by_predicate_and_keeps_the_rest_in_order():
    buffer = PriorityBuffer()
    buffer.extend([item("a", 1), item("b", 2), item("c", 1), item("d", 3)])
    removed = buffer.remove_if(lambda x: x.name in ("b", "c"))
    assert sorted(x.name for x in removed) == ["b", "c"]
    assert len(buffer) == 2
    assert [x.name for x in buffer] == ["d", "a"]
    buffer.push(item("e", 2), 2)
    assert [buffer.popleft().name for _ in range(3)] == ["d", "e", "a"]
    assert not buffer
    assert buffer.take() is None
    with pytest.raises(IndexError):
        buffer.popleft()


def test_priority_buffer_clear_returns_the_items_in_service_order():
    buffer = PriorityBuffer()
    buffer.extend([item("a", 0), item("b", 1)])
    assert [x.name for x in buffer.clear()] == ["b", "a"]
    assert len(buffer) == 0
    buffer.append(item("c", 5))
    assert buffer.take().name == "c"


# -- introspection ----------------------------------------------------------------


def test_statistics_is_a_frozen_snapshot():
    queue = BoundedQueue(4, priority=True)
    queue.put(item("a"))
    stats = queue.statistics()
    assert stats == QueueStatistics(
        size=1, capacity=4, closed=False, priority=True, waiting_getters=0, waiting_putters=0
    )
    with pytest.raises(AttributeError):
        stats.size = 3  # type: ignore[misc]


def test_repr_shows_size_capacity_mode_and_state():
    queue = BoundedQueue(4, priority=True)
    queue.put(1)
    assert repr(queue) == "<BoundedQueue size=1 capacity=4, priority>"
    queue.close()
    assert repr(BoundedQueue()) == "<BoundedQueue size=0 unbounded>"
    assert repr(queue) == "<BoundedQueue size=1 capacity=4, priority, closed>"


# -- real threads, exact outcomes ---------------------------------------------------


@pytest.mark.parametrize("priority", [False, True])
def test_many_producers_and_consumers_move_every_item_exactly_once(runner, priority):
    queue = BoundedQueue(3, priority=priority)
    producers, consumers, per_producer = 4, 3, 300
    total = producers * per_producer
    got: list[list[int]] = [[] for _ in range(consumers)]

    def produce(base):
        for number in range(base, base + per_producer):
            queue.put(item(number, number % 4) if priority else number)

    def consume(into):
        while True:
            try:
                value = queue.get()
            except Closed:
                return
            into.append(value.name if priority else value)

    for index in range(consumers):
        runner.start(consume, got[index])
    producer_threads = [runner.start(produce, index * per_producer) for index in range(producers)]
    for thread in producer_threads:
        thread.join(JOIN_TIMEOUT)
    queue.close()
    runner.join_all()
    everything = [value for part in got for value in part]
    assert Counter(everything) == Counter(range(total))
    if not priority:  # each producer's items keep their order at each consumer
        for part in got:
            for base in range(0, total, per_producer):
                mine = [value for value in part if base <= value < base + per_producer]
                assert mine == sorted(mine)


def test_batch_producers_and_consumers_move_every_item_exactly_once(runner):
    queue = BoundedQueue(5)
    got: list[list[int]] = [[], []]

    def produce(base):
        for start in range(base, base + 200, 20):
            queue.put_many(range(start, start + 20))

    def consume(into):
        while True:
            try:
                into.extend(queue.get_many(7))
            except Closed:
                return

    for part in got:
        runner.start(consume, part)
    threads = [runner.start(produce, base) for base in (0, 200, 400)]
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    queue.close()
    runner.join_all()
    assert sorted(got[0] + got[1]) == list(range(600))


# -- against a reference model --------------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(-2, 2)),
        st.tuples(st.just("put_many"), st.lists(st.integers(-2, 2), max_size=4)),
        st.tuples(st.just("get"), st.none()),
        st.tuples(st.just("get_many"), st.integers(1, 4)),
        st.tuples(st.just("close"), st.none()),
    ),
    max_size=40,
)


@pytest.mark.slow
@given(capacity=st.one_of(st.none(), st.integers(1, 4)), priority=st.booleans(), ops=operations)
def test_single_threaded_behaviour_matches_a_reference_model(capacity, priority, ops):
    queue = BoundedQueue(capacity, priority=priority)
    model: list[tuple[int, int]] = []  # (priority, serial)
    closed = False
    serial = 0
    limit = math.inf if capacity is None else capacity

    def model_pop():
        if priority:
            best = max(model, key=lambda entry: (entry[0], -entry[1]))
            model.remove(best)
            return best
        return model.pop(0)

    for op, arg in ops:
        if op == "put":
            value = item(serial, arg)
            if closed:
                with pytest.raises(Closed):
                    queue.put_nowait(value)
            elif len(model) >= limit:
                with pytest.raises(Full):
                    queue.put_nowait(value)
            else:
                queue.put_nowait(value)
                model.append((arg, serial))
            serial += 1
        elif op == "put_many":
            values = [item(serial + offset, p) for offset, p in enumerate(arg)]
            room = max(0, min(len(arg), limit - len(model)))
            if closed:
                with pytest.raises(Closed):
                    queue.put_many(values, timeout=0)
            elif room < len(arg):
                with pytest.raises(Full) as raised:
                    queue.put_many(values, timeout=0)
                assert raised.value.accepted == room
            else:
                assert queue.put_many(values, timeout=0) == len(arg)
            model.extend((p, serial + offset) for offset, p in enumerate(arg[:room] if not closed else []))
            serial += len(arg)
        elif op == "get":
            if model:
                assert queue.get_nowait().name == model_pop()[1]
            else:
                with pytest.raises(Closed if closed else Empty):
                    queue.get_nowait()
        elif op == "get_many":
            if model:
                expected = [model_pop()[1] for _ in range(min(arg, len(model)))]
                assert [x.name for x in queue.get_many(arg, timeout=0)] == expected
            else:
                with pytest.raises(Closed if closed else Empty):
                    queue.get_many(arg, timeout=0)
        else:
            queue.close()
            closed = True
        assert queue.qsize() == len(model)


def test_put_nowait_wakes_a_blocked_getter(runner):
    queue = BoundedQueue()
    probe = WaitProbe.install(queue, "_not_empty")
    runner.start(queue.get, name="getter")
    probe.wait_for_waiter()
    queue.put_nowait("x")
    runner.join_all()
    assert runner.results["getter"] == "x"


def test_get_nowait_wakes_a_blocked_putter(runner):
    queue = BoundedQueue(1)
    queue.put("a")
    probe = WaitProbe.install(queue, "_not_full")
    runner.start(queue.put, "b")
    probe.wait_for_waiter()
    assert queue.get_nowait() == "a"
    runner.join_all()
    assert queue.get_nowait() == "b"
