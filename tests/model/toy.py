"""A toy transition system for testing exploration strategies without the scheduler.

A *program* is a tuple of threads, each a tuple of operations on shared
variables, locks (each with one condition variable) and other threads:

=================== =====================================================
("r", x)            read variable x into the thread's log (read-only)
("w", x, v)         write v to variable x
("inc", x)          x += 1, in one step
("acq", l)          acquire lock l; disabled while another thread holds it
("rel", l)          release lock l (the thread holds it)
("peek", l)         log whether lock l is held (read-only on the lock)
("wait", l)         on l's condition: release l and sleep until notified,
                    then reacquire l (a second scheduling point: "acquire")
("notify", l)       wake one waiter of l's condition; which one is a value
                    choice "notify" when there are two or more
("notify_all", l)   wake every waiter
("choose", n)       log a value choice "choice" among n
("spawn", t)        start thread t (threads named in a spawn start unstarted)
("join", t)         disabled until thread t has finished
("line",)           an operation on unknown memory (WILDCARD): logs every
                    variable and increments variable 0
("down", s)         semaphore s (starts at 0): disabled while 0, then -1
("up", s)           semaphore s: +1
("set", e)          event e: set; ("clear", e): clear
("await", e)        event e: disabled until set (then just passes)
("is_set", e)       log whether event e is set (read-only)
=================== =====================================================

A condition variable shares its lock's object number, so its operations are
dependent with the lock's: that is the sound way to report them.  ``run``
drives any ``Strategy`` through ``begin_schedule`` / ``next_thread`` /
``next_value`` / ``end_schedule`` and returns, per schedule, the final state
and the choices made.  ``ToyPoint.next_op`` refuses threads that are not
enabled, as the protocol allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from model.explore.base import WILDCARD, Op

RUN, WAIT, REACQ, DONE, NEW = "run", "wait", "reacq", "done", "new"

Program = tuple[tuple[tuple, ...], ...]


def _sizes(program: Program) -> tuple[int, int]:
    """Variables, and locks (which share numbers with semaphores and events)."""
    nvars = nlocks = 0
    for ops in program:
        for op in ops:
            if op[0] in ("r", "w", "inc"):
                nvars = max(nvars, op[1] + 1)
            elif op[0] in _SYNC:
                nlocks = max(nlocks, op[1] + 1)
    return max(nvars, 1), nlocks


_SYNC = ("acq", "rel", "peek", "wait", "notify", "notify_all",
         "down", "up", "set", "clear", "await", "is_set")
_KIND = {"acq": "acquire", "rel": "release", "down": "acquire", "up": "release", "await": "wait"}


class State:
    """One run of a program: mutable, cheap to copy for brute-force search."""

    __slots__ = ("program", "nvars", "nlocks", "pc", "status", "vars", "holder", "waiters", "logs",
                 "count", "flag")

    def __init__(self, program: Program) -> None:
        self.program = program
        self.nvars, self.nlocks = _sizes(program)
        spawned = {op[1] for ops in program for op in ops if op[0] == "spawn"}
        self.pc = [0] * len(program)
        self.status = [NEW if t in spawned else (RUN if program[t] else DONE) for t in range(len(program))]
        self.vars = [0] * self.nvars
        self.holder: list[int | None] = [None] * self.nlocks
        self.waiters: list[list[int]] = [[] for _ in range(self.nlocks)]
        self.logs: list[list[Any]] = [[] for _ in program]
        # Semaphore s and event e use sync object number s / e, like lock l.
        self.count = [0] * self.nlocks
        self.flag = [False] * self.nlocks

    def copy(self) -> "State":
        other = State.__new__(State)
        other.program = self.program
        other.nvars, other.nlocks = self.nvars, self.nlocks
        other.pc = list(self.pc)
        other.status = list(self.status)
        other.vars = list(self.vars)
        other.holder = list(self.holder)
        other.waiters = [list(w) for w in self.waiters]
        other.logs = [list(log) for log in self.logs]
        other.count = list(self.count)
        other.flag = list(self.flag)
        return other

    # -- what a strategy may see ---------------------------------------------

    def is_enabled(self, t: int) -> bool:
        status = self.status[t]
        if status == REACQ:
            return self.holder[self.program[t][self.pc[t]][1]] is None
        if status != RUN:
            return False
        op = self.program[t][self.pc[t]]
        if op[0] == "acq":
            return self.holder[op[1]] is None
        if op[0] == "join":
            return self.status[op[1]] == DONE
        if op[0] == "down":
            return self.count[op[1]] > 0
        if op[0] == "await":
            return self.flag[op[1]]
        return True

    def enabled(self) -> tuple[int, ...]:
        return tuple(t for t in range(len(self.program)) if self.is_enabled(t))

    def next_op(self, t: int) -> Op:
        op = self.program[t][self.pc[t]]
        name = op[0]
        lock_obj = self.nvars + (op[1] if len(op) > 1 else 0)
        if self.status[t] == REACQ:
            return Op("acquire", lock_obj)
        if name == "r":
            return Op("read", op[1], True)
        if name in ("w", "inc"):
            return Op("write", op[1])
        if name == "peek":
            return Op("locked", lock_obj, True)
        if name == "is_set":
            return Op("is_set", lock_obj, True)
        if name in _SYNC:
            return Op(_KIND.get(name, name), lock_obj)
        if name in ("spawn", "join"):
            return Op("start" if name == "spawn" else "join", self.nvars + self.nlocks + op[1])
        if name == "choose":
            return Op("choose", self.nvars + self.nlocks + len(self.program) + t)
        if name == "line":
            return Op("line", WILDCARD)
        raise ValueError(f"unknown toy operation {op!r}")

    def arity(self, t: int) -> tuple[str, int] | None:
        """The value choice thread t's next step makes, if any: (kind, n) with n >= 2."""
        if self.status[t] != RUN:
            return None
        op = self.program[t][self.pc[t]]
        if op[0] == "notify" and len(self.waiters[op[1]]) >= 2:
            return ("notify", len(self.waiters[op[1]]))
        if op[0] == "choose" and op[1] >= 2:
            return ("choice", op[1])
        return None

    # -- a step ----------------------------------------------------------------

    def apply(self, t: int, value: int = 0) -> None:
        """Thread t (enabled) performs its next operation; value answers its choice."""
        op = self.program[t][self.pc[t]]
        name = op[0]
        if self.status[t] == REACQ:
            self.holder[op[1]] = t
            self.status[t] = RUN
        elif name == "r":
            self.logs[t].append(("r", op[1], self.vars[op[1]]))
        elif name == "w":
            self.vars[op[1]] = op[2]
        elif name == "inc":
            self.vars[op[1]] += 1
        elif name == "acq":
            self.holder[op[1]] = t
        elif name == "rel":
            assert self.holder[op[1]] == t, f"thread {t} releases lock {op[1]} it does not hold"
            self.holder[op[1]] = None
        elif name == "peek":
            self.logs[t].append(("peek", op[1], self.holder[op[1]] is not None))
        elif name == "wait":
            assert self.holder[op[1]] == t, f"thread {t} waits without holding lock {op[1]}"
            self.holder[op[1]] = None
            self.status[t] = WAIT
            self.waiters[op[1]].append(t)
            return  # pc stays on the wait until the thread reacquires
        elif name == "notify":
            waiters = self.waiters[op[1]]
            if waiters:
                self.status[waiters.pop(value)] = REACQ
        elif name == "notify_all":
            for w in self.waiters[op[1]]:
                self.status[w] = REACQ
            self.waiters[op[1]].clear()
        elif name == "choose":
            self.logs[t].append(("c", value))
        elif name == "spawn":
            self.status[op[1]] = RUN if self.program[op[1]] else DONE
        elif name == "join":
            pass
        elif name == "line":
            self.logs[t].append(("line", tuple(self.vars)))
            self.vars[0] += 1
        elif name == "down":
            self.count[op[1]] -= 1
        elif name == "up":
            self.count[op[1]] += 1
        elif name in ("set", "clear"):
            self.flag[op[1]] = name == "set"
        elif name == "await":
            pass
        elif name == "is_set":
            self.logs[t].append(("is_set", op[1], self.flag[op[1]]))
        else:
            raise ValueError(f"unknown toy operation {op!r}")
        self.pc[t] += 1
        if self.pc[t] == len(self.program[t]):
            self.status[t] = DONE

    def final(self) -> tuple:
        """Everything observable at the end: variables, logs, who is stuck, lock holders."""
        return (
            tuple(self.vars),
            tuple(tuple(log) for log in self.logs),
            tuple(self.status),
            tuple(self.holder),
            tuple(self.count),
            tuple(self.flag),
        )


