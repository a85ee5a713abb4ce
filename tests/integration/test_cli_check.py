"""``python -m model check``: exit codes 0/1/2, every option, the JSON schema, the text report."""

import json
import re

import pytest

from tests.integration.test_cli_target import SUBMISSIONS, cli

try:
    import model

    HAS_CHECKER = callable(getattr(model, "check", None))
except ImportError:  # pragma: no cover - the package is there; its core may not be
    HAS_CHECKER = False

needs_checker = pytest.mark.skipif(not HAS_CHECKER, reason="model.check has not landed yet")
pytestmark = [needs_checker, pytest.mark.slow]

CORRECT = "docs/examples/buffer.py:Buffer"
IF_NOT_WHILE = "docs/examples/if_not_while.py:Buffer"
MISSING_NOTIFY = "docs/examples/missing_notify.py:Buffer"
RACY = "docs/examples/racy_counter.py:Buffer"
KEYS = ["verdict", "property", "schedules", "exhaustive", "trace", "replay", "message"]
TOKEN = re.compile(r"^python -m model replay mc1-[A-Za-z0-9_-]+$")


def check_json(*args):
    done = cli("check", *args, "--json")
    return done.returncode, json.loads(done.stdout)


def assert_schema(data):
    assert list(data)[:len(KEYS)] == KEYS
    assert data["verdict"] in ("pass", "fail", "error")
    assert isinstance(data["schedules"], int) and isinstance(data["exhaustive"], bool)
    assert isinstance(data["message"], str) and isinstance(data["trace"], list)
    if data["verdict"] == "pass":
        assert data["property"] is None and data["replay"] is None and data["trace"] == []
    if data["verdict"] == "fail":
        assert data["property"] in (
            "loss", "duplicate", "overflow", "deadlock", "exception", "order", "livelock")
        assert TOKEN.match(data["replay"]), data["replay"]
        assert data["trace"]
        for step in data["trace"]:
            assert {"thread", "op", "object", "file", "line"} <= step.keys()
            assert isinstance(step["line"], int) or step["line"] is None
    assert "seconds" not in data


def test_a_correct_buffer_passes_with_exit_0_and_says_how_many_schedules_ran():
    done = cli("check", CORRECT, "--schedules", "300")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"PASS  2p2c-cap1-sync  {CORRECT}\n")
    assert re.search(r"No violation found in \d+ schedules", done.stdout)
    assert "exhaustive" in done.stdout
    assert "replay" not in done.stdout


def test_a_buggy_buffer_fails_with_exit_1_the_property_the_source_lines_and_the_replay_command():
    done = cli("check", IF_NOT_WHILE)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith(f"FAIL  2p2c-cap1-sync  {IF_NOT_WHILE}\n")
    assert "Property violated: exception" in out
    assert "if_not_while.py:" in out  # relative to the submission's folder
    assert "docs/examples/if_not_while.py:" not in out.split("Property violated")[1].split(
        "Replay")[0]
    assert "item = self.items.popleft()" in out  # the submission's source line
    assert TOKEN.match(out.rstrip().splitlines()[-1].strip())


def test_json_on_a_pass_has_the_issue_keys_and_nulls():
    code, data = check_json(CORRECT, "--schedules", "200")
    assert code == 0
    assert_schema(data)
    assert data["verdict"] == "pass" and data["schedules"] >= 1


def test_json_on_a_failure_has_the_trace_and_replay_command():
    code, data = check_json(MISSING_NOTIFY)
    assert code == 1
    assert_schema(data)
    assert data["property"] == "deadlock"
    files = {step["file"] for step in data["trace"]}
    assert "missing_notify.py" in files
    assert not any(f.startswith("/") for f in files), files


def test_the_output_is_the_same_on_every_run():
    first = cli("check", IF_NOT_WHILE)
    second = cli("check", IF_NOT_WHILE)
    assert first.stdout == second.stdout
    assert first.returncode == second.returncode == 1


def test_timings_are_shown_only_when_asked():
    code, data = check_json(CORRECT, "--schedules", "50", "--timings")
    assert isinstance(data["seconds"], float)
    done = cli("check", CORRECT, "--schedules", "50", "--timings")
    assert re.search(r"^Time: \d+\.\d\d s$", done.stdout, re.M)


@pytest.mark.parametrize("option, value, name", [
    ("--producers", "1", "1p2c-cap1-sync"),
    ("--consumers", "3", "2p3c-cap1-sync"),
    ("--items", "3", "2p2c-cap1-k3-sync"),
    ("--capacity", "2", "2p2c-cap2-sync"),
    ("--granularity", "line", "2p2c-cap1-line"),
])
def test_scenario_options_shape_the_scenario(option, value, name):
    code, data = check_json(CORRECT, option, value, "--schedules", "30")
    assert code == 0, data
    assert data["scenario"] == name


@pytest.mark.parametrize("strategy", ["auto", "random", "pct", "exhaustive"])
def test_every_strategy_finds_a_classic_bug(strategy):
    code, data = check_json(IF_NOT_WHILE, "--strategy", strategy, "--schedules", "2000")
    assert code == 1, data
    assert data["property"] == "exception"


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_schedules_bound_the_budget_of_a_pass(strategy):
    code, data = check_json(CORRECT, "--strategy", strategy, "--schedules", "37")
    assert code == 0
    assert data["schedules"] == 37 and data["exhaustive"] is False


def test_exhaustive_search_says_when_it_completed():
    code, data = check_json(CORRECT, "--strategy", "exhaustive", "--preemption-bound", "1",
                            "--producers", "1", "--consumers", "1")
    assert code == 0
    assert data["exhaustive"] is True
    assert "every interleaving with at most 1 preemptions was run" in data["message"]


