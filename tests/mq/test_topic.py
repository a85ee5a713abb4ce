from collections import Counter

import pytest

from mq import Closed, Empty, Full, UnknownTopic

from .conftest import JOIN_TIMEOUT, WaitProbe


def payloads(subscription):
    """Every message the subscription can get now, acked."""
    got = []
    while True:
        try:
            delivery = subscription.get_nowait()
        except Empty:
            return got
        got.append(delivery.message.payload)
        delivery.ack()


def topic_of(broker, name="t"):
    return broker._topics[name]


# -- fan-out and groups ----------------------------------------------------------------------------


def test_each_group_gets_every_message(broker):
    broker.create_topic("t")
    billing, shipping = broker.subscribe("t", "billing"), broker.subscribe("t", "shipping")
    for number in range(3):
        broker.publish("t", number)
    assert payloads(billing) == [0, 1, 2]
    assert payloads(shipping) == [0, 1, 2]
    broker.stats().check_identity()


def test_a_group_only_gets_messages_published_after_it_subscribed(broker):
    broker.create_topic("t")
    early = broker.subscribe("t", "early")
    broker.publish("t", "before")
    late = broker.subscribe("t", "late")
    broker.publish("t", "after")
    assert payloads(early) == ["before", "after"]
    assert payloads(late) == ["after"]


def test_messages_published_with_no_group_are_counted_unrouted(broker):
    broker.create_topic("t")
    broker.publish("t", "lost")
    sub = broker.subscribe("t")
    broker.publish("t", "kept")
    stats = broker.stats()["t"]
    assert (stats.published, stats.unrouted) == (2, 1)
    assert payloads(sub) == ["kept"]


def test_group_none_is_the_topics_default_group_created_on_first_subscribe(broker):
    broker.create_topic("t")
    first, second = broker.subscribe("t"), broker.subscribe("t", None)
    broker.publish("t", "x")
    assert [sub.group for sub in (first, second)] == [None, None]
    assert len(broker.stats()["t"].groups) == 1
    assert payloads(second) == ["x"]
    assert payloads(first) == []


def test_subscriptions_of_one_group_compete_for_its_messages(broker):
    broker.create_topic("t")
    first, second = broker.subscribe("t", "g"), broker.subscribe("t", "g")
    broker.publish("t", "a")
    broker.publish("t", "b")
    assert first.get().message.payload == "a"
    assert second.get().message.payload == "b"
    assert broker.stats()["t"]["g"].consumers == 2


def test_competing_consumers_get_each_message_exactly_once(broker, runner):
    broker.create_topic("t", capacity=8)
    total, consumers = 600, 4
    got = [[] for _ in range(consumers)]

    def consume(subscription, into):
        while True:
            try:
                delivery = subscription.get()
            except Closed:
                return
            into.append(delivery.message.payload)
            delivery.ack()

    subscriptions = [broker.subscribe("t", "g") for _ in range(consumers)]
    for subscription, into in zip(subscriptions, got):
        runner.start(consume, subscription, into)
    for number in range(total):
        broker.publish("t", number)
    assert broker.shutdown(drain=True, timeout=JOIN_TIMEOUT)
    runner.join_all()
    assert Counter(p for part in got for p in part) == Counter(range(total))
    stats = broker.stats()["t"]["g"]
    stats.check_identity()
    assert (stats.acked, stats.high_water <= 8) == (total, True)


# -- backpressure, all or nothing ----------------------------------------------------------


def test_a_publish_that_times_out_leaves_the_message_in_no_group(broker):
    broker.create_topic("t", capacity=2)
    roomy, full = broker.subscribe("t", "roomy"), broker.subscribe("t", "full")
    broker.publish("t", 1)
    broker.publish("t", 2)
    payloads(roomy)
    with pytest.raises(Full, match="group full is full \\(2 ready \\+ 0 in flight = capacity 2\\)"):
        broker.publish("t", 3, timeout=0.01)
    stats = broker.stats()["t"]
    stats.check_identity()
    assert (stats.published, stats["roomy"].published, stats["full"].published) == (2, 2, 2)
    assert payloads(roomy) == [] and payloads(full) == [1, 2]


def test_a_publish_with_zero_timeout_on_a_full_topic_fails_at_once(broker):
    broker.create_topic("t", capacity=1)
    broker.subscribe("t")
    broker.publish("t", 1)
    with pytest.raises(Full):
        broker.publish("t", 2, timeout=0)


