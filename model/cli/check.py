"""One scenario against one target: the ``auto`` strategy, the verdict, the outcome.

``run`` builds the bounded-buffer scenario (model/scenarios.py) for a loaded
target, explores it with the chosen strategy and returns an ``Outcome``: the
verdict with the issue's property names, the shrunk trace in the submission's
terms and the replay token.  ``replay`` re-runs a token's schedule and returns
the identical outcome.

The ``auto`` strategy (the default) runs phases, one ``model.check`` each, on
one budget of schedules, stopping at the first failure:

1. exhaustive search with partial-order reduction at preemption bound 1 (up
   to a quarter of the budget): most classic buffer bugs (a missing notify, an
   ``if`` for a ``while``, a lock-order deadlock) need at most one preemption
   to show, and DPOR reaches them in a few dozen schedules;
2. exhaustive search at preemption bound 2 (up to half of what is left):
   deeper bugs, and when it completes, a proof that no interleaving with at
   most two preemptions fails;
3. PCT with bug depth 3, seeded, for the rest: probabilistic coverage of
   deeper interleavings the bounded search cannot reach.

At line granularity every line is a scheduling point that conflicts with every
other, so exhaustive search drowns: ``auto`` runs a short bound-1 search and
then PCT.  Budgets are counted in schedules, so the same seed gives the same
phases, the same verdict and the same output on every run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from model.cli import guard
from model.cli import replay as tokens
from model.cli.target import Target, display_path

PROPERTIES = ("loss", "duplicate", "overflow", "deadlock", "exception", "order", "livelock")
# What the checker reports under another name.
_RENAMED = {"assertion": "exception"}
STRATEGIES = ("auto", "random", "pct", "exhaustive")
DEFAULT_SCHEDULES = {"auto": 2000, "random": 2000, "pct": 2000, "exhaustive": 20_000}
DEFAULT_MAX_STEPS = 20_000


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
    token: str | None = None
    search: str = ""  # how the schedules were explored, one sentence
    elapsed: float = 0.0

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
        }
        if timings:
            data["seconds"] = round(self.elapsed, 3)
        return data


def error(message: str, *, scenario: str = "", target: str = "") -> Outcome:
    return Outcome("error", None, 0, False, message, scenario=scenario, target=target)


@dataclass(frozen=True)
class _Phase:
    label: str
    options: dict[str, Any]  # strategy-specific keyword arguments of model.check
    share: float  # fraction of the remaining budget this phase may use


def phases(search: Search, granularity: str) -> list[_Phase]:
    """The phases of a search; for a named strategy, just one."""
    if search.strategy != "auto":
        options: dict[str, Any] = {"strategy": search.strategy, "seed": search.seed}
        if search.preemption_bound is not None:
            options["preemption_bound"] = search.preemption_bound
        if search.strategy == "pct":
            options["depth"] = search.depth
        return [_Phase(search.strategy, options, 1.0)]
    bound = 2 if search.preemption_bound is None else search.preemption_bound
    pct = _Phase(f"PCT (depth {search.depth}, seed {search.seed})",
                 {"strategy": "pct", "seed": search.seed, "depth": search.depth}, 1.0)
    if granularity == "line":
        first = min(bound, 1)
        return [
            _Phase(f"exhaustive (preemption bound {first})",
                   {"strategy": "exhaustive", "preemption_bound": first}, 0.1),
            pct,
        ]
    bounds = sorted({min(bound, 1), bound})
    plan = [
        _Phase(f"exhaustive (preemption bound {b})",
               {"strategy": "exhaustive", "preemption_bound": b},
               0.25 if b < bound else 0.5)
        for b in bounds
    ]
    return plan + [pct]


def _model():
    import model  # imported late: the command line must load even if the core is broken

    return model


def _options(target: Target, scenario: Scenario, search: Search, body: Any) -> dict[str, Any]:
    return {
        "modules": list(target.modules),
        "granularity": scenario.granularity,
        "on_deadlock": body.on_deadlock,
        "max_steps": search.max_steps,
    }


def _body(target: Target, scenario: Scenario) -> Any:
    from model.scenarios import BufferScenario

    return BufferScenario(target.cls, **scenario.sizes())


def run(target: Target, scenario: Scenario, search: Search) -> Outcome:
    """Explore ``scenario`` on ``target``; never raises for anything the submission does."""
    started = time.perf_counter()
    model = _model()
    body = _body(target, scenario)
    common = _options(target, scenario, search, body)
    budget = search.budget
    deadline = None if search.time_limit is None else started + search.time_limit
    used = 0
    done: list[str] = []
    exhaustive = False
    result = None
    for phase in phases(search, scenario.granularity):
        left = budget - used
        if left <= 0:
            break
        allowed = max(1, int(left * phase.share)) if phase.share < 1 else left
        time_left = None
        if deadline is not None:
            time_left = deadline - time.perf_counter()
            if time_left <= 0:
                break
        with guard.quiet():
            result = model.check(body, **common, **phase.options,
                                 max_schedules=allowed, time_limit=time_left)
        used += result.schedules
        if result.exhaustive:
            exhaustive = True
        done.append(f"{phase.label}: {result.schedules} schedules"
                    + (", complete" if result.exhaustive else ""))
        if result.failed:
            outcome = _failure(target, scenario, search, phase, result, used)
            outcome.elapsed = time.perf_counter() - started
            return outcome
    assert result is not None
    outcome = Outcome(
        "pass", None, used, exhaustive,
        _pass_message(used, exhaustive, result, search),
        scenario=scenario.name, target=target.spec, search="; ".join(done),
    )
    outcome.elapsed = time.perf_counter() - started
    return outcome


def _pass_message(used: int, exhaustive: bool, last: Any, search: Search) -> str:
    text = f"no violation found in {used} schedules"
    if exhaustive and search.strategy in ("auto", "exhaustive"):
        bound = search.preemption_bound if search.preemption_bound is not None else (
            2 if search.strategy == "auto" else None)
        if bound is None:
            text += "; exploration was exhaustive"
        else:
            text += f"; every interleaving with at most {bound} preemptions was explored"
    else:
        text += "; exploration was not exhaustive"
    return text


def _failure(target: Target, scenario: Scenario, search: Search, phase: _Phase,
             result: Any, schedules: int, given_token: str | None = None) -> Outcome:
    prop = _RENAMED.get(result.property, result.property)
    verdict = "fail"
    message = str(result.message or "")
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
                    "phase": phase.options, "python": _python()
                    if scenario.granularity == "line" else None},
        "schedule": result.token,
        "found": {"schedules": schedules, "search": phase.label},
    }) if result.token else None
    return Outcome(
        verdict, prop, schedules, bool(result.exhaustive), message,
        scenario=scenario.name, target=target.spec,
        trace=list(_trace(result.trace, target.root)),
        token=token, search=phase.label,
    )


def _python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def _trace(steps: Any, root: str) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield {
            "thread": str(step.thread),
            "op": str(step.op),
            "object": None if step.object is None else str(step.object),
            "file": display_path(step.file or "", root),
            "line": step.line,
            "source": (step.source or "").strip(),
        }


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
    phase = _Phase(data["found"].get("search", ""), dict(options.get("phase", {})), 1.0)
    with guard.quiet():
        result = model.replay(body, data["schedule"], **common, **phase.options)
    if not result.failed:
        return error(
            "the token's schedule no longer fails: the submission behaves "
            "nondeterministically outside the checker's control", scenario=scenario.name,
            target=target.spec,
        )
    outcome = _failure(target, scenario, search, phase, result,
                       int(data["found"].get("schedules", 0)), data["token"])
    outcome.elapsed = time.perf_counter() - started
    return outcome
