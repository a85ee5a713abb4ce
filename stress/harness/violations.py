"""Violations: what broke, where, with the numbers; collected from every harness thread.

Each violation has a ``kind`` (one per invariant, see `KINDS`), a one-line
``message`` saying what happened with the values, and ``details`` (a dict
that goes into the JSON report as is).  The collector keeps the first
`MAX_KEPT` in full and counts the rest per kind, so a broken run cannot
eat the memory of an overnight one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = {
    "identity": "the broker's accounting identity failed (published != acked + expired + ... + in_flight)",
    "accounting": "the broker's counters disagree with the client-side ledger at a quiescent audit",
    "loss": "a published message was never acked, expired or dead-lettered",
    "duplicate": "a delivery was handed out twice, after its ack, or a message was acked twice",
    "overflow": "a group held more than its capacity (in_queue + in_flight > capacity)",
    "order": "a producer's messages were first delivered out of order within a group",
    "stall": "no progress while work was pending, for the stall timeout",
    "harness": "the harness itself failed (a worker thread raised)",
}

MAX_KEPT = 100


@dataclass(frozen=True)
class Violation:
    """One broken invariant."""

    kind: str
    message: str
    at: float  # seconds since the run started
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"kind": self.kind, "message": self.message, "at": round(self.at, 3), "details": self.details}


class Violations:
    """Thread-safe collector; ``on_add(violation)`` is called outside the lock for each one kept."""

    def __init__(self, started: float, on_add: Callable[[Violation], None] | None = None) -> None:
        self._started = started
        self._on_add = on_add
        # Invariant (under _lock): kept holds the first MAX_KEPT violations in order;
        # counts[kind] counts every violation of that kind, kept or not.
        self._lock = threading.Lock()
        self._kept: list[Violation] = []
        self._counts: dict[str, int] = {}

    def add(self, kind: str, message: str, **details: Any) -> None:
        """Record a violation of ``kind`` (a key of `KINDS`)."""
        assert kind in KINDS, kind
        violation = Violation(kind, message, time.monotonic() - self._started, details)
        with self._lock:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            kept = len(self._kept) < MAX_KEPT
            if kept:
                self._kept.append(violation)
        if kept and self._on_add is not None:
            self._on_add(violation)

    @property
    def total(self) -> int:
        """How many violations so far."""
        with self._lock:
            return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        """Violations per kind so far."""
        with self._lock:
            return dict(self._counts)

    def kept(self) -> list[Violation]:
        """The first `MAX_KEPT` violations, in order."""
        with self._lock:
            return list(self._kept)

    def kinds(self) -> set[str]:
        """The kinds seen so far."""
        with self._lock:
            return set(self._counts)
