"""stress.checker_bench: its figures, and its refusal to time a buffer that fails."""

from __future__ import annotations

import json

import pytest

from stress import checker_bench
from tests.buggy import load


def test_a_small_run_writes_every_figure(tmp_path, capsys):
    out = tmp_path / "bench.json"
    checker_bench.main(["--repeats", "1", "--schedules", "20", "--exhaustive-budget", "30",
                        "--exhaustive-time-limit", "10", "--json", str(out)])
    figures = json.loads(out.read_text())
    assert figures["random_sync"]["schedules_per_run"] == 20
    assert set(figures["exhaustive"]) == {
        "por_2_processes", "por_1_process", "por_bounded_search_alone",
        "por_unbounded_search_alone", "no_por"}
    for e in figures["exhaustive"].values():
        assert e["schedules"] <= 30 and e["points_per_second"] > 0
    assert "exhaustive, preemption bound 2:" in capsys.readouterr().out


def test_a_buffer_that_fails_is_not_timed(monkeypatch):
    monkeypatch.setattr(checker_bench, "ConditionBuffer", load("if_not_while").Buffer)
    with pytest.raises(SystemExit, match="the correct buffer failed"):
        checker_bench.main(["--repeats", "1", "--schedules", "200", "--no-exhaustive"])
