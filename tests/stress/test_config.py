"""Options, durations and usage errors of python -m stress."""

from __future__ import annotations

import pytest

from stress.harness.config import Config, UsageError, parse_args, parse_duration


@pytest.mark.parametrize("text, seconds", [("30s", 30), ("10m", 600), ("8h", 28800), ("250ms", 0.25), ("1.5", 1.5)])
def test_durations_take_a_unit(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "argv, named",
    [
        (["--duration", "soon"], "--duration"),
        (["--producers", "0"], "--producers"),
        (["--consumers", "two"], "--consumers"),
        (["--nack-ratio", "1.5"], "--nack-ratio"),
        (["--inject-bug", "typo"], "--inject-bug"),
        (["--stall-timeout", "-1"], "--stall-timeout"),
        (["--producers", "1", "--topics", "2"], "--producers"),
        (["--bogus"], "--bogus"),
    ],
)
def test_a_bad_option_is_a_usage_error_naming_it(argv: list[str], named: str) -> None:
    with pytest.raises(UsageError, match=named):
        parse_args(argv)


def test_no_options_is_a_short_clean_run_with_a_printed_seed() -> None:
    config = parse_args([])
    assert config.duration == 5.0 and config.inject_bug is None and config.seed >= 0


def test_the_rerun_command_parses_back_to_the_same_config() -> None:
    config = Config(duration=90.0, producers=6, topics=3, batch=True, seed=42, inject_bug="drop", ttl_ratio=0.5)
    argv = config.command().split()[3:]
    assert parse_args(argv) == config
