"""The Broker and its spec (model/specs/broker.py) driven side by side by Hypothesis.

Topics, subscriptions and deliveries are made and used in random orders;
every call goes to a real `mq.Broker` and to `BrokerSpec`, and the outcomes
- values returned, or the type of the error raised - must be equal.  After
every step the stats, topics, delivery states and subscription states must
match the spec's, and the accounting identity and the capacity bound must
hold in every group.

Time: the broker runs on a `ManualClock` that only ``advance_clock`` moves
(the spec keeps the same clock as state), and ``mq``'s ``time`` module is a
`FakeTime` whose reads jump, so every call with a timeout that would wait
gives up at once.  A call without a timeout that the spec says would wait
forever is not made (single-threaded it would hang): a publish without
timeout has a precondition (no group is full), while a get on a drawn
subscription and a draining shutdown, whose waits depend on drawn
arguments, are skipped when the spec says `BLOCKS`.
"""

from __future__ import annotations

import math
from typing import Any

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

from model.specs import Call, Raised
from model.specs.broker import BLOCKS, BrokerSpec, identity_holds, matches
from mq import Broker, Delivery, Subscription
from mq import delivery as delivery_module
from mq.delivery import Group
from mq.queue import PriorityBuffer

from .support import FakeTime, ManualClock, observe, outcome, patch_mq_time

MACHINE_SETTINGS = settings(stateful_step_count=25)  # ~3-4 s at the default profile's 100 examples
START = 100.0  # the broker clock at the start

topic_names = st.sampled_from(["t", "u"])
any_topic = st.sampled_from(["t", "t", "u", "nope"])  # mostly the topic that exists from the start
publish_topic = st.sampled_from(["t", "t", "t", "u"])  # unknown topics: see BAD_CALLS
groups = st.sampled_from(["a", None, "b"])  # "a": the group subscribed from the start
priorities = st.sampled_from([0, 0, 1, 2])
ttls = st.sampled_from([None, None, 1.0, 2.5])
timeouts = st.sampled_from([0, 0.5])  # each gives up at once on FakeTime
handles = st.integers(0, 7)  # a subscription or delivery number, taken modulo how many exist
# Hypothesis draws the first value of a list most often: the first is the most telling one.
options = st.fixed_dictionaries(
    {
        "capacity": st.sampled_from([3, None, 1, 2]),
        "ttl": st.sampled_from([None, 2.0]),
        "max_deliveries": st.sampled_from([2, None, 1, 3]),
        "ack_timeout": st.sampled_from([1.0, None, 3.0]),
    }
)

# Calls with one bad argument, by a short readable name: (method, args, kwargs).
BAD_CALLS = {
    "create_topic name ''": ("create_topic", ("",), {}),
    "create_topic name 5": ("create_topic", (5,), {}),
    "create_topic capacity 0": ("create_topic", ("u",), {"capacity": 0}),
    "create_topic capacity True": ("create_topic", ("u",), {"capacity": True}),
    "create_topic ttl nan": ("create_topic", ("u",), {"ttl": math.nan}),
    "create_topic max_deliveries 1.5": ("create_topic", ("u",), {"max_deliveries": 1.5}),
    "create_topic ack_timeout -1": ("create_topic", ("t",), {"ack_timeout": -1}),
    "publish ttl 0": ("publish", ("t", "x"), {"ttl": 0}),
    "publish ttl '1'": ("publish", ("t", "x"), {"ttl": "1"}),
    "publish priority True": ("publish", ("t", "x"), {"priority": True}),
    "publish priority nan": ("publish", ("t", "x"), {"priority": math.nan}),
    "publish headers list": ("publish", ("t", "x"), {"headers": [("k", 1)]}),
    "publish timeout -1": ("publish", ("t", "x"), {"timeout": -1}),
    "publish to topic 7": ("publish", (7, "x"), {}),
    "publish to unknown topic": ("publish", ("nope", "x"), {}),
    "publish to unknown topic, bad ttl": ("publish", ("nope", "x"), {"ttl": 0}),
    "subscribe group ''": ("subscribe", ("t", ""), {}),
    "subscribe group 3": ("subscribe", ("t", 3), {}),
    "subscribe topic ''": ("subscribe", ("",), {}),
    "get timeout -1": ("get", (), {"timeout": -1}),
    "get timeout nan": ("get", (), {"timeout": math.nan}),
    "get timeout '1'": ("get", (), {"timeout": "1"}),
    "delete_topic name None": ("delete_topic", (None,), {}),
    "dead_letters of topic ''": ("dead_letter", ("",), {}),
    "shutdown timeout -1": ("shutdown", (), {"timeout": -1}),
    "shutdown timeout True": ("shutdown", (), {"timeout": True}),
}


