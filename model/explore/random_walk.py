"""Random walk: a uniformly random enabled thread at every scheduling point.

The simplest controlled-scheduler strategy, and a strong baseline: Thomson,
Donaldson and Betts, "Concurrency Testing Using Controlled Schedulers: An
Empirical Study", ACM TOPC 2(4), 2016, found it finds most bugs of the
SCTBench suite that systematic strategies find.  What it guarantees: a bug
that needs c particular choices, each among at most n enabled threads, is hit
with probability at least n^-c per schedule; nothing is ever proved absent.

Each schedule draws from its own generator seeded by (seed, schedule index),
so schedule i is the same whichever process runs it and whatever ran before.
"""

from __future__ import annotations

import random


class RandomWalk:
    """Uniform choice among enabled threads; uniform notify choice; rare spurious wake-ups."""

    name = "random"
    spurious_default = True
    forced_points = False  # not asked where only one thread can run

    def __init__(self, seed: int = 0, *, spurious_probability: float = 0.05,
                 first_index: int = 0, stride: int = 1):
        if not 0 <= spurious_probability <= 1:
            raise ValueError(f"'spurious_probability' must be in [0, 1], not {spurious_probability!r}")
        if stride < 1 or first_index < 0:
            raise ValueError(f"'first_index' >= 0 and 'stride' >= 1 required, not {first_index}, {stride}")
        self.seed = seed
        self.spurious_probability = spurious_probability
        self.index = first_index - stride  # index of the schedule being run
        self.stride = stride
        self._rng = random.Random()
        self._random = self._rng.random
        self.max_threads = 0

    def begin_schedule(self) -> bool:
        self.index += self.stride
        self._rng.seed(f"random:{self.seed}:{self.index}")
        return True

    def next_thread(self, point) -> int:
        en = point.enabled
        n = len(en)
        if n == 1:
            return en[0]
        if n > self.max_threads:
            self.max_threads = n
        return en[int(self._random() * n)]

    def next_value(self, kind: str, n: int) -> int:
        if kind == "spurious":
            return 1 if self._random() < self.spurious_probability else 0
        return int(self._random() * n)

    def end_schedule(self, failed: bool) -> None:
        pass

    @property
    def exhaustive(self) -> bool:
        return False

    def guarantee(self, schedules: int) -> str:
        n = max(self.max_threads, 2)
        return (
            f"random walk over {schedules} schedule(s): each step picks uniformly among "
            f"the enabled threads (at most {n} here), so a bug that needs c particular "
            f"choices is hit with probability >= {n}^-c per schedule; no interleaving "
            "is proved absent"
        )
