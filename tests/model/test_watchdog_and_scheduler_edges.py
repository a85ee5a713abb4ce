"""Edges of the watchdog, the scheduler and the patched environment.

The watchdog: stray signals, a busy loop, a blocking call with no user frame,
a check outside the main thread.  The scheduler: misbehaving strategies,
exceptions that are not the body's fault, unwinding, greenlet bookkeeping.
The environment: what ``modules=`` accepts and restoring after a failed install.
"""

import _thread
import signal
import sys
import threading
import time
import types

import pytest
from greenlet import GreenletExit, greenlet

import model
from model.controlled.watchdog import Watchdog
from tests.model.conftest import fail_while_waiting, outcomes
from tests.model.test_primitives import error_of


# ------------------------------------------------------------------- watchdog
def test_a_stray_sigusr1_does_not_disturb_a_check_even_while_unwinding():
    log = []

    def body():
        signal.raise_signal(signal.SIGUSR1)  # not the watchdog's: must be ignored
        log.append("running")
        waiting = threading.Event()

        def stuck():
            waiting.set()
            try:
                threading.Event().wait()
            finally:
                signal.raise_signal(signal.SIGUSR1)  # no schedule in progress now
                log.append("unwound")

        threading.Thread(target=stuck).start()
        waiting.wait()
        raise model.Violation("stop", "stop")

    before = signal.getsignal(signal.SIGUSR1)
    result = model.check(body, max_schedules=1, shrink=False, watchdog=5.0)
    assert result.property == "stop"
    assert log == ["running", "unwound"] * 2
    assert signal.getsignal(signal.SIGUSR1) is before  # the watchdog's handler is gone


@pytest.mark.slow
def test_the_watchdog_reports_a_busy_loop_with_its_line():
    def body():
        spinning = [True]

        def spin():
            while spinning[0]:  # no scheduling point in here
                pass

        t = threading.Thread(target=spin, name="spinner")
        t.start()
        t.join()

    result = model.check(body, max_schedules=1, watchdog=0.2)
    assert result.property == "unsupported"
    assert result.message.startswith("no scheduling point for 0.2 s: spinner is stuck at ")
    assert "`while spinning[0]:  # no scheduling point in here`" in result.message
    assert "test_watchdog_and_scheduler_edges.py" in result.message


@pytest.mark.slow
def test_the_watchdog_reports_a_blocking_call_made_by_no_user_frame_without_a_line():
    real = _thread.allocate_lock()  # created before the check: not controlled
    real.acquire()
    try:
        def body():
            t = threading.Thread(target=real.acquire, name="blocked")  # C straight from run()
            t.start()
            t.join()

        result = model.check(body, max_schedules=1, watchdog=0.2)
    finally:
        real.release()
    assert result.property == "unsupported"
    assert result.message.startswith("no scheduling point for 0.2 s: blocked is stuck. ")
    assert result.message.endswith("Stack (innermost last):")


def check_in_a_new_thread(body, only_on_ident=None, **options):
    """``model.check(body, **options)`` in a short-lived OS thread: [result or error, its ident].

    With ``only_on_ident``, the check runs only if the new thread got that ident.
    """
    out = []

    def run():
        if only_on_ident is None or threading.get_ident() == only_on_ident:
            try:
                out.append(model.check(body, **options))
            except Exception as e:
                out.append(e)
        else:
            out.append(None)
        out.append(threading.get_ident())

    checker = threading.Thread(target=run)
    checker.start()
    checker.join()
    return out



def test_a_check_outside_the_main_thread_runs_without_the_watchdog():
    seen = []
    before = signal.getsignal(signal.SIGUSR1)

    def body():
        seen.append(signal.getsignal(signal.SIGUSR1))
        t = threading.Thread(target=len, args=((),))
        t.start()
        t.join()

    result, _ = check_in_a_new_thread(body, max_schedules=3, watchdog=0.5)
    assert isinstance(result, model.Result) and not result.failed, result
    assert seen == [before] * 3  # no handler installed: signals need the main thread