class BrokerMachine(RuleBasedStateMachine):
    """Subscriptions and deliveries are numbered as in the spec, from 0.

    A rule's ``sub=n`` / ``delivery=n`` picks number n modulo how many were
    made (Hypothesis draws small numbers most often), so a shrunk failure
    names them as the spec does.
    """

    def __init__(self) -> None:
        super().__init__()
        self.restore_time = patch_mq_time(FakeTime())
        self.clock = ManualClock(START)
        self.broker = Broker(clock=self.clock, reaper_interval=None)
        self.spec = BrokerSpec(START)
        self.world = self.spec.init()
        self.handed_out: list[Delivery] = []  # every delivery, in spec numbering
        self.opened: list[Subscription] = []  # every subscription, in spec numbering

    def teardown(self) -> None:
        try:
            self.broker.shutdown(drain=False)
        finally:
            self.restore_time()

    def call(self, name: str, *args: Any, real, **kwargs: Any) -> tuple[Any, Any]:
        """Make ``real()`` and the spec's ``name(*args, **kwargs)``; their outcomes must match.

        Returns (the spec's outcome, what ``real()`` returned), or (BLOCKS, None)
        without calling ``real`` when the spec says it would wait forever.
        """
        spec_call = Call(name, args, kwargs)
        expected, after = self.spec.run(self.world, spec_call)
        if expected is BLOCKS:
            return BLOCKS, None
        raw = outcome(real)
        observed = raw if isinstance(raw, Raised) else observe(raw)
        assert matches(observed, expected), f"{spec_call}: mq gave {observed!r}, the spec says {expected!r}"
        self.world = after
        return expected, raw

    def query(self, name: str, *args: Any) -> Any:
        return self.spec.run(self.world, Call(name, args))[0]

    # -- topics ------------------------------------------------------------------------

    @initialize(options=options)
    def create_topic_t_and_subscribe(self, options):
        self.call("create_topic", "t", real=lambda: self.broker.create_topic("t", **options), **options)
        self.subscribe("t", "a")

    @precondition(lambda self: len(self.world.live) < 2)  # a name is free (the other gives TopicExists)
    @rule(name=topic_names, options=options)
    def create_topic(self, name, options):
        self.call("create_topic", name, real=lambda: self.broker.create_topic(name, **options), **options)

    @precondition(lambda self: len(self.handed_out) >= 2)  # after some work, as shutdown
    @rule(name=st.sampled_from(["u", "nope", "t"]))
    def delete_topic(self, name):
        self.call("delete_topic", name, real=lambda: self.broker.delete_topic(name))

    # -- publishing ---------------------------------------------------------------------

    @rule(topic=publish_topic, priority=priorities, ttl=ttls, timeout=timeouts,
          headers=st.sampled_from([None, {"k": 1}]))
    def publish(self, topic, priority, ttl, timeout, headers):
        payload = f"p{self.world.next_id}"
        kwargs = {"priority": priority, "ttl": ttl, "timeout": timeout, "headers": headers}
        self.call("publish", topic, payload, real=lambda: self.broker.publish(topic, payload, **kwargs), **kwargs)

    def no_group_is_full(self) -> bool:
        return not any(
            topic.open and topic.capacity is not None and group.occupied() >= topic.capacity
            for topic in self.world.topics
            for group in topic.groups.values()
        )

    @precondition(no_group_is_full)
    @rule(topic=publish_topic, priority=priorities, ttl=ttls)
    def publish_without_timeout(self, topic, priority, ttl):
        payload = f"w{self.world.next_id}"
        kwargs = {"priority": priority, "ttl": ttl}
        self.call("publish", topic, payload, real=lambda: self.broker.publish(topic, payload, **kwargs), **kwargs)

    # -- subscriptions and deliveries ---------------------------------------------------

    @precondition(lambda self: self.open_subscriptions() < 4)  # a few competing consumers at most
    @rule(topic=any_topic, group=groups)
    def subscribe(self, topic, group):
        expected, real = self.call("subscribe", topic, group, real=lambda: self.broker.subscribe(topic, group))
        if not isinstance(expected, Raised):
            self.opened.append(real)

    def open_subscriptions(self) -> int:
        return sum(not s.closed for s in self.world.subscriptions)

    @precondition(lambda self: self.open_subscriptions() >= 2)  # keep a consumer; shutdown closes the rest
    @rule(sub=handles)
    def close_subscription(self, sub):
        sub %= len(self.opened)
        self.call("close", sub, real=self.opened[sub].close)

    @rule(sub=handles, timeout=st.sampled_from([0, 0.5, "get_nowait", None]))
    def get(self, sub, timeout):
        sub %= len(self.opened)
        subscription = self.opened[sub]
        if timeout == "get_nowait":
            expected, real = self.call("get", sub, real=subscription.get_nowait, timeout=0)
        else:
            expected, real = self.call("get", sub, real=lambda: subscription.get(timeout), timeout=timeout)
        if expected is not BLOCKS and not isinstance(expected, Raised):
            self.handed_out.append(real)

    @precondition(lambda self: self.handed_out)
    @rule(delivery=handles)
    def ack(self, delivery):
        delivery %= len(self.handed_out)
        self.call("ack", delivery, real=self.handed_out[delivery].ack)

    @precondition(lambda self: self.handed_out)
    @rule(delivery=handles, requeue=st.sampled_from([True, False]))
    def nack(self, delivery, requeue):
        delivery %= len(self.handed_out)
        real = self.handed_out[delivery]
        self.call("nack", delivery, real=lambda: real.nack(requeue=requeue), requeue=requeue)

    @precondition(lambda self: self.world.closed or any(t.dead_letters for t in self.world.topics))
    @rule(topic=any_topic)
    def read_dead_letter(self, topic):
        self.call("dead_letter", topic, real=lambda: self.broker.dead_letters(topic).get_nowait())

    # -- time, maintenance, shutdown --------------------------------------------------------

    @rule(seconds=st.sampled_from([0.5, 1.0, 2.5]))
    def advance_clock(self, seconds):
        self.call("advance", seconds, real=lambda: setattr(self.clock, "now", self.clock.now + seconds))

    @rule()
    def reap(self):
        self.call("reap", real=self.broker.reap)

    @precondition(lambda self: len(self.handed_out) >= 2)  # else most runs would end early, idle
    @rule(drain=st.booleans(), timeout=st.sampled_from([None, 0, 0.5]))
    def shutdown(self, drain, timeout):
        # Without a timeout, a draining shutdown with work left for an open subscription waits forever: not made.
        self.call("shutdown", real=lambda: self.broker.shutdown(drain, timeout), drain=drain, timeout=timeout)

    # -- bad arguments: TypeError / ValueError (or the error of the topic, looked up first) ---------

    @rule(case=st.sampled_from(list(BAD_CALLS)))
    def call_with_a_bad_argument(self, case):
        name, args, kwargs = BAD_CALLS[case]
        if name == "get":
            args = (0,)  # subscription 0 exists from the start
            real = lambda: self.opened[0].get(**kwargs)  # noqa: E731
        else:
            method = getattr(self.broker, "dead_letters" if name == "dead_letter" else name)
            real = lambda: method(*args, **kwargs)  # noqa: E731
        self.call(name, *args, real=real, **kwargs)

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def stats_and_topics_match_the_spec(self):
        assert observe(self.broker.stats()) == self.query("stats")
        assert self.broker.topics() == self.query("topics")
        assert self.broker.closed == self.world.closed

    @invariant()
    def accounting_identity_and_capacity_hold_in_every_group(self):
        for topic in self.broker.stats().topics:
            for group in topic.groups:
                group.check_identity()
                if group.capacity is not None:
                    assert group.in_queue + group.in_flight <= group.capacity, group
                    assert group.high_water <= group.capacity, group
        for topic in self.query("stats").topics:
            assert all(identity_holds(group) for group in topic.groups), topic

    @invariant()
    def deliveries_and_subscriptions_are_where_the_spec_says(self):
        for number, delivery in enumerate(self.handed_out):
            assert delivery.state.name == self.query("state", number), (number, delivery)
        for number, subscription in enumerate(self.opened):
            assert subscription.closed == self.world.subscriptions[number].closed, (number, subscription)


