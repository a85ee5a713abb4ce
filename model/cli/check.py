"""One scenario against one target: the ``auto`` strategy, the verdict, the outcome.

``run`` builds the bounded-buffer scenario (model/scenarios.py) for a loaded
target, explores it with the chosen strategy and returns an ``Outcome``: the
verdict with the issue's property names, the shrunk trace in the submission's
terms and the replay token.  ``replay`` re-runs a token's schedule and returns
the identical outcome.

The default strategy, ``auto``, is model/cli/auto.py: random walk, bounded
exhaustive search and PCT taking turns on one budget of schedules.  Budgets
are counted in schedules, so the same seed gives the same exploration, the
same verdict and the same output on every run.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from model.cli import guard
from model.cli.auto import Auto
from model.cli import replay as tokens
from model.cli.target import Target, display_path

PROPERTIES = ("loss", "duplicate", "overflow", "deadlock", "exception", "order", "livelock")
# What the checker reports under another name.
_RENAMED = {"assertion": "exception"}
STRATEGIES = ("auto", "random", "pct", "exhaustive")
DEFAULT_SCHEDULES = {"auto": 2000, "random": 2000, "pct": 2000, "exhaustive": 10_000}
DEFAULT_BOUND = 2
UNBOUNDED = -1  # --preemption-bound none
DEFAULT_MAX_STEPS = 20_000
# A failure found in a scenario is looked for in smaller ones too (fewer items,
# consumers, producers), each with this many schedules: a smaller scenario's
# trace is shorter and easier to read.  Counted in schedules, so deterministic.
SHRINK_SCHEDULES = 300
# A schedule with no scheduling point for this long is stuck in something the
# checker does not control (a busy loop at sync granularity, a C call): it is
# reported as "unsupported".  Short, because shrinking may replay it a few times.
WATCHDOG_SECONDS = 3.0


@dataclass(frozen=True)
class Scenario:
    """Sizes and granularity of one bounded-buffer scenario."""

    producers: int = 2
    consumers: int = 2
    items: int = 2
    capacity: int = 1
    granularity: str = "sync"

    @property
    def name(self) -> str:
        items = "" if self.items == 2 else f"-k{self.items}"
        return (f"{self.producers}p{self.consumers}c-cap{self.capacity}{items}"
                f"-{self.granularity}")

    def sizes(self) -> dict[str, int]:
        return {"producers": self.producers, "consumers": self.consumers,
                "items": self.items, "capacity": self.capacity}


@dataclass(frozen=True)
class Search:
    """How to explore: strategy and budget."""

    strategy: str = "auto"
    schedules: int | None = None  # None: DEFAULT_SCHEDULES[strategy]
    time_limit: float | None = None
    seed: int = 0
    preemption_bound: int | None = None
    depth: int = 3
    max_steps: int = DEFAULT_MAX_STEPS

    @property
    def bound(self) -> int | None:
        """The preemption bound of exhaustive search; None: unbounded."""
        if self.preemption_bound is None:
            return DEFAULT_BOUND
        return None if self.preemption_bound == UNBOUNDED else self.preemption_bound

    @property
    def budget(self) -> int:
        return self.schedules if self.schedules is not None else DEFAULT_SCHEDULES[self.strategy]


@dataclass
class Outcome:
    """The result of one scenario, as the command line reports it."""

    verdict: str  # "pass" | "fail" | "error"
    property: str | None
    schedules: int
    exhaustive: bool
    message: str
    scenario: str = ""
    target: str = ""
    trace: list[dict[str, Any]] = field(default_factory=list)
    blocked: list[dict[str, Any]] = field(default_factory=list)  # a deadlock's stuck threads
    token: str | None = None
    search: str = ""  # how the schedules were explored, one sentence
    elapsed: float = 0.0
    trace_scenario: str | None = None  # the smaller scenario the trace is of, if not ``scenario``

    @property
    def replay(self) -> str | None:
        return tokens.command(self.token) if self.token else None

    @property
    def exit_code(self) -> int:
        return {"pass": 0, "fail": 1}.get(self.verdict, 2)

    def to_json(self, timings: bool = False) -> dict[str, Any]:
        data = {
            "verdict": self.verdict,
            "property": self.property,
            "schedules": self.schedules,
            "exhaustive": self.exhaustive,
            "trace": self.trace,
            "replay": self.replay,
            "message": self.message,
            "scenario": self.scenario,
            "target": self.target,
            "search": self.search,
            "blocked": self.blocked,
            "trace_scenario": self.trace_scenario,
        }
        if timings:
            data["seconds"] = round(self.elapsed, 3)
        return data


def error(message: str, *, scenario: str = "", target: str = "") -> Outcome:
    return Outcome("error", None, 0, False, message, scenario=scenario, target=target)


def strategy(search: Search, granularity: str) -> tuple[Any, str]:
    """The strategy argument of model.check, and how the report names it."""
    if search.strategy == "auto":
        return Auto(search.seed, depth=search.depth, preemption_bound=search.bound,
                    granularity=granularity), "auto"
    if search.strategy == "exhaustive":
        bound = search.bound
        return "exhaustive", ("exhaustive, unbounded" if bound is None
                              else f"exhaustive, preemption bound {bound}")
    if search.strategy == "pct":
        return "pct", f"PCT, depth {search.depth}, seed {search.seed}"
    return "random", f"random walk, seed {search.seed}"


def _model():
    import model  # imported late: the command line must load even if the core is broken

    return model


def _options(target: Target, scenario: Scenario, search: Search, body: Any) -> dict[str, Any]:
    return {
        "modules": list(target.modules),
        "granularity": scenario.granularity,
        "on_deadlock": body.on_deadlock,
        "max_steps": search.max_steps,
        "watchdog": WATCHDOG_SECONDS,
    }


def _body(target: Target, scenario: Scenario) -> Any:
    from model.scenarios import BufferScenario

    return BufferScenario(target.cls, **scenario.sizes())


def run(target: Target, scenario: Scenario, search: Search, *,
        shrink_scenario: bool = True) -> Outcome:
    """Explore ``scenario`` on ``target``; never raises for anything the submission does.

    A failure is then looked for in smaller scenarios (``shrink_scenario``);
    the outcome shows the smallest that fails with the same property.
    """
    started = time.perf_counter()
    model = _model()
    body = _body(target, scenario)
    chosen, label = strategy(search, scenario.granularity)
    with guard.quiet():
        result = model.check(
            body, **_options(target, scenario, search, body), strategy=chosen,
            seed=search.seed, max_schedules=search.budget, time_limit=search.time_limit,
            preemption_bound=search.bound, depth=search.depth,
        )
    if isinstance(chosen, Auto):
        label = chosen.describe()
    if result.failed:
        shown, shown_result = scenario, result
        if shrink_scenario and _RENAMED.get(result.property, result.property) in PROPERTIES:
            shown, shown_result = _smallest_failing(target, scenario, search, result)
        outcome = _failure(target, shown, search, label, shown_result, result.schedules,
                           found_in=scenario)
    else:
        outcome = Outcome(
            "pass", None, result.schedules, bool(result.exhaustive),
            _pass_message(result, chosen, search), scenario=scenario.name,
            target=target.spec, search=label,
        )
    outcome.elapsed = time.perf_counter() - started
    return outcome


def _smaller(scenario: Scenario):
    """Scenarios one size smaller, most helpful first: fewer items, consumers, producers."""
    if scenario.items > 1:
        yield dataclasses.replace(scenario, items=1)
    if scenario.consumers > 1:
        yield dataclasses.replace(scenario, consumers=scenario.consumers - 1)
    if scenario.producers > 1:
        yield dataclasses.replace(scenario, producers=scenario.producers - 1)


def _smallest_failing(target: Target, scenario: Scenario, search: Search,
                      result: Any) -> tuple[Scenario, Any]:
    """Greedily the smallest scenario below ``scenario`` that fails with the same property."""
    model = _model()
    current, best = scenario, result
    improved = True
    while improved:
        improved = False
        for smaller in _smaller(current):
            body = _body(target, smaller)
            chosen, _ = strategy(search, smaller.granularity)
            with guard.quiet():
                attempt = model.check(
                    body, **_options(target, smaller, search, body), strategy=chosen,
                    seed=search.seed, max_schedules=min(search.budget, SHRINK_SCHEDULES),
                    preemption_bound=search.bound, depth=search.depth,
                )
            if attempt.failed and attempt.property == result.property:
                current, best, improved = smaller, attempt, True
                break
    return current, best


def _pass_message(result: Any, chosen: Any, search: Search) -> str:
    text = f"no violation found in {result.schedules} schedules"
    covered = chosen.covered if isinstance(chosen, Auto) else (
        search.bound if result.exhaustive else None)
    if result.exhaustive and covered is None:
        return text + "; exploration was exhaustive: every interleaving was run"
    if covered is not None:
        text += f"; every interleaving with at most {covered} preemptions was run"
        return text + ("" if result.exhaustive else
                       f", but the search at bound {chosen.bound} did not complete")
    if getattr(result, "stopped_by", None) == "time":
        text += " (stopped by the time limit)"
    return text + "; exploration was not exhaustive"


def _failure(target: Target, scenario: Scenario, search: Search, label: str,
             result: Any, schedules: int, given_token: str | None = None,
             found_in: Scenario | str | None = None) -> Outcome:
    """The outcome of a failure of ``scenario`` (the one the trace is of).

    ``found_in``: the scenario that was asked for and searched, when the trace
    is of a smaller one that fails the same way.
    """
    searched = getattr(found_in, "name", found_in) or scenario.name
    prop = _RENAMED.get(result.property, result.property)
    verdict = "fail"
    message = _message(str(result.message or ""), target)
    if prop not in PROPERTIES:
        # "unsupported" and anything else the checker cannot judge: the target
        # cannot be checked, which is neither a pass nor the submission's bug.
        verdict = "error"
        message = f"{prop}: {message}" if prop else message
        prop = None
    token = given_token or tokens.encode({
        "target": target.spec,
        "sha": target.digest,
        "scenario": {**scenario.sizes()},
        "options": {"granularity": scenario.granularity, "max_steps": search.max_steps,
                    "python": _python() if scenario.granularity == "line" else None},
        "schedule": result.token,
        "found": {"schedules": schedules, "search": label, "in": searched},
    }) if result.token else None
    return Outcome(
        verdict, prop, schedules, bool(result.exhaustive), message,
        scenario=searched, target=target.spec,
        trace_scenario=scenario.name if searched != scenario.name else None,
        trace=_trace(result.trace, target.root),
        blocked=_trace(getattr(result, "blocked", ()), target.root),
        token=token, search=label,
    )


def _python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def _trace(steps: Any, root: str) -> list[dict[str, Any]]:
    """The steps as JSON objects, paths relative to ``root``, repeated blocks folded.

    A block of up to 8 steps that occurs 3 or more times in a row (a spin
    loop, a livelock) is listed once; its first step carries
    ``"repeat": {"times": k, "steps": p}`` and ``"step"`` keeps numbering the
    original schedule, so a 20,000-step livelock stays a few lines long.
    """
    rows = [
        {
            "step": i,
            "thread": str(step.thread),
            "op": str(step.op),
            "object": str(step.object or ""),
            "file": display_path(step.file or "", root),
            "line": int(step.line or 0),
            "source": (step.source or "").strip(),
            "detail": str(getattr(step, "detail", "") or ""),
            "preempted": bool(getattr(step, "preempted", False)),
        }
        for i, step in enumerate(steps, 1)
    ]
    keys = [tuple(v for k, v in row.items() if k != "step") for row in rows]
    out: list[dict[str, Any]] = []
    i = 0
    while i < len(rows):
        best_p, best_k = 1, 1
        for p in range(1, 9):
            k = 1
            while i + (k + 1) * p <= len(rows) and keys[i + k * p:i + (k + 1) * p] == keys[i:i + p]:
                k += 1
            if k >= 3 and p * k > best_p * best_k:
                best_p, best_k = p, k
        block = [dict(row) for row in rows[i:i + best_p]]
        if best_k >= 3:
            block[0]["repeat"] = {"times": best_k, "steps": best_p}
            out.extend(block)
            i += best_p * best_k
        else:
            out.append(block[0])
            i += 1
    return out


def _message(message: str, target: Target) -> str:
    """The checker's message with the submission's paths shown relative to its folder."""
    for path in target.files:
        shown = display_path(path, target.root)
        for spelling in (path, _relative(path)):
            if spelling and spelling != shown:
                message = message.replace(spelling, shown)
    return message


def _relative(path: str) -> str:
    import os

    try:
        relative = os.path.relpath(path)
    except ValueError:
        return ""
    return "" if relative.startswith(os.pardir) else relative


def replay(target: Target, data: dict[str, Any]) -> Outcome:
    """Re-run the schedule of a decoded token; the outcome is identical to the one that made it."""
    started = time.perf_counter()
    model = _model()
    sizes = data["scenario"]
    options = data["options"]
    scenario = Scenario(granularity=options.get("granularity", "sync"), **sizes)
    search = Search(max_steps=int(options.get("max_steps", DEFAULT_MAX_STEPS)))
    body = _body(target, scenario)
    common = _options(target, scenario, search, body)
    label = str(data["found"].get("search", ""))
    try:
        with guard.quiet():
            result = model.replay(body, data["schedule"], **common)
    except (model.Nondeterminism, model.TokenError) as problem:
        recorded = options.get("python")
        note = (f" The token was made with Python {recorded} at line granularity; this is "
                f"Python {_python()}, and line-level schedules can differ between versions."
                if recorded and recorded != _python() else "")
        return error(f"the token's schedule cannot be replayed: {problem}{note}",
                     scenario=scenario.name, target=target.spec)
    if not result.failed:
        return error(
            "the token's schedule no longer fails: the submission behaves "
            "nondeterministically outside the checker's control", scenario=scenario.name,
            target=target.spec,
        )
    outcome = _failure(target, scenario, search, label, result,
                       int(data["found"].get("schedules", 0)), data["token"],
                       found_in=data["found"].get("in"))
    outcome.elapsed = time.perf_counter() - started
    return outcome
