import dataclasses

import pytest

from mq import BrokerStats, GroupStats, TopicStats
from mq.stats import LatencyHistogram


def group_stats(**overrides):
    fields = dict(
        topic="t", group="g", published=10, delivered=9, acked=4, nacked=1, redelivered=1, ack_timeouts=0,
        expired=1, dead_lettered=1, discarded=0, in_queue=2, in_flight=2, high_water=5, capacity=8,
        consumers=1, p50=0.002, p99=None, elapsed=2.0, closed=False,
    )
    fields.update(overrides)
    return GroupStats(**fields)


# -- histogram ------------------------------------------------------------------


def test_an_empty_histogram_has_no_percentiles():
    assert LatencyHistogram().percentile(0.5) is None


def test_percentiles_are_within_the_bucket_error():
    histogram = LatencyHistogram()
    for value in [0.001] * 50 + [0.010] * 49 + [1.0]:
        histogram.record(value)
    assert histogram.total == 100
    assert histogram.percentile(0.5) == pytest.approx(0.001, rel=0.07)
    assert histogram.percentile(0.99) == pytest.approx(0.010, rel=0.07)
    assert histogram.percentile(1.0) == pytest.approx(1.0, rel=0.07)


@pytest.mark.parametrize("value", [1e-6, 3.3e-5, 0.0123, 0.5, 7.0, 1234.5])
def test_one_value_comes_back_within_seven_percent(value):
    histogram = LatencyHistogram()
    histogram.record(value)
    assert histogram.percentile(0.5) == pytest.approx(value, rel=0.07)


def test_tiny_zero_and_negative_durations_count_as_zero():
    histogram = LatencyHistogram()
    for value in (0.0, -1.0, 1e-9):
        histogram.record(value)
    assert histogram.percentile(1.0) == 0.0


def test_huge_durations_land_in_the_last_bucket():
    histogram = LatencyHistogram()
    histogram.record(1e9)
    assert histogram.percentile(0.5) == pytest.approx(2.0**LatencyHistogram.MAX_EXP, rel=0.07)


def test_bucket_edges_go_up_by_an_eighth_of_a_power_of_two():
    histogram = LatencyHistogram()
    edge = LatencyHistogram.lower_edge
    assert (edge(1), edge(2), edge(9)) == (2.0**-20, 2.0**-20 * 1.125, 2.0**-19)
    for value, index in [(edge(5), 5), (edge(5) * 0.999999, 4), (2.0**-20 * 0.99, 0), (2.0**12, 256)]:
        histogram = LatencyHistogram()
        histogram.record(value)
        assert histogram._counts[index] == 1, value


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5])
def test_a_percentile_fraction_outside_zero_to_one_is_a_value_error(fraction):
    with pytest.raises(ValueError, match="'fraction' must be in \\(0, 1\\]"):
        LatencyHistogram().percentile(fraction)


def test_a_copy_is_independent():
    histogram = LatencyHistogram()
    histogram.record(0.1)
    copy = histogram.copy()
    histogram.record(10.0)
    assert (copy.total, histogram.total) == (1, 2)


# -- group, topic and broker snapshots -----------------------------------------------


def test_the_identity_holds_when_every_message_is_accounted_for():
    stats = group_stats()
    assert stats.identity_holds()
    stats.check_identity()


def test_a_broken_identity_is_reported_with_every_number():
    stats = group_stats(acked=3)
    assert not stats.identity_holds()
    with pytest.raises(AssertionError, match="published=10 but acked=3 .* in_flight=2 = 9"):
        stats.check_identity()


def test_snapshots_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        group_stats().acked = 1  # type: ignore[misc]


def test_rates_are_per_second_of_elapsed_time_and_zero_before_any_time_passed():
    stats = group_stats()
    assert (stats.publish_rate, stats.ack_rate) == (5.0, 2.0)
    assert group_stats(elapsed=0.0).publish_rate == 0.0


def test_the_default_group_is_shown_as_default():
    assert group_stats(group=None).name == "(default)"
    assert group_stats().name == "g"


def test_a_group_line_shows_the_counters_and_times():
    line = group_stats().format()
    assert line.startswith("t/g: published 10, delivered 9, acked 4")
    assert "high-water 5/8, p50 2.0ms, p99 -" in line
    assert "high-water 5/∞" in group_stats(capacity=None).format()


def test_topic_and_broker_snapshots_find_their_parts_by_name():
    first, default = group_stats(), group_stats(group=None)
    topic = TopicStats(
        topic="t", published=10, unrouted=0, publish_waits=0, dead_letters=1, capacity=8, closed=False,
        groups=(first, default),
    )
    broker = BrokerStats(topics=(topic,), closed=False)
    assert topic["g"] is first and topic[None] is default
    assert broker["t"] is topic
    with pytest.raises(KeyError):
        topic["missing"]
    with pytest.raises(KeyError):
        broker["missing"]
    broker.check_identity()
    assert broker.totals()["published"] == 20
    assert broker.format().splitlines()[0].startswith("topic t: published 10")
    assert len(broker.format().splitlines()) == 3


def test_a_broken_group_fails_the_topic_and_broker_checks():
    topic = TopicStats(
        topic="t", published=1, unrouted=0, publish_waits=0, dead_letters=0, capacity=None, closed=False,
        groups=(group_stats(acked=0),),
    )
    with pytest.raises(AssertionError):
        BrokerStats(topics=(topic,), closed=False).check_identity()


def test_a_broker_without_topics_says_so():
    assert BrokerStats(topics=(), closed=False).format() == "(no topics)"
