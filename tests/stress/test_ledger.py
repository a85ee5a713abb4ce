"""The ledger and its bitmaps, event by event (no threads, no broker)."""

from __future__ import annotations

import sys

import pytest

from stress.harness.bitmap import Bitmap, ones
from stress.harness.ledger import GroupLedger, ProducerTrack
from stress.harness.violations import Violations


@pytest.fixture
def violations() -> Violations:
    return Violations(started=0.0)


@pytest.fixture
def ledger(violations: Violations) -> GroupLedger:
    return GroupLedger("t", "g", [0], violations)


def publish(track: ProducerTrack, count: int, *, ttl: set[int] = frozenset(), failed: set[int] = frozenset()) -> None:
    for seq in range(track.next_seq, track.next_seq + count):
        track.record(seq, seq not in failed, seq in ttl)


def deliver_and_ack(ledger: GroupLedger, seq: int, count: int = 1, consumer: str = "c0") -> None:
    ledger.delivered(consumer, 0, seq, count, delivered_at=1.0, state="IN_FLIGHT")
    ledger.settled(consumer, 0, seq, count, "acked")


def test_bitmap_sets_tests_and_forgets_below_a_new_base() -> None:
    bits = Bitmap()
    assert not bits.set(3) and bits.set(3) and bits.test(3) and not bits.test(4)
    bits.set(1000)
    assert ones(bits.as_int(1001)) == [3, 1000]
    bits.advance(8)
    assert bits.base == 8 and bits.test(1000) and ones(bits.as_int(1001)) == [992]
    bits.advance(1000)
    assert bits.test(1000) and not bits.test(1001) and ones(bits.as_int(2000)) == [0]
    bits.advance(4096)
    assert bits.as_int(5000) == 0 and not bits.set(4100) and ones(bits.as_int(5000)) == [4]


def test_every_message_acked_once_audits_clean(ledger: GroupLedger, violations: Violations) -> None:
    track = ProducerTrack(0, "t")
    publish(track, 100)
    for seq in range(100):
        deliver_and_ack(ledger, seq)
    assert ledger.audit(track) == 0
    assert violations.total == 0 and ledger.acked == 100


def test_a_message_never_settled_is_lost_unless_it_had_a_ttl(ledger: GroupLedger, violations: Violations) -> None:
    track = ProducerTrack(0, "t")
    publish(track, 10, ttl={4}, failed={5})
    for seq in set(range(10)) - {3, 4, 5}:
        deliver_and_ack(ledger, seq)
    assert ledger.audit(track) == 1  # seq 4 expired; seq 5 was never published
    assert [v.details["seq"] for v in violations.kept()] == [3]
    assert violations.kinds() == {"loss"}


def test_a_dead_letter_settles_a_message_but_not_twice(ledger: GroupLedger, violations: Violations) -> None:
    track = ProducerTrack(0, "t")
    publish(track, 2)
    deliver_and_ack(ledger, 0)
    ledger.dead_lettered(0, 1, 1, "rejected")
    assert ledger.audit(track) == 0 and violations.total == 0
    ledger.dead_lettered(0, 1, 1, "rejected")
    ledger.dead_lettered(0, 0, 1, "rejected")
    assert [v.message.split(": ")[1] for v in violations.kept()] == ["dead-lettered twice", "dead-lettered after its ack"]


def test_the_same_delivery_twice_is_a_duplicate(ledger: GroupLedger, violations: Violations) -> None:
    ledger.delivered("c0", 0, 7, 1, 1.0, "IN_FLIGHT")
    ledger.delivered("c1", 0, 7, 1, 1.0, "IN_FLIGHT")
    messages = [v.message for v in violations.kept()]
    assert "t/g producer 0 seq 7 delivery 1: delivery 1 handed out twice" in messages
    assert any("held by two consumers at once (c0 and c1)" in m for m in messages)


def test_a_redelivery_after_a_timeout_is_counted_not_a_violation(ledger: GroupLedger, violations: Violations) -> None:
    ledger.delivered("c0", 0, 7, 1, 1.0, "IN_FLIGHT")
    ledger.delivered("c1", 0, 7, 2, 2.0, "IN_FLIGHT")  # c0 still holds delivery 1: it timed out
    ledger.settled("c1", 0, 7, 2, "acked")
    ledger.settled("c0", 0, 7, 1, "stale")
    assert violations.total == 0 and ledger.redeliveries == 1 and ledger.stale == 1


def test_a_delivery_after_the_ack_and_a_second_ack_are_duplicates(ledger: GroupLedger, violations: Violations) -> None:
    deliver_and_ack(ledger, 1)
    ledger.delivered("c1", 0, 1, 2, 2.0, "IN_FLIGHT")
    ledger.settled("c1", 0, 1, 2, "acked")
    assert [v.message.split(": ")[1] for v in violations.kept()] == ["delivered after its ack", "acked twice"]


def test_a_delivery_handed_out_already_acked_is_a_duplicate(ledger: GroupLedger, violations: Violations) -> None:
    ledger.delivered("c0", 0, 1, 1, 1.0, "ACKED")
    assert violations.kinds() == {"duplicate"}


def test_first_deliveries_out_of_order_to_one_consumer_break_order(ledger: GroupLedger, violations: Violations) -> None:
    deliver_and_ack(ledger, 5, consumer="c0")
    deliver_and_ack(ledger, 3, consumer="c1")  # another consumer: fine
    deliver_and_ack(ledger, 4, consumer="c0")
    assert violations.kinds() == {"order"}


def test_after_an_audit_a_late_record_is_tolerated_and_a_new_delivery_is_not(
    ledger: GroupLedger, violations: Violations
) -> None:
    track = ProducerTrack(0, "t")
    publish(track, 16)
    for seq in range(16):
        deliver_and_ack(ledger, seq)
    ledger.audit(track)
    track.audited = 16
    track.advance(16)
    ledger.advance(0, 16, now=10.0)
    ledger.delivered("c0", 0, 3, 2, 9.0, "TIMED_OUT")  # handed out before the audit, recorded late
    assert violations.total == 0 and ledger.late == 1
    ledger.delivered("c0", 0, 3, 3, 11.0, "IN_FLIGHT")  # handed out after the audit: wrong
    assert violations.kinds() == {"duplicate"}


def test_audits_check_each_message_once_and_memory_follows_the_window(ledger: GroupLedger) -> None:
    track = ProducerTrack(0, "t")
    for _ in range(50):
        start = track.next_seq
        publish(track, 1000, ttl={start})
        for seq in range(start + 1, start + 1000):
            deliver_and_ack(ledger, seq)
        assert ledger.audit(track) == 1
        track.audited = track.next_seq
        track.advance(track.next_seq & ~7)
        ledger.advance(0, track.next_seq & ~7, now=float(start))
    assert ledger.expired == 50 and ledger.acked == 50 * 999
    assert ledger.memory() <= 3 * 256  # bytes: three bitmaps of about one audit's window (1000 bits)
    assert sys.getsizeof(track.failed._bytes) < 1000
