"""``python -m model grade``: the battery, child processes with limits, table, JSON, JUnit.

Most tests run a one-scenario battery (``--scenarios``) and small limits so
hostile submissions are cut short quickly.
"""

import json
import time
import xml.etree.ElementTree as ET

import pytest

from tests.integration.test_cli_check import needs_checker
from tests.integration.test_cli_target import SUBMISSIONS, cli

pytestmark = [needs_checker, pytest.mark.slow]

CORRECT = "docs/examples/buffer.py:Buffer"
BUGGY = "docs/examples/missing_notify.py:Buffer"
SCENARIO_KEYS = ["name", "verdict", "property", "schedules", "exhaustive", "trace", "replay",
                 "message"]


def grade(target, tmp_path, *options):
    junit, report = tmp_path / "junit.xml", tmp_path / "grade.json"
    done = cli("grade", target, "--junit", junit, "--json", report, *options)
    data = json.loads(report.read_text()) if report.exists() else None
    suite = ET.parse(junit).getroot() if junit.exists() else None
    return done, data, suite


def test_a_correct_submission_passes_a_one_scenario_battery(tmp_path):
    done, data, suites = grade(CORRECT, tmp_path, "--scenarios", "1p1c-cap1-sync")
    assert done.returncode == 0, done.stdout + done.stderr
    assert data["verdict"] == "pass"
    [scenario] = data["scenarios"]
    assert list(scenario) == SCENARIO_KEYS
    assert scenario["name"] == "1p1c-cap1-sync" and scenario["verdict"] == "pass"
    assert scenario["property"] is None and scenario["replay"] is None and scenario["trace"] == []
    assert "seconds" not in scenario
    header = done.stdout.splitlines()[0].split()
    assert header == ["scenario", "verdict", "property", "schedules", "seconds"]
    assert "PASS: 1 passed, 0 failed, 0 errors of 1 scenarios" in done.stdout
    [case] = suites.iter("testcase")
    assert case.get("name") == "1p1c-cap1-sync" and case.find("failure") is None


def test_a_buggy_submission_fails_with_the_property_trace_and_replay(tmp_path):
    done, data, suites = grade(BUGGY, tmp_path, "--scenarios", "2p2c-cap1-sync,1p1c-cap1-sync")
    assert done.returncode == 1
    assert data["verdict"] == "fail"
    names = [s["name"] for s in data["scenarios"]]
    assert names == ["2p2c-cap1-sync", "1p1c-cap1-sync"]  # the order asked for
    failed = data["scenarios"][0]
    assert failed["verdict"] == "fail" and failed["property"] == "deadlock"
    assert failed["trace"] and failed["replay"].startswith("python -m model replay mc1-")
    cases = list(suites.iter("testcase"))
    assert [c.get("name") for c in cases] == names
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("type") == "deadlock"
    assert "missing_notify.py" in failure.text
    # the replay command in the report works
    replay = cli(*failed["replay"].split()[3:])
    assert replay.returncode == 1 and "Property violated: deadlock" in replay.stdout


def test_the_same_submission_gives_the_same_json_every_run(tmp_path):
    runs = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        done, _, _ = grade(BUGGY, tmp_path / str(i), "--scenarios", "2p2c-cap1-sync,1p1c-cap1-line")
        runs.append(((tmp_path / str(i) / "grade.json").read_bytes(),
                     (tmp_path / str(i) / "junit.xml").read_bytes()))
    assert runs[0] == runs[1]
    data = json.loads(runs[0][0])
    assert data["python"].count(".") == 1 and "CPython minor versions" in data["note"]


def test_json_to_stdout_keeps_the_table_on_stderr(tmp_path):
    done = cli("grade", CORRECT, "--json", "-", "--scenarios", "1p1c-cap1-sync", "--timings")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert isinstance(data["scenarios"][0]["seconds"], float)
    assert "scenario" in done.stderr


def test_timings_and_jobs_options(tmp_path):
    done, data, suites = grade(CORRECT, tmp_path, "--scenarios", "1p1c-cap1-sync,1p2c-cap1-sync",
                               "--jobs", "1", "--timings")
    assert done.returncode == 0
    assert all(isinstance(s["seconds"], float) for s in data["scenarios"])
    assert all(float(case.get("time")) > 0 for case in suites.iter("testcase"))


@pytest.mark.parametrize("name, verdict, property, why, timeout", [
    ("hang", "error", None, "no verdict within the 2 s wall-clock limit", 2),
    ("os_exit", "fail", "exception", "os._exit(0) called", 20),
    ("posix_exit", "error", None, "exited with code 0 before reporting a verdict", 20),
    ("sys_exit", "fail", "deadlock", "every thread is blocked", 20),
    ("memory_hog", "fail", "exception", "MemoryError at memory_hog.py:20", 20),
    ("raw_thread", "error", None, "threads started with _thread are invisible", 20),
    ("thread_at_import", "error", None, "thread(s) the checker cannot control", 20),
    ("print_flood", "pass", None, "", 20),
    ("segfault", "error", None, "crashed (SIGSEGV)", 20),
    ("raw_lock", "error", None, "unsupported", 20),
    ("control_chars", "fail", "exception", "ValueError: bad", 20),  # the JUnit still parses
])
def test_a_hostile_submission_gets_a_clean_verdict_and_never_hangs_the_grader(
        name, verdict, property, why, timeout, tmp_path):
    started = time.monotonic()
    done, data, suites = grade(f"{SUBMISSIONS}/{name}.py:Buffer", tmp_path,
                               "--scenarios", "1p1c-cap1-sync", "--timeout", str(timeout),
                               "--memory-limit", "384")
    assert time.monotonic() - started < timeout + 10
    assert done.returncode == (0 if verdict == "pass" else 1), done.stderr
    [scenario] = data["scenarios"]
    assert (scenario["verdict"], scenario["property"]) == (verdict, property), scenario
    assert why in scenario["message"], scenario["message"]
    assert len(done.stdout) < 10_000  # nothing the submission printed reached the report
    assert len(list(suites.iter("testcase"))) == 1


# The whole battery once, on the textbook buffer; the standard library's queue
# and mq run the default scenario and a line one (the full runs are in docs/grading.md).
HEAVY = "2p2c-cap1-sync,1p1c-cap1-line"


def test_the_standard_library_queue_passes_the_heaviest_scenarios(tmp_path):
    done, data, _ = grade("queue:Queue", tmp_path, "--scenarios", HEAVY)
    assert done.returncode == 0, done.stdout


def test_mq_bounded_queue_passes_the_heaviest_scenarios(tmp_path):
    mq = pytest.importorskip("mq")
    if not hasattr(mq, "BoundedQueue"):
        pytest.skip("mq.BoundedQueue has not landed yet")
    done, data, _ = grade("mq:BoundedQueue", tmp_path, "--scenarios", HEAVY)
    assert done.returncode == 0, done.stdout
