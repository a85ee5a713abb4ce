import math
import threading
import time

import pytest

from mq import Broker, Closed, TopicExists, UnknownTopic

from .conftest import JOIN_TIMEOUT, FakeClock, WaitProbe

# -- construction ------------------------------------------------------------------------------


def test_a_clock_must_be_callable():
    with pytest.raises(TypeError, match="'clock' must be a callable returning seconds, or None, got 3"):
        Broker(clock=3)


@pytest.mark.parametrize("interval, error", [(0, ValueError), (-1, ValueError), ("1", TypeError)])
def test_the_reaper_interval_must_be_a_positive_number_or_none(interval, error):
    with pytest.raises(error, match="'reaper_interval' must be a positive number of seconds or None"):
        Broker(reaper_interval=interval)


def test_the_default_clock_is_time_monotonic_looked_up_at_each_call(monkeypatch):
    broker = Broker(reaper_interval=None)
    try:
        broker.create_topic("t")
        sub = broker.subscribe("t")
        monkeypatch.setattr(time, "monotonic", lambda: 12345.0)
        broker.publish("t", "x", ttl=1)
        message = sub.get_nowait().message
        assert (message.created_at, message.expires_at) == (12345.0, 12346.0)
    finally:
        monkeypatch.undo()
        broker.shutdown(drain=False)


def test_the_broker_creates_its_locks_through_the_threading_module_at_call_time(monkeypatch):
    made = []
    real_lock = threading.Lock

    def counting_lock():
        made.append(1)
        return real_lock()

    monkeypatch.setattr(threading, "Lock", counting_lock)
    with Broker(reaper_interval=None) as broker:
        broker.create_topic("t")
        broker.subscribe("t")
    assert len(made) >= 4  # broker, topic, group, dead-letter queue


# -- topics ---------------------------------------------------------------------------------------


def test_create_topic_registers_a_topic(broker):
    broker.create_topic("a")
    broker.create_topic("b", capacity=5, ttl=1, max_deliveries=2, ack_timeout=3)
    assert broker.topics() == ("a", "b")
    assert broker.stats()["b"].capacity == 5


def test_a_duplicate_topic_raises_topic_exists_and_changes_nothing(broker):
    broker.create_topic("t", capacity=1)
    with pytest.raises(TopicExists, match="topic 't' already exists"):
        broker.create_topic("t")
    assert broker.stats()["t"].capacity == 1


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (dict(name=""), ValueError, "'name' must be a non-empty str, got ''"),
        (dict(name=3), TypeError, "'name' must be a non-empty str, got 3"),
        (dict(capacity=0), ValueError, "'capacity' must be an int >= 1 or None, got 0"),
        (dict(ttl=0), ValueError, "'ttl' must be a positive number of seconds or None, got 0"),
        (dict(ttl=math.inf, capacity=1.0), TypeError, "'capacity' must be an int >= 1 or None, got 1.0"),
        (dict(max_deliveries=0), ValueError, "'max_deliveries' must be an int >= 1 or None, got 0"),
        (dict(ack_timeout=-2), ValueError, "'ack_timeout' must be a positive number of seconds or None"),
    ],
)
def test_bad_topic_arguments_are_named_and_nothing_is_created(broker, kwargs, error, text):
    kwargs = {"name": "t", **kwargs}
    name = kwargs.pop("name")
    with pytest.raises(error, match=text.replace("(", "\\(").replace(")", "\\)")):
        broker.create_topic(name, **kwargs)
    assert broker.topics() == ()


def test_unknown_topics_raise_unknown_topic_naming_the_known_ones(broker):
    broker.create_topic("orders")
    calls = [
        lambda: broker.publish("order", 1),
        lambda: broker.subscribe("order"),
        lambda: broker.consume("order", None, print),
        lambda: broker.dead_letters("order"),
        lambda: broker.delete_topic("order"),
    ]
    for call in calls:
        with pytest.raises(UnknownTopic, match="no topic named 'order' \\(topics: 'orders'\\)"):
            call()