@pytest.mark.slow
def test_the_broker_agrees_with_its_spec_after_every_call():
    run_state_machine_as_test(BrokerMachine, settings=MACHINE_SETTINGS)


# -- the machine can fail: broken brokers it must catch --------------------------------------------


def redelivery_without_counting(message):
    return message  # the copy should carry delivery_count + 1


ORIGINAL_DEAD_LETTER = Group._dead_letter


def dead_letter_keeping_the_slot(self, message, reason):
    ORIGINAL_DEAD_LETTER(self, message, reason)
    self._occupied += 1  # the slot is never freed


def retry_ignoring_max_deliveries(self, message):
    again = delivery_module.redelivery(message)
    self._ready.push(again, again.priority)
    if again.expires_at is not None:
        self._ttl_ready += 1
    return 0


ORIGINAL_PUSH = PriorityBuffer.push


def push_ignoring_priority(self, item, priority):
    ORIGINAL_PUSH(self, item, 0)


BROKEN = {
    "priority ignored": (PriorityBuffer, "push", push_ignoring_priority),
    "redelivery keeps the count": (delivery_module, "redelivery", redelivery_without_counting),
    "dead letter keeps its slot": (Group, "_dead_letter", dead_letter_keeping_the_slot),
    "max_deliveries ignored": (Group, "_retry", retry_ignoring_max_deliveries),
}