def test_exhaustive_search_says_when_it_stopped_on_its_budget():
    code, data = check_json(CORRECT, "--strategy", "exhaustive", "--schedules", "20")
    assert code == 0
    assert data["exhaustive"] is False and data["schedules"] == 20
    assert "not exhaustive" in data["message"]


def test_auto_proves_a_small_scenario_within_two_preemptions_then_keeps_searching():
    code, data = check_json(CORRECT, "--producers", "1", "--consumers", "1")
    assert code == 0
    assert data["exhaustive"] is True and data["schedules"] == 2000
    assert "every interleaving with at most 2 preemptions was run" in data["message"]


def test_a_preemption_bound_caps_auto_exhaustive_turns():
    code, data = check_json(CORRECT, "--producers", "1", "--consumers", "1",
                            "--preemption-bound", "0", "--schedules", "50")
    assert code == 0 and data["exhaustive"] is True
    assert "at most 0 preemptions" in data["message"]


def test_the_seed_selects_the_random_exploration():
    def found_after(seed):
        return check_json(IF_NOT_WHILE, "--strategy", "random", "--seed", seed)[1]["schedules"]

    first = found_after("1")
    assert found_after("1") == first
    assert found_after("2") != first


def test_preemption_bound_none_is_unbounded_exhaustive_search():
    code, data = check_json(CORRECT, "--strategy", "exhaustive", "--preemption-bound", "none",
                            "--producers", "1", "--consumers", "1")
    assert code == 0 and data["exhaustive"] is True
    assert data["message"].endswith("exploration was exhaustive: every interleaving was run")


def test_a_time_limit_stops_the_search():
    code, data = check_json(CORRECT, "--strategy", "random", "--schedules", "10000000",
                            "--time-limit", "0.5")
    assert code == 0
    assert 0 < data["schedules"] < 10_000_000


def test_depth_is_passed_to_pct():
    code, data = check_json(IF_NOT_WHILE, "--strategy", "pct", "--depth", "2")
    assert code == 1 and data["property"] == "exception"


def test_max_steps_bounds_each_schedule_and_reports_livelock():
    code, data = check_json(CORRECT, "--max-steps", "5", "--strategy", "random")
    assert code == 1
    assert data["property"] == "livelock"


def test_line_granularity_finds_a_race_that_sync_granularity_cannot_see():
    code, data = check_json(RACY, "--schedules", "300")
    assert code == 0, data
    code, data = check_json(RACY, "--granularity", "line")
    assert code == 1 and data["property"] == "overflow", data
    assert any("self.count = count" in step.get("source", "") for step in data["trace"])


@pytest.mark.parametrize("target", ["queue:Queue", "docs/examples/queue_buffer.py:Buffer"])
def test_the_standard_library_queue_passes(target):
    code, data = check_json(target, "--schedules", "300")
    assert code == 0, data


def test_mq_bounded_queue_passes():
    pytest.importorskip("mq")
    import mq

    if not hasattr(mq, "BoundedQueue"):
        pytest.skip("mq.BoundedQueue has not landed yet")
    code, data = check_json("mq:BoundedQueue", "--schedules", "300")
    assert code == 0, data


def test_an_uncontrolled_blocking_primitive_is_an_error_with_exit_2():
    code, data = check_json(f"{SUBMISSIONS}/raw_lock.py:Buffer")
    assert code == 2, data
    assert data["verdict"] == "error" and data["property"] is None
    assert data["message"].startswith("unsupported: ")
    assert "_thread.allocate_lock() at raw_lock.py:11" in data["message"]
    assert data["replay"] is not None  # it replays to the same error


@pytest.mark.parametrize("name, verdict, property, why", [
    ("os_exit", "fail", "exception", "SubmissionExit: os._exit(0) called"),
    ("raw_thread", "error", None, "unsupported: MainThread called _thread.start_new_thread()"),
    ("sys_exit", "fail", "deadlock", ""),  # as with real threads: the producers just end
    ("print_flood", "pass", None, ""),
    ("thread_at_import", "error", None, "1 thread(s) the checker cannot control"),
])
def test_hostile_submissions_get_a_verdict_in_process_too(name, verdict, property, why):
    done = cli("check", f"{SUBMISSIONS}/{name}.py:Buffer", "--json", "--schedules", "100")
    data = json.loads(done.stdout)  # nothing the submission prints gets into the report
    assert (data["verdict"], data["property"]) == (verdict, property), data
    assert why in data["message"]
    assert done.returncode == {"pass": 0, "fail": 1, "error": 2}[verdict]


def test_a_failure_is_shown_in_the_smallest_scenario_that_fails_the_same_way():
    code, data = check_json(MISSING_NOTIFY)
    assert code == 1 and data["property"] == "deadlock"
    assert data["scenario"] == "2p2c-cap1-sync"  # what was asked for and searched
    assert data["trace_scenario"] == "2p1c-cap1-k1-sync"
    # The trace is of the smaller scenario: only its three threads appear in it.
    assert {step["thread"] for step in data["trace"]} <= {
        "MainThread", "producer-0", "producer-1", "consumer-0", "on_deadlock"}


def test_a_failure_that_needs_the_scenario_asked_for_is_shown_in_it():
    # A missing notify needs two producers to deadlock: 1p1c passes.
    code, data = check_json(MISSING_NOTIFY, "--consumers", "1", "--items", "1")
    assert code == 1 and data["trace_scenario"] is None
