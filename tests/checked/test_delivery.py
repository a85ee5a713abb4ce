"""Deliveries under the checker: nack, redelivery, dead letters, ack timeout.

Two competing consumers of one group; no reaper thread, so an overdue
delivery is taken back by the next ``get`` of the group (lazily), whose
timed wait is what lets virtual time reach the ack timeout.
"""

from __future__ import annotations


from mq import AckError, Broker, DeadLetter, DeliveryState, Empty
from mq.delivery import Group
from mq.message import redelivery
from tests.checked.harness import (
    broker_stats, catch, exactly_once, no_duplicates, prove, run_threads,
)


# -- nack, redelivery, dead letter --------------------------------------------


def nack_until_dead_letter():
    broker = Broker(reaper_interval=None)
    broker.create_topic("t", capacity=1, max_deliveries=2)
    subscriptions = [broker.subscribe("t", "g") for _ in range(2)]
    message_id = broker.publish("t", "job")
    attempts = []

    def consumer(index):
        def run():
            delivery = subscriptions[index].get()
            attempts.append(delivery.message.delivery_count)
            delivery.nack()
        return run

    run_threads(consumer(0), consumer(1), names=["consumer-0", "consumer-1"])
    # Delivered once to each consumer: first as delivery 1, then the copy as delivery 2.
    exactly_once([1, 2], attempts, "delivery counts: ")
    letter = broker.dead_letters("t").get_nowait()
    assert (letter.message.id, letter.message.delivery_count, letter.reason) == (
        message_id, 2, "max_deliveries"), letter
    stats = broker_stats(broker)["t"]["g"]
    assert (stats.delivered, stats.nacked, stats.redelivered, stats.dead_lettered) == (2, 2, 1, 1), stats


def test_a_nacked_message_is_redelivered_then_dead_lettered_exactly_once():
    prove(nack_until_dead_letter)


def retry_without_notify(self, message):
    # BROKEN: requeues the copy without waking a consumer waiting in get.
    if self._max_deliveries is not None and message.delivery_count >= self._max_deliveries:
        self._dead_letter(message, "max_deliveries")
        return 1
    again = redelivery(message)
    self._ready.push(again, again.priority)
    return 0


def dead_letter_uncounted(self, message, reason):
    # BROKEN: moves the message to the dead letters and frees its slot, but does not count it.
    self._occupied -= 1
    self._dead_letters.put_nowait(DeadLetter(message, self.name, reason))


def test_a_requeue_that_skips_the_notify_is_caught_deadlocking(monkeypatch):
    monkeypatch.setattr(Group, "_retry", retry_without_notify)
    catch(nack_until_dead_letter, "deadlock")


def test_a_dead_letter_that_is_not_counted_is_caught_breaking_the_identity(monkeypatch):
    monkeypatch.setattr(Group, "_dead_letter", dead_letter_uncounted)
    catch(nack_until_dead_letter, "identity")


# -- ack timeout --------------------------------------------------------------


def ack_timeout():
    broker = Broker(reaper_interval=None)
    broker.create_topic("t", capacity=1, ack_timeout=5.0)
    subscriptions = [broker.subscribe("t", "g") for _ in range(2)]
    message_id = broker.publish("t", "job")
    acked = []

    def consumer(index):
        # Either consumer may get the message, be overtaken by the ack timeout
        # (its ack then raises AckError), or time out waiting for it.
        def run():
            try:
                delivery = subscriptions[index].get(timeout=10.0)
            except Empty:
                return
            try:
                delivery.ack()
            except AckError:
                assert delivery.state is DeliveryState.TIMED_OUT, delivery
                return
            acked.append(delivery.message.id)
            no_duplicates(acked, "acked: ")
        return run

    run_threads(consumer(0), consumer(1), names=["consumer-0", "consumer-1"])
    stats = broker_stats(broker)["t"]["g"]
    # Acked exactly once, unless both deliveries timed out and the message still waits.
    exactly_once([message_id] if stats.in_queue == 0 else [], acked)
    assert stats.acked == len(acked), stats


def test_an_overdue_delivery_is_taken_back_and_acked_exactly_once():
    prove(ack_timeout)


def take_back_leaving_it_in_flight(self, now):
    # BROKEN: requeues a copy of each overdue delivery but leaves the delivery
    # itself in flight, so its late ack still succeeds.
    freed = 0
    for delivery in list(self._in_flight):
        if now < delivery._delivered_at + self._ack_timeout:
            break
        if delivery.message.delivery_count == 1:  # requeue each one once, not on every get
            self._ack_timeouts += 1
            freed += self._retry(delivery.message)
    return freed


def test_a_take_back_that_lets_the_late_ack_succeed_is_caught_duplicating(monkeypatch):
    monkeypatch.setattr(Group, "_take_back_overdue", take_back_leaving_it_in_flight)
    catch(ack_timeout, "duplicate")