FIND_SETTINGS = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    stateful_step_count=50,
    phases=[Phase.explicit, Phase.generate],  # finding is the point here; shrinking is shown below
    suppress_health_check=list(HealthCheck),
)


# Shorter runs: the failure found is shorter, so shrinking it takes less time.
SHRINK_SETTINGS = settings(FIND_SETTINGS, stateful_step_count=15, phases=[Phase.generate, Phase.shrink])


@pytest.mark.slow
@pytest.mark.parametrize("breakage", list(BROKEN))
def test_the_machine_catches_a_broken_broker(monkeypatch, breakage):
    owner, name, replacement = BROKEN[breakage]
    monkeypatch.setattr(owner, name, replacement)
    with pytest.raises(AssertionError):
        run_state_machine_as_test(BrokerMachine, settings=FIND_SETTINGS)


@pytest.mark.slow
def test_a_broker_failure_shrinks_to_a_few_readable_steps(monkeypatch):
    monkeypatch.setattr(PriorityBuffer, "push", push_ignoring_priority)
    with pytest.raises(AssertionError) as failure:
        run_state_machine_as_test(BrokerMachine, settings=SHRINK_SETTINGS)
    report = "\n".join(getattr(failure.value, "__notes__", []))
    invariants = ("stats_and_topics", "accounting_identity", "deliveries_and_subscriptions")
    calls = [
        line.strip()
        for line in report.splitlines()
        if "state." in line and not any(name in line for name in invariants)
    ]
    # Create the topic and subscribe, publish at priority 0 then 1, get (the 0 comes out), teardown.
    assert len(calls) <= 6, report
    assert any("priority=1" in line for line in calls), report
