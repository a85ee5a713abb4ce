"""Short stress runs on the real broker: clean ones pass, each injected bug is caught (default suite).

Outcomes are deterministic: a clean run has no violation whatever the
interleaving (every check is exact or errs towards silence), and each seam
causes its fault on the 25th delivery of its group and the harness stops at
the first violation, so the runs end in about a second.  Nothing here sleeps:
the only waits are joins with timeouts and the harness's own stopping.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from stress.harness import EXIT_CLEAN, EXIT_STALL, EXIT_USAGE, EXIT_VIOLATION, Config, run

ROOT = Path(__file__).resolve().parents[2]

# Short, busy runs: frequent audits so every short run has several; a generous stall
# timeout for the runs that must not stall (a loaded CI machine must not fail them).
SHORT = Config(duration=0.7, audit_interval=0.2, snapshot_interval=0.25, stall_timeout=60.0, status=False)
BUGGY = SHORT.replace(duration=30.0)  # ends at the first violation, long before 30 s


@pytest.fixture(autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        thread.join(10)
        assert not thread.is_alive(), f"{thread.name} outlived its run"


def quiet_run(config: Config) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    result = run(config, out=out, err=err)
    return result.exit_code, result.summary, out.getvalue() + err.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"batch": True, "consumers": 1, "capacity": 20},
        {"topics": 1, "groups": 3, "producers": 3, "ttl_ratio": 0.3, "abandon_ratio": 0.05, "max_deliveries": 2},
    ],
    ids=["defaults", "batch", "faulty"],
)
def test_a_clean_run_finds_no_violation(changes: dict, tmp_path: Path) -> None:
    report = tmp_path / "report.jsonl"
    code, summary, output = quiet_run(SHORT.replace(seed=11, report=str(report), **changes))
    assert code == EXIT_CLEAN, output
    assert summary["verdict"] == "CLEAN" and summary["violations"] == []
    assert summary["totals"]["acked"] > 0 and summary["audits"]["done"] >= 2
    assert summary["occupancy"]["high_water"] <= summary["occupancy"]["capacity"]
    records = [json.loads(line) for line in report.read_text().splitlines()]
    assert records[0]["type"] == "start" and records[-1]["type"] == "summary"
    assert any(record["type"] == "snapshot" for record in records)


@pytest.mark.slow
@pytest.mark.parametrize("bug, kind", [("drop", "loss"), ("duplicate", "duplicate"), ("overflow", "overflow")])
def test_an_injected_bug_is_reported_as_its_violation(bug: str, kind: str) -> None:
    code, summary, output = quiet_run(BUGGY.replace(seed=5, inject_bug=bug))
    assert code == EXIT_VIOLATION, output
    assert summary["fault_triggered"] and kind in summary["violation_counts"], output
    assert summary["stopped_by"] == "violation" and summary["elapsed_s"] < BUGGY.duration


@pytest.mark.slow
def test_an_injected_deadlock_is_a_stall_with_every_stack() -> None:
    code, summary, output = quiet_run(BUGGY.replace(seed=5, inject_bug="deadlock", stall_timeout=0.5))
    assert code == EXIT_STALL, output
    assert summary["fault_triggered"] and summary["stall"] is not None
    stacks = summary["stall"]["stacks"]
    assert "fault-deadlock-holder" in stacks and any(name.startswith("stress-consumer") for name in stacks)
    assert "STALL:" in output


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stress", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_the_command_line_exits_0_on_a_clean_run(tmp_path: Path) -> None:
    report = tmp_path / "r.jsonl"
    done = cli("--duration", "0.5s", "--seed", "3", "--audit-interval", "0.2", "--report", str(report))
    assert done.returncode == EXIT_CLEAN, done.stdout + done.stderr
    assert done.stdout.startswith("CLEAN: exit 0") and "--seed 3" in done.stdout
    assert json.loads(report.read_text().splitlines()[-1])["verdict"] == "CLEAN"


@pytest.mark.slow
def test_the_command_line_exits_1_on_a_violation() -> None:
    done = cli("--duration", "30s", "--seed", "3", "--audit-interval", "0.2", "--inject-bug", "drop")
    assert done.returncode == EXIT_VIOLATION, done.stdout + done.stderr
    assert "VIOLATION [loss]" in done.stdout


@pytest.mark.slow
def test_the_command_line_exits_3_on_a_stall() -> None:
    done = cli("--duration", "30s", "--seed", "3", "--inject-bug", "deadlock", "--stall-timeout", "0.5")
    assert done.returncode == EXIT_STALL, done.stdout + done.stderr
    assert "STALL:" in done.stderr and "fault-deadlock-holder" in done.stderr


def test_the_command_line_exits_2_naming_a_bad_option() -> None:
    done = cli("--producers", "zero")
    assert done.returncode == EXIT_USAGE
    assert "usage: python -m stress" in done.stderr and "--producers" in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_gracefully_with_a_summary(signum: int, tmp_path: Path) -> None:
    report = tmp_path / "r.fifo"
    os.mkfifo(report)  # the report is a pipe: its first line says the run has started
    process = subprocess.Popen(
        [sys.executable, "-m", "stress", "--duration", "10m", "--seed", "4", "--report", str(report)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with open(report, encoding="utf-8") as records:
            assert json.loads(records.readline())["type"] == "start"
            process.send_signal(signum)
            lines = records.read().splitlines()
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == EXIT_CLEAN, out + err
    summary = json.loads(lines[-1])
    assert summary["type"] == "summary" and summary["stopped_by"] == signal.Signals(signum).name
    assert summary["verdict"] == "CLEAN"
