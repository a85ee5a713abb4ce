"""PCT: probabilistic concurrency testing with priority change points.

Burckhardt, Kothari, Musuvathi and Nagarakatte, "A Randomized Scheduler with
Probabilistic Guarantees of Finding Bugs", ASPLOS 2010.  Each schedule gives
the threads random distinct priorities (a thread gets its place in the order
when it first becomes enabled) and always runs the highest-priority enabled
thread; at d-1 *change points*, drawn uniformly among the k steps the
schedules are estimated to take, the thread about to run drops to a priority
below every initial one (the i-th change point gives priority i).  For a
program with n threads and k steps, a bug of depth d (it needs d particular
ordering constraints) is hit with probability at least 1/(n * k^(d-1)) in each
schedule.  k is learned from the longest schedule run so far (the first
schedule uses ``k_estimate``).

Value choices (which waiter a notify wakes, spurious wake-ups) are drawn
uniformly at random; the paper's bound covers thread ordering only.
"""

from __future__ import annotations

import random


class PCT:
    """Priority-based random scheduler with ``depth - 1`` priority change points."""

    name = "pct"
    spurious_default = True

    def __init__(self, seed: int = 0, depth: int = 3, *, k_estimate: int = 100,
                 spurious_probability: float = 0.05, first_index: int = 0, stride: int = 1):
        if depth < 1:
            raise ValueError(f"'depth' must be >= 1, not {depth!r}")
        if k_estimate < 1:
            raise ValueError(f"'k_estimate' must be >= 1, not {k_estimate!r}")
        self.seed = seed
        self.depth = depth
        self.k = k_estimate
        self.spurious_probability = spurious_probability
        self.index = first_index - stride
        self.stride = stride
        self._rng = random.Random()
        self.max_threads = 0
        self.max_steps_seen = 0
        self._prio: dict[int, float] = {}
        self._changes: dict[int, int] = {}
        self._last_step = 0

    def begin_schedule(self) -> bool:
        self.index += self.stride
        rng = self._rng
        rng.seed(f"pct:{self.seed}:{self.index}:{self.depth}")
        if self.max_steps_seen:
            self.k = self.max_steps_seen
        # d-1 change points among steps 0..k-1 (distinct where k allows).
        count = self.depth - 1
        if count <= self.k:
            points = rng.sample(range(self.k), count)
        else:
            points = [rng.randrange(self.k) for _ in range(count)]
        self._changes = {step: i + 1 for i, step in enumerate(sorted(points))}
        self._prio = {}
        self._last_step = 0
        return True

    def next_thread(self, point) -> int:
        en = point.enabled
        prio = self._prio
        for tid in en:
            if tid not in prio:
                # Initial priorities lie above every change-point priority (< depth).
                prio[tid] = self.depth + self._rng.random()
        if len(prio) > self.max_threads:
            self.max_threads = len(prio)
        step = point.step
        self._last_step = step
        best = max(en, key=prio.__getitem__)
        lowered = self._changes.get(step)
        if lowered is not None:
            prio[best] = lowered
            best = max(en, key=prio.__getitem__)
        return best

    def next_value(self, kind: str, n: int) -> int:
        if kind == "spurious":
            return 1 if self._rng.random() < self.spurious_probability else 0
        return self._rng.randrange(n)

    def end_schedule(self, failed: bool) -> None:
        if self._last_step + 1 > self.max_steps_seen:
            self.max_steps_seen = self._last_step + 1

    @property
    def exhaustive(self) -> bool:
        return False

    def guarantee(self, schedules: int) -> str:
        n = max(self.max_threads, 1)
        k = max(self.max_steps_seen, 1)
        d = self.depth
        p = 1.0 / (n * k ** (d - 1))
        total = 1.0 - (1.0 - p) ** schedules
        return (
            f"PCT depth d={d}: with n={n} threads and k={k} steps, a bug of depth {d} "
            f"is hit with probability >= 1/(n*k^(d-1)) = 1/({n}*{k}^{d - 1}) = {p:.3g} "
            f"per schedule, so >= {total:.3g} over {schedules} schedule(s)"
        )
