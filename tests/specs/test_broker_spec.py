"""The broker spec on its own: hand-made call sequences with the outcomes docs/broker.md prescribes."""

import copy
import math

import pytest

from model.specs import Call, Raised
from model.specs.broker import BLOCKS, BrokerSpec, DeadLetterView, Msg, identity_holds

spec = BrokerSpec()


class Script:
    """Runs calls on the spec one at a time; ``expect`` checks each outcome."""

    def __init__(self, now=0.0):
        self.spec = BrokerSpec(now)
        self.world = self.spec.init()

    def __getattr__(self, name):
        def call(*args, **kwargs):
            outcome, self.world = self.spec.run(self.world, Call(name, args, kwargs))
            return outcome

        return call

    def stats(self):
        return self.spec.run(self.world, Call("stats"))[0]

    def group(self, topic, group):
        (view,) = [t for t in self.stats().topics if t.topic == topic]
        (found,) = [g for g in view.groups if g.group == group]
        return found


def error(name):
    return Raised(name)


def message(id, payload, *, topic="t", priority=0, ttl=None, at=0.0, count=1):
    return Msg(id, topic, payload, priority, ttl, at, None if ttl is None else at + ttl, count)


def ids(messages):
    return [(m.id, m.delivery_count) for m in messages]


# -- topics and fan-out ------------------------------------------------------------


def test_each_group_gets_its_own_copy_and_consumers_of_one_group_compete():
    s = Script()
    s.create_topic("t")
    a1, a2, b = s.subscribe("t", "a"), s.subscribe("t", "a"), s.subscribe("t", "b")
    assert (a1, a2, b) == (("t", "a"), ("t", "a"), ("t", "b"))
    assert [s.publish("t", "x"), s.publish("t", "y")] == [1, 2]
    assert s.get(0, timeout=0) == message(1, "x")  # subscription 0 of group a
    assert s.get(1, timeout=0) == message(2, "y")  # subscription 1 competes: the next one
    assert s.get(0, timeout=0) == error("Empty")
    assert [s.get(2, timeout=0).id, s.get(2, timeout=0).id] == [1, 2]  # group b: both


def test_a_group_receives_only_messages_published_after_it_was_created():
    s = Script()
    s.create_topic("t")
    s.publish("t", "before")
    assert s.stats().topics[0].unrouted == 1
    s.subscribe("t")
    s.publish("t", "after")
    assert s.get(0, timeout=0).payload == "after"
    assert s.group("t", None).published == 1


def test_ids_increase_over_the_whole_broker_and_a_refused_publish_spends_none():
    s = Script()
    s.create_topic("t", capacity=1)
    s.create_topic("u")
    s.subscribe("t")
    assert s.publish("t", 1) == 1
    assert s.publish("t", 2, timeout=0) == error("Full")
    assert s.publish("u", 3) == 2


def test_create_topic_refuses_a_taken_name_and_delete_frees_it():
    s = Script()
    assert s.create_topic("t") is None
    assert s.create_topic("t") == error("TopicExists")
    assert s.topics() == ("t",)
    assert s.delete_topic("t").closed
    assert s.topics() == ()
    assert s.create_topic("t") is None


def test_delete_topic_discards_what_its_groups_held_and_closes_them():
    s = Script()
    s.create_topic("t")
    s.subscribe("t", "a")
    s.publish("t", 1)
    s.publish("t", 2)
    s.get(0, timeout=0)
    final = s.delete_topic("t")
    (group,) = final.groups
    assert (group.discarded, group.in_queue, group.in_flight, group.closed) == (2, 0, 0, True)
    assert identity_holds(group)
    assert s.state(0) == "DISCARDED"
    assert s.ack(0) == error("AckError")
    assert s.get(0, timeout=0) == error("Closed")  # the old subscription's group is closed
    assert s.publish("t", 3) == error("UnknownTopic")
    assert s.delete_topic("t") == error("UnknownTopic")


def test_a_re_created_topic_starts_empty_and_old_subscriptions_stay_closed():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    s.delete_topic("t")
    s.create_topic("t")
    s.subscribe("t")
    s.publish("t", "new")
    assert s.get(0, timeout=0) == error("Closed")
    assert s.get(1, timeout=0).payload == "new"


# -- order --------------------------------------------------------------------


