"""Line granularity: scheduling points at lines (and shared stores) of the target modules."""

import os
import subprocess
import sys
import threading

import pytest

import model


class Box:
    def __init__(self):
        self.count = 0

    def bump(self):
        self.count += 1


def racy_body():
    box = Box()
    t = threading.Thread(target=box.bump)
    t.start()
    box.bump()
    t.join()
    assert box.count == 2, box.count


def test_line_mode_finds_a_lost_update_in_a_single_line_increment_and_replays_it():
    assert not model.check(racy_body, max_schedules=300).failed  # invisible at sync points
    result = model.check(racy_body, granularity="line", max_schedules=300)
    assert result.property == "assertion"
    assert any(s.op == "store" and "self.count += 1" in s.source for s in result.trace)
    again = model.replay(racy_body, result.token, granularity="line")
    assert again.trace == result.trace


def test_line_mode_chains_to_the_tracer_installed_before_and_restores_it():
    calls = []

    def tracer(frame, event, arg):
        if frame.f_code is Box.bump.__code__:
            calls.append(event)
        return tracer

    outer = sys.gettrace()  # coverage's tracer when the suite runs under coverage
    sys.settrace(tracer)
    try:
        model.check(racy_body, granularity="line", max_schedules=5)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(outer)
    assert "call" in calls and "line" in calls  # the previous tracer kept seeing our target


def test_the_checker_package_itself_is_never_line_traced():
    from model.controlled import line_files, resolve_modules
    from model.scenarios import BufferScenario

    body = BufferScenario(Box)
    files = line_files(body, resolve_modules(body, [sys.modules[__name__]]))
    package = os.path.dirname(os.path.abspath(model.__file__)) + os.sep
    assert files == {os.path.abspath(__file__)} or files == {__file__, os.path.abspath(__file__)}
    assert not any(os.path.abspath(f).startswith(package) for f in files)


@pytest.mark.slow
def test_line_mode_runs_under_coverage(tmp_path):
    cmd = [sys.executable, "-m", "coverage", "run", "--data-file", str(tmp_path / "cov"),
           "--source", "tests.model", "-m", "pytest", "-q", "-p", "no:cacheprovider",
           f"{__file__}::test_line_mode_finds_a_lost_update_in_a_single_line_increment_and_replays_it"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    report = subprocess.run([sys.executable, "-m", "coverage", "report", "--data-file",
                             str(tmp_path / "cov"), "--include", "*test_line_mode.py"],
                            capture_output=True, text=True, timeout=120)
    assert "test_line_mode.py" in report.stdout
