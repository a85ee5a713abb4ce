"""Runs one schedule: the controlled threads of a check, one at a time.

Every controlled thread is a greenlet in the OS thread that called
``model.check``.  A thread runs until it reaches a *scheduling point* (just
before an operation on a controlled primitive); there it records the operation
it is about to perform and asks the strategy which thread takes the next step,
then switches straight to that thread's greenlet (or simply carries on, when
the strategy picked the thread already running).  No other greenlet sits on
that path: one step costs one strategy call and at most one greenlet switch.

Enabledness is exact and maintained incrementally: a thread whose next
operation would block (acquiring a held lock, waiting for a notify, joining a
live thread, ...) is *disabled*; the primitives enable and disable the threads
pending on them as their state changes, so ``enabled`` is a bitmask that is
never recomputed from scratch.  A disabled thread with a deadline (a timed
wait, a sleep) is offered to the strategy as a *timeout* step when its
deadline is the earliest pending one; taking that step advances the virtual
clock to the deadline.

The scheduler knows threads, steps and the strategy protocol; nothing of the
code under test, of ``mq``, or of any one strategy.
"""

from __future__ import annotations

import sys
from _thread import _local as _ThreadLocal
from _thread import get_ident as _get_ident

from greenlet import GreenletExit, getcurrent, greenlet

from model.errors import CheckerBug, ModelError, Nondeterminism, Unsupported, Violation
from model.explore.base import WILDCARD, Op

# Modes of a scheduler.  ACTIVE: controlled operations take scheduling points.
# TEARDOWN: the schedule is over and surviving threads are being unwound with
# GreenletExit; operations take effect without switching, and operations that
# would block re-raise GreenletExit.  DEAD: the schedule is finished; objects
# created in it must not be used any more.
ACTIVE, TEARDOWN, DEAD = 0, 1, 2

# Why a parked thread was resumed.
TIMEOUT = "timeout"

# The scheduler of the schedule running now (None between schedules).  Read by
# the controlled primitives' constructors and by the controlled module
# functions (time.monotonic, threading.current_thread, ...).
_active: "Scheduler | None" = None

# Operations that observe without changing: two of them on one object commute.
READ_ONLY = frozenset({"locked", "is_set", "is_alive", "clock"})
# Operations that take (blocking) or release a mutex: Op.mutex on a Lock or RLock
# (acquire, reacquire, release) or a Condition (wait).
MUTEX_KINDS = frozenset({"acquire", "reacquire", "release", "wait"})

_TIMEOUT_OP = Op("timeout", WILDCARD)
# (kind, serial, class) -> Op: serial numbers repeat from schedule to schedule, so
# the same few Op objects serve every schedule.
_OPS: dict[tuple[str, int], Op] = {}

# enabled bitmask -> ascending tuple of thread ids, shared by all schedules.
_TUPLES: dict[int, tuple[int, ...]] = {0: ()}


def _tuple_of(mask: int) -> tuple[int, ...]:
    t = _TUPLES.get(mask)
    if t is None:
        if len(_TUPLES) > 65536:
            _TUPLES.clear()
            _TUPLES[0] = ()
        t = tuple(i for i in range(mask.bit_length()) if mask >> i & 1)
        _TUPLES[mask] = t
    return t


# Source files whose frames are never reported as "the caller": the checker's
# own runtime and the standard-library modules built on it.
_INTERNAL_FILES: set[str] = {__file__}


def internal_file(path: str) -> None:
    """Register a file whose frames are skipped when locating the user's line."""
    _INTERNAL_FILES.add(path)


def caller_site(depth: int = 2) -> tuple[str, int] | None:
    """(file, line) of the innermost frame outside the checker's runtime."""
    f = sys._getframe(depth)
    internal = _INTERNAL_FILES
    while f is not None and f.f_code.co_filename in internal:
        f = f.f_back
    if f is None:
        return None
    return (f.f_code.co_filename, f.f_lineno)


def frame_site(f) -> tuple[str, int] | None:
    """(file, line) of ``f`` or of the first frame outside the runtime above it."""
    internal = _INTERNAL_FILES
    while f is not None and f.f_code.co_filename in internal:
        f = f.f_back
    if f is None:
        return None
    return (f.f_code.co_filename, f.f_lineno)


