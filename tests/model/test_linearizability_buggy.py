"""The linearizability checker rejects histories recorded from buggy buffers.

Every verdict here is deterministic: histories are recorded one call at a
time, or from real threads whose racing steps are put in one order by a
scripted lock (events, no sleeps), or, where the interleaving is left to
the OS, only a property that holds for every interleaving is asserted.
"""

import collections
import sys
import threading

import pytest

from model.history import History, Recorder
from model.linearizability import Verdict, check_history
from model.specs import QueueSpec
from tests.buggy import CATALOGUE, load

CORRECT = [name for name in CATALOGUE if not load(name).EXPECT]
NOT = Verdict.NOT_LINEARIZABLE


def witness_lines(result):
    return [f"{op.thread}: {op}" for op in result.witness]


def sequential(buffer, *calls):
    """Record ``calls`` ((name, *args) tuples) on ``buffer`` one at a time from this thread."""
    recorder = Recorder(thread_name=lambda: "T")
    recorded = recorder.wrap(buffer)
    for name, *args in calls:
        try:
            getattr(recorded, name)(*args)
        except Exception:  # noqa: BLE001 - the history records it
            pass
    return recorder.history()


# -- catalogue buffers, one call at a time --------------------------------------------------


def test_lifo_buffer_is_rejected_for_order():
    history = sequential(load("lifo").Buffer(2), ("put", 1), ("put", 2), ("get",), ("get",))
    result = check_history(history, QueueSpec(2))
    assert result.verdict is NOT
    assert witness_lines(result) == ["T: put(1) -> None", "T: put(2) -> None", "T: get() -> 2"]
    assert result.minimal


def test_off_by_one_capacity_is_rejected_for_overflow():
    history = sequential(load("off_by_one_capacity").Buffer(1), ("put", "a"), ("put", "b"), ("get",), ("get",))
    result = check_history(history, QueueSpec(1))
    assert result.verdict is NOT
    assert witness_lines(result) == ["T: put('a') -> None", "T: put('b') -> None"]


def test_put_that_appends_after_its_wait_times_out_is_rejected():
    buffer = load("timeout_means_notified").Buffer(1)
    buffer.not_full.wait = lambda timeout=None: False  # the timed wait runs out, unnotified
    history = sequential(buffer, ("put", "a"), ("put", "b"), ("qsize",))
    result = check_history(history, QueueSpec(1))
    assert result.verdict is NOT
    assert witness_lines(result) == ["T: put('a') -> None", "T: put('b') -> None"]


def test_get_that_gives_up_and_returns_none_is_rejected():
    buffer = load("gives_up_on_timeout").Buffer(1)
    buffer.not_empty.wait = lambda timeout=None: False
    history = sequential(buffer, ("get",))
    result = check_history(history, QueueSpec(1))
    assert result.verdict is NOT
    assert witness_lines(result) == ["T: get() -> None"]


@pytest.mark.parametrize("name", CORRECT)
def test_correct_buffers_one_call_at_a_time_are_linearizable(name):
    buffer = load(name).Buffer(2)
    calls = [("put", 1), ("put", 2), ("get",), ("put", 3), ("get",), ("get",)]
    if hasattr(buffer, "qsize"):
        calls = [c for call in calls for c in (call, ("qsize",))]
    result = check_history(sequential(buffer, *calls), QueueSpec(2))
    assert result.ok, result.report()


# -- hand-made buggy queues ------------------------------------------------------------------


class LossyQueue:
    """Bug: a put into a queue holding two items reports success and drops the item."""

    def __init__(self):
        self.items = collections.deque()

    def put(self, item):
        if len(self.items) < 2:
            self.items.append(item)

    def get_nowait(self):
        if not self.items:
            raise Empty("queue is empty")
        return self.items.popleft()


class Empty(Exception):
    """Matched by name, like queue.Empty and mq.Empty."""


class PeekingQueue:
    """Bug: every other get forgets to remove the item it returns."""

    def __init__(self):
        self.items = collections.deque()
        self.gets = 0

    def put(self, item):
        self.items.append(item)

    def get(self):
        self.gets += 1
        return self.items[0] if self.gets % 2 else self.items.popleft()


