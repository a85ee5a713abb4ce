"""``check`` and ``replay``: explore a body's interleavings and report the first failure.

One check patches the runtime once (model/controlled), then runs schedules —
each a fresh run of the body under a new ``Scheduler`` — until the strategy is
done, the budget is spent or a schedule fails.  A failing schedule is shrunk
(model/shrink.py), then run once more with tracing on to build the report;
its token replays exactly that run.
"""

from __future__ import annotations

import os
import time as _time
from dataclasses import dataclass, field

from model.controlled import (
    Environment, Watchdog, line_files, module_name_of, resolve_modules,
)
from model.errors import CheckerBug, ModelError, Nondeterminism, TokenError
from model.explore import STRATEGY_NAMES, Replay, make_strategy
from model.scheduler import Scheduler
from model.shrink import shrink as _shrink
from model.trace import (
    Namer, Step, TokenData, build_steps, decode_token, describe_blocked,
    encode_token, format_table, name_hash, source_line,
)

_perf_counter = _time.perf_counter  # the real clock, captured before any patching


@dataclass(frozen=True)
class Result:
    """The outcome of ``model.check`` or ``model.replay``.

    ``trace`` is the (shrunk) failing schedule, empty on a pass; ``token``
    replays it with ``model.replay``.  ``schedules`` counts the schedules
    explored (up to and including the failing one); ``steps`` the scheduling
    points they took.  ``elapsed`` is never part of ``report()``.
    """

    failed: bool
    verdict: str
    property: str | None
    message: str
    schedules: int
    steps: int
    exhaustive: bool
    trace: tuple[Step, ...]
    token: str | None
    seed: int
    strategy: str
    elapsed: float = field(compare=False)
    guarantee: str = ""
    blocked: tuple[Step, ...] = ()
    preemptions: int = 0
    shrunk_from: tuple[int, int] | None = None
    body_name: str = "body"
    stopped_by: str | None = None  # "schedules", "time" or None (strategy finished)

    def summary(self) -> str:
        """One line on the exploration: strategy, seed, schedules, shrinking."""
        if self.strategy == "replay":
            return "replayed one recorded schedule"
        text = f"strategy {self.strategy}, seed {self.seed}: {_n(self.schedules, 'schedule')}"
        if self.failed:
            text += f", failure in schedule {self.schedules}"
            if self.shrunk_from:
                text += (f", shrunk from {_n(self.shrunk_from[0], 'step')} and "
                         f"{_n(self.shrunk_from[1], 'preemption')} to {len(self.trace)} "
                         f"and {self.preemptions}")
        elif self.exhaustive:
            text += ", exploration complete"
        elif self.stopped_by == "time":
            text += ", stopped by the time limit"
        return text

    def replay_call(self) -> str | None:
        if self.token is None:
            return None
        return f'model.replay({self.body_name}, "{self.token}")'

    def report(self) -> str:
        """The human report: property, message, blocked threads, trace table, replay call.

        It depends only on the failing schedule, so ``replay(body, token).report()``
        is the same text; how the failure was found is in ``summary()``.
        """
        if not self.failed:
            how = "exhaustively" if self.exhaustive else "within the budget"
            lines = [
                f"pass: no failure found {how} in {self.schedules} schedule(s) "
                f"(strategy {self.strategy}, seed {self.seed})."
            ]
            if self.stopped_by == "time":
                lines.append("Stopped by the time limit.")
            if self.guarantee:
                lines.append(f"Guarantee: {self.guarantee}.")
            return "\n".join(lines)
        lines = [f"FAILED: {self.property}", f"  {self.message}"]
        if self.blocked:
            lines.append("")
            lines.append("Blocked threads:")
            lines += format_table(self.blocked, numbered=False)
        lines.append("")
        lines.append(
            f"Interleaving ({_n(len(self.trace), 'step')}, {_n(self.preemptions, 'preemption')}; "
            "* = preemption):"
        )
        lines += format_table(self.trace)
        lines.append("")
        lines.append(f"Replay: {self.replay_call()}")
        return "\n".join(lines)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@dataclass
class _Outcome:
    failure: object
    steps: int
    choices: list
    trace: list | None
    sched: Scheduler | None = None


