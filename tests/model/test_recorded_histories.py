"""Recorded histories in tests/data/histories/ keep their verdicts.

Each file's ``meta`` says how it was made, the spec to check it against
(``QueueSpec(**meta["spec"])``), the verdict it must get and, for a
rejected one, the witness it must print.  Regenerate them with
``python -m tests.model.test_recorded_histories`` (the real-thread ones
then differ in interleaving but not in verdict).
"""

from pathlib import Path

import pytest

from model.history import History
from model.linearizability import Verdict, check_history
from model.specs import QueueSpec

DATA = Path(__file__).resolve().parent.parent / "data" / "histories"
FILES = sorted(DATA.glob("*.json"))


def test_there_are_recorded_histories_with_both_verdicts():
    expected = {History.load(path).meta["expect"] for path in FILES}
    assert expected == {"Ok", "NotLinearizable"}
    assert len(FILES) >= 5


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_recorded_history_keeps_its_verdict(path):
    history = History.load(path)
    assert history.meta["description"]
    result = check_history(history, QueueSpec(**history.meta["spec"]), time_limit=60)
    assert result.verdict is Verdict(history.meta["expect"]), result.report()
    if "witness" in history.meta:
        assert [f"{op.thread}: {op}" for op in result.witness] == history.meta["witness"]
        assert result.minimal
    assert History.from_json(history.to_json()) == history


def record_all() -> None:  # pragma: no cover - run by hand to regenerate the files
    from stress.linearizability_bench import record
    from tests.model import test_linearizability_buggy as buggy

    def save(name, history, description, spec, expect, witness=None):
        meta = {**history.meta, "description": description, "spec": spec, "expect": expect}
        meta.pop("capacity", None)
        if witness is not None:
            meta["witness"] = witness
        History(history.operations, meta).save(DATA / f"{name}.json")

    DATA.mkdir(parents=True, exist_ok=True)
    save(
        "queue_queue_nowait_8_threads",
        record(400, 8, 4, seed=1, workload="nowait"),
        "queue.Queue(4), 8 real threads each mixing put_nowait/get_nowait/qsize",
        {"capacity": 4},
        "Ok",
    )
    save(
        "queue_queue_blocking_8_threads",
        record(400, 8, 2, seed=1, workload="blocking"),
        "queue.Queue(2), 4 real threads blocking in put and 4 in get: many overlapping calls",
        {"capacity": 2},
        "Ok",
    )
    save(
        "lifo_sequential",
        buggy.sequential(buggy.load("lifo").Buffer(2), ("put", 1), ("put", 2), ("get",), ("get",)),
        "tests/buggy/lifo.py, one call at a time: a stack, not a queue",
        {"capacity": 2},
        "NotLinearizable",
        ["T: put(1) -> None", "T: put(2) -> None", "T: get() -> 2"],
    )
    save(
        "check_outside_lock_overflow",
        buggy.record_check_outside_lock(),
        "tests/buggy/check_outside_lock.py, scripted real threads: both producers see room for one",
        {"capacity": 1},
        "NotLinearizable",
        ["P1: put('a') -> None", "P2: put('b') -> None"],
    )
    save(
        "get_check_outside_lock_index_error",
        buggy.record_get_check_outside_lock(),
        "tests/buggy/get_check_outside_lock.py, scripted real threads: both consumers see the one item",
        {"capacity": 1},
        "NotLinearizable",
        ["C1: get() raise IndexError('pop from an empty deque')"],
    )


if __name__ == "__main__":  # pragma: no cover
    record_all()
