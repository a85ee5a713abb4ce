"""``python -m model replay TOKEN``: byte-identical failures; exit 2 on malformed or foreign tokens."""

import json
import re
import shutil

import pytest

from tests.integration.test_cli_check import needs_checker
from tests.integration.test_cli_target import ROOT, cli

BUGGY = "docs/examples/if_not_while.py:Buffer"


def token_of(done):
    match = re.search(r"python -m model replay (mc1-[A-Za-z0-9_-]+)", done.stdout)
    assert match, done.stdout + done.stderr
    return match[1]


@needs_checker
@pytest.mark.slow
@pytest.mark.parametrize("target, options", [
    (BUGGY, []),
    ("docs/examples/missing_notify.py:Buffer", ["--strategy", "random", "--seed", "4"]),
    ("docs/examples/racy_counter.py:Buffer", ["--granularity", "line"]),
])
def test_replay_prints_the_identical_report_and_exits_1(target, options):
    checked = cli("check", target, *options)
    assert checked.returncode == 1
    token = token_of(checked)
    for _ in range(2):
        replayed = cli("replay", token)
        assert replayed.returncode == 1
        assert replayed.stdout == checked.stdout  # byte for byte


@needs_checker
@pytest.mark.slow
def test_replay_json_is_identical_to_check_json():
    checked = cli("check", BUGGY, "--json")
    token = json.loads(checked.stdout)["replay"].rsplit(" ", 1)[1]
    replayed = cli("replay", token, "--json")
    assert replayed.returncode == 1
    assert replayed.stdout == checked.stdout
    timed = json.loads(cli("replay", token, "--json", "--timings").stdout)
    assert isinstance(timed.pop("seconds"), float)
    assert timed == json.loads(checked.stdout)


@pytest.mark.parametrize("token, why", [
    ("hello", "must start with 'mc1-'"),
    ("mc1-", "truncated or altered"),
    ("mc1-!!!!", "truncated or altered"),
    ("mc1-eNqrVkrLz1eyUlBKSixSqgUAIJgEVA", "fields are missing"),  # zlib of {"foo": "bar"}
])
def test_a_malformed_token_exits_2_with_one_line(token, why):
    done = cli("replay", token)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and why in done.stderr, done.stderr


def test_a_well_encoded_token_with_invalid_fields_is_malformed():
    from model.cli.replay import encode

    token = encode({"target": "x.py:Buffer", "sha": "0", "schedule": "s", "found": {},
                    "scenario": {"producers": 1, "consumers": 1, "items": 1, "capacity": 1},
                    "options": {"granularity": "bytecode", "max_steps": 10}})
    done = cli("replay", token)
    assert done.returncode == 2
    assert "malformed replay token: the options are invalid" in done.stderr


@needs_checker
@pytest.mark.slow
def test_a_truncated_real_token_is_malformed():
    token = token_of(cli("check", BUGGY))
    done = cli("replay", token[:-7])
    assert done.returncode == 2
    assert "malformed replay token" in done.stderr


@needs_checker
@pytest.mark.slow
def test_a_token_for_a_file_that_changed_is_foreign(tmp_path):
    shutil.copy(ROOT / "docs/examples/if_not_while.py", tmp_path / "mine.py")
    token = token_of(cli("check", "mine.py:Buffer", cwd=tmp_path))
    assert cli("replay", token, cwd=tmp_path).returncode == 1
    with open(tmp_path / "mine.py", "a") as handle:
        handle.write("# a comment changes the hash\n")
    done = cli("replay", token, cwd=tmp_path)
    assert done.returncode == 2
    assert "foreign replay token: mine.py:Buffer has changed" in done.stderr
    (tmp_path / "mine.py").unlink()
    done = cli("replay", token, cwd=tmp_path)
    assert done.returncode == 2
    assert "no such file: mine.py" in done.stderr


@needs_checker
@pytest.mark.slow
def test_the_token_is_shell_safe_and_the_same_on_every_run():
    first, second = token_of(cli("check", BUGGY)), token_of(cli("check", BUGGY))
    assert first == second
    assert re.fullmatch(r"mc1-[A-Za-z0-9_-]+", first)