class Runner:
    """Runs single schedules of one body with fixed settings."""

    def __init__(self, body, env: Environment, *, spurious: bool, max_steps: int, on_deadlock):
        self.body = body
        self.env = env
        self.spurious = spurious
        self.max_steps = max_steps
        self.on_deadlock = on_deadlock

    def run(self, strategy, tracing: bool = False) -> _Outcome:
        if self.env.line_tracer is not None:
            self.env.line_tracer.ensure()
        s = Scheduler(self.body, strategy, tracing=tracing, spurious=self.spurious,
                      max_steps=self.max_steps, on_deadlock=self.on_deadlock)
        failure = s.run()
        if failure is not None and failure.internal is not None:
            e = failure.internal
            if isinstance(e, (ModelError, KeyboardInterrupt)):
                raise e
            raise CheckerBug(f"{type(e).__name__}: {e}") from e
        return _Outcome(failure, s.step, s.choices, s.trace, s if tracing else None)


def _validate(max_schedules, time_limit, granularity, max_steps, processes, watchdog):
    if not isinstance(max_schedules, int) or max_schedules < 1:
        raise ValueError(f"'max_schedules' must be a positive int, not {max_schedules!r}")
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"'time_limit' must be a positive number of seconds or None, not {time_limit!r}")
    if granularity not in ("sync", "line"):
        raise ValueError(f"'granularity' must be 'sync' or 'line', not {granularity!r}")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"'max_steps' must be a positive int, not {max_steps!r}")
    if not isinstance(processes, int) or processes < 1:
        raise ValueError(f"'processes' must be a positive int, not {processes!r}")
    if watchdog is not None and not watchdog > 0:
        raise ValueError(f"'watchdog' must be a positive number of seconds or None, not {watchdog!r}")


def _body_name(body) -> str:
    fn = getattr(body, "func", body)
    return getattr(fn, "__qualname__", None) or type(fn).__qualname__


def _body_id(body) -> int:
    return name_hash(f"{module_name_of(body)}.{_body_name(body)}")


def _modules_id(targets) -> int:
    return name_hash(",".join(sorted(m.__name__ for m in targets)))


def check(body, *, strategy="random", seed=0, max_schedules=1000, time_limit=None,
          preemption_bound=None, depth=3, granularity="sync", modules=(),
          spurious_wakeups=None, max_steps=20_000, on_deadlock=None, shrink=True,
          processes=1, watchdog=10.0) -> Result:
    """Run ``body`` under many schedules; return the first failure found, shrunk, or a pass.

    See docs/checker.md for every option.
    """
    if not callable(body):
        raise TypeError(f"'body' must be a zero-argument callable, not {body!r}")
    _validate(max_schedules, time_limit, granularity, max_steps, processes, watchdog)
    start = _perf_counter()
    if isinstance(strategy, str):
        if strategy not in STRATEGY_NAMES:
            raise ValueError(
                f"unknown strategy {strategy!r}: use one of "
                f"{', '.join(map(repr, STRATEGY_NAMES))} or a Strategy instance"
            )
        strat = make_strategy(strategy, seed=seed, depth=depth, preemption_bound=preemption_bound)
    else:
        if processes > 1:
            raise ValueError("processes > 1 needs a strategy name, not a Strategy instance")
        strat = strategy
    name = getattr(strat, "name", type(strat).__name__)
    spurious = (spurious_wakeups if spurious_wakeups is not None
                else bool(getattr(strat, "spurious_default", False)))
    targets = resolve_modules(body, modules)
    files = line_files(body, targets) if granularity == "line" else None
    deadline = start + time_limit if time_limit is not None else None

    with Environment(targets, files, watchdog) as env:
        runner = Runner(body, env, spurious=spurious, max_steps=max_steps, on_deadlock=on_deadlock)
        if processes > 1:
            found = _explore_parallel(runner, strategy, seed, depth, preemption_bound,
                                      max_schedules, deadline, processes, watchdog)
        else:
            found = _explore(runner, strat, max_schedules, deadline)
        if found.failure is None:
            return Result(
                failed=False, verdict="pass", property=None, message="",
                schedules=found.schedules, steps=found.steps, exhaustive=found.exhaustive,
                trace=(), token=None, seed=seed, strategy=name,
                elapsed=_perf_counter() - start, guarantee=_guarantee(strat, found),
                body_name=_body_name(body), stopped_by=found.stopped_by,
            )
        prop = found.failure.property
        if shrink and getattr(found.failure, "note", None) != "watchdog":
            sh = _shrink(runner.run, found.choices, prop)
            sequence, shrunk_from = sh.sequence, (sh.original_steps, sh.original_preemptions)
        else:
            sequence, shrunk_from = tuple(found.choices), None
        token_data = TokenData(
            granularity=granularity, spurious=spurious, max_steps=max_steps,
            on_deadlock=on_deadlock is not None, body=_body_id(body),
            modules=_modules_id(targets), property=prop, choices=tuple(sequence),
        )
        result = _traced(runner, token_data, prop)
    return Result(
        failed=True, verdict="fail", property=prop, message=result["message"],
        schedules=found.schedules, steps=found.steps, exhaustive=False,
        trace=result["trace"], token=encode_token(token_data), seed=seed, strategy=name,
        elapsed=_perf_counter() - start, guarantee=_guarantee(strat, found),
        blocked=result["blocked"], preemptions=result["preemptions"],
        shrunk_from=shrunk_from, body_name=_body_name(body),
    )