def test_an_unknown_topic_name_of_the_wrong_type_is_a_type_error(broker):
    with pytest.raises(TypeError, match="'topic' must be a non-empty str, got 5"):
        broker.publish(5, "x")


def test_delete_topic_discards_what_it_held_and_returns_the_final_stats(broker):
    broker.create_topic("t")
    sub = broker.subscribe("t", "g")
    broker.publish("t", 1)
    broker.publish("t", 2)
    sub.get()
    final = broker.delete_topic("t")
    final.check_identity()
    assert (final["g"].discarded, final.closed) == (2, True)
    assert broker.topics() == ()
    with pytest.raises(UnknownTopic, match="no topic named 't' \\(topics: none\\)"):
        broker.publish("t", 3)
    broker.create_topic("t")  # the name is free again
    assert broker.stats()["t"].published == 0


def test_the_dead_letter_queue_closes_with_its_topic(broker):
    broker.create_topic("t")
    dead_letters = broker.dead_letters("t")
    broker.delete_topic("t")
    assert dead_letters.closed


# -- publish ------------------------------------------------------------------------------------------


def test_ids_are_unique_and_increasing_across_topics(broker):
    broker.create_topic("a")
    broker.create_topic("b")
    ids = [broker.publish(name, n) for n in range(3) for name in ("a", "b")]
    assert ids == sorted(ids) and len(set(ids)) == 6


def test_ids_are_unique_under_concurrent_publishers(broker, runner):
    broker.create_topic("a")
    broker.create_topic("b")

    def publish(topic):
        return [broker.publish(topic, n) for n in range(300)]

    for index, topic in enumerate(("a", "b", "a", "b")):
        runner.start(publish, topic, name=f"publisher-{index}")
    runner.join_all()
    ids = [i for result in runner.results.values() for i in result]
    assert len(set(ids)) == 1200
    assert all(result == sorted(result) for result in runner.results.values())


def test_a_message_carries_what_publish_was_given(broker, clock):
    broker.create_topic("t")
    sub = broker.subscribe("t")
    message_id = broker.publish("t", {"k": 1}, ttl=2.5, priority=3, headers={"h": "v"})
    message = sub.get().message
    assert (message.id, message.topic, message.payload, message.priority) == (message_id, "t", {"k": 1}, 3)
    assert (message.created_at, message.expires_at, dict(message.headers)) == (clock.now, clock.now + 2.5, {"h": "v"})


def test_the_topic_ttl_is_the_default_and_publish_overrides_it(broker, clock):
    broker.create_topic("t", ttl=10)
    sub = broker.subscribe("t")
    broker.publish("t", "default")
    broker.publish("t", "own", ttl=1)
    expiries = [sub.get().message.expires_at - clock.now for _ in range(2)]
    assert expiries == [10, 1]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(ttl=0), ValueError),
        (dict(ttl="1"), TypeError),
        (dict(priority="high"), TypeError),
        (dict(priority=math.nan), ValueError),
        (dict(headers=[("a", 1)]), TypeError),
        (dict(timeout=-1), ValueError),
    ],
)
def test_bad_publish_arguments_are_refused_before_anything_is_published(broker, kwargs, error):
    broker.create_topic("t")
    broker.subscribe("t")
    with pytest.raises(error, match=f"'{next(iter(kwargs))}'"):
        broker.publish("t", "x", **kwargs)
    stats = broker.stats()["t"]
    assert (stats.published, stats[None].in_queue) == (0, 0)


def test_a_float_priority_is_accepted(broker):
    broker.create_topic("t")
    sub = broker.subscribe("t")
    broker.publish("t", "low", priority=0.5)
    broker.publish("t", "high", priority=1.5)
    assert sub.get().message.payload == "high"


# -- consume ------------------------------------------------------------------------------------------


