"""The broker, driven one call at a time, against a small reference model of its semantics.

The model is written from docs/broker.md: per group, ready messages served
by priority then arrival, in-flight deliveries in delivery order, lazy
take-back of overdue deliveries and lazy expiry on get, the reaper, dead
letters, all-or-nothing publish with capacity counting ready + in flight.
After every step the broker's counters, ready order and accounting identity
must match the model's.
"""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mq import AckError, Broker, Empty, Full

from .conftest import FakeClock

GROUPS = ("a", "b")


class Model:
    def __init__(self, capacity, max_deliveries, ack_timeout):
        self.capacity, self.max_deliveries, self.ack_timeout = capacity, max_deliveries, ack_timeout
        self.now = 0.0
        self.ids = itertools.count(1)
        self.seq = itertools.count()
        self.groups = {
            name: {"ready": [], "in_flight": [], "counts": dict.fromkeys(
                ["published", "delivered", "acked", "nacked", "redelivered", "ack_timeouts", "expired",
                 "dead_lettered"], 0)}
            for name in GROUPS
        }
        self.dead_letters = 0

    def occupied(self, group):
        return len(group["ready"]) + len(group["in_flight"])

    def publish(self, priority, ttl):
        if self.capacity is not None and any(self.occupied(g) >= self.capacity for g in self.groups.values()):
            return Full
        message_id = next(self.ids)
        for group in self.groups.values():
            expires = None if ttl is None else self.now + ttl
            group["ready"].append([priority, next(self.seq), message_id, 1, expires])
            group["counts"]["published"] += 1
        return message_id

    def retry(self, group, entry):
        priority, _, message_id, count, expires = entry
        if self.max_deliveries is not None and count >= self.max_deliveries:
            group["counts"]["dead_lettered"] += 1
            self.dead_letters += 1
        else:
            group["ready"].append([priority, next(self.seq), message_id, count + 1, expires])

    def take_back(self, group):
        if self.ack_timeout is None:
            return
        while group["in_flight"] and self.now >= group["in_flight"][0]["at"] + self.ack_timeout:
            delivery = group["in_flight"].pop(0)
            delivery["state"] = "timed out"
            group["counts"]["ack_timeouts"] += 1
            self.retry(group, delivery["entry"])

    def get(self, name):
        group = self.groups[name]
        self.take_back(group)
        while group["ready"]:
            entry = max(group["ready"], key=lambda e: (e[0], -e[1]))
            group["ready"].remove(entry)
            if entry[4] is not None and self.now >= entry[4]:
                group["counts"]["expired"] += 1
                continue
            delivery = {"entry": entry, "at": self.now, "state": "in flight", "group": name}
            group["in_flight"].append(delivery)
            group["counts"]["delivered"] += 1
            if entry[3] > 1:
                group["counts"]["redelivered"] += 1
            return delivery
        return Empty

    def settle(self, delivery, how):
        group = self.groups[delivery["group"]]
        if delivery["state"] != "in flight":
            return AckError
        group["in_flight"].remove(delivery)
        if how == "ack":
            delivery["state"] = "acked"
            group["counts"]["acked"] += 1
            return None
        delivery["state"] = "nacked"
        group["counts"]["nacked"] += 1
        if how == "nack":
            self.retry(group, delivery["entry"])
        else:
            group["counts"]["dead_lettered"] += 1
            self.dead_letters += 1
        return None

    def reap(self):
        for group in self.groups.values():
            keep = [e for e in group["ready"] if e[4] is None or self.now < e[4]]
            group["counts"]["expired"] += len(group["ready"]) - len(keep)
            group["ready"] = keep
            self.take_back(group)


steps = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.integers(0, 2), st.sampled_from([None, None, 1.0, 2.5])),
        st.tuples(st.just("get"), st.sampled_from(GROUPS), st.none()),
        st.tuples(st.sampled_from(["ack", "nack", "reject"]), st.integers(0, 5), st.none()),
        st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 3.0]), st.none()),
        st.tuples(st.just("reap"), st.none(), st.none()),
    ),
    max_size=60,
)


@pytest.mark.slow
@settings(max_examples=150)
@given(
    capacity=st.sampled_from([None, 2, 4]),
    max_deliveries=st.sampled_from([None, 2]),
    ack_timeout=st.sampled_from([None, 2.0]),
    script=steps,
)
def test_the_broker_matches_the_reference_model(capacity, max_deliveries, ack_timeout, script):
    clock = FakeClock(0.0)
    model = Model(capacity, max_deliveries, ack_timeout)
    broker = Broker(clock=clock, reaper_interval=None)
    try:
        broker.create_topic("t", capacity=capacity, max_deliveries=max_deliveries, ack_timeout=ack_timeout)
        subscriptions = {name: broker.subscribe("t", name) for name in GROUPS}
        deliveries = []  # (real Delivery, model delivery)
        for op, first, second in script:
            if op == "publish":
                expected = model.publish(first, second)
                if expected is Full:
                    with pytest.raises(Full):
                        broker.publish("t", "p", priority=first, ttl=second, timeout=0)
                else:
                    assert broker.publish("t", "p", priority=first, ttl=second, timeout=0) == expected
            elif op == "get":
                expected = model.get(first)
                if expected is Empty:
                    with pytest.raises(Empty):
                        subscriptions[first].get_nowait()
                else:
                    real = subscriptions[first].get_nowait()
                    assert (real.message.id, real.message.delivery_count) == (expected["entry"][2], expected["entry"][3])
                    deliveries.append((real, expected))
            elif op in ("ack", "nack", "reject"):
                if not deliveries:
                    continue
                real, expected = deliveries[first % len(deliveries)]
                outcome = model.settle(expected, op)
                call = real.ack if op == "ack" else (real.nack if op == "nack" else lambda: real.nack(requeue=False))
                if outcome is AckError:
                    with pytest.raises(AckError):
                        call()
                else:
                    call()
            elif op == "advance":
                clock.advance(first)
                model.now += first
            else:
                broker.reap()
                model.reap()
            stats = broker.stats()["t"]
            stats.check_identity()
            assert stats.dead_letters == model.dead_letters
            for name in GROUPS:
                group, mine = stats[name], model.groups[name]
                for key, value in mine["counts"].items():
                    assert getattr(group, key) == value, (name, key)
                assert group.in_flight == len(mine["in_flight"])
                ready = subscriptions[name]._group.ready_messages()
                expected_ready = sorted(mine["ready"], key=lambda e: (-e[0], e[1]))
                assert [(m.id, m.delivery_count) for m in ready] == [(e[2], e[3]) for e in expected_ready]
    finally:
        broker.shutdown(drain=False)