def traceback_site(tb) -> tuple[str, int] | None:
    """(file, line) of the innermost traceback entry outside the runtime."""
    site = None
    first = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if first is None:
            first = (code.co_filename, tb.tb_lineno)
        if code.co_filename not in _INTERNAL_FILES:
            site = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return site or first


class Failure:
    """Why a schedule failed: a property name and a one-paragraph message."""

    __slots__ = ("property", "message", "thread", "site", "blocked", "internal", "note")

    def __init__(self, property, message, thread=None, site=None, blocked=(), internal=None,
                 note=None):
        self.property = property
        self.note = note  # for a stuck state: what on_deadlock said about it
        self.message = message
        self.thread = thread  # name of the thread that failed, if one did
        self.site = site  # (file, line) where, if known
        # For a deadlock: (thread state, kind, object, site) of each stuck thread.
        self.blocked = blocked
        # An exception that is not a property of the body (checker bug,
        # nondeterminism, KeyboardInterrupt): check() re-raises it.
        self.internal = internal

    def __repr__(self):
        return f"Failure({self.property!r}, {self.message!r})"


class Clock:
    """The virtual clock's identity as a model object (serial 0)."""

    __slots__ = ()
    serial = 0
    _site = None
    kind_name = "clock"
    ordinal = 0


class Wildcard:
    """The object of a line step: unknown memory, dependent with everything."""

    __slots__ = ()
    serial = WILDCARD
    _site = None
    kind_name = "line"
    ordinal = 0


CLOCK = Clock()
LINE_OBJ = Wildcard()


class ThreadState:
    """The scheduler's view of one controlled thread (also its model object)."""

    __slots__ = (
        "s", "tid", "bit", "tobj", "serial", "ordinal", "_site", "glet",
        "kind", "obj", "op", "site", "deadline", "wake", "daemon", "started",
        "done", "yield_to", "joiners", "probe", "begin_site", "running", "begun", "timed_out",
    )
    kind_name = "Thread"

    def __init__(self, s: "Scheduler", tobj, daemon: bool):
        self.s = s
        self.tid = -1
        self.bit = 0
        self.tobj = tobj
        self.serial = s.new_serial()
        self.ordinal = 0
        self._site = None
        self.glet = None
        self.kind = "begin"
        self.obj = self
        self.op = None
        self.site = None
        self.deadline = None
        self.wake = None
        self.daemon = daemon
        self.started = False
        self.done = False
        self.yield_to = 0
        self.timed_out = False  # its debt is from a timeout: it only holds back its next timeout
        self.joiners = []
        self.probe = False
        self.begin_site = None
        self.running = False  # executing on its greenlet (begun, not yet given it back)
        self.begun = False  # has run on its greenlet at all

    @property
    def name(self) -> str:
        return self.tobj._name

    def __repr__(self):
        return f"<thread {self.tid} {self.name!r} {self.kind}>"


