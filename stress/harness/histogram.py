"""Histogram: latencies in fixed log-scale buckets, so p50 / p99 / p999 cost bounded memory.

16 buckets per power of two from 2**-20 s (about 1 µs) to 2**16 s (18 hours):
577 counters whatever the run length, ~2% relative error.  Each consumer
thread owns one (no lock on the hot path); the reporter merges copies.
"""

from __future__ import annotations

import math

SUB_BUCKETS = 16
MIN_EXP = -20
MAX_EXP = 16
BUCKETS = 1 + (MAX_EXP - MIN_EXP) * SUB_BUCKETS


def _bucket(seconds: float) -> int:
    # The bucket of a duration: 0 below 2**MIN_EXP, the last one at or above 2**MAX_EXP.
    if seconds < 2.0**MIN_EXP:
        return 0
    mantissa, exponent = math.frexp(seconds)  # seconds = mantissa * 2**exponent, 0.5 <= mantissa < 1
    octave = exponent - 1 - MIN_EXP
    index = 1 + octave * SUB_BUCKETS + int((mantissa * 2.0 - 1.0) * SUB_BUCKETS)
    return min(index, BUCKETS - 1)


def _middle(index: int) -> float:
    # A representative duration of a bucket: 0 for bucket 0, else its midpoint.
    if index == 0:
        return 0.0
    octave, sub = divmod(index - 1, SUB_BUCKETS)
    return 2.0 ** (octave + MIN_EXP) * (1.0 + (sub + 0.5) / SUB_BUCKETS)


class Histogram:
    """Counts of durations; not thread-safe (one owner thread; others merge copies)."""

    __slots__ = ("counts", "total", "maximum")

    def __init__(self) -> None:
        self.counts = [0] * BUCKETS
        self.total = 0
        self.maximum = 0.0

    def record(self, seconds: float) -> None:
        """Count one duration."""
        self.counts[_bucket(seconds)] += 1
        self.total += 1
        if seconds > self.maximum:
            self.maximum = seconds

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s counts to this one."""
        counts = self.counts
        for index, count in enumerate(other.counts):
            if count:
                counts[index] += count
        self.total += other.total
        self.maximum = max(self.maximum, other.maximum)

    def copy(self) -> Histogram:
        """An independent copy (a racy read of a live histogram is good enough for a report)."""
        other = Histogram()
        other.counts = list(self.counts)
        other.total = sum(other.counts)
        other.maximum = self.maximum
        return other

    def percentile(self, fraction: float) -> float | None:
        """The duration below which ``fraction`` (0 < fraction <= 1) of the counts fall; None when empty."""
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"'fraction' must be in (0, 1], got {fraction!r}")
        total = sum(self.counts)
        if not total:
            return None
        rank = math.ceil(fraction * total)
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return _middle(index)
        raise AssertionError("unreachable: the counts sum to total")  # pragma: no cover

    def summary(self) -> dict[str, float | int | None]:
        """count, p50, p99, p999 and max, in milliseconds."""
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000.0, 3)

        return {
            "count": sum(self.counts),
            "p50_ms": ms(self.percentile(0.5)),
            "p99_ms": ms(self.percentile(0.99)),
            "p999_ms": ms(self.percentile(0.999)),
            "max_ms": ms(self.maximum) if self.total else None,
        }