def test_higher_priority_first_then_publish_order():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    for payload, priority in [("low", 0), ("high", 5), ("mid", 1), ("high2", 5)]:
        s.publish("t", payload, priority=priority)
    assert [s.get(0, timeout=0).payload for _ in range(4)] == ["high", "high2", "mid", "low"]


def test_a_nacked_message_goes_behind_the_others_of_its_priority_with_its_count_raised():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    s.publish("t", "a")
    s.publish("t", "b")
    s.publish("t", "urgent", priority=9)
    assert s.get(0, timeout=0).payload == "urgent"
    assert s.get(0, timeout=0) == message(1, "a")
    assert s.nack(1) is None
    assert ids([s.get(0, timeout=0), s.get(0, timeout=0)]) == [(2, 1), (1, 2)]
    assert s.group("t", None).redelivered == 1


# -- capacity and backpressure ------------------------------------------------


def test_capacity_counts_ready_and_in_flight_and_a_full_group_holds_back_every_group():
    s = Script()
    s.create_topic("t", capacity=1)
    s.subscribe("t", "a")
    s.subscribe("t", "b")
    s.publish("t", 1)
    assert s.get(0, timeout=0).id == 1  # in flight still takes the slot
    assert s.publish("t", 2, timeout=0.5) == error("Full")
    assert s.publish("t", 2) is BLOCKS  # single-threaded, nobody frees a slot
    topic = s.stats().topics[0]
    assert (topic.published, topic.publish_waits) == (1, 1)
    assert [g.published for g in topic.groups] == [1, 1]  # all or nothing
    s.ack(0)
    assert s.publish("t", 2, timeout=0) == error("Full")  # group b is still full
    s.get(1, timeout=0)
    s.ack(1)
    assert s.publish("t", 2, timeout=0) == 2
    assert s.group("t", "a").high_water == 1


def test_nack_and_take_back_never_need_room():
    s = Script()
    s.create_topic("t", capacity=1, ack_timeout=1)
    s.subscribe("t")
    s.publish("t", 1)
    s.get(0, timeout=0)
    assert s.nack(0) is None
    s.get(0, timeout=0)
    s.advance(1)
    assert s.get(0, timeout=0) == message(1, 1, count=3)


# -- ack state machine ----------------------------------------------------------


@pytest.mark.parametrize("first", ["ack", "nack", "reject"])
@pytest.mark.parametrize("second", ["ack", "nack", "reject"])
def test_a_delivery_is_settled_once(first, second):
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    s.publish("t", 1)
    s.get(0, timeout=0)

    def settle(how):
        return s.ack(0) if how == "ack" else s.nack(0, requeue=how == "nack")

    assert settle(first) is None
    assert s.state(0) == ("ACKED" if first == "ack" else "NACKED")
    assert settle(second) == error("AckError")


def test_nack_without_requeue_dead_letters_at_once():
    s = Script()
    s.create_topic("t")
    s.subscribe("t", "g")
    s.publish("t", 1)
    s.get(0, timeout=0)
    s.nack(0, requeue=False)
    assert s.dead_letter("t") == DeadLetterView(message(1, 1), "g", "rejected")
    assert s.dead_letter("t") == error("Empty")
    group = s.group("t", "g")
    assert (group.nacked, group.dead_lettered, group.in_flight) == (1, 1, 0)


def test_the_failure_of_delivery_number_max_deliveries_dead_letters_the_message():
    s = Script()
    s.create_topic("t", max_deliveries=2)
    s.subscribe("t")
    s.publish("t", 1)
    assert s.get(0, timeout=0).delivery_count == 1
    s.nack(0)
    assert s.get(0, timeout=0).delivery_count == 2
    s.nack(1)
    assert s.get(0, timeout=0) == error("Empty")
    assert s.dead_letter("t") == DeadLetterView(message(1, 1, count=2), None, "max_deliveries")


def test_an_overdue_delivery_is_taken_back_at_the_next_get_and_a_late_ack_is_refused():
    s = Script()
    s.create_topic("t", ack_timeout=2)
    s.subscribe("t")
    s.publish("t", 1)
    s.get(0, timeout=0)
    s.advance(1.5)
    assert s.get(0, timeout=0) == error("Empty")  # not yet overdue
    s.advance(0.5)  # delivered_at + ack_timeout: overdue now
    assert s.get(0, timeout=0) == message(1, 1, count=2)
    assert (s.state(0), s.ack(0)) == ("TIMED_OUT", error("AckError"))
    assert s.group("t", None).ack_timeouts == 1
    assert s.ack(1) is None


