"""The stress harness behind ``python -m stress``: the real broker, real threads, invariants checked as it runs.

    from stress.harness import Config, run

    result = run(Config(duration=2.0, seed=7))
    assert result.exit_code == 0, result.summary["violations"]

Modules, one job each: `config` (options and the command line), `workload`
(producer and consumer threads), `ledger` and `bitmap` (the client-side
account of every message), `monitor` (sampler and watchdog), `audit`
(exact checks of a quiescent broker), `histogram` (latency percentiles),
`report` (JSON lines, status line, summary), `rss` (memory and its growth),
`faults` (the ``--inject-bug`` seams), `runner` (wiring and shutdown),
`cli` (exit codes).  docs/stress.md is the guide.
"""

from stress.harness.config import BUGS, Config, UsageError, parse_args
from stress.harness.runner import EXIT_CLEAN, EXIT_STALL, EXIT_USAGE, EXIT_VIOLATION, RunResult, run

__all__ = [
    "BUGS",
    "EXIT_CLEAN",
    "EXIT_STALL",
    "EXIT_USAGE",
    "EXIT_VIOLATION",
    "Config",
    "RunResult",
    "UsageError",
    "parse_args",
    "run",
]
