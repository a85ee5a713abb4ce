"""Runner: builds a broker and the workload, supervises the run, stops it, and sums it up.

Threads of a run: producers and consumers (`workload`), the sampler
(`monitor`), the controller (audits every ``audit_interval``, a snapshot
every ``snapshot_interval``, then the final stop), and the caller's own
thread as supervisor: it ends the run (duration, first violation, SIGINT /
SIGTERM) and runs the `Watchdog`.  On a stall verdict it writes every
thread's stack to the report and to stderr, heals the injected fault if
there is one, and gives the controller a grace period to shut down; a
genuine deadlock leaves daemon threads behind and the run still returns.
"""

from __future__ import annotations

import dataclasses
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any

from mq import Broker

from stress.harness.audit import Auditor
from stress.harness.config import Config
from stress.harness.faults import Fault, make_fault
from stress.harness.histogram import Histogram
from stress.harness.ledger import Ledger
from stress.harness.monitor import Sampler, Watchdog, dump_stacks
from stress.harness.report import JsonLines, status_line, summary_text
from stress.harness.rss import current_rss_kb, default_warmup, growth, peak_rss_kb
from stress.harness.violations import Violation, Violations
from stress.harness.workload import Consumer, Gate, Producer

EXIT_CLEAN, EXIT_VIOLATION, EXIT_USAGE, EXIT_STALL = 0, 1, 2, 3
MAX_POINTS = 4096  # RSS points kept for the growth fit; halved (every other one dropped) when full


@dataclass
class RunResult:
    """What a run found: ``exit_code`` (0 clean, 1 violation, 3 stall), the summary record, the violations."""

    exit_code: int
    summary: dict[str, Any]
    violations: list[Violation]

    @property
    def kinds(self) -> set[str]:
        """The kinds of violation found."""
        return set(self.summary["violation_counts"])


def topic_names(config: Config) -> list[str]:
    return [f"stress-t{t}" for t in range(config.topics)]


def group_names(config: Config) -> list[str]:
    return [f"g{g}" for g in range(config.groups)]


def run(config: Config, *, out: IO[str] | None = None, err: IO[str] | None = None,
        handle_signals: bool = False) -> RunResult:
    """Run one stress run in this process and return its result.

    ``out`` gets the status line (when enabled) and the closing summary;
    ``err`` gets the stacks of a stall.  ``handle_signals`` makes SIGINT /
    SIGTERM stop the run gracefully (main thread only).
    """
    return _Run(config, out if out is not None else sys.stdout, err if err is not None else sys.stderr).execute(
        handle_signals)