@dataclass
class ToyPoint:
    """The ``Point`` protocol over a toy state."""

    state: State
    step: int
    current: int | None
    enabled: tuple[int, ...]

    def next_op(self, tid: int) -> Op:
        if tid not in self.enabled:
            raise AssertionError(f"next_op({tid}) asked for a thread that is not enabled")
        return self.state.next_op(tid)


@dataclass
class Schedule:
    """One schedule a strategy ran: its final state and every choice made."""

    final: tuple
    choices: list[tuple[str, int]] = field(default_factory=list)
    deadlock: bool = False


def run_once(program: Program, strategy: Any) -> Schedule:
    """One schedule of ``program`` under ``strategy`` (begin_schedule already returned True)."""
    state = State(program)
    sched = Schedule(final=())
    current: int | None = None
    step = 0
    while True:
        enabled = state.enabled()
        if not enabled:
            break
        t = strategy.next_thread(ToyPoint(state, step, current, enabled))
        if t not in enabled:
            raise AssertionError(f"strategy chose thread {t}, not one of {enabled}")
        sched.choices.append(("t", t))
        value = 0
        choice = state.arity(t)
        if choice is not None:
            value = strategy.next_value(*choice)
            if not 0 <= value < choice[1]:
                raise AssertionError(f"strategy chose value {value} of {choice[1]}")
            sched.choices.append(("v", value))
        state.apply(t, value)
        step += 1
        current = t if state.is_enabled(t) else None
    sched.deadlock = any(s != DONE for s in state.status)
    sched.final = state.final()
    return sched


