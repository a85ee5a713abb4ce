"""Helpers for the checker's own tests."""

from __future__ import annotations

import pytest


class DFS:
    """A tiny exhaustive depth-first strategy (no reduction), for litmus tests.

    It enumerates every thread choice and every value choice, so the set of
    outcomes it collects is exactly the set of reachable outcomes.
    """

    name = "dfs"
    spurious_default = False

    def __init__(self, limit: int = 100_000):
        self.stack: list[list] = []  # per decision: [options, index]
        self.depth = 0
        self.runs = 0
        self.limit = limit
        self._done = False

    def begin_schedule(self) -> bool:
        if self._done or self.runs >= self.limit:
            return False
        self.depth = 0
        self.runs += 1
        return True

    def _pick(self, options):
        if self.depth < len(self.stack):
            entry = self.stack[self.depth]
            assert tuple(entry[0]) == tuple(options), "nondeterministic body"
        else:
            entry = [tuple(options), 0]
            self.stack.append(entry)
        self.depth += 1
        return entry[0][entry[1]]

    def next_thread(self, point) -> int:
        return self._pick(point.enabled)

    def next_value(self, kind: str, n: int) -> int:
        return self._pick(range(n))

    def end_schedule(self, failed: bool) -> None:
        del self.stack[self.depth:]
        while self.stack:
            entry = self.stack[-1]
            entry[1] += 1
            if entry[1] < len(entry[0]):
                return
            self.stack.pop()
        self._done = True

    @property
    def exhaustive(self) -> bool:
        return self._done


def outcomes(body_factory, *, strategy=None, **options) -> set:
    """Every outcome ``body_factory(record)`` can reach, explored exhaustively by DFS.

    ``body_factory(record)`` returns a body that calls ``record(value)`` once
    at its end.
    """
    import model

    seen = set()
    strat = strategy or DFS()
    result = model.check(body_factory(seen.add), strategy=strat, max_schedules=100_000,
                         shrink=False, **options)
    assert not result.failed, result.report()
    assert strat.exhaustive, "the DFS did not finish"
    return seen


def fail_while_waiting(cleanup):
    """Fail a schedule while a thread waits; ``cleanup(log)`` runs as it is unwound."""
    import threading

    import model

    log = []

    def body():
        waiting = threading.Event()

        def stuck():
            waiting.set()
            try:
                threading.Event().wait()
            finally:
                cleanup(log)

        threading.Thread(target=stuck).start()
        waiting.wait()
        raise model.Violation("stop", "the body failed while a thread waited")

    result = model.check(body, max_schedules=1, shrink=False)
    return result, log


@pytest.fixture
def dfs():
    return DFS()
