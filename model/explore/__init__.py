"""Exploration strategies: which interleavings a check runs, in which order.

Every strategy follows the protocol in ``model/explore/base.py``.  The
built-in ones are named by ``model.check(strategy=...)``:

- "random": ``RandomWalk`` (random_walk.py)
- "pct": ``PCT`` (pct.py)
- "exhaustive": ``Exhaustive`` (exhaustive.py), imported lazily
- replay of a recorded schedule: ``Replay`` / ``Guided`` (replay.py)
"""

from __future__ import annotations

from model.explore.base import WILDCARD, Op, Point, Strategy, dependent
from model.explore.pct import PCT
from model.explore.random_walk import RandomWalk
from model.explore.replay import Guided, Replay, default_choice

STRATEGY_NAMES = ("random", "pct", "exhaustive")


def make_strategy(name: str, *, seed: int = 0, depth: int = 3, preemption_bound=None,
                  shard: tuple[int, int] = (0, 1)):
    """The strategy called ``name``, configured; shard (i, n) runs the i-th of n parts."""
    i, n = shard
    if name == "random":
        return RandomWalk(seed, first_index=i, stride=n)
    if name == "pct":
        return PCT(seed, depth, first_index=i, stride=n)
    if name == "exhaustive":
        try:
            from model.explore.exhaustive import Exhaustive
        except ImportError as e:
            raise ImportError(
                "strategy='exhaustive' needs model/explore/exhaustive.py, which could "
                f"not be imported ({e}); use strategy='random' or 'pct'"
            ) from e
        if preemption_bound is not None:
            # Bounded and unbounded search in alternation (model/explore/portfolio.py);
            # spread over processes, one search each.
            from model.explore.portfolio import Bounded

            return Bounded(preemption_bound, component=None if n == 1 else i)
        kwargs = {"preemption_bound": None, "por": True}
        if n > 1:
            kwargs["shard"] = (i, n)
        return Exhaustive(**kwargs)
    raise ValueError(
        f"unknown strategy {name!r}: use one of {', '.join(map(repr, STRATEGY_NAMES))} "
        "or a Strategy instance (see model/explore/base.py)"
    )


__all__ = [
    "WILDCARD", "Op", "Point", "Strategy", "dependent", "PCT", "RandomWalk",
    "Guided", "Replay", "default_choice", "make_strategy", "STRATEGY_NAMES",
]