# Idle worker greenlets are kept per OS thread (thread-local), so a thread that
# reuses a dead thread's ident (usual on Linux) is never lent the dead one's
# greenlets ("ValueError: parent cannot be on a different thread").
def test_checks_in_two_short_lived_threads_one_after_the_other_both_run():
    def body():
        with threading.Lock():
            pass

    first, ident = check_in_a_new_thread(body, max_schedules=2)
    for _ in range(20):  # threads until one reuses the first one's ident
        second, second_ident = check_in_a_new_thread(body, only_on_ident=ident, max_schedules=2)
        if second_ident == ident:
            break
    else:
        pytest.skip("no new thread reused the ident of the first one")
    assert isinstance(first, model.Result) and not first.failed
    assert isinstance(second, model.Result) and not second.failed, repr(second)


def test_a_watchdog_needs_a_positive_number_of_seconds():
    for seconds in (0, -1.0):
        with pytest.raises(ValueError, match="'watchdog' must be a positive number"):
            Watchdog(seconds)


# ------------------------------------------------------------------ strategies
class Scripted:
    """A strategy that follows the enabled threads until ``misbehave(point)`` says otherwise."""

    name = "scripted"
    exhaustive = False

    def __init__(self, choose=None, value=None):
        self.runs = 0
        self.choose = choose or (lambda point: point.enabled[0])
        self.value = value or (lambda kind, n: 0)

    def begin_schedule(self):
        self.runs += 1
        return self.runs <= 1

    def next_thread(self, point):
        return self.choose(point)

    def next_value(self, kind, n):
        return self.value(kind, n)

    def end_schedule(self, failed):
        pass


def one_lock():
    with threading.Lock():
        pass


