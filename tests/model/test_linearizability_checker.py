"""Histories recorded under the deterministic checker (model.check) are checked like real ones.

``Recorder(locked=False)``: only one controlled thread runs at a time, and
thread names come from the checker's threads through
``threading.current_thread()``.  Linearizability becomes one more property
of the run: a body raises ``model.Violation("linearizability", report)``.
"""

import threading

import model
from model.history import Recorder
from model.linearizability import check_history
from model.specs import QueueSpec
from tests.buggy import load


def linearizable_buffer_body(module, histories):
    """A body: a producer puts 1, 2 and a consumer gets twice; the history must be linearizable."""

    def body():
        recorder = Recorder(locked=False)
        q = recorder.wrap(module.Buffer(2))
        threads = [
            threading.Thread(target=lambda: (q.put(1), q.put(2)), name="producer"),
            threading.Thread(target=lambda: (q.get(), q.get()), name="consumer"),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        history = recorder.history()
        histories.append(history)
        result = check_history(history, QueueSpec(2))
        if not result.ok:
            raise model.Violation("linearizability", result.report(timings=False))

    return body


def test_a_lifo_buffer_under_the_checker_fails_linearizability_with_a_witness():
    histories = []
    module = load("lifo")
    result = model.check(linearizable_buffer_body(module, histories), strategy="random", seed=1,
                         max_schedules=200, modules=[module])
    assert result.failed and result.property == "linearizability"
    assert "get() -> 2" in result.report()
    assert {op.thread for history in histories for op in history} == {"producer", "consumer"}


def test_a_correct_buffer_under_the_checker_is_linearizable_in_every_schedule():
    histories = []
    module = load("correct_condvar")
    result = model.check(linearizable_buffer_body(module, histories), strategy="random", seed=1,
                         max_schedules=200, modules=[module])
    assert not result.failed, result.report()
    assert len(histories) == 200
    assert all(len(history) == 4 and not any(op.pending for op in history) for history in histories)