def run(
    program: Program,
    strategy: Any,
    max_schedules: int | None = None,
    on_schedule: Callable[[Schedule], None] | None = None,
) -> list[Schedule]:
    """Every schedule ``strategy`` explores, up to ``max_schedules``."""
    out: list[Schedule] = []
    while (max_schedules is None or len(out) < max_schedules) and strategy.begin_schedule():
        sched = run_once(program, strategy)
        strategy.end_schedule(sched.deadlock)
        out.append(sched)
        if on_schedule is not None:
            on_schedule(sched)
    return out


def brute_force(program: Program, bound: int | None) -> tuple[int, set[tuple]]:
    """Count every schedule within the preemption bound, and collect their final states.

    An independent enumerator: recursion over copied states, no strategy.
    """
    finals: set[tuple] = set()

    def go(state: State, current: int | None, pre: int) -> int:
        enabled = state.enabled()
        if not enabled:
            finals.add(state.final())
            return 1
        total = 0
        for t in enabled:
            cost = 1 if current is not None and t != current else 0
            if bound is not None and pre + cost > bound:
                continue
            choice = state.arity(t)
            for value in range(choice[1] if choice else 1):
                child = state.copy()
                child.apply(t, value)
                total += go(child, t if child.is_enabled(t) else None, pre + cost)
        return total

    return go(State(program), None, 0), finals