def test_in_flight_messages_hold_their_slot_until_acked(broker):
    broker.create_topic("t", capacity=1)
    sub = broker.subscribe("t")
    broker.publish("t", 1)
    delivery = sub.get()
    with pytest.raises(Full, match="0 ready \\+ 1 in flight"):
        broker.publish("t", 2, timeout=0)
    delivery.nack()  # back to ready: still holds the slot
    with pytest.raises(Full):
        broker.publish("t", 2, timeout=0)
    sub.get().ack()
    broker.publish("t", 2, timeout=0)


def test_publish_waits_until_every_group_has_room_then_goes_to_all(broker, runner):
    broker.create_topic("t", capacity=1)
    first, second = broker.subscribe("t", "first"), broker.subscribe("t", "second")
    broker.publish("t", "old")
    probe = WaitProbe.install(topic_of(broker), "_room")
    runner.start(broker.publish, "t", "new", name="publisher")
    probe.wait_for_waiter()
    assert topic_of(broker).waiting == 1
    first.get().ack()  # room in one group only: the publisher wakes, re-checks, waits again
    probe.wait_for_waiter()
    second.get().ack()
    runner.join_all()
    assert payloads(first) == ["new"] and payloads(second) == ["new"]
    stats = broker.stats()["t"]
    stats.check_identity()
    assert stats.publish_waits == 1


@pytest.mark.parametrize("how", ["ack", "reject", "nack to dead letter", "reap"])
def test_every_way_of_freeing_a_slot_wakes_a_blocked_publisher(broker, clock, runner, how):
    broker.create_topic("t", capacity=1, max_deliveries=1)
    sub = broker.subscribe("t")
    broker.publish("t", "old", ttl=5)
    probe = WaitProbe.install(topic_of(broker), "_room")
    delivery = None if how == "reap" else sub.get()
    runner.start(broker.publish, "t", "new")
    probe.wait_for_waiter()
    if how == "ack":
        delivery.ack()
    elif how == "reject":
        delivery.nack(requeue=False)
    elif how == "nack to dead letter":
        delivery.nack()  # the only delivery max_deliveries allows failed
    else:
        clock.advance(5)
        assert broker.reap() == 1
    runner.join_all()
    stats = broker.stats()["t"][None]
    stats.check_identity()
    assert (stats.published, stats.in_queue) == (2, 1)


def test_dropping_an_expired_message_on_get_wakes_a_blocked_publisher(broker, clock, runner):
    broker.create_topic("t", capacity=1)
    sub = broker.subscribe("t")
    broker.publish("t", "old", ttl=5)
    probe = WaitProbe.install(topic_of(broker), "_room")
    runner.start(broker.publish, "t", "new")
    probe.wait_for_waiter()
    clock.advance(5)
    # The get drops "old" (freeing its slot and waking the publisher) and then
    # either finds "new" or times out before the publisher got there.
    try:
        payload = sub.get(timeout=0).message.payload
    except Empty:
        payload = None
    runner.join_all()
    assert payload in ("new", None)
    stats = broker.stats()["t"][None]
    stats.check_identity()
    assert (stats.published, stats.expired) == (2, 1)


def test_several_blocked_publishers_each_get_a_freed_slot(broker, runner):
    broker.create_topic("t", capacity=2)
    sub = broker.subscribe("t")
    broker.publish("t", "a")
    broker.publish("t", "b")
    probe = WaitProbe.install(topic_of(broker), "_room")
    runner.start(broker.publish, "t", "c")
    runner.start(broker.publish, "t", "d")
    probe.wait_for_waiter(2)
    first, second = sub.get(), sub.get()
    first.ack()
    second.ack()
    runner.join_all()
    assert sorted(payloads(sub)) == ["c", "d"]


def test_a_group_subscribed_while_a_publisher_waits_gets_the_message(broker, runner):
    broker.create_topic("t", capacity=1)
    old = broker.subscribe("t", "old")
    broker.publish("t", 1)
    probe = WaitProbe.install(topic_of(broker), "_room")
    runner.start(broker.publish, "t", 2)
    probe.wait_for_waiter()
    new = broker.subscribe("t", "new")
    old.get().ack()
    runner.join_all()
    assert payloads(new) == [2]