class Scheduler:
    """One schedule of a check; also the ``Point`` the strategy is shown.

    ``step`` is the number of steps taken so far in this schedule (0 at the
    first decision); ``current`` the thread that ran the previous step if it can
    run again now, else None; ``enabled`` the ascending ids the strategy may
    choose from.
    """

    def __init__(self, body, strategy, *, tracing=False, spurious=False,
                 max_steps=20_000, on_deadlock=None):
        self.body = body
        self.strategy = strategy
        self._next = strategy.next_thread
        self._next_value = strategy.next_value
        self.tracing = tracing
        # Strategies that declare ``forced_points = False`` are not asked when
        # only one thread can run (the protocol's default is to ask).
        self.ask_forced = getattr(strategy, "forced_points", True)
        self.spurious = spurious
        self.max_steps = max_steps
        self.on_deadlock = on_deadlock
        # Point protocol.
        self.step = 0
        self.current = None
        self.enabled = ()
        # Runtime state.
        self.mode = ACTIVE
        self.slow = tracing  # take the general path at every point
        self.busy = False  # inside a strategy call: controlled calls fall through
        self.os_ident = _get_ident()
        self.hub = None
        self.cur: ThreadState | None = None
        self.threads: list[ThreadState] = []
        self.mask = 0  # bit i set <=> thread i is enabled (runnable)
        self.tmask = 0  # threads offered for a timeout step at this decision
        self.timed: list[ThreadState] = []  # threads in a timed blocking operation
        self.yielders: list[ThreadState] = []  # threads with a fairness debt
        self.now = 0  # virtual nanoseconds since the schedule began
        self._serial = 1  # 0 is the clock
        self._ordinals: dict[str, int] = {}
        self.thread_names = 0
        self.choices: list[int] = []
        self.trace: list[list] | None = [] if tracing else None
        self.failure: Failure | None = None
        self.completed = False
        self.probe: ThreadState | None = None
        self.deadlock_blocked = ()

    # ----------------------------------------------------------------- objects
    def new_serial(self) -> int:
        n = self._serial
        self._serial = n + 1
        return n

    def register(self, obj, kind_name: str) -> None:
        """Give a new primitive its serial number, ordinal and creation site."""
        obj._s = self
        obj.serial = self.new_serial()
        n = self._ordinals.get(kind_name, 0) + 1
        self._ordinals[kind_name] = n
        obj.ordinal = n
        obj._site = caller_site(3) if self.tracing else None

    # ------------------------------------------------------------ point protocol
    def next_op(self, tid: int) -> Op:
        t = self.threads[tid]
        if not (self.mask >> tid) & 1:
            return _TIMEOUT_OP
        op = t.op
        if op is None:
            obj = t.obj
            key = (t.kind, obj.serial, obj.__class__)
            op = _OPS.get(key)
            if op is None:
                if len(_OPS) > 100_000:
                    _OPS.clear()
                kind = key[0]
                mutex = kind in MUTEX_KINDS and getattr(obj, "mutex", False)
                op = _OPS[key] = Op(kind, key[1], kind in READ_ONLY, mutex)
            t.op = op
        return op

    # ------------------------------------------------------- enabling/disabling
    def enable(self, t: ThreadState) -> None:
        self.mask |= t.bit

    def disable(self, t: ThreadState) -> None:
        self.mask &= ~t.bit
        if self.yielders:
            self._ran(t.bit, stepped=False)

    def set_deadline(self, t: ThreadState, seconds: float) -> None:
        """Arm a timeout ``seconds`` from now for ``t``'s next blocking operation."""
        t.deadline = self.now + seconds_to_ns(seconds)
        self.timed.append(t)

    def untime(self, t: ThreadState) -> None:
        if t.deadline is not None:
            t.deadline = None
            self.timed.remove(t)

    def yield_now(self, t: ThreadState, timed_out: bool = False) -> None:
        """``t`` yields: it must not run again before the threads enabled now.

        CHESS's fairness rule (Musuvathi & Qadeer, PLDI 2008): a thread that
        yields gets a lower priority than every thread enabled at that moment,
        until each of them has taken a step or become disabled.  A thread
        whose timeout just fired (``timed_out``) owes less: it may run at once
        (with real threads a timed-out waiter can win the lock), but its next
        timeout cannot fire before each of those threads took a step, which
        is all a polling loop needs to let them make progress.
        """
        debt = self.mask & ~t.bit
        if debt:
            if not t.yield_to:
                self.yielders.append(t)
            t.yield_to = debt
            t.timed_out = timed_out

    def _ran(self, bit: int, stepped: bool = True) -> None:
        # A thread took a step or became disabled: it no longer holds anyone
        # back -- except that a timed-out thread's debt is paid only by steps
        # (its own step may be what disabled the other, as when it retakes
        # the lock the other was about to take).
        keep = []
        for y in self.yielders:
            if stepped or not y.timed_out:
                y.yield_to &= ~bit
            if y.yield_to:
                keep.append(y)
        self.yielders = keep

    # ----------------------------------------------------------------- stepping
    def point(self, t: ThreadState, kind: str, obj) -> None:
        """``t`` is about to perform ``kind`` on ``obj``: let the strategy decide.

        Returns when ``t`` is chosen to perform it (or, for a disabled thread
        with a deadline, when its timeout fires: then ``t.wake`` is TIMEOUT).
        """
        t.kind = kind
        t.obj = obj
        t.op = None
        if self.slow or self.timed or self.yielders:
            if self.tracing:
                t.site = caller_site()
            nt = self._choose(t)
            if nt is not t:
                self.cur = nt
                nt.glet.switch()
            return
        # The common case, inlined from _choose: no tracing, no deadline
        # pending, no fairness debt.
        step = self.step
        mask = self.mask
        en = _TUPLES.get(mask)
        if en is None or not en or step >= self.max_steps:
            nt = self._choose(t)
            if nt is not t:
                self.cur = nt
                nt.glet.switch()
            return
        self.enabled = en
        tid = t.tid
        self.current = tid if mask >> tid & 1 else None
        if len(en) == 1 and not self.ask_forced:
            c = en[0]
        else:
            self.busy = True
            try:
                c = self._next(self)
            except BaseException as e:  # the strategy failed, not the body
                self.busy = False
                self._strategy_error(e)
            self.busy = False
            if not mask >> c & 1 or c not in en:
                self._bad_choice(c, en, step)
            if len(en) > 1:
                self.choices.append(c)
        self.step = step + 1
        if c != tid:
            nt = self.threads[c]
            self.cur = nt
            nt.glet.switch()

    def line_point(self, frame, kind: str = "line") -> None:
        """A scheduling point before a line of a target module, or a store in one."""
        if self.mode or self.busy:
            return
        t = self.cur
        if t is None or t.glet is not getcurrent():
            return
        t.kind = kind
        t.obj = LINE_OBJ
        t.op = None
        if self.tracing:
            t.site = (frame.f_code.co_filename, frame.f_lineno)
        nt = self._choose(t)
        if nt is not t:
            self.cur = nt
            nt.glet.switch()

    def _choose(self, t: ThreadState | None) -> ThreadState:
        """Ask the strategy for the next step and apply the scheduler's part of it."""
        step = self.step
        if step >= self.max_steps:
            self._fail(Failure(
                "livelock",
                f"the schedule did not end within max_steps={self.max_steps} "
                "scheduling points: the threads keep running without finishing "
                "(a livelock, or a spin loop that never yields). If the body "
                "legitimately needs more steps, raise max_steps.",
            ))
        mask = self.mask
        if self.timed or self.yielders:
            en = self._offer()
        else:
            en = _TUPLES.get(mask) or _tuple_of(mask)
            self.tmask = 0
        if not en:
            en = self._stuck(t)
            mask = self.mask
        self.enabled = en
        if t is not None and (mask >> t.tid) & 1 and (not self.yielders or t.tid in en):
            self.current = t.tid
        else:
            self.current = None
        self.busy = True
        try:
            c = self._next(self)
        except BaseException as e:  # the strategy failed, not the body
            self.busy = False
            self._strategy_error(e)
        self.busy = False
        if c not in en:
            self._bad_choice(c, en, step)
        if len(en) > 1:
            self.choices.append(c)
        self.step = step + 1
        nt = self.threads[c]
        if not (mask >> c) & 1:
            self._fire(nt)
        elif self.yielders:
            self._ran(nt.bit)
        if self.trace is not None:
            kind = nt.kind
            if nt.wake is TIMEOUT and kind != "sleep":
                kind = "timeout"
            cur = self.current
            self.trace.append([nt, kind, nt.obj, nt.site, "", cur is not None and c != cur])
        return nt

    def _bad_choice(self, c, en, step):
        self._strategy_error(CheckerBug(
            f"strategy {getattr(self.strategy, 'name', self.strategy)!r} chose "
            f"thread {c!r}, which is not enabled (enabled: {list(en)}) at step {step}"
        ))

    def _offer(self) -> tuple[int, ...]:
        """Enabled threads plus due timeouts, minus threads that owe a yield."""
        mask = self.mask
        tm = 0
        if self.timed:
            best = None
            for w in self.timed:
                if not (mask >> w.tid) & 1:
                    d = w.deadline
                    if best is None or d < best:
                        best, tm = d, w.bit
                    elif d == best:
                        tm |= w.bit
        offered = mask | tm
        if self.yielders:
            held = due = 0  # threads held back from any step / from a timeout
            for y in self.yielders:
                if y.timed_out:
                    due |= y.bit
                else:
                    held |= y.bit
            # Time only moves forward: a held-back earliest timeout holds back
            # every timeout.
            fair = mask & ~held | (0 if tm & (held | due) else tm)
            if fair:
                offered = fair
        self.tmask = tm & offered
        return _tuple_of(offered)

    def _fire(self, t: ThreadState) -> None:
        """Take ``t``'s timeout step: the clock jumps to its deadline."""
        if not (self.tmask >> t.tid) & 1 or t.deadline is None:
            raise CheckerBug(f"thread {t.tid} chosen while neither enabled nor due")
        if t.deadline > self.now:
            self.now = t.deadline
        self.untime(t)
        t.wake = TIMEOUT
        self.mask |= t.bit
        if self.yielders:
            self._ran(t.bit)
        self.yield_now(t, timed_out=True)

    def value(self, kind: str, n: int) -> int:
        """A value choice among ``n`` alternatives (0 is the default)."""
        if self.mode:
            return 0
        self.busy = True
        try:
            v = self._next_value(kind, n)
        except BaseException as e:
            self.busy = False
            self._strategy_error(e)
        self.busy = False
        if not (isinstance(v, int) and 0 <= v < n):
            self._strategy_error(CheckerBug(
                f"strategy returned {v!r} for a {kind!r} choice among {n}"))
        self.choices.append(v)
        return v

    def note(self, text: str) -> None:
        """Attach a detail to the step being executed (trace mode only)."""
        if self.trace:
            self.trace[-1][4] = text

    # ------------------------------------------------------------------ threads
    def spawn(self, m: ThreadState) -> None:
        """Make ``m`` a live thread: next id, a greenlet, enabled to begin."""
        m.tid = len(self.threads)
        m.bit = 1 << m.tid
        m.started = True
        m.glet = _greenlet_for(self.hub)
        m.kind = "begin"
        m.obj = m
        m.op = None
        m.site = m.begin_site
        self.threads.append(m)
        self.mask |= m.bit

    def _run_thread(self, t: ThreadState):
        """Run thread ``t`` to its end; return the greenlet to hand off to (None: the hub)."""
        t.running = t.begun = True
        try:
            try:
                if t.tid == 0:
                    self.body()
                    self._join_non_daemon(t)
                elif t.probe:
                    self._probe_done(self.on_deadlock())
                else:
                    t.tobj.run()
            except GreenletExit:
                raise
            except BaseException as e:
                if self.mode:
                    return None  # raised while unwinding a finished schedule
                self._raised(t, e)
            if self.mode:
                return None
            return self._exit(t)
        except GreenletExit:
            return None
        finally:
            t.running = False

    def _join_non_daemon(self, main: ThreadState) -> None:
        # Like the interpreter at exit: wait for every non-daemon thread.
        for m in list(self.threads):
            if m is not main and not m.daemon and not m.done:
                m.joiners.append(main)
                self.disable(main)
                main.site = None
                main.kind = "join"
                main.obj = m
                main.op = None
                nt = self._choose(main)
                if nt is not main:
                    self.cur = nt
                    nt.glet.switch()
                m.joiners.remove(main)

    def _exit(self, t: ThreadState):
        if t.tid == 0:
            self.completed = True
            return None  # back to the hub: the schedule is over
        self.point(t, "exit", t)
        t.done = True
        self.disable(t)
        if t.yield_to:  # a finished thread owes nobody a yield
            t.yield_to = 0
            self.yielders = [y for y in self.yielders if y is not t]
        for j in t.joiners:
            self.enable(j)
        nt = self._choose(t)
        self.cur = nt
        return nt.glet

    def _raised(self, t: ThreadState, e: BaseException) -> None:
        """An exception escaped thread ``t``: classify it and fail the schedule."""
        if isinstance(e, SystemExit) and t.tid != 0 and not t.probe:
            return  # like real threads: SystemExit ends the thread quietly
        if t.probe:
            if isinstance(e, Violation):
                self._fail(Failure(e.property, e.message, t.name, traceback_site(e.__traceback__)))
            self._fail_deadlock(note=f"on_deadlock raised {type(e).__name__}: {e}")
        self._fail(classify(t, e))

    # ----------------------------------------------------------------- failures
    def _fail(self, failure: Failure):
        if self.failure is None:
            self.failure = failure
        if getcurrent() is self.hub:
            raise _Abort()
        self.hub.switch()
        raise CheckerBug("a failed schedule was resumed")

    def _strategy_error(self, e: BaseException):
        self._fail(Failure("internal", str(e), internal=e))

    def unsupported(self, what: str, advice: str, depth: int = 2):
        """The body called something the checker cannot control."""
        site = caller_site(depth + 1)
        where = f" at {site[0]}:{site[1]}" if site else ""
        t = self.cur
        name = t.name if t is not None else "?"
        msg = f"{name} called {what}{where}: {advice}"
        if self.mode or t is None or t.glet is not getcurrent():
            raise Unsupported(msg)
        self._fail(Failure("unsupported", msg, name, site))

    def _stuck(self, t):
        """No thread can take a step."""
        if self.on_deadlock is not None and self.probe is None:
            self.deadlock_blocked = self._blocked()
            from model.controlled.threading import make_probe
            self.probe = p = make_probe(self)
            self.spawn(p)
            return self._offer() if (self.timed or self.yielders) else _tuple_of(self.mask)
        self._fail_deadlock()

    def _blocked(self):
        out = []
        cur = getcurrent()
        for m in self.threads:
            if m.done or m.probe:
                continue
            site = m.site
            if site is None and m.glet is not None:
                if m.glet is cur:
                    site = frame_site(sys._getframe(1))
                elif m.glet.gr_frame is not None:
                    site = frame_site(m.glet.gr_frame)
            out.append((m, m.kind, m.obj, site))
        return tuple(out)

    def _fail_deadlock(self, note=None, property="deadlock"):
        blocked = self.deadlock_blocked or self._blocked()
        from model.trace import describe_blocked

        msg = "every thread is blocked: " + describe_blocked(blocked)
        if note:
            msg = f"{note}; {msg}"
        self._fail(Failure(property, msg, blocked=blocked, note=note))

    def _probe_done(self, result) -> None:
        if isinstance(result, str) and result:
            blocked = self.deadlock_blocked
            from model.trace import describe_blocked

            note = f"on_deadlock classified the stuck state as {result!r}"
            self._fail(Failure(
                result, f"{note}; every thread is blocked: " + describe_blocked(blocked),
                blocked=blocked, note=note,
            ))
        self._fail_deadlock()

    # --------------------------------------------------------------------- run
    def run(self) -> Failure | None:
        """Run the schedule to its end; return its failure, or None if it passed."""
        global _active
        if _active is not None:
            raise CheckerBug("a schedule started while another one is running")
        from model.controlled.threading import make_main

        self.hub = getcurrent()
        _active = self
        try:
            main = make_main(self)
            if self.tracing:
                from model.controlled.threading import _code_site

                main.begin_site = _code_site(self.body)
            self.spawn(main)
            self.cur = nt = self._choose(None)
            nt.glet.switch()
            if self.failure is None and not self.completed:
                raise CheckerBug("control returned to the checker before the schedule ended")
        except _Abort:
            pass
        except GreenletExit:
            raise CheckerBug("GreenletExit reached the checker")
        finally:
            self._teardown()
            _active = None
        return self.failure

    def _teardown(self) -> None:
        self.mode = TEARDOWN
        hub = self.hub
        pool = _idle_greenlets()
        for m in self.threads:
            g = m.glet
            if g is None or g.dead:
                continue
            if m.running:  # inside its thread: unwind it; it parks itself in the pool
                self.cur = m
                try:
                    g.parent = hub
                    g.throw(GreenletExit)
                except (GreenletExit, Exception):
                    pass  # an exception while unwinding a dead schedule is not a verdict
            elif not m.begun and len(pool) < _POOL_MAX:
                pool.append(g)  # spawned but never ran: still parked in the pool loop
        self.mode = DEAD
        self.cur = None