def test_reap_takes_back_overdue_deliveries_and_counts_only_what_left_the_group():
    s = Script()
    s.create_topic("t", ack_timeout=1, max_deliveries=2)
    s.subscribe("t")
    s.publish("t", 1)
    s.publish("t", 2)
    s.get(0, timeout=0)
    s.get(0, timeout=0)
    s.nack(0)
    s.get(0, timeout=0)  # message 1, delivery 2
    s.advance(1)
    assert s.reap() == 1  # message 1 dead-lettered; message 2 requeued (not counted)
    assert ids([s.get(0, timeout=0)]) == [(2, 2)]


# -- TTL ------------------------------------------------------------------------


def test_a_message_expires_at_created_at_plus_ttl_and_is_never_delivered():
    s = Script(now=100.0)
    s.create_topic("t", ttl=10)
    s.subscribe("t")
    s.publish("t", "default ttl")
    s.publish("t", "own ttl", ttl=20)
    s.advance(9.5)
    assert s.get(0, timeout=0) == message(1, "default ttl", ttl=10, at=100.0)
    s.advance(0.5)
    s.nack(0)  # back with its original expiry, which has passed
    s.advance(10)  # 120: the second one expires too
    assert s.get(0, timeout=0) == error("Empty")
    assert s.group("t", None).expired == 2


def test_get_drops_expired_messages_at_the_head_and_reap_drops_them_anywhere():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    s.publish("t", "short", ttl=1, priority=1)
    s.publish("t", "forever")
    s.publish("t", "short too", ttl=1)
    s.advance(1)
    assert s.get(0, timeout=0).payload == "forever"  # dropped the head on the way
    assert s.group("t", None).expired == 1
    assert s.reap() == 1
    assert s.group("t", None).expired == 2


def test_a_message_in_flight_does_not_expire():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    s.publish("t", 1, ttl=1)
    s.get(0, timeout=0)
    s.advance(5)
    assert s.reap() == 0
    assert s.ack(0) is None


# -- closing ----------------------------------------------------------------------


def test_a_closed_subscription_gets_closed_but_its_deliveries_can_still_be_acked():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    s.publish("t", 1)
    s.get(0, timeout=0)
    assert s.close(0) is None
    assert s.close(0) is None  # idempotent
    assert s.get(0) == error("Closed")
    assert s.ack(0) is None
    assert s.group("t", None).consumers == 0


def test_shutdown_refuses_new_work_discards_the_rest_and_repeats_its_result():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    s.publish("t", 1)
    s.publish("t", 2, priority=1)
    s.get(0, timeout=0)
    s.nack(0, requeue=False)
    assert s.shutdown() is BLOCKS  # a draining shutdown waits for the open subscription
    assert s.shutdown(timeout=0) is False  # message 1 never drained
    assert s.shutdown(drain=False) is False  # a later call repeats the first result
    assert [s.publish("t", 3), s.subscribe("t"), s.create_topic("u")] == [error("Closed")] * 3
    assert s.get(0, timeout=0) == error("Closed")
    assert s.dead_letter("t").reason == "rejected"  # dead letters can still be read
    assert s.dead_letter("t") == error("Closed")
    group = s.group("t", None)
    assert (group.discarded, group.closed, s.stats().closed) == (1, True, True)
    assert identity_holds(group)


def test_shutdown_returns_true_when_every_group_is_empty_or_drain_is_off():
    drained = Script()
    drained.create_topic("t")
    drained.subscribe("t")
    assert drained.shutdown() is True
    skipped = Script()
    skipped.create_topic("t")
    skipped.subscribe("t")
    skipped.publish("t", 1)
    assert skipped.shutdown(drain=False) is True
    orphan = Script()
    orphan.create_topic("t")
    orphan.subscribe("t")
    orphan.publish("t", 1)
    orphan.close(0)
    assert orphan.shutdown() is False  # nobody left to drain it: no wait, not drained


