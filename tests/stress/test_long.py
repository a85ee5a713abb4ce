"""Long stress runs, one per seed: ``python -m pytest tests/stress -m stress`` (deselected by default).

Seeds come from ``--stress-seeds`` / ``--stress-seed-base`` and are split
with ``--shard i/N`` (tests/stress/conftest.py); ``--stress-duration`` sets
the length of each clean run.  A failure's message carries the command that
reruns the same seed and config: ``python -m stress ... --seed S``.
"""

from __future__ import annotations

import io

import pytest

from stress.harness import EXIT_CLEAN, EXIT_STALL, EXIT_VIOLATION, Config, run

pytestmark = pytest.mark.stress

WORKLOADS = {
    "defaults": {},
    "batch": {"batch": True},
    "contended": {"producers": 8, "consumers": 4, "topics": 1, "groups": 3, "capacity": 10},
    "faulty": {"ttl_ratio": 0.3, "nack_ratio": 0.2, "abandon_ratio": 0.05, "slow_ratio": 0.05, "max_deliveries": 3},
}


def outcome(config: Config) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    result = run(config, out=out, err=err)
    return result.exit_code, result.summary, out.getvalue() + err.getvalue()[:20000]


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_a_long_clean_run_finds_no_violation(workload: str, stress_seed: int, stress_duration: float) -> None:
    config = Config(duration=stress_duration, seed=stress_seed, status=False,
                    audit_interval=min(3.0, stress_duration / 4), **WORKLOADS[workload])
    code, summary, output = outcome(config)
    assert code == EXIT_CLEAN, f"rerun: {config.command()}\n{output}"
    assert summary["audits"]["done"] >= 2


@pytest.mark.parametrize("bug, kind", [("drop", "loss"), ("duplicate", "duplicate"), ("overflow", "overflow"),
                                       ("deadlock", "stall")])
def test_every_seed_catches_an_injected_bug(bug: str, kind: str, stress_seed: int) -> None:
    config = Config(duration=60.0, seed=stress_seed, inject_bug=bug, status=False,
                    stall_timeout=2.0 if bug == "deadlock" else 60.0)
    code, summary, output = outcome(config)
    assert code == (EXIT_STALL if bug == "deadlock" else EXIT_VIOLATION), f"rerun: {config.command()}\n{output}"
    assert kind in summary["violation_counts"] and summary["elapsed_s"] < 30