class LeakyClose:
    """Bug: close() sets a flag that put never reads."""

    def __init__(self):
        self.items = collections.deque()
        self.closed = False

    def put(self, item):
        self.items.append(item)

    def close(self):
        self.closed = True


class StaleCount:
    """Bug: qsize() reports a counter that get never decrements."""

    def __init__(self):
        self.items, self.count = collections.deque(), 0

    def put(self, item):
        self.items.append(item)
        self.count += 1

    def get(self):
        return self.items.popleft()

    def qsize(self):
        return self.count


def test_a_lost_item_is_rejected_at_the_get_that_misses_it():
    history = sequential(LossyQueue(), ("put", 1), ("put", 2), ("put", 3), *[("get_nowait",)] * 3)
    result = check_history(history, QueueSpec())
    assert witness_lines(result) == ["T: put(3) -> None", "T: get_nowait() raise Empty('queue is empty')"]


def test_a_duplicated_item_is_rejected():
    history = sequential(PeekingQueue(), ("put", "x"), ("put", "y"), ("get",), ("get",))
    result = check_history(history, QueueSpec())
    assert witness_lines(result) == ["T: put('x') -> None", "T: get() -> 'x'", "T: get() -> 'x'"]


def test_a_put_accepted_after_close_is_rejected():
    history = sequential(LeakyClose(), ("put", 1), ("close",), ("put", 2))
    result = check_history(history, QueueSpec())
    assert witness_lines(result) == ["T: close() -> None", "T: put(2) -> None"]


def test_a_stale_size_is_rejected():
    history = sequential(StaleCount(), ("put", 1), ("get",), ("qsize",))
    result = check_history(history, QueueSpec())
    assert witness_lines(result) == ["T: qsize() -> 1"]
    assert result.minimal


# -- real threads, racing steps put in order by a scripted lock -------------------------------


class ScriptedLock:
    """A real lock whose blocking acquisitions follow a script, to force one interleaving.

    ``before[(thread name, n)]`` is a pair (event to set, event to wait for)
    applied just before that thread's n-th blocking acquisition (n from 1).
    Non-blocking acquisitions (Condition's ownership test) pass straight through.
    """

    def __init__(self, before):
        self._lock = threading.Lock()
        self._before = before
        self._counts = collections.Counter()

    def acquire(self, blocking=True, timeout=-1):
        if blocking:
            name = threading.current_thread().name
            self._counts[name] += 1
            to_set, to_wait = self._before.get((name, self._counts[name]), (None, None))
            if to_set is not None:
                to_set.set()
            if to_wait is not None:
                assert to_wait.wait(10), f"{name}: the script never released it"
        return self._lock.acquire(blocking, timeout)

    def release(self):
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()


def scripted(buffer, before):
    """Rewire ``buffer``'s lock and conditions (as its __init__ does) onto a ScriptedLock."""
    buffer.lock = ScriptedLock(before)
    buffer.not_full = threading.Condition(buffer.lock)
    buffer.not_empty = threading.Condition(buffer.lock)
    return buffer


def run_threads(recorded, bodies, timeout=10.0):
    """Run each ``name: body(recorded)`` in a thread of that name; join with a timeout."""
    errors = []

    def guarded(body):
        try:
            body(recorded)
        except Exception as error:  # noqa: BLE001 - recorded by the history; collected
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(body,), name=name) for name, body in bodies.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), f"{thread.name} did not finish"
    return errors


def record_check_outside_lock():
    """Two producers both see room for one item before either appends (check-then-act)."""
    both_checked = threading.Event()
    buffer = scripted(
        load("check_outside_lock").Buffer(1),
        {("P1", 2): (None, both_checked), ("P2", 2): (both_checked, None)},
    )
    recorder = Recorder()
    recorded = recorder.wrap(buffer)
    errors = run_threads(recorded, {"P1": lambda q: q.put("a"), "P2": lambda q: q.put("b")})
    assert errors == []
    recorded.qsize()
    return recorder.history({"expect": "NotLinearizable", "spec": {"capacity": 1},
                             "source": "tests/buggy/check_outside_lock.py, scripted real threads"})


