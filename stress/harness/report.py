"""Report: JSON-lines records to a file, a live status line on a terminal, the closing text.

The report file gets one JSON object per line, each with a ``type``:
``start`` (config, seed, the command that reruns it), ``snapshot`` (every
``snapshot_interval`` seconds: totals, rates over the interval, occupancy,
RSS, violations so far), ``violation`` (each one, as it is found), ``stall``
(every thread's stack) and last ``summary``.  docs/stress.md describes the
fields.
"""

from __future__ import annotations

import json
import threading
from typing import IO, Any


class JsonLines:
    """Appends records to a file (or nowhere), one JSON object per line, flushed at once; thread-safe."""

    def __init__(self, path: str | None) -> None:
        self._lock = threading.Lock()
        self._file: IO[str] | None = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115

    def write(self, record: dict[str, Any]) -> None:
        """Write one record."""
        if self._file is None:
            return
        line = json.dumps(record, default=str, separators=(",", ":"))
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def status_line(snapshot: dict[str, Any]) -> str:
    """One line: elapsed, ack rate, totals, occupancy, violations."""
    totals = snapshot["totals"]
    return (
        f"{snapshot['elapsed']:7.1f}s  {snapshot['rates']['acked_per_s']:9,.0f} acks/s  "
        f"published {totals['published']:,}  acked {totals['acked']:,}  expired {totals['expired']:,}  "
        f"dead {totals['dead_lettered']:,}  occupancy {snapshot['occupancy']['now']}/{snapshot['occupancy']['capacity']}  "
        f"violations {snapshot['violations']}"
    )


def summary_text(summary: dict[str, Any]) -> str:
    """The closing lines printed at the end of a run."""
    totals = summary["totals"]
    latency = summary["latency_ms"]
    rss = summary["rss"]
    lines = [
        f"{summary['verdict']}: exit {summary['exit_code']} after {summary['elapsed_s']:.1f} s "
        f"(seed {summary['seed']}; rerun: {summary['command']})",
        f"  throughput {summary['throughput']['acked_per_s']:,.0f} acks/s, "
        f"{summary['throughput']['published_per_s']:,.0f} publishes/s "
        f"(producers paused {summary['audits']['paused_fraction']:.0%} of the time for {summary['audits']['done']} audits)",
        f"  latency publish->ack p50 {latency['p50_ms']} ms, p99 {latency['p99_ms']} ms, "
        f"p999 {latency['p999_ms']} ms, max {latency['max_ms']} ms",
        f"  published {totals['published']:,} (+{totals['publish_failed']:,} timed out under backpressure); "
        f"acked {totals['acked']:,}, expired {totals['expired']:,}, dead-lettered {totals['dead_lettered']:,} "
        f"{totals['dead_reasons']}, lost {totals['lost']:,}",
        f"  deliveries {totals['deliveries']:,} (redeliveries {totals['redeliveries']:,}), nacked {totals['nacked']:,}, "
        f"rejected {totals['rejected']:,}, abandoned {totals['abandoned']:,}, stale acks {totals['stale']:,}",
        f"  occupancy high-water {summary['occupancy']['high_water']}/{summary['occupancy']['capacity']}; "
        f"peak RSS {rss['peak_kb'] / 1024:.1f} MB, growth {rss['growth']['peak_mb_per_hour']} MB/hour",
    ]
    for violation in summary["violations"][:20]:
        lines.append(f"  VIOLATION [{violation['kind']}] at {violation['at']:.2f}s: {violation['message']}")
    if summary["violation_total"] > 20:
        lines.append(f"  ... {summary['violation_total'] - 20} more (see the report)")
    if summary.get("stall"):
        lines.append(f"  STALL: {summary['stall']['reason']} (every thread's stack is in the report / stderr)")
    return "\n".join(lines)
