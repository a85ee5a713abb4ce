"""RSS: the process's memory now and at its peak, and its growth per hour fitted from snapshots.

The summary of a run carries the fit (``rss.growth``); ``python -m
stress.harness.rss_growth REPORT.jsonl`` computes it again from a report.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Iterable

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def peak_rss_kb() -> int:
    """The process's peak resident set size, KB (``getrusage``; Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def current_rss_kb() -> int:
    """The resident set size now, KB (``/proc/self/statm``; the peak where there is no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE // 1024
    except (OSError, IndexError, ValueError):
        return peak_rss_kb()


def slope_per_hour(points: Iterable[tuple[float, float]]) -> float | None:
    """The least-squares slope of (seconds, KB) points, in MB per hour; None with fewer than 3 points."""
    points = list(points)
    if len(points) < 3:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread  # KB per second
    return slope * 3600.0 / 1024.0


def default_warmup(duration: float) -> float:
    """The start of the steady state: half the run, at most 10 minutes.

    Measured (docs/stress.md): RSS rises by 2-3 MB over the first 5-10
    minutes of a run while the allocators warm up, then stays flat; a fit
    that starts earlier measures the warm-up, not a leak.
    """
    return min(600.0, duration * 0.5)


def growth(snapshots: list[dict], warmup: float) -> dict[str, float | int | None]:
    """Peak and current RSS growth (MB/hour) over the snapshots at or after ``warmup`` seconds."""
    steady = [s for s in snapshots if s["elapsed"] >= warmup]
    return {
        "warmup_s": round(warmup, 1),
        "points": len(steady),
        "peak_mb_per_hour": _round(slope_per_hour((s["elapsed"], s["peak_rss_kb"]) for s in steady)),
        "current_mb_per_hour": _round(slope_per_hour((s["elapsed"], s["rss_kb"]) for s in steady)),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
