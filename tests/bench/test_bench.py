"""The benchmark suite (stress/bench): shapes of its output, its arithmetic and its judgements.

Sizes are tiny and nothing is timed: these tests check that every figure is
produced and named as issue 6 asks, that ratios and targets are computed
right, and that a broken queue or broker is refused rather than measured.
"""

import json
import queue

import pytest

import mq
from stress.bench import broker, memory, queues
from stress.bench.__main__ import main
from stress.bench.figures import (
    KEYS,
    NAMES,
    TARGETS,
    BenchError,
    check_records,
    measure_pair,
    ratio,
    summarise,
    table,
    verdict,
)
from stress.bench.suite import Sizes, run

TINY = Sizes(repeats=1, single=50, cross=40, batch=400, broker=40, fanout=20, schedules=3, memory=50, timeout=30)


def _figure(name, median=10.0, baseline=None):
    return summarise(name, "messages/s", [median], None if baseline is None else [baseline])


# -- arithmetic -----------------------------------------------------------------


def test_ratio_is_ours_over_the_baseline_and_none_without_one():
    assert ratio(300.0, 100.0) == 3.0
    assert ratio(50.0, 200.0) == 0.25
    assert ratio(1.0, None) is None


def test_ratio_refuses_a_baseline_that_is_not_positive():
    with pytest.raises(BenchError, match="positive"):
        ratio(1.0, 0.0)


def test_summarise_takes_medians_spread_and_the_ratio_of_the_medians():
    figure = summarise("queue.4p4c", "messages/s", [5, 1, 3, 100, 4], [2, 2, 10, 1, 2])
    assert (figure.median, figure.min, figure.max) == (4, 1, 100)
    assert figure.baseline == 2
    assert figure.ratio == 2.0


def test_summarise_refuses_no_measurement_and_nonsense_values():
    with pytest.raises(BenchError, match="no measurement"):
        summarise("queue.single", "messages/s", [], None)
    with pytest.raises(BenchError, match="finite"):
        summarise("queue.single", "messages/s", [float("nan")], None)
    with pytest.raises(BenchError, match="finite"):
        summarise("queue.single", "messages/s", [1.0], [float("inf")])


def test_measure_pair_alternates_which_side_runs_first():
    order = []
    mine, theirs = measure_pair(lambda: order.append("ours") or 1.0, lambda: order.append("base") or 2.0, 4)
    assert order == ["ours", "base", "base", "ours", "ours", "base", "base", "ours"]
    assert (mine, theirs) == ([1.0] * 4, [2.0] * 4)


def test_measure_pair_without_a_baseline_and_with_no_repeats():
    assert measure_pair(lambda: 7.0, None, 2) == ([7.0, 7.0], None)
    with pytest.raises(ValueError, match="repeats"):
        measure_pair(lambda: 7.0, None, 0)


# -- judgements -----------------------------------------------------------------


def test_a_queue_slower_than_the_baseline_misses_its_target():
    assert verdict(_figure("queue.4p4c", 100.0, 100.0)) == ">= 1x met"
    assert verdict(_figure("queue.4p4c", 99.0, 100.0)) == ">= 1x MISSED"


def test_batches_must_be_five_times_the_baseline_and_the_broker_a_third():
    assert verdict(_figure("queue.batch.4p4c", 500.0, 100.0)).endswith("met")
    assert verdict(_figure("queue.batch.4p4c", 499.0, 100.0)).endswith("MISSED")
    assert verdict(_figure("broker.1group.4p4c", 33.0, 100.0)).endswith("met")
    assert verdict(_figure("broker.1group.4p4c", 32.9, 100.0)).endswith("MISSED")


def test_memory_over_250_bytes_misses_and_figures_without_target_have_no_verdict():
    assert verdict(summarise("memory.bytes_per_message", "bytes", [250.0], None)) == "<= 250 met"
    assert verdict(summarise("memory.bytes_per_message", "bytes", [251.0], None)) == "<= 250 MISSED"
    assert verdict(_figure("queue.16p16c", 1.0, 100.0)) == ""
    assert set(TARGETS) <= set(NAMES)


def test_check_records_refuses_missing_names_extra_keys_and_a_lone_ratio():
    good = [_figure(name, 2.0, 1.0).record() for name in NAMES]
    check_records(good)
    with pytest.raises(BenchError, match="not exactly"):
        check_records(good[1:])
    with pytest.raises(BenchError, match="keys"):
        check_records([dict(good[0], extra=1), *good[1:]])
    with pytest.raises(BenchError, match="both"):
        check_records([dict(good[0], ratio=None), *good[1:]])
    with pytest.raises(BenchError, match="median outside"):
        check_records([dict(good[0], min=3.0), *good[1:]])


