"""Repeats, medians, ratios, targets, the JSON records and the printed table.

Nothing here times anything: a measurement is any callable returning one
figure (messages per second, bytes per message, ...), and `measure_pair`
runs ours and the baseline's alternately, so a burst of load from another
process on the machine falls on both about equally.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

# The figures of the benchmark, in the order they are printed (issue 6).
NAMES = (
    "queue.single",
    "queue.1p1c",
    "queue.4p4c",
    "queue.16p16c",
    "queue.batch.4p4c",
    "broker.1group.4p4c",
    "broker.fanout4.4p4c",
    "checker.points_per_s",
    "checker.schedules_per_s",
    "memory.bytes_per_message",
)

# The keys of one JSON record, in order.
KEYS = ("name", "unit", "median", "min", "max", "baseline", "ratio")


class BenchError(Exception):
    """A workload went wrong (a worker raised, hung, or items went missing): no figure."""


@dataclass(frozen=True)
class Target:
    """A goal for one figure: ``ratio >= at_least`` or ``median <= at_most``."""

    at_least_ratio: float | None = None
    at_most: float | None = None

    def met(self, figure: Figure) -> bool:
        """True when ``figure`` reaches the goal; a figure without the value compared misses it."""
        if self.at_least_ratio is not None:
            return figure.ratio is not None and figure.ratio >= self.at_least_ratio
        assert self.at_most is not None
        return figure.median <= self.at_most

    def describe(self) -> str:
        if self.at_least_ratio is not None:
            return f">= {self.at_least_ratio:g}x"
        return f"<= {self.at_most:g}"


# The targets of issue 6; figures without a target are reported only.
TARGETS = {
    "queue.single": Target(at_least_ratio=1.0),
    "queue.1p1c": Target(at_least_ratio=1.0),
    "queue.4p4c": Target(at_least_ratio=1.0),
    "queue.batch.4p4c": Target(at_least_ratio=5.0),
    "broker.1group.4p4c": Target(at_least_ratio=0.33),
    "memory.bytes_per_message": Target(at_most=250),
}


@dataclass(frozen=True)
class Figure:
    """One figure: our median with min / max, the baseline's median, and their ratio."""

    name: str
    unit: str
    median: float
    min: float
    max: float
    baseline: float | None
    ratio: float | None

    def record(self) -> dict:
        """The JSON record: exactly the keys of `KEYS`."""
        return asdict(self)


def ratio(ours: float, baseline: float | None) -> float | None:
    """``ours / baseline`` (higher is better), None without a baseline."""
    if baseline is None:
        return None
    if not baseline > 0:
        raise BenchError(f"baseline figure must be positive, got {baseline!r}")
    return ours / baseline


def summarise(name: str, unit: str, ours: Sequence[float], baseline: Sequence[float] | None) -> Figure:
    """The `Figure` of repeated measurements: medians, our spread, and the ratio of the medians."""
    if not ours:
        raise BenchError(f"{name}: no measurement")
    for value in (*ours, *(baseline or ())):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise BenchError(f"{name}: a measurement is not a finite number >= 0: {value!r}")
    median = statistics.median(ours)
    base = statistics.median(baseline) if baseline else None
    return Figure(name, unit, median, min(ours), max(ours), base, ratio(median, base))


def measure_pair(
    ours: Callable[[], float],
    baseline: Callable[[], float] | None,
    repeats: int,
) -> tuple[list[float], list[float] | None]:
    """Run ``ours`` and ``baseline`` ``repeats`` times each, alternating which goes first."""
    if repeats < 1:
        raise ValueError(f"'repeats' must be >= 1, got {repeats!r}")
    mine: list[float] = []
    theirs: list[float] | None = None if baseline is None else []
    for repeat in range(repeats):
        if baseline is None:
            mine.append(ours())
        elif repeat % 2 == 0:
            mine.append(ours())
            theirs.append(baseline())  # type: ignore[union-attr]
        else:
            theirs.append(baseline())  # type: ignore[union-attr]
            mine.append(ours())
    return mine, theirs


def check_records(records: list[dict]) -> None:
    """Raise BenchError unless ``records`` is the benchmark's JSON: one record per name of `NAMES`."""
    names = [record.get("name") for record in records]
    if sorted(names) != sorted(NAMES):
        raise BenchError(f"figures {names} are not exactly {list(NAMES)}")
    for record in records:
        if tuple(record) != KEYS:
            raise BenchError(f"{record.get('name')}: keys {tuple(record)} are not {KEYS}")
        has_baseline = record["baseline"] is not None
        if has_baseline != (record["ratio"] is not None):
            raise BenchError(f"{record['name']}: baseline and ratio must both be null or both be set")
        if not record["min"] <= record["median"] <= record["max"]:
            raise BenchError(f"{record['name']}: median outside [min, max]: {record}")


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def verdict(figure: Figure) -> str:
    """"met" / "MISSED" against the figure's target, "" when it has none."""
    target = TARGETS.get(figure.name)
    if target is None:
        return ""
    return f"{target.describe()} {'met' if target.met(figure) else 'MISSED'}"


def table(figures: Sequence[Figure]) -> str:
    """The printed table: one line per figure."""
    header = ("figure", "unit", "median", "min", "max", "baseline", "ratio", "target")
    rows = [header]
    for figure in figures:
        rows.append(
            (
                figure.name,
                figure.unit,
                _number(figure.median),
                _number(figure.min),
                _number(figure.max),
                _number(figure.baseline),
                "-" if figure.ratio is None else f"{figure.ratio:.2f}x",
                verdict(figure),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) if column in (0, 1, 7) else cell.rjust(width)
                 for column, (cell, width) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
