"""``grade``: a fixed battery of scenarios, each in its own child process with limits.

Every scenario runs ``python -m model check TARGET ... --result-file F`` in a
child process that

- limits its own address space (RLIMIT_AS) before importing the submission;
- is killed, with its whole process group, after a wall-clock limit;
- has its stdout and stderr drained into buffers capped at OUTPUT_CAP bytes
  (the rest is discarded, never blocks the child);
- reports through a result file, not through its output, so nothing the
  submission prints can forge or corrupt a verdict.

A child that never writes its result got killed, crashed, ran out of memory
or was ended by the submission (``os._exit``, ``sys.exit`` at a point the
guards cannot catch); its scenario gets the verdict ``error`` with that
reason.  Budgets count schedules, never seconds, so verdicts, traces and the
JSON are the same on every run; the wall-clock limit only catches hangs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Sequence

from model.cli import report
from model.cli.check import Outcome, Scenario
from model.cli.target import TargetError, normalise

OUTPUT_CAP = 64 * 1024
DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY_MIB = 1024
LOAD_TIMEOUT = 20.0


@dataclass(frozen=True)
class Entry:
    """One scenario of the battery and its budget in schedules."""

    scenario: Scenario
    schedules: int

    @property
    def name(self) -> str:
        return self.scenario.name


def _entry(p: int, c: int, n: int, granularity: str, schedules: int, items: int = 2) -> Entry:
    return Entry(Scenario(p, c, items, n, granularity), schedules)


# The battery, small to large; docs/grading.md explains what each one is for.
BATTERY: tuple[Entry, ...] = (
    _entry(1, 1, 1, "sync", 500),
    _entry(2, 1, 1, "sync", 1000),
    _entry(1, 2, 1, "sync", 1000),
    _entry(2, 2, 1, "sync", 2000),
    _entry(2, 2, 2, "sync", 2000),
    _entry(1, 1, 2, "sync", 500, items=3),
    _entry(3, 3, 2, "sync", 2000),
    _entry(1, 1, 1, "line", 500),
    _entry(2, 2, 1, "line", 500),
    _entry(2, 2, 2, "line", 500),
)

_NAME = re.compile(r"^(\d+)p(\d+)c-cap(\d+)(?:-k(\d+))?-(sync|line)$")


def select(names: str | None) -> list[Entry]:
    """The battery, or the named scenarios (battery names, or any well-formed name)."""
    if names is None:
        return list(BATTERY)
    known = {entry.name: entry for entry in BATTERY}
    chosen = []
    for name in (n.strip() for n in names.split(",")):
        if name in known:
            chosen.append(known[name])
            continue
        match = _NAME.match(name)
        if not match or min(int(g) for g in match.groups()[:3]) < 1 or match[4] == "0":
            raise ValueError(
                f"unknown scenario {name!r}: names look like 2p2c-cap1-sync or 1p1c-cap2-k3-line"
            )
        p, c, n, k, granularity = match.groups()
        chosen.append(_entry(int(p), int(c), int(n), granularity, 1000, int(k or 2)))
    return chosen


@dataclass
class _Child:
    returncode: int | None  # None: killed on the wall-clock limit
    result: dict[str, Any] | None
    stderr: bytes
    seconds: float


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"  # str hashes, and so set orders, equal on every run
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    env.pop("PYTHONSTARTUP", None)
    return env


def _drain(stream: Any, sink: bytearray) -> None:
    """Read ``stream`` to its end, keeping the first OUTPUT_CAP bytes."""
    while True:
        chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
        if not chunk:
            return
        room = OUTPUT_CAP - len(sink)
        if room > 0:
            sink += chunk[:room]


def _run_child(arguments: Sequence[str], timeout: float, workdir: str) -> _Child:
    """Run ``python -m model ARGUMENTS --result-file F`` under the limits."""
    fd, result_path = tempfile.mkstemp(prefix="result-", suffix=".json", dir=workdir)
    os.close(fd)
    command = [sys.executable, "-m", "model", *arguments, "--result-file", result_path]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=_environment(), start_new_session=True,
    )
    with _live_lock:
        _live.add(process)
    out, err = bytearray(), bytearray()
    readers = [
        threading.Thread(target=_drain, args=(process.stdout, out), daemon=True),
        threading.Thread(target=_drain, args=(process.stderr, err), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        returncode: int | None = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        returncode = None
    _kill_group(process)
    with _live_lock:
        _live.discard(process)
    for reader in readers:
        reader.join(timeout=5)
    seconds = time.perf_counter() - started
    result = None
    if returncode is not None:
        try:
            with open(result_path, encoding="utf-8") as handle:
                text = handle.read(1 << 26)
            result = json.loads(text) if text else None
        except (OSError, ValueError):
            result = None
    return _Child(returncode, result if isinstance(result, dict) else None, bytes(err), seconds)


# Children still running, killed if the grader itself is interrupted: they
# run in their own sessions, so a Ctrl-C would not reach them.
_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


def _kill_all() -> None:
    with _live_lock:
        running = list(_live)
    for process in running:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through main(), which kills the children


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the child and anything it started; reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
        pass
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _why(child: _Child, timeout: float, memory: int) -> str:
    """Why a child produced no verdict, in one sentence that is the same on every run."""
    if child.returncode is None:
        return (f"no verdict within the {timeout:g} s wall-clock limit: the submission blocks or "
                "loops outside the checker's control (a busy loop with no synchronisation, "
                "I/O, or a blocking C call)")
    last = _last_line(child.stderr)
    if "MemoryError" in child.stderr.decode("utf-8", "replace"):
        return f"the check ran out of memory (limit {memory} MiB)"
    if child.returncode < 0:
        try:
            name = signal.Signals(-child.returncode).name
        except ValueError:
            name = f"signal {-child.returncode}"
        if name == "SIGKILL":
            return f"the check process was killed (SIGKILL; memory limit {memory} MiB?)"
        return f"the check process crashed ({name})"
    return (f"the check process exited with code {child.returncode} before reporting a verdict: "
            "the submission may call sys.exit or os._exit, or crash the interpreter"
            + (f" (last output: {last})" if last and "Traceback" not in last else ""))


def _outcome(entry: Entry, spec: str, child: _Child, timeout: float, memory: int) -> Outcome:
    data = child.result
    if data is None or data.get("verdict") not in ("pass", "fail", "error"):
        return Outcome("error", None, 0, False, _why(child, timeout, memory),
                       scenario=entry.name, target=spec, elapsed=child.seconds)
    return Outcome(
        data["verdict"], data.get("property"), int(data.get("schedules", 0)),
        bool(data.get("exhaustive", False)), str(data.get("message", "")),
        scenario=entry.name, target=spec, trace=list(data.get("trace") or []),
        token=_token(data.get("replay")), search=str(data.get("search", "")),
        elapsed=child.seconds,
    )


def _token(command: Any) -> str | None:
    if not isinstance(command, str):
        return None
    return command.rsplit(" ", 1)[-1]


def _check_arguments(spec: str, entry: Entry, memory: int) -> list[str]:
    s = entry.scenario
    return [
        "check", spec,
        "--producers", str(s.producers), "--consumers", str(s.consumers),
        "--items", str(s.items), "--capacity", str(s.capacity),
        "--granularity", s.granularity, "--strategy", "auto",
        "--schedules", str(entry.schedules), "--seed", "0",
        "--memory-limit", str(memory), "--json",
    ]


def _probe(spec: str, timeout: float, memory: int, workdir: str) -> str | None:
    """Load the target in a child; None when it loads, else why it cannot be loaded."""
    child = _run_child(["check", spec, "--validate-only", "--memory-limit", str(memory), "--json"],
                       min(timeout, LOAD_TIMEOUT), workdir)
    if child.result and child.result.get("verdict") == "loaded":
        return None
    if child.result and child.result.get("message"):
        return str(child.result["message"])
    if child.returncode is None:
        return f"cannot check {spec}: importing it did not finish within {min(timeout, LOAD_TIMEOUT):g} s"
    return f"cannot check {spec}: {_why(child, timeout, memory)}"


def main(args: argparse.Namespace) -> int:
    timeout = args.timeout or DEFAULT_TIMEOUT
    memory = args.memory_limit or DEFAULT_MEMORY_MIB
    jobs = args.jobs or os.cpu_count() or 1
    try:
        entries = select(args.scenarios)
        spec = normalise(args.target)
    except (ValueError, TargetError) as error:
        return _unloadable(args, args.target, str(error))
    with tempfile.TemporaryDirectory(prefix="model-grade-") as workdir:
        why = _probe(spec, timeout, memory, workdir)
        if why is not None:
            return _unloadable(args, spec, why)
        signal.signal(signal.SIGTERM, _terminated)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        try:
            children = list(pool.map(
                lambda entry: _run_child(_check_arguments(spec, entry, memory), timeout, workdir),
                entries,
            ))
        except BaseException:  # Ctrl-C: leave no child behind
            pool.shutdown(wait=False, cancel_futures=True)
            _kill_all()
            raise
        pool.shutdown()
    outcomes = [_outcome(e, spec, c, timeout, memory) for e, c in zip(entries, children)]
    return _report(args, spec, outcomes)


def _verdict(outcomes: Sequence[Outcome]) -> str:
    if all(o.verdict == "pass" for o in outcomes):
        return "pass"
    return "fail" if any(o.verdict == "fail" for o in outcomes) else "error"


def _python() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def document(spec: str, outcomes: Sequence[Outcome], timings: bool) -> dict[str, Any]:
    scenarios = []
    for o in outcomes:
        item = {
            "name": o.scenario, "verdict": o.verdict, "property": o.property,
            "schedules": o.schedules, "exhaustive": o.exhaustive, "trace": o.trace,
            "replay": o.replay, "message": o.message,
        }
        if timings:
            item["seconds"] = round(o.elapsed, 3)
        scenarios.append(item)
    data: dict[str, Any] = {"verdict": _verdict(outcomes), "target": spec, "scenarios": scenarios}
    if any(o.scenario.endswith("-line") for o in outcomes):
        data["python"] = _python()
        data["note"] = ("line-granularity scenarios schedule at every line executed; their "
                        "traces and replay tokens can differ between CPython minor versions")
    return data


def _report(args: argparse.Namespace, spec: str, outcomes: Sequence[Outcome]) -> int:
    data = document(spec, outcomes, args.timings)
    table = sys.stderr if args.json == "-" else sys.stdout
    table.write(report.grade_table([(o, o.elapsed) for o in outcomes]))
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("pass", "fail", "error")}
    table.write(f"{data['verdict'].upper()}: {counts['pass']} passed, {counts['fail']} failed, "
                f"{counts['error']} errors of {len(outcomes)} scenarios ({spec})\n")
    for o in outcomes:
        if o.verdict != "pass":
            first = o.message.splitlines()[0] if o.message else ""
            if len(first) > 160:
                first = first[:157] + "..."
            table.write(f"\n{o.scenario}: {o.property or o.verdict}: {first}\n")
            if o.replay:
                table.write(f"  {o.replay}\n")
    if "note" in data:
        table.write(f"\nNote: {data['note']} (this run: Python {data['python']}).\n")
    _write_outputs(args, data, report.junit(spec, outcomes, [o.elapsed for o in outcomes]
                                           if args.timings else None))
    return 0 if data["verdict"] == "pass" else 1


def _write_outputs(args: argparse.Namespace, data: dict[str, Any], junit: bytes | None) -> None:
    if args.json == "-":
        sys.stdout.write(report.dumps(data))
    elif args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(report.dumps(data))
    if args.junit and junit is not None:
        with open(args.junit, "wb") as handle:
            handle.write(junit)


def _unloadable(args: argparse.Namespace, spec: str, why: str) -> int:
    """Exit 2: the submission cannot be loaded at all; one line, and the files say so too."""
    sys.stderr.write(f"python -m model grade: error: {why}\n")
    data = {"verdict": "error", "target": spec, "scenarios": [], "message": why}
    junit = None
    if args.junit:
        junit = report.junit(spec, [Outcome("error", None, 0, False, why, scenario="load",
                                            target=spec)])
    _write_outputs(args, data, junit)
    return 2