class _Run:
    def __init__(self, config: Config, out: IO[str], err: IO[str]) -> None:
        self.config = config
        self.out = out
        self.err = err
        self.started = time.monotonic()
        self.report = JsonLines(config.report)
        self.violations = Violations(self.started, self._reported)
        self.ledger = Ledger(topic_names(config), group_names(config), config.producers, self.violations)
        self.fault: Fault | None = make_fault(config.inject_bug, config.capacity)
        self.stopping = threading.Event()  # the controller should finish the run
        self.give_up = threading.Event()  # a stall verdict: stop waiting for anything
        self.stop_sampling = threading.Event()
        self.done = threading.Event()  # the controller has finished
        self.stall: dict[str, Any] | None = None
        self.signal: str | None = None
        self.points: list[tuple[float, int, int]] = []  # (elapsed, peak RSS KB, RSS KB) per snapshot
        self.last_snapshot: dict[str, Any] | None = None
        self._rate_base = (0.0, 0, 0)  # (elapsed, acked, published) at the previous snapshot

    # -- the run --------------------------------------------------------------

    def execute(self, handle_signals: bool) -> RunResult:
        previous = self._install_signals() if handle_signals else None
        if self.fault is not None:
            self.fault.install()
        try:
            self._build()
            self.report.write({"type": "start", "seed": self.config.seed, "command": self.config.command(),
                               "config": dataclasses.asdict(self.config), "time": time.time()})
            for worker in (*self.consumers, self.sampler, *self.producers):
                worker.start()
            self.controller.start()
            self._supervise()
            return self._finish()
        finally:
            if self.fault is not None:
                self.fault.uninstall()
            self.report.close()
            if previous is not None:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)

    def _build(self) -> None:
        # The broker, its topics and groups, and every thread of the run (not started).
        config = self.config
        self.broker = Broker(reaper_interval=config.reaper_interval)
        self.gate = Gate(config.producers)
        self.consumers: list[Consumer] = []
        for topic in topic_names(config):
            self.broker.create_topic(topic, capacity=config.capacity, ack_timeout=config.ack_timeout,
                                     max_deliveries=config.max_deliveries)
            for g, group in enumerate(group_names(config)):
                for c in range(config.consumers):
                    self.consumers.append(Consumer(
                        f"stress-consumer-{topic[len('stress-'):]}-{group}-{c}", self.broker.subscribe(topic, group),
                        g, self.ledger.groups[(topic, group)], config, self.violations))
        self.producers = [Producer(self.broker, track, self.gate, config, self.violations)
                          for track in self.ledger.producers]
        self.sampler = Sampler(self.broker, self.ledger, config, self.violations, self.stop_sampling)
        self.auditor = Auditor(config, self.ledger, self.sampler, self.consumers, self.gate, self.fault,
                               self.violations, self.give_up)
        self.watchdog = Watchdog(config, self.producers, self.consumers, [self.sampler, self.auditor],
                                 self.sampler, self.ledger, self.fault)
        self.controller = threading.Thread(target=self._control, name="stress-controller", daemon=True)

    def _supervise(self) -> None:
        # The caller's thread: end the run when it is time, and watch for stalls.
        config = self.config
        deadline = self.started + config.duration
        tick = min(0.1, config.stall_timeout / 5)
        show = config.status if config.status is not None else _is_terminal(self.out)
        next_status = 0.0
        while not self.done.is_set():
            now = time.monotonic()
            if not self.stopping.is_set() and (
                now >= deadline or self.signal or (self.violations.total and not config.keep_going)
            ):
                self.stopping.set()
            reason = self.watchdog.check(now)
            if reason is not None:
                self._stalled(reason)
                break
            if show and now >= next_status:
                next_status = now + 0.5
                self.out.write("\r" + status_line(self._snapshot(record=False)) + "\x1b[K")
                self.out.flush()
            self.done.wait(max(0.0, min(tick, deadline - now)) if now < deadline else tick)
        if show:
            self.out.write("\n")

    def _stalled(self, reason: str) -> None:
        # The watchdog's verdict: stacks into the report, heal the fault, let the controller out.
        stacks = dump_stacks()
        self.stall = {"reason": reason, "stacks": stacks}
        self.violations.add("stall", f"stall: {reason}", stall_timeout=self.config.stall_timeout)
        self.report.write({"type": "stall", "reason": reason, "elapsed": self._elapsed(), "stacks": stacks})
        self.err.write(f"STALL: {reason}\n")
        for name, stack in stacks.items():
            self.err.write(f"--- {name}\n{stack}")
        self.err.flush()
        self.give_up.set()
        self.stopping.set()
        if self.fault is not None:
            self.fault.heal()
        self.done.wait(max(2.0, self.config.stall_timeout))  # grace for the controller to shut down

    # -- the controller thread ------------------------------------------------

    def _control(self) -> None:
        try:
            self._periodic()
            if self.give_up.is_set():
                self._abort()
            else:
                self._stop_gracefully()
        except BaseException as error:  # a harness bug must show
            self.violations.add("harness", f"the controller raised {error!r}")
            self._abort()
        finally:
            self.done.set()

    def _periodic(self) -> None:
        # Audits and snapshots until the supervisor says stop.
        config = self.config
        next_audit = self.started + config.audit_interval
        next_snapshot = self.started + config.snapshot_interval
        while not self.stopping.wait(max(0.0, min(next_audit, next_snapshot) - time.monotonic())):
            now = time.monotonic()
            if now >= next_audit:
                self.auditor.audit()
                next_audit = time.monotonic() + config.audit_interval
            if now >= next_snapshot:
                self._snapshot()
                next_snapshot += config.snapshot_interval
                if next_snapshot < now:
                    next_snapshot = now + config.snapshot_interval

    def _stop_gracefully(self) -> None:
        # Producers stop; a last audit once everything is settled; a draining shutdown; final checks.
        config = self.config
        for producer in self.producers:
            producer.stop()
        self.gate.resume()
        for producer in self.producers:
            while not producer.join(0.1) and not self.give_up.is_set():
                pass
        patience = config.stall_timeout if self.violations.total else None
        if self.auditor.audit(pause=False, patience=patience) == "skipped" and self.fault is not None:
            self.fault.heal()  # a fault held consumers: let them drain before the audit
            self.auditor.audit(pause=False, patience=config.stall_timeout)
        self.broker.shutdown(drain=True, timeout=config.stall_timeout)
        for consumer in self.consumers:
            consumer.join(config.stall_timeout)
        self.stop_sampling.set()
        self.sampler.join(config.stall_timeout)
        self._final_checks()
        self._snapshot()

    def _abort(self) -> None:
        # After a stall: stop what can be stopped, without waiting for anything to drain.
        for producer in self.producers:
            producer.stop()
        self.gate.resume()
        self.stop_sampling.set()
        self.broker.shutdown(drain=False, timeout=1.0)
        for consumer in self.consumers:
            consumer.stop()

    def _final_checks(self) -> None:
        # After the draining shutdown: the identity still holds and nothing was discarded.
        stats = self.sampler.sample(self.auditor)
        if stats is None:
            return
        for topic in stats.topics:
            for group in topic.groups:
                if group.discarded:
                    self.violations.add(
                        "loss", f"{topic.topic}/{group.name}: {group.discarded} messages discarded by a "
                        "draining shutdown after the final audit had found the broker empty",
                        topic=topic.topic, group=group.name, discarded=group.discarded)

    # -- reporting ------------------------------------------------------------

    def _reported(self, violation: Violation) -> None:
        self.report.write({"type": "violation", **violation.as_dict()})

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _latency(self) -> Histogram:
        merged = Histogram()
        for consumer in self.consumers:
            merged.merge(consumer.latency.copy())
        return merged

    def _snapshot(self, record: bool = True) -> dict[str, Any]:
        # A snapshot of the run now; written to the report (and kept for the RSS fit) when ``record``.
        elapsed = self._elapsed()
        totals = self.ledger.totals()
        since, acked, published = self._rate_base
        span = max(elapsed - since, 1e-9)
        sampler = self.sampler
        snapshot = {
            "type": "snapshot",
            "elapsed": round(elapsed, 3),
            "totals": totals,
            "rates": {"acked_per_s": round((totals["acked"] - acked) / span, 1),
                      "published_per_s": round((totals["published"] - published) / span, 1)},
            "occupancy": {"now": max(sampler.occupancy.values(), default=0),
                          "peak_sampled": max(sampler.peak.values(), default=0),
                          "high_water": max(sampler.high_water.values(), default=0),
                          "capacity": self.config.capacity},
            "latency_ms": self._latency().summary(),
            "rss_kb": current_rss_kb(),
            "peak_rss_kb": peak_rss_kb(),
            "ledger_bytes": sum(ledger.memory() for ledger in self.ledger.groups.values()),
            "audits": self.auditor.audits,
            "violations": self.violations.total,
        }
        if record:
            self._rate_base = (elapsed, totals["acked"], totals["published"])
            self.report.write(snapshot)
            self.points.append((elapsed, snapshot["peak_rss_kb"], snapshot["rss_kb"]))
            if len(self.points) >= MAX_POINTS:
                del self.points[::2]
            self.last_snapshot = snapshot
        return snapshot

    def _finish(self) -> RunResult:
        # The summary record, the closing text, the result.
        elapsed = self._elapsed()
        if self.stall is not None:
            code, verdict = EXIT_STALL, "STALLED"
        elif self.violations.total:
            code, verdict = EXIT_VIOLATION, "VIOLATED"
        else:
            code, verdict = EXIT_CLEAN, "CLEAN"
        totals = self.ledger.totals()
        snapshots = [{"elapsed": t, "peak_rss_kb": peak, "rss_kb": now} for t, peak, now in self.points]
        broker_totals = self.sampler.last.totals() if self.sampler.last is not None else None
        summary = {
            "type": "summary",
            "verdict": verdict,
            "exit_code": code,
            "seed": self.config.seed,
            "command": self.config.command(),
            "inject_bug": self.config.inject_bug,
            "fault_triggered": None if self.fault is None else self.fault.triggered.is_set(),
            "stopped_by": self.signal or ("stall" if self.stall else "violation" if self.violations.total
                                          and not self.config.keep_going and elapsed < self.config.duration
                                          else "duration"),
            "elapsed_s": round(elapsed, 3),
            "throughput": {"acked_per_s": round(totals["acked"] / elapsed, 1),
                           "published_per_s": round(totals["published"] / elapsed, 1),
                           "deliveries_per_s": round(totals["deliveries"] / elapsed, 1)},
            "latency_ms": self._latency().summary(),
            "totals": totals,
            "broker_totals": broker_totals,
            "occupancy": {"capacity": self.config.capacity,
                          "high_water": max(self.sampler.high_water.values(), default=0),
                          "peak_sampled": max(self.sampler.peak.values(), default=0),
                          "per_group_high_water": {f"{t}/{g}": v for (t, g), v in self.sampler.high_water.items()}},
            "rss": {"peak_kb": peak_rss_kb(), "current_kb": current_rss_kb(),
                    "growth": growth(snapshots, default_warmup(elapsed))},
            "audits": {"done": self.auditor.audits, "skipped": self.auditor.skipped,
                       "paused_fraction": round(self.auditor.paused_seconds / elapsed, 3)},
            "samples": self.sampler.samples,
            "violation_total": self.violations.total,
            "violation_counts": self.violations.counts(),
            "violations": [violation.as_dict() for violation in self.violations.kept()],
            "stall": self.stall,
        }
        self.report.write(summary)
        self.out.write(summary_text(summary) + "\n")
        self.out.flush()
        return RunResult(code, summary, self.violations.kept())

    # -- signals --------------------------------------------------------------

    def _install_signals(self) -> dict[int, Any] | None:
        # SIGINT / SIGTERM ask for a graceful stop; a second one acts as it normally would.
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._on_signal)
        self._previous_signals = previous
        return previous

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signal = signal.Signals(signum).name
        for number, handler in self._previous_signals.items():
            signal.signal(number, handler)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