# Greenlets are expensive to create and to end (~13 us each here) but cheap to
# resume (~0.7 us), so each OS thread keeps a pool of idle worker greenlets;
# a controlled thread borrows one and gives it back when it ends.  The pool is
# thread-local: greenlets belong to the OS thread that made them, and a later
# thread that reuses a dead thread's ident must not be lent them.
_pools = _ThreadLocal()
_POOL_MAX = 64


def _idle_greenlets() -> list:
    """This OS thread's pool of idle worker greenlets."""
    try:
        return _pools.idle
    except AttributeError:
        _pools.idle = []
        return _pools.idle


def _greenlet_for(hub):
    pool = _idle_greenlets()
    if pool:
        g = pool.pop()
        if g.parent is not hub:
            g.parent = hub
        return g
    return greenlet(_worker_main, hub)


def _worker_main(*_):
    """The run function of a pooled greenlet: run one controlled thread after another."""
    me = getcurrent()
    while True:
        s = _active
        nxt = s._run_thread(s.cur)
        pool = _idle_greenlets()
        if len(pool) < _POOL_MAX:
            pool.append(me)
        # Park here until lent to the next thread (or dropped: GreenletExit ends us).
        # (Not ``nxt or hub``: a greenlet that has not started yet is falsy.)
        (s.hub if nxt is None else nxt).switch()


