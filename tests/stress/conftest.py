"""Options for the stress tests: seeds, sharding by seed, durations.

    python -m pytest tests/stress                      # the short runs (default suite)
    python -m pytest tests/stress -m stress --stress-seeds 16 --shard 0/4 -n 2
    python -m pytest tests/stress -m stress --count 10 --stress-duration 60

Tests that take the ``stress_seed`` fixture are parametrized over
``--stress-seeds`` seeds starting at ``--stress-seed-base``; ``--shard
i/N`` keeps the seeds whose index is ``i`` modulo ``N``, so N machines (or
pytest-xdist workers, or batch jobs) each run their share of one night's
seeds.  The options exist when tests/stress is on the command line (pytest
reads a sub-directory's conftest options only then).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stress", "stress runs (tests/stress)")
    group.addoption("--stress-seeds", type=int, default=4, metavar="N",
                    help="seeds per parametrized stress test (default 4)")
    group.addoption("--stress-seed-base", type=int, default=0, metavar="S",
                    help="first seed (default 0); a nightly job can pass the date")
    group.addoption("--stress-duration", type=float, default=20.0, metavar="SECONDS",
                    help="duration of each -m stress run (default 20)")
    group.addoption("--shard", default=None, metavar="I/N",
                    help="run only the seeds whose index is I modulo N (0 <= I < N)")


def parse_shard(text: str | None) -> tuple[int, int]:
    """(i, n) from "i/N"; (0, 1) for None.  Raises pytest.UsageError naming the option."""
    if text is None:
        return 0, 1
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--shard must look like I/N (e.g. 0/4), got {text!r}") from None
    if not (count >= 1 and 0 <= index < count):
        raise pytest.UsageError(f"--shard I/N needs N >= 1 and 0 <= I < N, got {text!r}")
    return index, count


def shard_seeds(base: int, seeds: int, shard: tuple[int, int]) -> list[int]:
    """The seeds ``base .. base + seeds - 1`` whose index falls in ``shard``."""
    index, count = shard
    return [base + offset for offset in range(seeds) if offset % count == index]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "stress_seed" in metafunc.fixturenames:
        options = metafunc.config.option
        seeds = shard_seeds(getattr(options, "stress_seed_base", 0), getattr(options, "stress_seeds", 4),
                            parse_shard(getattr(options, "shard", None)))
        metafunc.parametrize("stress_seed", seeds, ids=[f"seed{seed}" for seed in seeds])


@pytest.fixture
def stress_duration(request: pytest.FixtureRequest) -> float:
    """Seconds per long (-m stress) run."""
    return getattr(request.config.option, "stress_duration", 20.0)