def test_consume_runs_workers_that_ack_what_the_handler_returns_from(broker, runner):
    broker.create_topic("t")
    seen = []
    lock = threading.Lock()

    def handler(message):
        with lock:
            seen.append(message.payload)

    workers = broker.consume("t", "g", handler, workers=3)
    assert len(workers) == 3
    for number in range(50):
        broker.publish("t", number)
    assert broker.shutdown(drain=True, timeout=JOIN_TIMEOUT)
    assert sorted(seen) == list(range(50))
    assert workers.processed == 50 and not workers.is_alive()
    stats = broker.stats()["t"]["g"]
    stats.check_identity()
    assert (stats.acked, stats.discarded) == (50, 0)


@pytest.mark.parametrize(
    "args, kwargs, error, text",
    [
        (("t", None, print), dict(workers=0), ValueError, "'workers' must be an int >= 1, got 0"),
        (("t", None, "print"), {}, TypeError, "'handler' must be callable, got 'print'"),
        (("t", 7, print), {}, TypeError, "'group' must be a non-empty str or None, got 7"),
    ],
)
def test_bad_consume_arguments_start_nothing(broker, args, kwargs, error, text):
    broker.create_topic("t")
    with pytest.raises(error, match=text):
        broker.consume(*args, **kwargs)
    assert broker.stats()["t"].groups == ()


def test_a_consume_that_fails_halfway_closes_the_subscriptions_it_made(broker, monkeypatch):
    broker.create_topic("t")
    topic = broker._topics["t"]
    real_subscribe = topic.subscribe
    calls = []

    def failing_subscribe(group):
        calls.append(group)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return real_subscribe(group)

    monkeypatch.setattr(topic, "subscribe", failing_subscribe)
    with pytest.raises(RuntimeError):
        broker.consume("t", "g", print, workers=3)
    assert broker.stats()["t"]["g"].consumers == 0


# -- shutdown --------------------------------------------------------------------------------------------


def test_after_shutdown_publish_create_subscribe_and_consume_raise_closed(broker):
    broker.create_topic("t")
    assert broker.shutdown()
    assert broker.closed
    for call in (
        lambda: broker.publish("t", 1),
        lambda: broker.create_topic("u"),
        lambda: broker.subscribe("t"),
        lambda: broker.consume("t", None, print),
    ):
        with pytest.raises(Closed):
            call()


def test_shutdown_without_drain_discards_ready_and_in_flight_messages(broker):
    broker.create_topic("t")
    sub = broker.subscribe("t")
    for number in range(3):
        broker.publish("t", number)
    sub.get()
    assert broker.shutdown(drain=False)
    stats = broker.stats()
    stats.check_identity()
    assert stats["t"][None].discarded == 3
    assert stats.closed


def test_drain_waits_for_consumers_to_finish(runner):
    broker = Broker(clock=FakeClock(), reaper_interval=None)
    broker.create_topic("t")
    sub = broker.subscribe("t")
    for number in range(3):
        broker.publish("t", number)
    group = sub._group
    probe = WaitProbe.install(group, "_idle")
    runner.start(broker.shutdown, True, JOIN_TIMEOUT, name="shutdown")
    probe.wait_for_waiter()  # shutdown is draining
    with pytest.raises(Closed):
        broker.publish("t", "late")
    for _ in range(3):
        sub.get().ack()
    runner.join_all()
    assert runner.results["shutdown"] is True
    assert broker.stats()["t"][None].discarded == 0


def test_drain_gives_up_at_the_timeout_and_discards_the_rest(broker):
    broker.create_topic("t")
    broker.subscribe("t")
    broker.publish("t", "never consumed")
    assert broker.shutdown(drain=True, timeout=0.01) is False
    assert broker.stats()["t"][None].discarded == 1


def test_drain_does_not_wait_for_a_group_nobody_consumes(broker):
    broker.create_topic("t")
    broker.subscribe("t").close()
    broker.publish("t", "orphan")
    assert broker.shutdown(drain=True) is False  # returns at once: nothing could drain it
    assert broker.stats()["t"][None].discarded == 1


def test_closing_the_last_subscription_ends_a_drain(broker, runner):
    broker.create_topic("t")
    sub = broker.subscribe("t")
    broker.publish("t", "x")
    probe = WaitProbe.install(sub._group, "_idle")
    runner.start(broker.shutdown, True, JOIN_TIMEOUT, name="shutdown")
    probe.wait_for_waiter()
    sub.close()
    runner.join_all()
    assert runner.results["shutdown"] is False