class _Abort(Exception):
    """A failure detected on the checker's own greenlet ends the run at once."""


def seconds_to_ns(seconds) -> int:
    # The type first: a str or list times 10**9 is a gigabyte-long repetition.
    if isinstance(seconds, (str, bytes, bytearray)) or not hasattr(seconds, "__float__"):
        raise TypeError(f"timeout must be a number, not {type(seconds).__name__}")
    ns = seconds * 1_000_000_000
    if ns != ns:
        raise ValueError("Invalid value NaN (not a number)")
    if ns == float("inf"):
        raise OverflowError("timeout value is too large")
    return max(0, int(ns))


def classify(t: ThreadState, e: BaseException) -> Failure:
    """The property an exception escaping a thread violates."""
    from model.controlled.watchdog import Stuck

    site = traceback_site(e.__traceback__)
    where = f" at {site[0]}:{site[1]}" if site else ""
    name = t.name
    if isinstance(e, Violation):
        return Failure(e.property, e.message, name, site)
    if isinstance(e, Stuck):
        f = Failure("unsupported", str(e), name, e.site or site)
        f.note = "watchdog"  # reproducing it costs the watchdog's delay: do not shrink
        return f
    if isinstance(e, (CheckerBug, Nondeterminism, KeyboardInterrupt)):
        return Failure("internal", str(e), name, site, internal=e)
    if isinstance(e, Unsupported):
        return Failure("unsupported", f"{name}{where}: {e}", name, site)
    text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    if _raised_inside_runtime(e) and not isinstance(e, _USER_ERRORS):
        return Failure("internal", f"{text} (in {name}{where})", name, site,
                       internal=CheckerBug(f"internal error: {text}"))
    prop = "assertion" if isinstance(e, AssertionError) else "exception"
    return Failure(prop, f"{name} raised {text}{where}", name, site)


class MisuseAssertion(AssertionError):
    """An AssertionError the runtime raises on purpose where CPython asserts (``Thread(group=...)``)."""


# Errors the runtime raises on purpose, as the real primitives would.
_USER_ERRORS = (RuntimeError, ValueError, TypeError, OverflowError, ModelError, MisuseAssertion)


def _raised_inside_runtime(e: BaseException) -> bool:
    tb = e.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    name = last.tb_frame.f_code.co_filename
    return name == __file__ or name.startswith(_CONTROLLED_DIR)


import os as _os  # noqa: E402

_CONTROLLED_DIR = _os.path.join(_os.path.dirname(__file__), "controlled") + _os.sep