def test_the_table_has_a_line_per_figure_with_ratio_and_verdict():
    text = table([_figure("queue.4p4c", 150.0, 100.0), summarise("memory.bytes_per_message", "bytes", [188], None)])
    lines = text.splitlines()
    assert len(lines) == 4
    assert "1.50x" in lines[2] and ">= 1x met" in lines[2]
    assert lines[3].split()[:3] == ["memory.bytes_per_message", "bytes", "188"]


# -- workloads refuse broken queues ----------------------------------------------


class LosingQueue(queue.Queue):
    """Drops every fifth item: consumers wait for items that never come."""

    def __init__(self):
        super().__init__(1000)
        self.count = 0

    def put(self, item, block=True, timeout=None):
        self.count += 1
        if self.count % 5:
            super().put(item, block, timeout)


class DuplicatingQueue(queue.Queue):
    """Puts every item twice: items are left over when the consumers are done."""

    def __init__(self):
        super().__init__(1000)

    def put(self, item, block=True, timeout=None):
        super().put(item, block, timeout)
        super().put(item, block, timeout)


class RaisingQueue(queue.Queue):
    def __init__(self):
        super().__init__(1000)

    def get(self, block=True, timeout=None):
        raise RuntimeError("broken get")


def test_shares_split_evenly_and_add_up():
    assert queues.shares(10, 4) == [3, 3, 2, 2]
    assert sum(queues.shares(1001, 16)) == 1001
    with pytest.raises(ValueError):
        queues.shares(3, 0)


def test_a_duplicating_queue_is_a_bench_error_not_a_figure():
    with pytest.raises(BenchError, match="duplicated"):
        queues.cross(DuplicatingQueue, 2, 2, 40, timeout=30)
    with pytest.raises(BenchError, match="duplicated"):
        queues.single(DuplicatingQueue(), 10)


def test_a_worker_that_raises_is_a_bench_error():
    with pytest.raises(BenchError, match="broken get"):
        queues.cross(RaisingQueue, 1, 1, 10, timeout=30)


def test_a_losing_queue_is_a_bench_error_once_the_run_times_out():
    # The consumers block on items that were lost; the run gives up after its timeout.
    with pytest.raises(BenchError, match="still running"):
        queues.cross(LosingQueue, 1, 1, 10, timeout=0.05)


def test_queue_workloads_return_positive_rates_for_both_queues():
    for make in (lambda: mq.BoundedQueue(1000), lambda: queue.Queue(1000)):
        assert queues.single(make(), 20) > 0
        assert queues.cross(make, 3, 2, 31, timeout=30) > 0
        assert queues.fanout(make, 2, 2, 2, 21, timeout=30) > 0
    assert queues.batched(lambda: mq.BoundedQueue(10), 2, 3, 257, 100, timeout=30) > 0


def test_broker_workload_checks_every_message_was_acked_in_every_group():
    assert broker.end_to_end(1, 2, 2, 30, timeout=30, capacity=5) > 0
    assert broker.end_to_end(3, 2, 1, 30, timeout=30, capacity=5) > 0


class HalfAckingBroker(mq.Broker):
    """Its subscriptions ack nothing: the bench must notice."""

    def subscribe(self, topic, group=None):
        subscription = super().subscribe(topic, group)

        class Get:
            def get(self):
                delivery = subscription.get()

                class Unacked:
                    def ack(self):
                        pass

                Unacked.message = delivery.message
                return Unacked()

        return Get()


def test_a_broker_that_loses_acks_is_a_bench_error():
    with pytest.raises(BenchError, match="not every message"):
        broker.end_to_end(1, 1, 1, 10, timeout=30, make_broker=lambda: HalfAckingBroker(reaper_interval=None))


def test_memory_per_message_excludes_the_payload_and_is_positive():
    figure = memory.bytes_per_message(200)
    assert 0 < figure < 10_000


# -- the whole suite --------------------------------------------------------------


@pytest.mark.slow
def test_the_suite_measures_every_figure_by_name_in_order():
    figures = run(TINY)
    assert [figure.name for figure in figures] == list(NAMES)
    records = [figure.record() for figure in figures]
    check_records(records)
    for record in records:
        assert tuple(record) == KEYS
        no_baseline = record["name"].startswith(("checker.", "memory."))
        assert (record["baseline"] is None) == no_baseline
        assert (record["ratio"] is None) == no_baseline


def test_run_refuses_unknown_figure_names():
    with pytest.raises(ValueError, match="unknown"):
        run(TINY, ["queue.nope"])


def test_main_prints_the_table_and_writes_the_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("stress.bench.__main__.QUICK", TINY)
    out = tmp_path / "bench.json"
    assert main(["--quick", "--only", "queue.single", "memory.bytes_per_message", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "switch interval" in printed and "queue.single" in printed
    records = json.loads(out.read_text())
    assert [record["name"] for record in records] == ["queue.single", "memory.bytes_per_message"]
    assert all(tuple(record) == KEYS for record in records)
    assert isinstance(records[0]["ratio"], float)