def test_shutdown_is_idempotent_and_a_second_call_returns_the_first_result(broker, runner):
    broker.create_topic("t")
    sub = broker.subscribe("t")
    broker.publish("t", "x")
    probe = WaitProbe.install(sub._group, "_idle")
    runner.start(broker.shutdown, True, JOIN_TIMEOUT, name="first")
    probe.wait_for_waiter()
    runner.start(broker.shutdown, True, JOIN_TIMEOUT, name="second")
    sub.get().ack()
    runner.join_all()
    assert runner.results == {"first": True, "second": True}
    assert broker.shutdown(drain=False) is True


def test_a_second_shutdown_with_a_short_timeout_returns_false_while_the_first_drains(broker):
    broker.create_topic("t")
    sub = broker.subscribe("t")
    broker.publish("t", "x")
    probe = WaitProbe.install(sub._group, "_idle")
    first = threading.Thread(target=broker.shutdown, args=(True, JOIN_TIMEOUT))
    first.start()
    probe.wait_for_waiter()
    assert broker.shutdown(timeout=0.01) is False
    sub.get().ack()
    first.join(JOIN_TIMEOUT)
    assert broker.shutdown() is True


def test_shutdown_from_a_handler_returns_false_but_the_worker_still_ends():
    broker = Broker(reaper_interval=None)
    broker.create_topic("t")
    results = []
    workers = broker.consume("t", None, lambda message: results.append(broker.shutdown(drain=False)))
    broker.publish("t", "stop")
    assert workers.join(JOIN_TIMEOUT)
    assert results == [False]  # the handler's own thread was still running
    assert broker.closed


def test_the_context_manager_drains_on_a_clean_exit_and_not_after_an_error():
    with Broker(reaper_interval=None) as clean:
        clean.create_topic("t")
        clean.consume("t", None, lambda message: None)
        clean.publish("t", "x")
    assert clean.stats()["t"][None].acked == 1
    with pytest.raises(RuntimeError):
        with Broker(reaper_interval=None) as failed:
            failed.create_topic("t")
            failed.subscribe("t")
            failed.publish("t", "x")
            raise RuntimeError
    assert failed.stats()["t"][None].discarded == 1


def test_shutdown_joins_the_reaper_thread():
    broker = Broker(reaper_interval=3600)
    assert broker._reaper.is_alive()
    assert broker.shutdown(timeout=JOIN_TIMEOUT)
    assert not broker._reaper.is_alive()


def test_repr_shows_state_and_topics(broker):
    broker.create_topic("t")
    assert repr(broker) == "<Broker open topics=['t']>"
    broker.shutdown()
    assert repr(broker) == "<Broker closed topics=['t']>"


def test_a_reaper_pass_after_shutdown_finds_nothing_to_do(broker, clock):
    broker.create_topic("t", ack_timeout=1)
    sub = broker.subscribe("t")
    broker.publish("t", "x", ttl=1)
    broker.shutdown(drain=False)
    clock.advance(5)
    assert broker.reap() == 0
    assert sub.closed is False and broker.stats()["t"][None].expired == 0


def test_a_topic_can_be_deleted_after_shutdown(broker):
    broker.create_topic("t")
    broker.subscribe("t")
    broker.publish("t", "x")
    broker.shutdown(drain=False)
    final = broker.delete_topic("t")
    assert (final.closed, final[None].discarded) == (True, 1)


def test_closing_a_topics_groups_twice_discards_once(broker):
    broker.create_topic("t")
    broker.subscribe("t")
    broker.publish("t", "x")
    topic = broker._topics["t"]
    assert topic.close_groups() == 1
    assert topic.close_groups() == 0


def test_waking_publishers_when_none_waits_does_nothing(broker):
    broker.create_topic("t", capacity=1)
    topic = broker._topics["t"]
    topic.wake_publishers(3)
    assert topic.waiting == 0
