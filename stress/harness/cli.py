"""The command line: ``python -m stress [options]``; exit 0 clean, 1 violation, 2 usage, 3 stall."""

from __future__ import annotations

import os
import sys

from stress.harness.config import UsageError, build_parser, parse_args
from stress.harness.runner import EXIT_STALL, EXIT_USAGE, run


def main(argv: list[str] | None = None) -> int:
    """Parse, run, return the exit status."""
    try:
        config = parse_args(argv)
    except UsageError as error:
        sys.stderr.write(build_parser().format_usage())
        sys.stderr.write(f"python -m stress: error: {error}\n")
        return EXIT_USAGE
    result = run(config, handle_signals=True)
    if result.exit_code == EXIT_STALL:
        # Threads may still be blocked on a lock nobody will release: leave without joining them.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_STALL)
    return result.exit_code
