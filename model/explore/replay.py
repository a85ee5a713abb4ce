"""Replay and guided strategies: follow recorded choices, then run non-preemptively.

A recorded schedule is the list of choices made at the points where there was
a choice: the thread picked wherever more than one thread was enabled, and the
value picked at every value choice, in the order they happened.  Replaying it
through the deterministic runtime reproduces the run exactly; this is how
CHESS (Musuvathi et al., "Finding and Reproducing Heisenbugs in Concurrent
Programs", OSDI 2008) reproduces every error it reports.

Past the end of the list, and wherever a guided run departs from it, the
default choice is taken: keep running the current thread, else the lowest
enabled id; value 0 (the first waiter, no spurious wake-up).  The default
makes no preemption, which is what the shrinker relies on.
"""

from __future__ import annotations

from typing import Sequence

from model.errors import Nondeterminism


def default_choice(point) -> int:
    """Keep running the current thread if it can run, else the lowest enabled id."""
    en = point.enabled
    cur = point.current
    if cur is not None and cur in en:
        return cur
    return en[0]


class Guided:
    """Follows a choice list (and/or per-step deviations) leniently, recording what it did.

    ``choices``: the mixed sequence of recorded choices (threads at points with
    several enabled threads, values at value choices).  ``deviations``: maps a
    step number to the thread wanted there; ``value_deviations`` maps the index
    of a value choice to the value wanted.  A wanted thread that is not enabled
    (the run has diverged) is replaced by the default.

    After the run: ``steps``, ``preemptions``, ``taken_deviations`` and
    ``taken_value_deviations`` (the run's own non-default choices, which
    replay it exactly through ``deviations``), and ``sequence`` /
    ``sequence_defaults`` (its choices as a token records them).
    """

    name = "guided"
    spurious_default = False

    def __init__(self, choices: Sequence[int] = (), deviations=None, value_deviations=None):
        self.choices = list(choices)
        self.deviations = dict(deviations or {})
        self.value_deviations = dict(value_deviations or {})
        self._started = False
        self._reset()

    def _reset(self):
        self.pos = 0
        self.values_seen = 0
        self.steps = 0
        self.preemptions = 0
        self.taken_deviations: dict[int, int] = {}
        self.taken_value_deviations: dict[int, int] = {}
        self.sequence: list[int] = []
        self.sequence_defaults: list[bool] = []
        self.enabled_at: dict[int, tuple] = {}  # step -> enabled threads, where there was a choice

    def begin_schedule(self) -> bool:
        if self._started:
            return False
        self._started = True
        self._reset()
        return True

    def _wanted(self, point):
        en = point.enabled
        if len(en) > 1 and self.pos < len(self.choices):
            c = self.choices[self.pos]
            self.pos += 1
            return c
        return self.deviations.get(point.step)

    def _diverged(self, point, wanted) -> None:
        pass

    def next_thread(self, point) -> int:
        en = point.enabled
        default = default_choice(point)
        wanted = self._wanted(point)
        if wanted is None or wanted == default:
            c = default
        elif wanted in en:
            c = wanted
        else:
            self._diverged(point, wanted)
            c = default
        step = point.step
        self.steps = step + 1
        if c != default:
            self.taken_deviations[step] = c
            if point.current is not None:
                self.preemptions += 1
        if len(en) > 1:
            self.sequence.append(c)
            self.sequence_defaults.append(c == default)
            self.enabled_at[step] = en
        return c

    def next_value(self, kind: str, n: int) -> int:
        i = self.values_seen
        self.values_seen = i + 1
        if self.pos < len(self.choices):
            v = self.choices[self.pos]
            self.pos += 1
        else:
            v = self.value_deviations.get(i, 0)
        if not 0 <= v < n:
            self._diverged_value(kind, n, v)
            v = 0
        if v:
            self.taken_value_deviations[i] = v
        self.sequence.append(v)
        self.sequence_defaults.append(v == 0)
        return v

    def _diverged_value(self, kind, n, v) -> None:
        pass

    def end_schedule(self, failed: bool) -> None:
        pass

    @property
    def exhaustive(self) -> bool:
        return False

    def trimmed_sequence(self) -> list[int]:
        """The recorded choices without the trailing defaults (replay takes those anyway)."""
        end = len(self.sequence)
        while end and self.sequence_defaults[end - 1]:
            end -= 1
        return self.sequence[:end]

    def guarantee(self, schedules: int) -> str:
        return "replayed one recorded schedule"


class Replay(Guided):
    """Replays a recorded choice list exactly; a divergence raises ``Nondeterminism``."""

    name = "replay"

    def _diverged(self, point, wanted) -> None:
        raise Nondeterminism(
            f"replay diverged at step {point.step}: the recorded choice is thread "
            f"{wanted}, but the enabled threads are {list(point.enabled)}. The body "
            "does not run the same way twice (it depends on random numbers, the real "
            "clock, object ids, set order, files...) or it changed since the token "
            "was recorded."
        )

    def _diverged_value(self, kind, n, v) -> None:
        raise Nondeterminism(
            f"replay diverged at a {kind!r} choice: the recorded value {v} is not "
            f"among the {n} alternatives. The body does not run the same way twice "
            "or it changed since the token was recorded."
        )