def record_get_check_outside_lock():
    """Two consumers both see the one item outside the lock; the second popleft raises."""
    seen = threading.Event()
    buffer = scripted(
        load("get_check_outside_lock").Buffer(1),
        {("C1", 1): (None, seen), ("C2", 1): (seen, None)},
    )
    recorder = Recorder()
    recorded = recorder.wrap(buffer)
    recorded.put("x")
    errors = run_threads(recorded, {"C1": lambda q: q.get(), "C2": lambda q: q.get()})
    assert [type(e) for e in errors] == [IndexError]
    return recorder.history({"expect": "NotLinearizable", "spec": {"capacity": 1},
                             "source": "tests/buggy/get_check_outside_lock.py, scripted real threads"})


def test_check_then_act_overflow_from_real_threads_is_rejected():
    history = record_check_outside_lock()
    puts = [op for op in history if op.call.name == "put"]
    assert puts[0].responded > puts[1].invoked and puts[1].responded > puts[0].invoked  # they overlapped
    result = check_history(history, QueueSpec(1))
    assert result.verdict is NOT
    assert sorted(str(op) for op in result.witness) == ["put('a') -> None", "put('b') -> None"]


def test_two_consumers_taking_one_item_from_real_threads_is_rejected():
    history = record_get_check_outside_lock()
    result = check_history(history, QueueSpec(1))
    assert result.verdict is NOT
    assert witness_lines(result) == ["C1: get() raise IndexError('pop from an empty deque')"]


# -- real threads, interleaving left to the OS: assert only what holds for all of them ---------


def producers_and_consumers(buffer_class, capacity, producers=4, consumers=4, items=25):
    """Record a run of producers and consumers (with qsize after each call when there is one)."""
    recorder = Recorder()
    recorded = recorder.wrap(buffer_class(capacity))
    size = getattr(recorded, "qsize", None) if hasattr(buffer_class, "qsize") else None

    def producer(p):
        def body(q):
            for i in range(items):
                q.put((p, i))
                if size:
                    size()
        return body

    def consumer(q):
        for _ in range(items * producers // consumers):
            q.get()
            if size:
                size()

    bodies = {f"P{p}": producer(p) for p in range(producers)}
    bodies.update({f"C{c}": consumer for c in range(consumers)})
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave finely: more overlapping calls
    try:
        assert run_threads(recorded, bodies) == []
    finally:
        sys.setswitchinterval(old)
    return recorder.history()


@pytest.mark.parametrize("name", CORRECT)
def test_correct_buffers_under_real_threads_are_linearizable(name):
    history = producers_and_consumers(load(name).Buffer, capacity=2)
    result = check_history(history, QueueSpec(2), time_limit=60)
    assert result.ok, result.report()


def test_lifo_under_real_threads_is_rejected_exactly_when_items_came_out_of_order():
    # One producer puts 0..n-1, one consumer gets n items.  Out of order means
    # not linearizable; in order means the stack never held two items at a
    # get, so it behaved as a FIFO queue.  Whichever way the run goes.
    recorder = Recorder()
    recorded = recorder.wrap(load("lifo").Buffer(3))
    n = 200
    run_threads(recorded, {
        "producer": lambda q: [q.put(i) for i in range(n)],
        "consumer": lambda q: [q.get() for _ in range(n)],
    })
    history = recorder.history()
    got = [op.result for op in history if op.call.name == "get"]
    result = check_history(history, QueueSpec(3))
    assert result.verdict in (Verdict.OK, NOT)
    assert result.ok == (got == sorted(got))


def test_a_recorded_history_survives_json_and_keeps_its_verdict():
    history = record_get_check_outside_lock()
    back = History.from_json(history.to_json())
    assert check_history(back, QueueSpec(1)).verdict is NOT
