import pytest

from mq import AckError, Closed, DeadLetter, DeliveryState, Empty

from .conftest import WaitProbe


def group_stats(broker, topic="t", group="g"):
    stats = broker.stats()[topic][group]
    stats.check_identity()
    return stats


@pytest.fixture
def topic(broker):
    broker.create_topic("t", max_deliveries=3, ack_timeout=30)
    return "t"


@pytest.fixture
def sub(broker, topic):
    return broker.subscribe(topic, "g")


# -- ack and nack -----------------------------------------------------------------------


def test_an_ack_settles_the_delivery(broker, sub, clock):
    broker.publish("t", "x")
    delivery = sub.get()
    assert delivery.state is DeliveryState.IN_FLIGHT
    assert (delivery.group, delivery.delivered_at) == ("g", clock.now)
    assert group_stats(broker).in_flight == 1
    delivery.ack()
    assert delivery.state is DeliveryState.ACKED
    stats = group_stats(broker)
    assert (stats.acked, stats.in_flight, stats.in_queue) == (1, 0, 0)


@pytest.mark.parametrize("first, second", [("ack", "ack"), ("nack", "ack"), ("ack", "nack"), ("nack", "nack")])
def test_a_second_settlement_is_an_ack_error_that_says_why(broker, sub, first, second):
    broker.publish("t", "x")
    delivery = sub.get()
    getattr(delivery, first)()
    with pytest.raises(AckError, match=f"cannot {second} message 1 .* it was already {first}ed"):
        getattr(delivery, second)()
    group_stats(broker)


def test_a_nack_requeues_a_copy_with_the_delivery_count_increased(broker, sub):
    broker.publish("t", "x")
    first = sub.get()
    first.nack()
    second = sub.get()
    assert second.message.payload == "x"
    assert (first.message.delivery_count, second.message.delivery_count) == (1, 2)
    assert second.message.id == first.message.id
    stats = group_stats(broker)
    assert (stats.nacked, stats.delivered, stats.redelivered, stats.in_flight) == (1, 2, 1, 1)


def test_a_requeued_message_goes_behind_the_others_of_its_priority(broker, sub):
    for payload, priority in [("a", 1), ("b", 1), ("low", 0)]:
        broker.publish("t", payload, priority=priority)
    sub.get().nack()
    assert [sub.get().message.payload for _ in range(3)] == ["b", "a", "low"]


def test_nack_without_requeue_dead_letters_at_once(broker, sub):
    broker.publish("t", "poison")
    delivery = sub.get()
    delivery.nack(requeue=False)
    letter = broker.dead_letters("t").get_nowait()
    assert letter == DeadLetter(delivery.message, "g", "rejected")
    stats = group_stats(broker)
    assert (stats.dead_lettered, stats.in_queue, stats.in_flight) == (1, 0, 0)


def test_after_max_deliveries_failures_the_message_is_dead_lettered(broker, sub):
    broker.publish("t", "flaky")
    for attempt in (1, 2, 3):
        delivery = sub.get()
        assert delivery.message.delivery_count == attempt
        delivery.nack()
    with pytest.raises(Empty):
        sub.get_nowait()
    stats = group_stats(broker)
    assert (stats.nacked, stats.redelivered, stats.dead_lettered) == (3, 2, 1)
    assert broker.stats()["t"].dead_letters == 1
    letter = broker.dead_letters("t").get_nowait()
    assert (letter.reason, letter.message.delivery_count, letter.group) == ("max_deliveries", 3, "g")


def test_without_max_deliveries_a_message_is_requeued_forever(broker):
    broker.create_topic("endless")
    sub = broker.subscribe("endless", "g")
    broker.publish("endless", "x")
    for _ in range(10):
        sub.get().nack()
    assert sub.get().message.delivery_count == 11


def test_processing_time_is_measured_from_delivery_to_ack_on_the_broker_clock(broker, sub, clock):
    for _ in range(3):
        broker.publish("t", "x")
    for seconds in (0.5, 0.5, 2.0):
        delivery = sub.get()
        clock.advance(seconds)
        delivery.ack()
    stats = group_stats(broker)
    assert stats.p50 == pytest.approx(0.5, rel=0.07)
    assert stats.p99 == pytest.approx(2.0, rel=0.07)


def test_a_delivery_shows_its_message_group_and_state(broker, sub):
    broker.publish("t", "x")
    delivery = sub.get()
    assert repr(delivery) == (
        "<Delivery Message(id=1, topic='t', payload='x', delivery_count=1) group=g IN_FLIGHT>"
    )
    default = broker.subscribe("t")
    broker.publish("t", "y")
    assert default.get().group is None


# -- ack timeout -----------------------------------------------------------------------------


def test_an_overdue_delivery_is_taken_back_on_the_next_get_and_its_late_ack_refused(broker, sub, clock):
    broker.publish("t", "x")
    lost = sub.get()
    clock.advance(29.9)
    with pytest.raises(Empty):
        sub.get_nowait()
    clock.advance(0.1)
    again = sub.get_nowait()
    assert again.message.delivery_count == 2
    assert lost.state is DeliveryState.TIMED_OUT
    with pytest.raises(AckError, match="not acked within ack_timeout=30 s, so the consumer was presumed dead"):
        lost.ack()
    with pytest.raises(AckError):
        lost.nack()
    again.ack()
    stats = group_stats(broker)
    assert (stats.ack_timeouts, stats.acked, stats.redelivered) == (1, 1, 1)


