"""Helpers for the broker's tests: a fake clock, wait probes, thread runners.

Nothing here sleeps.  A test that needs a thread to be *inside* a wait
installs a `WaitProbe` on the condition first: the probe counts entries into
``wait``, and because ``wait`` releases the lock only after the entry is
counted, anything the test does under the same lock afterwards happens while
the thread is waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from mq import Broker

JOIN_TIMEOUT = 10.0  # a safety bound on joins: a correct test never gets near it


class FakeClock:
    """A clock the test moves by hand: ``clock()`` returns ``clock.now``.

    With ``step`` set, every read also moves the clock on by ``step``: then
    any read that happens after another is later by at least ``step``,
    whichever thread makes it - a way to make "expired by the time the
    consumer looks" deterministic.
    """

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.step = 0.0

    def __call__(self) -> float:
        now = self.now
        self.now += self.step
        return now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class WaitProbe(threading.Condition):
    """A Condition on an existing lock that counts the threads entering ``wait``."""

    def __init__(self, lock: Any) -> None:
        super().__init__(lock)
        self._entered = threading.Semaphore(0)

    @classmethod
    def install(cls, owner: object, attribute: str) -> WaitProbe:
        """Replace ``owner.<attribute>`` (a Condition) by a probe on the same lock."""
        original = getattr(owner, attribute)
        probe = cls(original._lock)
        setattr(owner, attribute, probe)
        return probe

    def wait(self, timeout: float | None = None) -> bool:
        self._entered.release()
        return super().wait(timeout)

    def wait_for_waiter(self, count: int = 1) -> None:
        """Block until ``count`` more entries into ``wait`` happened."""
        for _ in range(count):
            assert self._entered.acquire(timeout=JOIN_TIMEOUT), "no thread entered wait"


class Runner:
    """Starts threads, collects their exceptions and results, joins them with a bound."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self.results: dict[str, Any] = {}
        self._lock = threading.Lock()

    def start(self, target: Callable[..., Any], *args: Any, name: str | None = None) -> threading.Thread:
        name = name or f"test-thread-{len(self.threads)}"

        def body() -> None:
            try:
                result = target(*args)
            except BaseException as error:  # collected, re-raised by join_all
                with self._lock:
                    self.errors.append(error)
            else:
                with self._lock:
                    self.results[name] = result

        thread = threading.Thread(target=body, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()
        return thread

    def start_all(self, targets: Iterable[Callable[[], Any]]) -> None:
        for target in targets:
            self.start(target)

    def join_all(self) -> None:
        for thread in self.threads:
            thread.join(JOIN_TIMEOUT)
        alive = [thread.name for thread in self.threads if thread.is_alive()]
        assert not alive, f"threads still running: {alive}"
        if self.errors:
            raise self.errors[0]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def broker(clock: FakeClock):
    """A broker on the fake clock, without a reaper thread; shut down after the test."""
    instance = Broker(clock=clock, reaper_interval=None)
    yield instance
    instance.shutdown(drain=False, timeout=JOIN_TIMEOUT)


@pytest.fixture
def runner():
    instance = Runner()
    yield instance
    instance.join_all()
