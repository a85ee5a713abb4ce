"""BoundedQueue and its spec (model/specs/queue.py) driven side by side by Hypothesis.

Every call goes to a real `mq.BoundedQueue` and its outcome - the value
returned or the type of the error raised - must be one the spec allows in
its state; a batch put is checked as the puts it is made of.  Calls that
would wait forever (a put without timeout on a full queue, a get without
timeout on an empty one) are never made: their rules have preconditions.
Calls with a timeout run on `FakeTime`, so they give up at once.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from model.specs import Call, QueueSpec
from mq import BoundedQueue
from mq.errors import Closed, Empty, Full
from mq.queue import PriorityBuffer

from .support import FakeTime, outcome, patch_mq_time

MACHINE_SETTINGS = settings(stateful_step_count=20)  # ~2-3 s at the default profile's 100 examples

priorities = st.sampled_from([0, 0, 1, 2, -1])
timeouts = st.sampled_from([0, 0.5, 3])  # each gives up at once on FakeTime
bad_timeouts = st.sampled_from([-1, math.nan, "1", True])
batch = st.lists(priorities, max_size=4)


@dataclass(frozen=True)
class Item:
    """A queued value: a serial number and a priority (``#3p2``)."""

    n: int
    priority: int

    def __repr__(self) -> str:
        return f"#{self.n}p{self.priority}"


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.restore_time = patch_mq_time(FakeTime())
        self.serial = itertools.count()

    def teardown(self) -> None:
        self.restore_time()

    @initialize(capacity=st.sampled_from([None, 1, 2, 3, 5]), priority=st.booleans())
    def create(self, capacity, priority):
        self.queue = BoundedQueue(capacity, priority=priority)
        self.spec = QueueSpec(capacity, priority=priority)
        self.state = self.spec.init()

    # -- the spec's view ------------------------------------------------------------

    def items(self) -> tuple:
        return self.state[0]

    def closed(self) -> bool:
        return self.state[1]

    def room(self) -> float:
        capacity = self.spec.capacity
        return math.inf if capacity is None else capacity - len(self.items())

    def can_put(self) -> bool:  # a put without timeout returns now
        return self.closed() or self.room() > 0

    def can_get(self) -> bool:  # a get without timeout returns now
        return self.closed() or bool(self.items())

    def call(self, name, *args, **kwargs):
        """Make the call on the queue; check its outcome against the spec, step by step."""
        call = Call(name, args, kwargs)
        result = outcome(lambda: getattr(self.queue, name)(*args, **kwargs))
        before = self.state
        for part, part_result in self.spec.atomic_steps(call, result) or [(call, result)]:
            ok, self.state = self.spec.step(self.state, part, part_result)
            assert ok, f"{call} gave {result!r}; the spec refuses {part} -> {part_result!r} in {before}"
        return result

    def new_item(self, priority: int) -> Item:
        return Item(next(self.serial), priority)

    # -- rules -------------------------------------------------------------------------

    @precondition(can_put)
    @rule(priority=priorities)
    def put(self, priority):
        self.call("put", self.new_item(priority))

    @rule(priority=priorities, timeout=timeouts)
    def put_with_timeout(self, priority, timeout):
        self.call("put", self.new_item(priority), timeout=timeout)

    @rule(priority=priorities)
    def put_nowait(self, priority):
        self.call("put_nowait", self.new_item(priority))

    @precondition(lambda self: self.closed() or self.room() >= 4)
    @rule(batch=batch)
    def put_many(self, batch):
        self.call("put_many", [self.new_item(p) for p in batch])

    @rule(batch=batch, timeout=timeouts, as_tuple=st.booleans())
    def put_many_with_timeout(self, batch, timeout, as_tuple):
        items = [self.new_item(p) for p in batch]
        self.call("put_many", tuple(items) if as_tuple else items, timeout=timeout)

    @precondition(can_get)
    @rule()
    def get(self):
        self.call("get")

    @rule(timeout=timeouts)
    def get_with_timeout(self, timeout):
        self.call("get", timeout=timeout)

    @rule()
    def get_nowait(self):
        self.call("get_nowait")

    @precondition(can_get)
    @rule(max_items=st.integers(1, 5))
    def get_many(self, max_items):
        self.call("get_many", max_items)

    @rule(max_items=st.integers(1, 5), timeout=timeouts)
    def get_many_with_timeout(self, max_items, timeout):
        self.call("get_many", max_items, timeout=timeout)

    @rule()
    def close(self):
        self.call("close")

    @rule(method=st.sampled_from(["put", "get", "put_many", "get_many"]), timeout=bad_timeouts)
    def bad_timeout(self, method, timeout):
        args = {"put": (self.new_item(0),), "get": (), "put_many": ([self.new_item(0)],), "get_many": (1,)}
        self.call(method, *args[method], timeout=timeout)

    @rule(max_items=st.sampled_from([0, -2, "3", 2.0, True]))
    def bad_max_items(self, max_items):
        self.call("get_many", max_items, timeout=0)

    @rule()
    def put_many_of_a_non_iterable(self):
        self.call("put_many", 5, timeout=0)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def statistics_match_the_spec_and_no_waiter_is_left_behind(self):
        stats = self.queue.statistics()
        assert (stats.size, stats.closed) == (len(self.items()), self.closed())
        assert (stats.capacity, stats.priority) == (self.spec.capacity, self.spec.priority)
        assert (stats.waiting_getters, stats.waiting_putters) == (0, 0)
        assert self.queue.qsize() == len(self.queue) == stats.size
        assert self.queue.closed == self.closed()

    @invariant()
    def occupancy_never_exceeds_capacity(self):
        assert self.spec.capacity is None or self.queue.qsize() <= self.spec.capacity


@pytest.mark.slow
def test_bounded_queue_agrees_with_its_spec_after_every_call():
    run_state_machine_as_test(QueueMachine, settings=MACHINE_SETTINGS)


# -- the machine can fail: broken queues it must catch ----------------------------------------


def put_nowait_one_past_capacity(self, item):
    with self._lock:
        if self._closed:
            raise Closed("closed")
        if len(self._items) > self._limit:  # off by one: should be >=
            raise Full("full")
        self._items.append(item)


ORIGINAL_PUSH = PriorityBuffer.push


def push_ignoring_priority(self, item, priority):
    ORIGINAL_PUSH(self, item, 0)


def wait_for_item_leaking_its_count(self, timeout):
    self._getters += 1  # never given back when the wait ends
    if not self._items:
        if self._closed:
            raise Closed("closed")
        raise Empty("empty")


BROKEN = {
    "capacity off by one": ("put_nowait", put_nowait_one_past_capacity, BoundedQueue),
    "priority ignored": ("push", push_ignoring_priority, PriorityBuffer),
    "waiter count leaks": ("_wait_for_item", wait_for_item_leaking_its_count, BoundedQueue),
}

FIND_SETTINGS = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    stateful_step_count=30,
    phases=[Phase.explicit, Phase.generate],  # finding is the point here; shrinking is shown below
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.slow
@pytest.mark.parametrize("breakage", list(BROKEN))
def test_the_machine_catches_a_broken_queue(monkeypatch, breakage):
    name, replacement, owner = BROKEN[breakage]
    monkeypatch.setattr(owner, name, replacement)
    with pytest.raises(AssertionError):
        run_state_machine_as_test(QueueMachine, settings=FIND_SETTINGS)


@pytest.mark.slow
def test_a_failure_shrinks_to_a_few_readable_steps(monkeypatch, capsys):
    monkeypatch.setattr(PriorityBuffer, "push", push_ignoring_priority)
    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(
            QueueMachine,
            # Shorter runs: the failure found is shorter, so shrinking it takes less time.
            settings=settings(FIND_SETTINGS, stateful_step_count=15, phases=[Phase.generate, Phase.shrink]),
        )
    steps = "\n".join(getattr(failure.value, "__notes__", [])) + capsys.readouterr().out
    invariants = ("occupancy_never_exceeds_capacity", "statistics_match_the_spec")
    calls = [
        line.strip()
        for line in steps.splitlines()
        if line.strip().startswith("state.") and not any(name in line for name in invariants)
    ]
    # create(priority=True), a low and a high put, the get that returns the low one, teardown.
    assert calls[0].startswith("state.create(") and "priority=True" in calls[0], steps
    assert len(calls) <= 5, steps
