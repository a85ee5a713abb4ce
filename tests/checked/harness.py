"""Shared pieces of the checked scenarios: how to explore, what to assert, the properties.

Properties are raised as ``model.Violation`` the moment they are observed,
with the names the standard buffer scenario uses (model/scenarios.py):

========= ============================================================
loss      something sent was never received (nor is still held, nor
          counted as expired, dead-lettered or discarded)
duplicate something received twice, or received but never sent
overflow  more items held than the capacity allows
order     one receiver got one producer's items out of their send order
identity  a group's accounting identity failed (mq.GroupStats)
========= ============================================================

``deadlock`` comes from the checker itself.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable

import model

BOUND = 2  # the preemption bound of every proof here
BUDGET = 100_000  # schedules; a proof that needs more is reported, not silently cut


def prove(body: Callable[[], None], **options) -> model.Result:
    """Explore ``body`` exhaustively at preemption bound 2 and assert it completed without failure."""
    result = model.check(body, strategy="exhaustive", preemption_bound=BOUND,
                         max_schedules=BUDGET, **options)
    assert not result.failed, result.report()
    assert result.exhaustive, (
        f"exploration did not complete: {result.summary()}; make the scenario smaller"
    )
    return result


def catch(body: Callable[[], None], expected: str, **options) -> model.Result:
    """Explore ``body`` (a broken variant is installed) and assert it fails with ``expected``.

    Exhaustive at bound 2 by default, with a budget; deterministic either way.
    The failing schedule's token must replay to the same property.
    """
    options = {"strategy": "exhaustive", "preemption_bound": BOUND,
               "max_schedules": 20_000, **options}
    result = model.check(body, **options)
    assert result.failed, f"the broken variant was not caught: {result.summary()}"
    assert result.property == expected, result.report()
    again = model.replay(body, result.token, **options)
    assert again.property == expected and again.trace == result.trace
    return result


def run_threads(*targets: Callable[[], None], names: Iterable[str] = ()) -> None:
    """Start one thread per target, then join them all (in the checker, a schedule)."""
    names = list(names) or [f"t{i}" for i in range(len(targets))]
    threads = [threading.Thread(target=target, name=name) for target, name in zip(targets, names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_beside(main_role: Callable[[], None], *targets: Callable[[], None],
               names: Iterable[str] = ()) -> None:
    """Start one thread per target, play ``main_role`` in the calling thread meanwhile, join.

    The main thread taking a role costs fewer scheduling points than a thread
    of its own (no start, begin, exit and join of it), so the same scenario
    is explored in far fewer schedules.
    """
    names = list(names) or [f"t{i}" for i in range(len(targets))]
    threads = [threading.Thread(target=target, name=name) for target, name in zip(targets, names)]
    for thread in threads:
        thread.start()
    main_role()
    for thread in threads:
        thread.join()


def exactly_once(sent: Iterable[object], received: Iterable[object], where: str = "") -> None:
    """Every item sent was received exactly once, and nothing else was: else loss / duplicate."""
    sent_count = Counter(sent)
    got = Counter(received)
    extra = got - sent_count
    if extra:
        raise model.Violation("duplicate", f"{where}received more often than sent: {dict(extra)}")
    missing = sent_count - got
    if missing:
        raise model.Violation("loss", f"{where}sent but never received: {sorted(missing)}")


def no_duplicates(received: list[object], where: str = "") -> None:
    """Nothing received twice so far: else duplicate (checked the moment it happens)."""
    twice = [item for item, count in Counter(received).items() if count > 1]
    if twice:
        raise model.Violation("duplicate", f"{where}received twice: {twice}")


def in_producer_order(received: list[tuple[int, int]], where: str = "") -> None:
    """Items are (producer, sequence): one receiver must see each producer's sequence increasing."""
    last: dict[int, int] = {}
    for producer, sequence in received:
        if sequence <= last.get(producer, -1):
            raise model.Violation(
                "order", f"{where}got {(producer, sequence)} after {(producer, last[producer])}: {received}"
            )
        last[producer] = sequence


def within(size: int, capacity: int, where: str = "") -> None:
    """An observed size must lie in 0..capacity: else overflow."""
    if not 0 <= size <= capacity:
        raise model.Violation("overflow", f"{where}size {size} outside 0..{capacity}")


def identity(stats) -> None:
    """The accounting identity of every group of a `BrokerStats` or `TopicStats`: else identity.

    ``Broker.stats()`` asserts the identity itself as it takes each snapshot;
    either way a broken identity is reported as ``identity``.
    """
    for group in _groups(stats):
        if not group.identity_holds():
            try:
                group.check_identity()
            except AssertionError as error:
                raise model.Violation("identity", str(error)) from None


def broker_stats(broker):
    """``broker.stats()``, with a failure of the snapshot's own identity assertion reported as identity."""
    try:
        stats = broker.stats()
    except AssertionError as error:
        raise model.Violation("identity", f"snapshot assertion: {error}") from None
    identity(stats)
    return stats


def _groups(stats):
    topics = getattr(stats, "topics", None)
    for topic in topics if topics is not None else (stats,):
        yield from topic.groups