def test_deleting_the_topic_wakes_a_blocked_publisher_with_unknown_topic(broker, runner):
    broker.create_topic("t", capacity=1)
    broker.subscribe("t")
    broker.publish("t", 1)
    probe = WaitProbe.install(topic_of(broker), "_room")
    errors = []

    def publish():
        try:
            broker.publish("t", 2)
        except UnknownTopic as error:
            errors.append(error)

    runner.start(publish)
    probe.wait_for_waiter()
    broker.delete_topic("t")
    runner.join_all()
    assert "topic 't' was deleted" in str(errors[0])


def test_shutdown_wakes_a_blocked_publisher_with_closed(broker, runner):
    broker.create_topic("t", capacity=1)
    broker.subscribe("t")
    broker.publish("t", 1)
    probe = WaitProbe.install(topic_of(broker), "_room")
    errors = []

    def publish():
        try:
            broker.publish("t", 2, timeout=JOIN_TIMEOUT)
        except Closed as error:
            errors.append(error)

    runner.start(publish)
    probe.wait_for_waiter()
    broker.shutdown(drain=False)
    runner.join_all()
    assert "the broker is shutting down" in str(errors[0])


def test_concurrent_publishers_never_push_a_group_past_capacity(broker, runner):
    broker.create_topic("t", capacity=3)
    groups = [broker.subscribe("t", name) for name in ("a", "b")]

    def consume(subscription):
        count = 0
        while True:
            try:
                subscription.get().ack()
            except Closed:
                return count
            count += 1

    for index, subscription in enumerate(groups):
        runner.start(consume, subscription, name=f"consumer-{index}")

    def publish(base):
        for number in range(base, base + 150):
            broker.publish("t", number)

    publishers = [runner.start(publish, base) for base in (0, 150, 300)]
    for thread in publishers:
        thread.join(JOIN_TIMEOUT)
    assert broker.shutdown(drain=True, timeout=JOIN_TIMEOUT)
    runner.join_all()
    stats = broker.stats()["t"]
    stats.check_identity()
    for name in ("a", "b"):
        assert (stats[name].acked, stats[name].high_water <= 3) == (450, True)


# -- subscriptions -------------------------------------------------------------------------------


def test_closing_a_subscription_wakes_its_blocked_get_with_closed(broker, runner):
    broker.create_topic("t")
    sub, other = broker.subscribe("t", "g"), broker.subscribe("t", "g")
    probe = WaitProbe.install(sub._group, "_not_empty")
    errors = []

    def get():
        try:
            sub.get()
        except Closed as error:
            errors.append(error)

    runner.start(get)
    probe.wait_for_waiter()
    sub.close()
    runner.join_all()
    assert "subscription g of topic 't' is closed" in str(errors[0])
    assert sub.closed and not other.closed
    broker.publish("t", "x")
    assert payloads(other) == ["x"]
    with pytest.raises(Closed):
        sub.get_nowait()
    sub.close()  # idempotent
    assert broker.stats()["t"]["g"].consumers == 1


def test_a_subscription_is_a_context_manager_and_shows_itself(broker):
    broker.create_topic("t")
    with broker.subscribe("t", "g") as sub:
        assert (sub.topic, sub.group) == ("t", "g")
        assert repr(sub) == "<Subscription topic='t' group=g>"
    assert repr(sub) == "<Subscription topic='t' group=g closed>"
    assert repr(broker.subscribe("t")) == "<Subscription topic='t' group=(default)>"


def test_a_delivery_taken_through_a_closed_subscription_can_still_be_acked(broker):
    broker.create_topic("t")
    sub = broker.subscribe("t", "g")
    broker.publish("t", "x")
    delivery = sub.get()
    sub.close()
    delivery.ack()
    assert broker.stats()["t"]["g"].acked == 1


def test_a_get_with_a_timeout_is_served_by_a_publish(broker, runner):
    broker.create_topic("t")
    sub = broker.subscribe("t")
    probe = WaitProbe.install(sub._group, "_not_empty")
    runner.start(sub.get, JOIN_TIMEOUT, name="getter")
    probe.wait_for_waiter()
    broker.publish("t", "x")
    runner.join_all()
    assert runner.results["getter"].message.payload == "x"


def test_a_get_timeout_is_checked(broker):
    broker.create_topic("t")
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        broker.subscribe("t").get(timeout=-1)