@dataclass
class Found:
    failure: object = None
    choices: tuple = ()
    schedules: int = 0
    steps: int = 0
    exhaustive: bool = False
    stopped_by: str | None = None
    stats: dict = field(default_factory=dict)
    guarantee: str | None = None  # set when the parent's strategy did not run the schedules


def _explore(runner: Runner, strat, max_schedules: int, deadline) -> Found:
    found = Found()
    while True:
        if found.schedules >= max_schedules:
            found.stopped_by = "schedules"
            break
        if deadline is not None and _perf_counter() >= deadline:
            found.stopped_by = "time"
            break
        if not strat.begin_schedule():
            break
        out = runner.run(strat)
        found.schedules += 1
        found.steps += out.steps
        strat.end_schedule(out.failure is not None)
        if out.failure is not None:
            found.failure = out.failure
            found.choices = tuple(out.choices)
            return found
    found.exhaustive = bool(strat.exhaustive)
    return found


def _guarantee(strat, found: Found) -> str:
    if found.guarantee is not None:
        return found.guarantee
    for key, value in found.stats.items():
        if hasattr(strat, key):
            setattr(strat, key, max(getattr(strat, key), value))
    g = getattr(strat, "guarantee", None)
    if callable(g):
        return g(found.schedules)
    if isinstance(g, str):
        return g
    summary = getattr(strat, "summary", None)
    if callable(summary):
        return summary()
    if found.exhaustive:
        return f"every schedule of strategy {getattr(strat, 'name', strat)!r} was run"
    return f"stopped after {found.schedules} schedule(s) without exhausting the strategy"


# ------------------------------------------------------------------ processes
_STAT_KEYS = ("max_threads", "max_steps_seen")  # strategy counters merged across workers


def _explore_parallel(runner: Runner, strategy: str, seed, depth, preemption_bound,
                      max_schedules: int, deadline, processes: int, watchdog) -> Found:
    """Spread schedules over ``processes`` forked workers; the lowest failing index wins.

    Worker i runs the schedules of global index i, i+n, i+2n, ... (random and
    PCT: the seed stream of that index; unbounded exhaustive: ``shard=(i, n)``,
    where the index counts the worker's own schedules; bounded exhaustive: n
    is 2 and worker i runs search i of the pair, ``Bounded(component=i)``).  A
    worker stops at the first failure, or once its next index exceeds the
    lowest failing index found so far (for a pair, also the index at which
    one of the two searches completed); the parent then shrinks and traces
    that failure itself.
    """
    import multiprocessing

    pair = strategy == "exhaustive" and preemption_bound is not None
    if pair:
        processes = 2  # the bounded and the unbounded search, one process each
    ctx = multiprocessing.get_context("fork")
    best = ctx.Value("q", max_schedules, lock=True)
    workers = []
    for i in range(processes):
        receiver, sender = ctx.Pipe(duplex=False)
        strat = make_strategy(strategy, seed=seed, depth=depth,
                              preemption_bound=preemption_bound, shard=(i, processes))
        p = ctx.Process(target=_worker, daemon=True, args=(
            runner, strat, i, processes, max_schedules, deadline, best, sender, watchdog))
        p.start()
        sender.close()
        workers.append((p, receiver))
    reports = []
    for i, (p, receiver) in enumerate(workers):
        try:
            reports.append(receiver.recv())
        except EOFError:
            p.join()
            raise CheckerBug(f"worker process {i} died (exit code {p.exitcode})") from None
        finally:
            receiver.close()
    for p, _ in workers:
        p.join()
    for rep in reports:
        if "error" in rep:
            kind, text = rep["error"]
            if kind == "Nondeterminism":
                raise Nondeterminism(text)
            if kind == "KeyboardInterrupt":
                raise KeyboardInterrupt
            raise CheckerBug(f"worker failed: {kind}: {text}")
    if pair:
        return _pair_found(reports, preemption_bound)
    found = Found(exhaustive=all(r["exhaustive"] for r in reports))
    if strategy == "exhaustive":
        from model.explore.exhaustive import describe as exhaustive_summary

        found.guarantee = exhaustive_summary(
            None, True, f", {processes} shards", sum(r["schedules"] for r in reports),
            found.exhaustive)
    found.steps = sum(r["steps"] for r in reports)
    for key in _STAT_KEYS:
        found.stats[key] = max(r["stats"].get(key, 0) for r in reports)
    failing = [r for r in reports if r["failure"] is not None]
    if failing:
        first = min(failing, key=lambda r: r["index"])
        found.failure = _RemoteFailure(*first["failure"])
        found.choices = tuple(first["choices"])
        found.schedules = first["index"] + 1
        found.exhaustive = False
    else:
        found.schedules = sum(r["schedules"] for r in reports)
        found.stopped_by = _stopped_by(reports)
    return found