def test_overdue_deliveries_come_back_oldest_first(broker, sub, clock):
    broker.publish("t", "a")
    broker.publish("t", "b")
    sub.get()
    clock.advance(1)
    sub.get()
    clock.advance(29.5)
    assert sub.get_nowait().message.payload == "a"
    with pytest.raises(Empty):
        sub.get_nowait()
    clock.advance(1)
    assert sub.get_nowait().message.payload == "b"


def test_an_overdue_last_delivery_is_dead_lettered(broker, sub, clock):
    broker.publish("t", "x")
    for _ in range(3):
        sub.get()
        clock.advance(30)
    with pytest.raises(Empty):
        sub.get_nowait()
    assert broker.dead_letters("t").get_nowait().reason == "max_deliveries"
    stats = group_stats(broker)
    assert (stats.ack_timeouts, stats.dead_lettered, stats.in_flight) == (3, 1, 0)


def test_a_reaper_pass_takes_back_overdue_deliveries_and_wakes_a_waiting_consumer(broker, sub, clock, runner):
    broker.publish("t", "x")
    sub.get()
    waiter = broker.subscribe("t", "g")
    probe = WaitProbe.install(waiter._group, "_not_empty")
    runner.start(waiter.get, name="waiter")
    probe.wait_for_waiter()
    clock.advance(30)
    assert broker.reap() == 0  # taken back, not freed: the slot stays with the message
    runner.join_all()
    assert runner.results["waiter"].message.delivery_count == 2


def test_an_acked_delivery_is_not_taken_back(broker, sub, clock):
    broker.publish("t", "x")
    sub.get().ack()
    clock.advance(100)
    broker.reap()
    assert group_stats(broker).ack_timeouts == 0


# -- TTL ----------------------------------------------------------------------------------------


def test_an_expired_message_is_never_delivered(broker, sub, clock):
    broker.publish("t", "old", ttl=1)
    broker.publish("t", "new")
    clock.advance(1)
    assert sub.get().message.payload == "new"
    stats = group_stats(broker)
    assert (stats.expired, stats.delivered) == (1, 1)


def test_a_message_is_live_until_its_ttl_has_passed(broker, sub, clock):
    broker.publish("t", "x", ttl=1)
    clock.advance(0.999)
    assert sub.get().message.payload == "x"


def test_the_reaper_drops_expired_messages_anywhere_in_the_queue(broker, sub, clock):
    broker.publish("t", "keep")
    broker.publish("t", "drop", ttl=1)
    broker.publish("t", "keep too", ttl=5)
    clock.advance(2)
    assert broker.reap() == 1
    assert [message.payload for message in sub._group.ready_messages()] == ["keep", "keep too"]
    assert group_stats(broker).expired == 1


def test_a_requeued_message_keeps_its_expiry(broker, sub, clock):
    broker.publish("t", "x", ttl=5)
    sub.get().nack()
    clock.advance(5)
    with pytest.raises(Empty):
        sub.get_nowait()
    assert group_stats(broker).expired == 1


def test_expired_messages_dropped_while_waiting_do_not_end_the_wait(broker, sub, clock, runner):
    probe = WaitProbe.install(sub._group, "_not_empty")
    runner.start(sub.get, name="waiter")
    probe.wait_for_waiter()
    clock.step = 1.0  # every clock read is 1 s after the one before: the waiter finds "stale" expired
    broker.publish("t", "stale", ttl=0.5)
    probe.wait_for_waiter()  # woke, dropped it, waits again
    clock.step = 0.0
    broker.publish("t", "fresh")
    runner.join_all()
    assert runner.results["waiter"].message.payload == "fresh"
    assert group_stats(broker).expired == 1


def test_a_wait_with_a_timeout_ends_empty_after_dropping_an_expired_message(broker, sub, clock, runner):
    probe = WaitProbe.install(sub._group, "_not_empty")
    outcome = []

    def get():
        try:
            sub.get(timeout=0.05)
        except Empty:
            outcome.append("empty")

    runner.start(get)
    probe.wait_for_waiter()
    clock.step = 1.0
    broker.publish("t", "stale", ttl=0.5)
    runner.join_all()
    assert outcome == ["empty"]
    stats = group_stats(broker)
    assert stats.delivered == 0
    assert stats.expired + stats.in_queue == 1  # dropped, unless the wait had already timed out


# -- discard --------------------------------------------------------------------------------------


def test_deliveries_discarded_by_delete_topic_refuse_a_late_ack(broker, sub):
    broker.publish("t", "a")
    broker.publish("t", "b")
    delivery = sub.get()
    final = broker.delete_topic("t")
    assert final["g"].discarded == 2
    final.check_identity()
    assert delivery.state is DeliveryState.DISCARDED
    with pytest.raises(AckError, match="discarded"):
        delivery.ack()
    with pytest.raises(Closed):
        sub.get()
