"""Config: every knob of a stress run, and the command line that builds one.

`parse_args` turns ``python -m stress`` options into a `Config`; a bad
option raises `UsageError` naming the option and the value, which the CLI
prints with the usage line and exit code 2.  `Config` checks its own values
too, so the in-process API (`stress.harness.run`) refuses the same mistakes.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from dataclasses import dataclass

BUGS = ("drop", "duplicate", "overflow", "deadlock")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


class UsageError(ValueError):
    """A bad option or config value; the message names it."""


def parse_duration(text: str, option: str = "--duration") -> float:
    """Seconds from "30s", "10m", "8h", "250ms" or a bare number of seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(f"{option}: expected a duration like 30s, 10m, 8h or 250ms, got {text!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class Config:
    """One stress run.  Ratios are fractions in [0, 1] of messages (or deliveries).

    ``consumers`` is per subscription group: every topic has ``groups``
    groups, each with ``consumers`` competing consumer threads; producer
    ``p`` publishes to topic ``p % topics``.
    """

    duration: float = 5.0
    producers: int = 4
    consumers: int = 2
    topics: int = 2
    groups: int = 2
    capacity: int = 100
    ttl_ratio: float = 0.05  # messages published with a short TTL (some expire)
    nack_ratio: float = 0.05  # deliveries whose handler raises (nack, requeue)
    abandon_ratio: float = 0.01  # deliveries dropped without ack: only the ack timeout returns them
    reject_ratio: float = 0.005  # deliveries nacked with requeue=False (dead-lettered at once)
    slow_ratio: float = 0.01  # deliveries handled slowly (a few ms; one in 20 of them past the ack timeout)
    batch: bool = False  # consumers take up to `batch_size` deliveries at once, then settle them
    batch_size: int = 16
    seed: int = 0
    report: str | None = None
    stall_timeout: float = 10.0
    inject_bug: str | None = None
    ttl: float = 0.02  # the TTL of a TTL message, seconds
    ack_timeout: float = 0.2
    max_deliveries: int = 5
    publish_timeout: float = 0.05  # producers give up (Full) after this long under backpressure
    reaper_interval: float = 0.05
    audit_interval: float = 3.0  # seconds between ledger audits (producers pause until quiescent)
    snapshot_interval: float = 5.0  # seconds between JSON-lines snapshots
    sample_interval: float = 0.05  # seconds between occupancy / identity samples
    keep_going: bool = False  # False: stop at the first violation
    status: bool | None = None  # live status line; None: only when stdout is a terminal

    def __post_init__(self) -> None:
        for name in ("producers", "consumers", "topics", "groups", "capacity", "max_deliveries", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UsageError(f"{_flag(name)} must be an integer >= 1, got {value!r}")
        for name in ("ttl_ratio", "nack_ratio", "abandon_ratio", "reject_ratio", "slow_ratio"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UsageError(f"{_flag(name)} must be a fraction between 0 and 1, got {value!r}")
        for name in ("duration", "stall_timeout", "ttl", "ack_timeout", "publish_timeout", "reaper_interval",
                     "audit_interval", "snapshot_interval", "sample_interval"):
            value = getattr(self, name)
            if not value > 0:
                raise UsageError(f"{_flag(name)} must be a positive number of seconds, got {value!r}")
        faults = self.nack_ratio + self.abandon_ratio + self.reject_ratio + self.slow_ratio
        if faults > 1.0:
            raise UsageError(
                f"--nack-ratio + --abandon-ratio + --reject-ratio + --slow-ratio must be <= 1, got {faults:g}"
            )
        if self.inject_bug is not None and self.inject_bug not in BUGS:
            raise UsageError(f"--inject-bug must be one of {', '.join(BUGS)}, got {self.inject_bug!r}")
        if self.producers < self.topics:
            raise UsageError(
                f"--producers ({self.producers}) must be >= --topics ({self.topics}): "
                "producer p publishes to topic p % topics, so a topic would get no messages"
            )

    def replace(self, **changes: object) -> Config:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    def command(self) -> str:
        """The ``python -m stress`` command line that reruns this config."""
        defaults = Config()
        parts = ["python -m stress"]
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in ("status", "report") or (value == getattr(defaults, field.name) and field.name != "seed"):
                continue
            if isinstance(value, bool):
                parts.append(_flag(field.name) if value else "")
            else:
                parts.append(f"{_flag(field.name)} {value:g}" if isinstance(value, float) else f"{_flag(field.name)} {value}")
        return " ".join(part for part in parts if part)


def _flag(name: str) -> str:
    # The command-line flag of a Config field.
    return "--" + name.replace("_", "-")


class _Parser(argparse.ArgumentParser):
    # argparse exits on errors; we raise UsageError so callers choose what to do.
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m stress`` argument parser."""
    defaults = Config()
    parser = _Parser(
        prog="python -m stress",
        description="Stress the mq broker with real threads, checking its invariants while it runs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Exit status: 0 clean, 1 invariant violated, 2 usage error, 3 stall (deadlock). See docs/stress.md.",
    )
    add = parser.add_argument
    add("--duration", default="5s", help="how long to run: 30s, 10m, 8h, 250ms")
    add("--producers", type=int, default=defaults.producers, metavar="N", help="producer threads")
    add("--consumers", type=int, default=defaults.consumers, metavar="M", help="consumer threads per group")
    add("--topics", type=int, default=defaults.topics, metavar="T", help="topics; producer p publishes to topic p %% T")
    add("--groups", type=int, default=defaults.groups, metavar="G", help="subscription groups per topic")
    add("--capacity", type=int, default=defaults.capacity, metavar="C", help="per-group capacity")
    add("--ttl-ratio", type=float, default=defaults.ttl_ratio, metavar="R", help="messages published with a TTL (--ttl)")
    add("--nack-ratio", type=float, default=defaults.nack_ratio, metavar="R", help="deliveries whose handler raises: nack, requeue")
    add("--abandon-ratio", type=float, default=defaults.abandon_ratio, metavar="R", help="deliveries never settled: only the ack timeout returns them")
    add("--reject-ratio", type=float, default=defaults.reject_ratio, metavar="R", help="deliveries nacked without requeue: dead letters")
    add("--slow-ratio", type=float, default=defaults.slow_ratio, metavar="R", help="slow handlers (1-5 ms; one in 20 of them past the ack timeout)")
    add("--batch", action="store_true", help="consumers take deliveries in batches and settle them together")
    add("--batch-size", type=int, default=defaults.batch_size, metavar="B", help="deliveries per batch with --batch")
    add("--seed", type=int, default=None, metavar="S", help="workload seed (default: random, printed with the rerun command)")
    add("--report", default=None, metavar="FILE", help="write JSON-lines snapshots and the summary here")
    add("--stall-timeout", default=str(defaults.stall_timeout), metavar="SECONDS",
        help="no progress for this long while work is pending is a stall: stacks dumped, exit 3")
    add("--inject-bug", choices=BUGS, default=None, help="break the broker on purpose (a test-only seam)")
    add("--ttl", default=str(defaults.ttl), metavar="SECONDS", help="TTL of the TTL messages")
    add("--ack-timeout", default=str(defaults.ack_timeout), metavar="SECONDS", help="the topics' ack timeout")
    add("--max-deliveries", type=int, default=defaults.max_deliveries, metavar="N", help="the topics' max_deliveries")
    add("--publish-timeout", default=str(defaults.publish_timeout), metavar="SECONDS", help="producers' publish timeout under backpressure")
    add("--audit-interval", default=str(defaults.audit_interval), metavar="SECONDS", help="time between exact ledger audits (producers pause)")
    add("--snapshot-interval", default=str(defaults.snapshot_interval), metavar="SECONDS", help="time between report snapshots")
    add("--keep-going", action="store_true", help="do not stop at the first violation")
    add("--status", dest="status", action="store_const", const=True, default=None,
        help="force the live status line (default: only on a terminal)")
    add("--no-status", dest="status", action="store_const", const=False, help="never show the status line")
    return parser


def parse_args(argv: list[str] | None = None) -> Config:
    """A `Config` from command-line arguments; `UsageError` names a bad option."""
    args = build_parser().parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big") % 1_000_000
    seconds = {
        name: parse_duration(getattr(args, name), "--" + name.replace("_", "-"))
        for name in ("duration", "stall_timeout", "ttl", "ack_timeout", "publish_timeout",
                     "audit_interval", "snapshot_interval")
    }
    return Config(
        producers=args.producers,
        consumers=args.consumers,
        topics=args.topics,
        groups=args.groups,
        capacity=args.capacity,
        ttl_ratio=args.ttl_ratio,
        nack_ratio=args.nack_ratio,
        abandon_ratio=args.abandon_ratio,
        reject_ratio=args.reject_ratio,
        slow_ratio=args.slow_ratio,
        batch=args.batch,
        batch_size=args.batch_size,
        seed=seed,
        report=args.report,
        inject_bug=args.inject_bug,
        max_deliveries=args.max_deliveries,
        keep_going=args.keep_going,
        status=args.status,
        **seconds,
    )