def two_waiters_then_notify_one():
    c = threading.Condition()
    waiting = []

    def waiter():
        with c:
            waiting.append(1)
            c.wait()

    threads = [threading.Thread(target=waiter, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    while len(waiting) < 2:
        time.sleep(0)
    with c:
        c.notify()  # two waiters: which one is a value choice


@pytest.mark.parametrize("at_step", [0, 1])
def test_a_strategy_choosing_a_thread_that_cannot_run_is_a_checker_bug(at_step):
    # Step 0 is decided on the checker's own greenlet, step 1 at a point of the body.
    def choose(point):
        return 7 if point.step == at_step else point.enabled[0]

    with pytest.raises(model.CheckerBug, match=(
            rf"strategy 'scripted' chose thread 7, which is not enabled \(enabled: \[0\]\) "
            rf"at step {at_step}")):
        model.check(one_lock, strategy=Scripted(choose))


def test_an_error_in_a_strategy_is_a_checker_bug_and_an_interrupt_propagates():
    def fails(point):
        if point.step == 1:
            raise ValueError("no idea")
        return point.enabled[0]

    with pytest.raises(model.CheckerBug, match="ValueError: no idea") as bug:
        model.check(one_lock, strategy=Scripted(fails))
    assert isinstance(bug.value.__cause__, ValueError)

    def interrupted(point):
        if point.step == 1:
            raise KeyboardInterrupt
        return point.enabled[0]

    with pytest.raises(KeyboardInterrupt):
        model.check(one_lock, strategy=Scripted(interrupted))


def test_a_strategy_value_choice_out_of_range_or_raising_is_a_checker_bug():
    asked = []

    def out_of_range(kind, n):
        asked.append((kind, n))
        return n

    with pytest.raises(model.CheckerBug, match="strategy returned 2 for a 'notify' choice among 2"):
        model.check(two_waiters_then_notify_one, strategy=Scripted(value=out_of_range))
    assert asked == [("notify", 2)]

    def raises(kind, n):
        raise LookupError("no value")

    with pytest.raises(model.CheckerBug, match="LookupError: no value"):
        model.check(two_waiters_then_notify_one, strategy=Scripted(value=raises))


def test_a_strategy_defined_in_the_body_module_is_not_traced_at_line_granularity():
    strat = Scripted()
    result = model.check(one_lock, strategy=strat, granularity="line", shrink=False)
    assert not result.failed, result.report()
    assert strat.runs == 2  # one schedule run, then the end of the strategy


# ------------------------------------------------ what escapes the body, and how
def test_an_interrupt_in_the_body_stops_the_check_and_propagates():
    def body():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.check(body, max_schedules=5)


def test_a_checker_bug_raised_in_a_thread_is_re_raised_not_reported_as_a_verdict():
    def body():
        def broken():
            raise model.CheckerBug("invariant broken")

        t = threading.Thread(target=broken)
        t.start()
        t.join()

    with pytest.raises(model.CheckerBug, match="invariant broken"):
        model.check(body, max_schedules=5)


def test_unsupported_raised_in_a_thread_is_property_unsupported_with_thread_and_line():
    def body():
        raise model.Unsupported("this helper cannot run under the checker")

    result = model.check(body, max_schedules=2)
    assert result.property == "unsupported"
    assert result.message.startswith("MainThread at ")
    assert result.message.endswith(": this helper cannot run under the checker")


def test_an_on_deadlock_that_raises_keeps_the_deadlock_and_says_what_it_raised():
    def body():
        threading.Event().wait()

    def on_deadlock():
        raise RuntimeError("could not inspect")

    result = model.check(body, max_schedules=1, on_deadlock=on_deadlock)
    assert result.property == "deadlock"
    assert result.message.startswith(
        "on_deadlock raised RuntimeError: could not inspect; every thread is blocked: ")


def test_a_never_ending_thread_the_body_did_not_join_deadlocks_the_end_of_main():
    def body():
        threading.Thread(target=threading.Event().wait, name="forever").start()

    result = model.check(body, max_schedules=1)
    assert result.property == "deadlock"
    blocked = {s.thread: (s.op, s.object, s.line) for s in result.blocked}
    # Main waits for its non-daemon thread after the body returned: no line of the body.
    assert blocked["MainThread"] == ("join", "forever", 0)  # 0: no line
    assert blocked["forever"][0] == "wait"


# ------------------------------------------------------------------- unwinding
def test_a_thread_that_swallows_the_unwinding_and_returns_does_not_change_the_verdict():
    log = []

    def body():
        waiting = threading.Event()

        def stubborn():
            waiting.set()
            try:
                threading.Event().wait()
            except GreenletExit:
                log.append("swallowed")
            try:
                threading.Event().wait()  # would block: unwinds it again
            except GreenletExit:
                log.append("swallowed again")
            # ... and returns normally

        threading.Thread(target=stubborn).start()
        waiting.wait()
        raise model.Violation("stop", "the body failed while a thread waited")

    result = model.check(body, max_schedules=1, shrink=False)
    assert result.property == "stop"
    assert log == ["swallowed", "swallowed again"] * 2


def test_while_unwinding_an_unsupported_call_raises_in_the_thread_only():
    early = threading.Lock()  # real: created before the check

    def cleanup(log):
        log.append(error_of(lambda: threading.Condition(early)))

    result, log = fail_while_waiting(cleanup)
    assert result.property == "stop"
    assert [e[0] for e in log] == ["Unsupported"] * 2
    assert "create the lock inside the body" in log[0][1]


def test_a_notify_of_one_of_several_waiters_while_unwinding_wakes_one():
    log = []

    def body():
        c = threading.Condition()
        waiting = []
        ready = threading.Event()

        def waiter():
            with c:
                waiting.append(1)
                c.wait()

        def notifier():
            ready.set()
            try:
                threading.Event().wait()
            finally:
                with c:  # free: both waiters released it in wait()
                    log.append(repr(c).split()[-1])
                    c.notify()  # one of two: a value choice, made without the strategy
                    log.append(repr(c).split()[-1])

        # The notifier first: threads are unwound in the order they started,
        # and an unwound waiter leaves wait() (holding the lock, as CPython's).
        for target in (notifier, waiter, waiter):
            threading.Thread(target=target).start()
        ready.wait()
        while len(waiting) < 2:
            time.sleep(0)
        with c:  # once we hold it, both waiters are inside wait()
            pass
        raise model.Violation("stop", "the body failed while two threads waited")

    result = model.check(body, max_schedules=1, shrink=False, spurious_wakeups=False)
    assert result.property == "stop"
    assert log == ["waiters=2>", "waiters=1>"] * 2


def test_a_waiter_unwound_from_condition_wait_holds_the_lock_again_in_its_finally():
    log = []

    def body():
        c = threading.Condition()
        waiting = []

        def waiter():
            with c:
                waiting.append(1)
                try:
                    c.wait()
                finally:
                    log.append(c._is_owned())

        threading.Thread(target=waiter).start()
        while not waiting:
            time.sleep(0)
        with c:  # once we hold it, the waiter is inside wait(), the lock released
            pass
        raise model.Violation("stop", "the body failed while a thread waited")

    result = model.check(body, max_schedules=1, shrink=False, spurious_wakeups=False)
    assert result.property == "stop"
    assert log == [True, True]


def test_an_unwound_waiter_retakes_an_rlock_at_the_depth_it_held():
    log = []

    def body():
        r = threading.RLock()
        c = threading.Condition(r)
        waiting = threading.Event()

        def deep_waiter():
            with r:
                try:
                    with c:  # depth 2: wait() releases both levels, and restores both
                        waiting.set()
                        try:
                            c.wait()
                        finally:
                            log.append(("in wait's finally", c._is_owned()))
                finally:
                    log.append(("one level out", c._is_owned()))

        threading.Thread(target=deep_waiter).start()
        waiting.wait()
        with c:  # once we hold it, the waiter is inside wait(): the lock was free again
            pass
        raise model.Violation("stop", "the body failed while a thread waited")

    result = model.check(body, max_schedules=1, shrink=False, spurious_wakeups=False)
    assert result.property == "stop"
    assert log[:2] == [("in wait's finally", True), ("one level out", True)]


def test_an_unwound_waiter_does_not_take_a_lock_another_thread_holds():
    log = []

    def body():
        c = threading.Condition(threading.RLock())  # an RLock knows its owner
        waiting = threading.Event()
        holding = threading.Event()

        def waiter():
            with c:
                waiting.set()
                try:
                    c.wait()
                finally:
                    log.append(c._is_owned())

        def holder():
            with c:
                holding.set()
                threading.Event().wait()  # holds the lock until unwound

        threading.Thread(target=waiter).start()
        waiting.wait()
        threading.Thread(target=holder).start()
        holding.wait()
        raise model.Violation("stop", "the body failed while the lock was held")

    result = model.check(body, max_schedules=1, shrink=False, spurious_wakeups=False)
    assert result.property == "stop"
    assert log[:1] == [False]


# ----------------------------------------------------------- greenlets and time
def test_a_check_can_run_inside_a_greenlet_and_again_outside_it():
    def body():
        threads = [threading.Thread(target=len, args=((),)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    inner = greenlet(lambda: model.check(body, max_schedules=20)).switch()
    outer = model.check(body, max_schedules=20)
    assert not inner.failed and not outer.failed
    assert inner.schedules == outer.schedules == 20


def test_a_schedule_with_more_threads_than_the_greenlet_pool_holds_completes():
    done = []

    def body():
        go = threading.Event()  # all 80 are alive at once, then all end

        def work(i):
            go.wait()
            done.append(i)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(80)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join()

    result = model.check(body, max_schedules=3)
    assert not result.failed, result.report()
    assert sorted(done) == sorted(list(range(80)) * 3)


def test_two_sleeps_with_the_same_deadline_end_in_either_order():
    def factory(record):
        def body():
            order = []
            threads = [threading.Thread(target=lambda n=n: (time.sleep(1), order.append(n)))
                       for n in "ab"]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            record(tuple(order))
        return body

    assert outcomes(factory) == {("a", "b"), ("b", "a")}


# ------------------------------------------------------- the patched environment
def test_a_failure_while_patching_restores_everything_and_the_next_check_runs():
    broken = types.ModuleType("broken_target")

    def module_getattr(name):
        raise RuntimeError(f"cannot look up {name}")

    broken.__getattr__ = module_getattr
    real_lock, real_sleep = threading.Lock, time.sleep
    with pytest.raises(RuntimeError, match="cannot look up __file__"):
        model.check(one_lock, max_schedules=1, modules=[broken])
    assert threading.Lock is real_lock and time.sleep is real_sleep
    assert not model.check(one_lock, max_schedules=1).failed


def test_modules_may_be_one_name_and_must_hold_modules_or_names():
    from tests.model import sample_target

    seen = []

    def body():
        seen.append(type(sample_target.new_condition()).__module__)

    for modules in ("tests.model.sample_target", sample_target):
        assert not model.check(body, max_schedules=1, modules=modules).failed
    assert seen == ["model.controlled.threading"] * 2
    with pytest.raises(TypeError, match="'modules' must hold modules or module names, not 42"):
        model.check(one_lock, modules=[42])


def test_a_builtin_method_or_code_from_no_module_can_be_the_body():
    items = [1, 2]
    assert not model.check(items.clear, max_schedules=2).failed
    assert items == []
    assert not model.check(items.clear, max_schedules=2, granularity="line",
                           modules=[sys, "queue", __name__]).failed
    namespace = {"__name__": "not_a_loaded_module", "threading": threading}
    exec("def body():\n    with threading.Lock():\n        pass\n", namespace)
    assert not model.check(namespace["body"], max_schedules=2).failed
