"""Recording histories: real threads, explicit invoke/respond, JSON round trips, the timeline."""

import collections
import dataclasses
import math
import queue
import threading

import pytest

from model.history import History, Operation, Record, Recorder
from model.specs import PENDING, Call, Raised


def run_threads(targets, timeout=10.0):
    """Run each target in its own thread; join with a timeout; re-raise the first worker error."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - collected and re-raised below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,), name=f"worker-{i}") for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), f"{thread.name} did not finish"
    if errors:
        raise errors[0]


def test_recorder_under_real_threads_numbers_every_event_once_and_keeps_each_thread_sequential():
    recorder = Recorder()
    q = recorder.wrap(queue.Queue())
    per_thread = 200

    def producer_consumer(n):
        def body():
            for i in range(per_thread):
                q.put((n, i))
                q.get()
        return body

    run_threads([producer_consumer(n) for n in range(8)])
    history = recorder.history()
    assert len(history) == 8 * per_thread * 2
    times = sorted(t for op in history for t in (op.invoked, op.responded))
    assert times == list(range(len(history) * 2))  # one counter, no event lost or repeated
    assert set(history.threads) == {f"worker-{n}" for n in range(8)}
    for thread in history.threads:
        mine = [op for op in history if op.thread == thread]
        assert len(mine) == 2 * per_thread
        for before, after in zip(mine, mine[1:]):
            assert before.responded < after.invoked  # a thread's calls never overlap
    puts = sorted(op.call.args[0] for op in history if op.call.name == "put")
    gets = sorted(op.result for op in history if op.call.name == "get")
    assert puts == gets == sorted((n, i) for n in range(8) for i in range(per_thread))


def test_explicit_invoke_and_respond_record_results_and_exceptions_with_their_attributes():
    recorder = Recorder(thread_name=lambda: "T")

    class Full(Exception):
        def __init__(self, message, accepted):
            super().__init__(message)
            self.accepted = accepted
            self._private = object()

    a = recorder.invoke("put_many", [1, 2, 3], timeout=0.5)
    b = recorder.invoke("qsize")
    recorder.respond(b, 1)
    recorder.fail(a, Full("timed out", accepted=1))
    history = recorder.history()
    put_many, qsize = history
    assert put_many.call == Call("put_many", ([1, 2, 3],), {"timeout": 0.5})
    assert (put_many.invoked, qsize.invoked, qsize.responded, put_many.responded) == (0, 1, 2, 3)
    assert put_many.result == Raised("Full", "timed out")
    assert put_many.result.attr("accepted") == 1
    assert put_many.result.attrs == (("accepted", 1),)
    assert str(put_many) == "put_many([1, 2, 3], timeout=0.5) raise Full('timed out')"
    assert str(qsize) == "qsize() -> 1"
    with pytest.raises(ValueError, match="already has a response"):
        recorder.respond(b, 2)


def test_a_call_still_running_or_killed_by_a_base_exception_is_pending():
    recorder = Recorder()
    running = recorder.invoke("get")

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        recorder.run("get", interrupted)
    first, second = recorder.history()
    assert first.pending and second.pending
    assert first.result is PENDING and str(first) == "get() pending"
    recorder.respond(running, 5)
    assert recorder.history()[0].result == 5


def test_wrap_records_public_methods_and_passes_other_attributes_through():
    recorder = Recorder(locked=False)
    target = queue.Queue(3)
    q = recorder.wrap(target)
    q.put(1)
    assert q.maxsize == 3  # an attribute: not recorded
    assert q._qsize() == 1  # private: not recorded
    with pytest.raises(queue.Empty):
        q.get_nowait()
        q.get_nowait()
    assert [str(op) for op in recorder.history()] == [
        "put(1) -> None",
        "get_nowait() -> 1",
        "get_nowait() raise Empty",
    ]
    only = recorder.wrap(collections.deque(), methods=["append"])
    only.append(1)
    only.popleft()
    assert len(only) == 0
    assert [op.call for op in recorder.history()][3:] == [Call("append", (1,)), Call("__len__")]
    assert repr(only) == "<recorded deque([])>"


def test_arguments_and_results_are_copied_so_later_mutation_does_not_rewrite_history():
    recorder = Recorder()
    batch = [1, 2]
    ticket = recorder.invoke("put_many", batch)
    taken = [3]
    recorder.respond(ticket, taken)
    batch.append(99)
    taken.append(99)
    (op,) = recorder.history()
    assert op.call.args == ([1, 2],) and op.result == [3]


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    priority: int


class Slotted:
    __slots__ = ("priority", "payload", "_secret")

    def __init__(self, priority, payload):
        self.priority, self.payload, self._secret = priority, payload, "hidden"


Point = collections.namedtuple("Point", "x y")


class Opaque:
    __slots__ = ()

    def __repr__(self):
        return "<opaque>"


def test_json_round_trip_keeps_values_exceptions_and_pending_operations():
    values = [
        None, True, 3, "s", 1.5, float("inf"), (1, (2, "x")), [1, [2]],
        {"a": (1,), 2: "b"}, {"plain": [1]}, {"$looks_tagged": 1}, frozenset({1, 2}), Raised("Full", "m", (("accepted", 2),)),
    ]
    recorder = Recorder(thread_name=lambda: "T")
    for value in values:
        recorder.respond(recorder.invoke("echo", value, key=value), value)
    recorder.invoke("get")  # pending
    history = recorder.history({"source": "test", "expect": ("a", 1)})
    text = history.to_json()
    back = History.from_json(text)
    assert back == history
    assert back.meta == {"source": "test", "expect": ("a", 1)}
    assert back[-1].pending and back[-1].result is PENDING
    assert [op.result for op in back][: len(values)] == values
    assert back[4].call.kwargs == {"key": 1.5}
    nan = History.from_json(History.from_rows([("T", "f", (float("nan"),), None, 0, 1)]).to_json())
    assert math.isnan(nan[0].call.args[0])
    assert History.from_json(History([]).to_json()) == History([])


def test_objects_come_back_as_records_with_their_public_fields(tmp_path):
    recorder = Recorder(thread_name=lambda: "T")
    for item in (Job("a", 2), Slotted(5, "p"), Point(1, 2), Opaque()):
        recorder.respond(recorder.invoke("put", item), None)
    path = tmp_path / "history.json"
    recorder.history().save(path)
    job, slotted, point, opaque = (op.call.args[0] for op in History.load(path))
    assert isinstance(job, Record) and job.type == "Job" and job.priority == 2 and job.name == "a"
    assert slotted.priority == 5 and slotted.payload == "p"
    with pytest.raises(AttributeError):
        slotted._secret
    assert (point.x, point.y) == (1, 2)
    assert repr(opaque) == "<opaque>" and repr(job) == "Job(name='a', priority=2)"
    # Records are immutable, hashable values that survive another round trip unchanged.
    assert hash(job) == hash(Record("Job", (("name", "a"), ("priority", 2))))
    with pytest.raises(AttributeError):
        job.priority = 3
    again = History.from_json(History.load(path).to_json())
    assert again == History.load(path)


def test_records_with_unhashable_fields_still_hash():
    record = Record("Message", (("headers", {"k": "v"}), ("priority", 1)))
    assert hash(record) == hash(Record("Message", (("headers", {"k": "v"}), ("priority", 1))))


def test_a_file_that_is_not_a_history_is_refused():
    with pytest.raises(ValueError, match="not a history"):
        History.from_json('{"format": "something-else"}')
    with pytest.raises(ValueError, match="unknown tagged value"):
        History.from_json('{"format": "mq-history/1", "operations": '
                          '[{"id": 0, "thread": "T", "name": "f", "args": [{"$weird": 1}], '
                          '"invoked": 0, "responded": 1, "result": null}]}')


def test_histories_refuse_impossible_times():
    with pytest.raises(ValueError, match="not after its invocation"):
        History.from_rows([("A", "get", (), 1, 3, 2)])
    with pytest.raises(ValueError, match="two events at time 1"):
        History.from_rows([("A", "get", (), 1, 0, 1), ("B", "get", (), 1, 1, 2)])
    with pytest.raises(ValueError, match="id 0 appears twice"):
        History([Operation(0, "A", Call("f"), 0, 1), Operation(0, "B", Call("f"), 2, 3)])


def test_subset_keeps_times_and_by_id_finds_operations():
    history = History.from_rows([("A", "put", (1,), None, 0, 3), ("B", "get", (), 1, 1, 2)])
    assert [op.id for op in history.subset([1])] == [1]
    assert history.by_id(1).call.name == "get"
    with pytest.raises(KeyError):
        history.by_id(7)
    assert repr(history) == "<History of 2 operations from 2 threads>"


def test_timeline_shows_one_column_per_thread_and_overlaps_as_bars():
    history = History.from_rows(
        [
            ("A", "put", (1,), None, 0, 1),
            ("A", "put", (2,), None, 2, 5),
            ("B", "get", (), 2, 3, 4),
            ("B", "get", (), None, 6, None),
        ]
    )
    assert history.timeline() == "\n".join(
        [
            "A               B",
            "--------------  ----------",
            "put(1) -> None",
            "put(2) ...",
            "|               get() -> 2",
            "-> None",
            "                get() ...",
            "                (pending)",
        ]
    )


def test_timeline_cuts_long_cells():
    history = History.from_rows([("A", "put", ("x" * 100,), None, 0, 1)])
    line = history.timeline(width=20).splitlines()[2]
    assert line == "put('xxxxxxxxxxxx..."
