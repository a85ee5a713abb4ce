"""The latency histogram and the RSS growth fit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stress.harness.histogram import Histogram
from stress.harness.rss import current_rss_kb, peak_rss_kb, slope_per_hour
from stress.harness.rss_growth import main


def test_percentiles_are_within_the_bucket_error() -> None:
    histogram = Histogram()
    for micros in range(1, 10001):
        histogram.record(micros / 1e6)
    summary = histogram.summary()
    assert summary["count"] == 10000
    assert summary["p50_ms"] == pytest.approx(5.0, rel=0.04)
    assert summary["p99_ms"] == pytest.approx(9.9, rel=0.04)
    assert summary["p999_ms"] == pytest.approx(9.99, rel=0.04)
    assert summary["max_ms"] == 10.0


def test_merging_adds_counts_and_memory_does_not_grow() -> None:
    first, second = Histogram(), Histogram()
    first.record(0.0)
    second.record(3600.0 * 1000)  # past the last bucket: counted there
    size = len(first.counts)
    first.merge(second)
    assert first.total == 2 and len(first.counts) == size and first.percentile(1.0) is not None


def test_rss_readings_are_positive_and_the_peak_is_at_least_the_current() -> None:
    assert 0 < current_rss_kb() <= peak_rss_kb() * 1.05


def test_the_growth_fit_is_a_least_squares_slope_in_mb_per_hour() -> None:
    points = [(t, 20000 + 1024 * t / 3600) for t in range(0, 600, 5)]  # 1 MB per hour
    assert slope_per_hour(points) == pytest.approx(1.0)
    assert slope_per_hour(points[:2]) is None


def test_the_growth_script_reads_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.jsonl"
    lines = [{"type": "start"}] + [
        {"type": "snapshot", "elapsed": t, "peak_rss_kb": 30000 + (t > 200) * 100, "rss_kb": 29000} for t in range(0, 605, 5)
    ]
    report.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert main([str(report)]) == 0
    out = capsys.readouterr().out
    assert "steady state from 300 s" in out and "growth 0.0 MB/hour" in out