def _stopped_by(reports) -> str | None:
    """The budget that stopped the workers: time if any ran out of it, else schedules."""
    for budget in ("time", "schedules"):
        if any(r["stopped_by"] == budget for r in reports):
            return budget
    return None


def _pair_found(reports, bound: int) -> Found:
    """What the bounded search's two processes found, as the alternation would have.

    Schedule j of search c is schedule c + 2j of the alternation: the first
    event by that index decides, a failure or the completion of a search.
    """
    from model.explore.portfolio import describe as pair_summary

    found = Found(steps=sum(r["steps"] for r in reports))
    events = [(r["index"], "failure", r) for r in reports if r["failure"] is not None]
    events += [(r["completed_at"], "complete", r) for r in reports
               if r.get("completed_at") is not None]
    winner = None
    if events:
        index, kind, rep = min(events, key=lambda e: e[0])
        if kind == "failure":
            found.failure = _RemoteFailure(*rep["failure"])
            found.choices = tuple(rep["choices"])
            found.schedules = index + 1
        else:
            found.exhaustive = True
            found.schedules = index
            winner = index % 2
        # Each search's runs below the deciding index (a process may run past it).
        counts = [(found.schedules + 1) // 2, found.schedules // 2]
    else:
        counts = [r["schedules"] for r in reports]
        found.schedules = sum(counts)
        found.stopped_by = _stopped_by(reports)
    found.guarantee = pair_summary(bound, winner, counts)
    return found


class _RemoteFailure:
    """A failure found in a worker: its property is all the parent needs."""

    def __init__(self, property, message, note):
        self.property = property
        self.message = message
        self.note = note
        self.internal = None


def _worker(runner, strat, i, n, max_schedules, deadline, best, conn, watchdog):
    rep = {"failure": None, "choices": (), "index": None, "schedules": 0, "steps": 0,
           "exhaustive": False, "stopped_by": None, "stats": {}}
    try:
        if runner.env.watchdog is not None:
            runner.env.watchdog = Watchdog(watchdog)
            runner.env.watchdog.start()
        j = 0
        while True:
            g = i + j * n
            if g >= max_schedules:
                rep["stopped_by"] = "schedules"
                break
            if g > best.value:
                break
            if deadline is not None and _perf_counter() >= deadline:
                rep["stopped_by"] = "time"
                break
            if not strat.begin_schedule():
                rep["exhaustive"] = bool(strat.exhaustive)
                if getattr(strat, "component", None) is not None:
                    # One search of a pair completed: no schedule after it counts.
                    rep["completed_at"] = g
                    with best.get_lock():
                        if g - 1 < best.value:
                            best.value = g - 1
                break
            out = runner.run(strat)
            rep["schedules"] += 1
            rep["steps"] += out.steps
            strat.end_schedule(out.failure is not None)
            if out.failure is not None:
                with best.get_lock():
                    if g < best.value:
                        best.value = g
                rep["failure"] = (out.failure.property, out.failure.message, out.failure.note)
                rep["choices"] = tuple(out.choices)
                rep["index"] = g
                break
            j += 1
        rep["stats"] = {k: getattr(strat, k) for k in _STAT_KEYS if hasattr(strat, k)}
    except BaseException as e:  # report everything to the parent, which raises
        rep = {"error": (type(e).__name__, str(e))}
    finally:
        if runner.env.watchdog is not None:
            runner.env.watchdog.stop()
    conn.send(rep)
    conn.close()


def _traced(runner: Runner, token_data: TokenData, prop: str) -> dict:
    """Run the token's schedule with tracing on; the material of the report."""
    strat = Replay(token_data.choices)
    strat.begin_schedule()
    out = runner.run(strat, tracing=True)
    if out.failure is None or out.failure.property != prop:
        got = out.failure.property if out.failure else "pass"
        raise Nondeterminism(
            f"the failing schedule ({prop}) gave {got!r} when replayed: the body does "
            "not run the same way twice (it depends on random numbers, the real clock, "
            "object ids, set order, files...)"
        )
    f = out.failure
    objs = [e[2] for e in out.trace] + [b[2] for b in f.blocked]
    namer = Namer(objs)
    trace = build_steps(out.trace, namer)
    blocked = tuple(
        Step(m.name, kind, namer(obj), *(site or ("", 0)), source_line(site))
        for m, kind, obj, site in f.blocked
    )
    message = f.message
    if f.blocked:
        message = "every thread is blocked: " + describe_blocked(f.blocked, namer)
        if f.note:
            message = f"{f.note}; {message}"
    message = _relative_paths(message)
    return {
        "trace": trace,
        "blocked": blocked,
        "message": message,
        "preemptions": sum(1 for st in trace if st.preempted),
    }


def _relative_paths(message: str) -> str:
    cwd = os.getcwd() + os.sep
    return message.replace(cwd, "")


def replay(body, token: str, *, granularity=None, modules=(), spurious_wakeups=None,
           max_steps=None, on_deadlock=None, watchdog=10.0, **ignored) -> Result:
    """Rerun exactly the schedule of ``token``; the trace is identical every time.

    Options that shape a schedule are taken from the token; passing a different
    value raises ``TokenError``.  Other ``check`` options are accepted and ignored,
    so ``replay(body, token, **same_options)`` works.
    """
    start = _perf_counter()
    d = decode_token(token)
    for name, given, recorded in (("granularity", granularity, d.granularity),
                                  ("spurious_wakeups", spurious_wakeups, d.spurious),
                                  ("max_steps", max_steps, d.max_steps)):
        if given is not None and given != recorded:
            raise TokenError(
                f"the token was recorded with {name}={recorded!r}, but replay was "
                f"called with {name}={given!r}; drop the option or pass the same value"
            )
    if d.on_deadlock != (on_deadlock is not None):
        raise TokenError(
            "the token was recorded " + ("with" if d.on_deadlock else "without")
            + " an on_deadlock callback; pass the same on_deadlock to replay"
        )
    if _body_id(body) != d.body:
        raise TokenError(
            f"this token was recorded for another body than {module_name_of(body)}."
            f"{_body_name(body)}; replay it with the body that produced it"
        )
    targets = resolve_modules(body, modules)
    if _modules_id(targets) != d.modules:
        raise TokenError(
            "the token was recorded with other target modules than "
            f"{sorted(m.__name__ for m in targets)}; pass the same modules= as the check"
        )
    files = line_files(body, targets) if d.granularity == "line" else None
    with Environment(targets, files, watchdog) as env:
        runner = Runner(body, env, spurious=d.spurious, max_steps=d.max_steps,
                        on_deadlock=on_deadlock)
        result = _traced(runner, d, d.property)
    return Result(
        failed=True, verdict="fail", property=d.property, message=result["message"],
        schedules=1, steps=len(result["trace"]), exhaustive=False, trace=result["trace"],
        token=token.strip(), seed=0, strategy="replay", elapsed=_perf_counter() - start,
        guarantee="replayed one recorded schedule", blocked=result["blocked"],
        preemptions=result["preemptions"], body_name=_body_name(body),
    )
