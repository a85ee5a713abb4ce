"""The command line: ``python -m model check | grade | replay``.

Exit codes, for scripts: 0 no violation found, 1 a violation (or, for grade,
any scenario that failed or errored), 2 the target or token cannot be used
(one line on stderr says why) or the command line itself is wrong.

Modules: target.py loads and validates TARGET; check.py runs one scenario and
designs the ``auto`` strategy; replay.py is the token format; grade.py runs
the battery in child processes; report.py prints text, JSON and JUnit;
guard.py protects the process from the submission.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from model.cli import check as checking
from model.cli import guard, report
from model.cli import replay as tokens
from model.cli.target import TargetError, load

PROG = "python -m model"


def _positive(text: str) -> int:
    value = _natural(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def _natural(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def _bound(text: str) -> int:
    return checking.UNBOUNDED if text.lower() == "none" else _natural(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=PROG,
        description="Check a bounded buffer for concurrency bugs under a deterministic scheduler.",
        epilog="Exit codes: 0 no violation found, 1 violation found, 2 cannot check.",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check", help="explore one producer/consumer scenario",
        description="Explore one producer/consumer scenario against TARGET.",
    )
    check.add_argument("target", metavar="TARGET",
                       help="path/to/file.py:ClassName or package.module:ClassName")
    check.add_argument("--producers", type=_positive, default=2, metavar="P",
                       help="producer threads (default 2)")
    check.add_argument("--consumers", type=_positive, default=2, metavar="C",
                       help="consumer threads (default 2)")
    check.add_argument("--items", type=_positive, default=2, metavar="K",
                       help="items each producer puts (default 2)")
    check.add_argument("--capacity", type=_positive, default=1, metavar="N",
                       help="capacity the buffer is built with (default 1)")
    check.add_argument("--strategy", choices=checking.STRATEGIES, default="auto",
                       help="exploration strategy (default auto: bounded exhaustive, then PCT)")
    check.add_argument("--schedules", type=_positive, default=None, metavar="N",
                       help="budget of schedules (default: "
                       + ", ".join(f"{k} {v}" for k, v in checking.DEFAULT_SCHEDULES.items()) + ")")
    check.add_argument("--time-limit", type=_seconds, default=None, metavar="SECONDS",
                       help="stop exploring after this long (makes the run machine-dependent)")
    check.add_argument("--seed", type=_natural, default=0, metavar="S", help="seed (default 0)")
    check.add_argument("--preemption-bound", type=_bound, default=None, metavar="B",
                       help="preemption bound of exhaustive search, or 'none' for unbounded "
                       "(default 2)")
    check.add_argument("--granularity", choices=("sync", "line"), default="sync",
                       help="scheduling points at synchronisation operations only (default), "
                       "or also at every line of the submission's file")
    check.add_argument("--depth", type=_positive, default=3, metavar="D",
                       help="bug depth of PCT (default 3)")
    check.add_argument("--max-steps", type=_positive, default=checking.DEFAULT_MAX_STEPS,
                       metavar="N", help="steps per schedule before reporting livelock "
                       f"(default {checking.DEFAULT_MAX_STEPS})")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.add_argument("--timings", action="store_true", help="also report elapsed time")
    # For grade's child processes; not part of the documented interface.
    check.add_argument("--result-file", help=argparse.SUPPRESS)
    check.add_argument("--memory-limit", type=_positive, help=argparse.SUPPRESS)
    check.add_argument("--validate-only", action="store_true", help=argparse.SUPPRESS)

    replay = commands.add_parser(
        "replay", help="reproduce a failure from its token",
        description="Re-run the schedule of a replay token and print the identical report.",
    )
    replay.add_argument("token", metavar="TOKEN")
    replay.add_argument("--json", action="store_true", help="print one JSON object")
    replay.add_argument("--timings", action="store_true", help="also report elapsed time")

    grade = commands.add_parser(
        "grade", help="run the fixed battery of scenarios, each in a child process",
        description="Run the fixed battery of scenarios (docs/grading.md) against TARGET.",
    )
    grade.add_argument("target", metavar="TARGET",
                       help="path/to/file.py:ClassName or package.module:ClassName")
    grade.add_argument("--junit", metavar="FILE", help="write JUnit XML (one testcase per scenario)")
    grade.add_argument("--json", metavar="FILE", help="write JSON ('-': to stdout, table to stderr)")
    grade.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="wall-clock limit of each scenario's process (default 30)")
    grade.add_argument("--memory-limit", type=_positive, default=None, metavar="MIB",
                       help="address-space limit of each scenario's process (default 1024)")
    grade.add_argument("--jobs", type=_positive, default=None, metavar="N",
                       help="scenarios run in parallel (default: the number of CPUs)")
    grade.add_argument("--scenarios", metavar="NAMES", default=None,
                       help="comma-separated scenario names to run instead of the whole battery")
    grade.add_argument("--timings", action="store_true",
                       help="also put each scenario's seconds in the JSON and JUnit")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "grade":
        from model.cli import grade

        return grade.main(args)
    try:
        import model  # noqa: F401 - before the guards: the checker keeps the real _thread
    except ImportError as error:
        sys.stderr.write(f"{PROG} {args.command}: error: the checker cannot be imported: {error}\n")
        return 2
    guard.install()
    if args.command == "check":
        return _check(args)
    return _replay(args)


def _fail(message: str, args: argparse.Namespace, *, scenario: str = "", target: str = "") -> int:
    """Exit 2 with one line; as JSON too when asked."""
    outcome = checking.error(message, scenario=scenario, target=target)
    _emit(outcome, args)
    return 2


def _emit(outcome: checking.Outcome, args: argparse.Namespace) -> None:
    result_file = getattr(args, "result_file", None)
    if result_file:
        with open(result_file, "w", encoding="utf-8") as handle:
            json.dump(outcome.to_json(timings=True), handle)
    if args.json:
        sys.stdout.write(report.dumps(outcome.to_json(timings=args.timings)))
    elif outcome.verdict == "error" and not outcome.trace:
        sys.stderr.write(f"{PROG} {args.command}: error: {outcome.message}\n")
    else:
        sys.stdout.write(report.text(outcome, timings=args.timings))


def _check(args: argparse.Namespace) -> int:
    if args.memory_limit:
        _limit_memory(args.memory_limit)
    scenario = checking.Scenario(args.producers, args.consumers, args.items, args.capacity,
                                 args.granularity)
    search = checking.Search(args.strategy, args.schedules, args.time_limit, args.seed,
                             args.preemption_bound, args.depth, args.max_steps)
    try:
        spec = _normalise(args.target)
        with guard.quiet():
            target = load(args.target)
    except TargetError as error:
        return _fail(f"cannot check {args.target}: {error}", args, scenario=scenario.name,
                     target=args.target)
    if args.validate_only:  # grade's probe: the target loads
        if args.result_file:
            with open(args.result_file, "w", encoding="utf-8") as handle:
                json.dump({"verdict": "loaded", "target": spec}, handle)
        return 0
    outcome = _guarded(lambda: checking.run(target, scenario, search), scenario, target.spec)
    _emit(outcome, args)
    return outcome.exit_code


def _normalise(spec: str) -> str:
    from model.cli.target import normalise

    return normalise(spec)


def _guarded(run: Any, scenario: checking.Scenario, spec: str) -> checking.Outcome:
    """Run a check; whatever escapes it is an error verdict, never a traceback."""
    try:
        outcome = run()
    except ImportError as error:
        return checking.error(f"the checker is not available: {error}", scenario=scenario.name,
                              target=spec)
    except Exception as error:  # noqa: BLE001 - reported as the checker's own failure
        return checking.error(
            f"the check stopped with {type(error).__name__}: {error}", scenario=scenario.name,
            target=spec,
        )
    threads = guard.foreign_threads()
    if threads:
        outcome.verdict = "error"
        outcome.property = None
        outcome.message = (
            f"the submission started {threads} thread(s) the checker cannot control "
            "(not through threading.Thread), so the result cannot be trusted "
            f"(the check said: {outcome.message})"
        )
    return outcome


def _limit_memory(mebibytes: int) -> None:
    import resource

    limit = mebibytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _replay(args: argparse.Namespace) -> int:
    try:
        data = tokens.decode(args.token)
    except tokens.TokenError as error:
        return _fail(str(error), args)
    spec = data["target"]
    try:
        with guard.quiet():
            target = load(spec)
    except TargetError as error:
        return _fail(f"cannot replay on {spec}: {error}", args, target=spec)
    if target.digest != data["sha"]:
        return _fail(
            f"foreign replay token: {spec} has changed since the token was made "
            f"(hash {target.digest}, token has {data['sha']}); run check again",
            args, target=spec,
        )
    sizes = data["scenario"]
    scenario = checking.Scenario(granularity=data["options"].get("granularity", "sync"), **sizes)
    outcome = _guarded(lambda: checking.replay(target, data), scenario, spec)
    _emit(outcome, args)
    return outcome.exit_code
