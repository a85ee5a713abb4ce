import threading

import pytest

from mq import Broker, Consumer, Producer, Workers

from .conftest import JOIN_TIMEOUT, WaitProbe


@pytest.fixture
def topic(broker):
    broker.create_topic("t")
    return "t"


def test_a_consumer_acks_on_return_and_nacks_on_exception(broker, topic):
    sub = broker.subscribe(topic)
    failures = []

    def handler(message):
        if message.payload == "bad" and message.delivery_count == 1:
            failures.append(message.delivery_count)
            raise ValueError("first try fails")

    consumer = Consumer(sub, handler, name="worker").start()
    for payload in ("ok", "bad", "ok"):
        broker.publish(topic, payload)
    assert broker.shutdown(drain=True, timeout=JOIN_TIMEOUT)
    assert consumer.join(JOIN_TIMEOUT)
    assert (consumer.processed, consumer.failed, consumer.stale) == (3, 1, 0)
    assert isinstance(consumer.last_error, ValueError)
    assert consumer.name == "worker" and consumer.subscription is sub
    stats = broker.stats()[topic][None]
    assert (stats.acked, stats.nacked, stats.redelivered) == (3, 1, 1)


def test_stop_lets_the_consumer_finish_its_message_then_end(broker, topic):
    sub = broker.subscribe(topic)
    entered, release = threading.Event(), threading.Event()

    def handler(message):
        entered.set()
        assert release.wait(JOIN_TIMEOUT)

    consumer = Consumer(sub, handler).start()
    broker.publish(topic, "x")
    assert entered.wait(JOIN_TIMEOUT)
    consumer.stop()
    assert consumer.is_alive()
    release.set()
    assert consumer.join(JOIN_TIMEOUT)
    assert consumer.processed == 1
    assert "stopped" in repr(consumer)


def test_stop_wakes_a_consumer_waiting_for_messages(broker, topic):
    sub = broker.subscribe(topic)
    probe = WaitProbe.install(sub._group, "_not_empty")
    consumer = Consumer(sub, print).start()
    probe.wait_for_waiter()
    assert "alive" in repr(consumer)
    consumer.stop()
    assert consumer.join(JOIN_TIMEOUT)
    assert consumer.name == "mq-consumer-t-default"


@pytest.mark.parametrize("outcome", ["return", "raise"])
def test_a_refused_ack_or_nack_is_counted_stale(broker, topic, outcome):
    sub = broker.subscribe(topic)
    entered, release = threading.Event(), threading.Event()

    def handler(message):
        entered.set()
        assert release.wait(JOIN_TIMEOUT)
        if outcome == "raise":
            raise RuntimeError("too late anyway")

    consumer = Consumer(sub, handler).start()
    broker.publish(topic, "x")
    assert entered.wait(JOIN_TIMEOUT)
    broker.delete_topic(topic)  # discards the delivery the handler is working on
    release.set()
    assert consumer.join(JOIN_TIMEOUT)
    assert (consumer.processed, consumer.stale) == (0, 1)


def test_a_consumer_handler_must_be_callable(broker, topic):
    with pytest.raises(TypeError, match="'handler' must be callable"):
        Consumer(broker.subscribe(topic), None)


def test_a_producer_publishes_every_payload(broker, topic):
    sub = broker.subscribe(topic)
    producer = Producer(broker, topic, range(5), priority=2, headers={"from": "test"}, name="p").start()
    assert producer.join(JOIN_TIMEOUT)
    assert (producer.published, producer.failed, producer.name) == (5, 0, "p")
    messages = [sub.get_nowait().message for _ in range(5)]
    assert [m.payload for m in messages] == [0, 1, 2, 3, 4]
    assert all(m.priority == 2 and m.headers["from"] == "test" for m in messages)
    assert "published=5" in repr(producer)


def test_a_producer_counts_publishes_refused_by_backpressure_and_goes_on(broker):
    broker.create_topic("small", capacity=2)
    broker.subscribe("small")
    producer = Producer(broker, "small", range(5), timeout=0).start()
    assert producer.join(JOIN_TIMEOUT)
    assert (producer.published, producer.failed) == (2, 3)


def test_a_producer_ends_when_its_topic_goes_away(broker, topic):
    producer = Producer(broker, "t", iter(lambda: "x", None))  # endless payloads
    broker.delete_topic(topic)
    producer.start()
    assert producer.join(JOIN_TIMEOUT)
    assert producer.published == 0
    assert "was deleted" in str(producer.last_error) or "no topic named" in str(producer.last_error)


def test_stop_ends_a_producer_before_its_next_payload(broker, topic):
    sub = broker.subscribe(topic)
    produced, resume = threading.Event(), threading.Event()

    def payloads():
        yield 1
        produced.set()
        assert resume.wait(JOIN_TIMEOUT)
        yield 2
        yield 3

    producer = Producer(broker, topic, payloads()).start()
    assert produced.wait(JOIN_TIMEOUT)
    assert producer.is_alive()
    producer.stop()
    resume.set()
    assert producer.join(JOIN_TIMEOUT)
    assert producer.published == 1
    assert sub.get_nowait().message.payload == 1


def test_workers_sum_their_consumers():
    broker = Broker(reaper_interval=None)
    broker.create_topic("t", max_deliveries=1)
    workers = broker.consume("t", "g", lambda message: 1 / message.payload, workers=2)
    assert isinstance(workers, Workers) and len(workers) == 2
    assert all(isinstance(consumer, Consumer) for consumer in workers)
    for payload in (1, 2, 0):
        broker.publish("t", payload)
    assert broker.shutdown(drain=True, timeout=JOIN_TIMEOUT)
    assert (workers.processed, workers.failed, workers.stale) == (2, 1, 0)
    assert not workers.is_alive()
    assert repr(workers) == "<Workers 2 processed=2 failed=1>"


def test_workers_stop_together(broker, topic):
    workers = broker.consume(topic, "g", print, workers=3)
    workers.stop()
    assert workers.join(JOIN_TIMEOUT)
    assert workers.join() and len(workers.consumers) == 3