# -- arguments -------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, outcome",
    [
        (Call("create_topic", ("",)), "ValueError"),
        (Call("create_topic", (5,)), "TypeError"),
        (Call("create_topic", ("u",), {"capacity": 0}), "ValueError"),
        (Call("create_topic", ("u",), {"capacity": True}), "TypeError"),
        (Call("create_topic", ("u",), {"ttl": 0}), "ValueError"),
        (Call("create_topic", ("u",), {"ttl": math.nan}), "ValueError"),
        (Call("create_topic", ("u",), {"max_deliveries": 1.5}), "TypeError"),
        (Call("create_topic", ("u",), {"ack_timeout": -1}), "ValueError"),
        (Call("create_topic", ("t",), {"capacity": 0}), "ValueError"),  # arguments before TopicExists
        (Call("publish", ("t", 1), {"ttl": "1"}), "TypeError"),
        (Call("publish", ("t", 1), {"priority": True}), "TypeError"),
        (Call("publish", ("t", 1), {"priority": math.nan}), "ValueError"),
        (Call("publish", ("t", 1), {"headers": [("k", "v")]}), "TypeError"),
        (Call("publish", ("t", 1), {"timeout": -0.5}), "ValueError"),
        (Call("publish", ("nope", 1), {"timeout": -0.5}), "UnknownTopic"),  # topic looked up first
        (Call("publish", ([], 1)), "TypeError"),
        (Call("subscribe", ("t", "")), "ValueError"),
        (Call("subscribe", ("nope", 3)), "TypeError"),  # group checked before the topic
        (Call("subscribe", ("nope",)), "UnknownTopic"),
        (Call("get", (0,), {"timeout": "soon"}), "TypeError"),
        (Call("delete_topic", ("",)), "ValueError"),
        (Call("dead_letter", ("nope",)), "UnknownTopic"),
        (Call("shutdown", (), {"timeout": -1}), "ValueError"),
    ],
)
def test_bad_arguments_raise_the_named_error_and_change_nothing(call, outcome):
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    before = s.world
    result, after = spec.run(before, call)
    assert result == error(outcome)
    assert after == before


def test_headers_are_copied_into_the_message_as_sorted_pairs():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    s.publish("t", 1, headers={"b": 2, "a": 1})
    assert s.get(0, timeout=0).headers == (("a", 1), ("b", 2))


# -- the protocol -----------------------------------------------------------------


def test_step_accepts_exactly_the_outcome_and_matches_exceptions_by_type():
    state = spec.init()
    ok, state = spec.step(state, Call("create_topic", ("t",)), None)
    assert ok
    assert spec.step(state, Call("create_topic", ("t",)), Raised("TopicExists", "any text"))[0]
    assert not spec.step(state, Call("create_topic", ("t",)), None)[0]
    assert not spec.step(state, Call("topics"), ("t", "u"))[0]
    ok, after = spec.step(state, Call("publish", ("t", 1)), 99)
    assert not ok and after is state


def test_a_blocking_call_matches_no_result_and_run_never_changes_its_input():
    s = Script()
    s.create_topic("t")
    s.subscribe("t")
    before = s.world
    assert spec.run(before, Call("get", (0,))) == (BLOCKS, before)
    assert not spec.step(before, Call("get", (0,)), Raised("Empty"))[0]
    spec.run(before, Call("publish", ("t", 1)))
    assert spec.run(before, Call("stats"))[0].topics[0].published == 0


def test_the_identity_holds_in_every_state_of_a_long_script():
    s = Script()
    s.create_topic("t", capacity=3, ttl=2, max_deliveries=2, ack_timeout=1)
    s.subscribe("t", "a")
    s.subscribe("t", "b")
    for round in range(6):
        s.publish("t", round, timeout=0)
        got = s.get(round % 2, timeout=0)
        if isinstance(got, Msg):
            (s.ack if round % 3 == 0 else s.nack)(len(s.world.deliveries) - 1)
        s.advance(0.7)
        s.reap()
        for topic in s.stats().topics:
            assert all(identity_holds(g) for g in topic.groups)
            assert all(g.in_queue + g.in_flight <= 3 for g in topic.groups)


def test_run_leaves_the_state_it_was_given_exactly_as_it_was():
    s = Script()
    s.create_topic("t", capacity=2, ack_timeout=1, max_deliveries=2)
    s.subscribe("t", "a")
    s.publish("t", 1, ttl=5)
    s.get(0, timeout=0)
    before = s.world
    snapshot = copy.deepcopy(before)
    for call in [
        Call("publish", ("t", 2)), Call("ack", (0,)), Call("nack", (0,), {"requeue": False}),
        Call("advance", (3,)), Call("get", (0,), {"timeout": 0}), Call("reap"), Call("close", (0,)),
        Call("delete_topic", ("t",)), Call("shutdown", (), {"drain": False}),
    ]:
        spec.run(before, call)
        assert before == snapshot, call
