"""Exit 2: a target that cannot be checked says why in one line, for check and for grade."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = "tests/data/submissions"


# PYTHONHASHSEED=0 spares the command its re-execution under that seed.
ENV = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": os.pathsep.join(
    filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def cli(*args, cwd=ROOT, timeout=120):
    """Run ``python -m model ARGS`` (from any folder); returns the CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "model", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV,
    )


UNLOADABLE = [
    (f"{SUBMISSIONS}/missing.py:Buffer", "no such file"),
    (f"{SUBMISSIONS}/syntax_error.py:Buffer", "syntax error at syntax_error.py:4"),
    (f"{SUBMISSIONS}/import_raises.py:Buffer", "raised KeyError: 'limit' at import_raises.py:4"),
    (f"{SUBMISSIONS}/exit_on_import.py:Buffer", "called sys.exit(3)"),
    (f"{SUBMISSIONS}/wrong_signature.py:Buffer", "cannot be called as Buffer(capacity)"),
    (f"{SUBMISSIONS}/wrong_put_arity.py:Buffer", "Buffer.put(self) cannot be called as put(self, item)"),
    (f"{SUBMISSIONS}/no_get.py:Buffer", "Buffer has no get() method"),
    (f"{SUBMISSIONS}/not_a_class.py:Buffer", "is a function, not a class"),
    (f"{SUBMISSIONS}/wrong_signature.py:Missing", "has no 'Missing' (classes it defines: Buffer)"),
    (f"{SUBMISSIONS}:Buffer", "not a file"),
    ("no_such_module_anywhere:Buffer", "no module named 'no_such_module_anywhere'"),
    ("queue:SimpleQueue", "cannot be called as SimpleQueue(capacity)"),
    ("queue", "must be path/to/file.py:ClassName or package.module:ClassName"),
    ("buffer.py:", "must be path/to/file.py:ClassName"),
    ("not-a-module:Buffer", "neither a .py file nor a dotted module name"),
]


@pytest.mark.slow
@pytest.mark.parametrize("target, why", UNLOADABLE)
def test_check_exits_2_with_one_line_saying_why(target, why):
    done = cli("check", target)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"python -m model check: error: cannot check {target}: ")
    assert why in lines[0]


@pytest.mark.slow
def test_check_json_reports_an_unloadable_target_as_an_error_verdict():
    done = cli("check", f"{SUBMISSIONS}/syntax_error.py:Buffer", "--json")
    assert done.returncode == 2
    data = json.loads(done.stdout)
    assert data["verdict"] == "error"
    assert data["property"] is None and data["replay"] is None and data["trace"] == []
    assert "syntax error at syntax_error.py:4" in data["message"]


@pytest.mark.slow
@pytest.mark.parametrize("target, why", [UNLOADABLE[1], UNLOADABLE[2], UNLOADABLE[4],
                                         UNLOADABLE[8]])
def test_grade_exits_2_when_the_submission_cannot_be_loaded(target, why, tmp_path):
    junit, report = tmp_path / "junit.xml", tmp_path / "grade.json"
    done = cli("grade", target, "--junit", junit, "--json", report)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and why in lines[0], done.stderr
    data = json.loads(report.read_text())
    assert data["verdict"] == "error" and data["scenarios"] == [] and why in data["message"]
    assert b"<error" in junit.read_bytes()


@pytest.mark.slow
def test_grade_exits_2_when_importing_the_submission_never_finishes():
    done = cli("grade", f"{SUBMISSIONS}/import_hangs.py:Buffer", "--timeout", "1")
    assert done.returncode == 2
    assert "importing it did not finish within 1 s" in done.stderr


@pytest.mark.parametrize("args", [
    ["check", "x.py:B", "--producers", "0"],
    ["check", "x.py:B", "--capacity", "two"],
    ["check", "x.py:B", "--strategy", "bfs"],
    ["check", "x.py:B", "--granularity", "bytecode"],
    ["check", "x.py:B", "--time-limit", "-1"],
    ["check", "x.py:B", "--seed", "-3"],
    ["grade", "x.py:B", "--timeout", "0"],
    ["frobnicate"],
    [],
])
def test_a_wrong_command_line_exits_2(args):
    done = cli(*args)
    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_grade_rejects_an_unknown_scenario_name():
    done = cli("grade", f"{SUBMISSIONS}/hang.py:Buffer", "--scenarios", "2p2c-cap1-bytecode")
    assert done.returncode == 2
    assert "unknown scenario '2p2c-cap1-bytecode'" in done.stderr
