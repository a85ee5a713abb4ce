"""Output: the text report of one scenario, JSON, the grade table and JUnit XML.

Nothing here reads a clock: timings appear only where the caller passes them
(the grade table, ``--timings``), so the same outcome always prints the same
bytes.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from typing import Any, Sequence

from model.cli.check import Outcome

_COLUMNS = ("step", "thread", "operation", "object", "location", "source")


def text(outcome: Outcome, timings: bool = False) -> str:
    """The human report of one scenario."""
    lines = [f"{outcome.verdict.upper()}  {outcome.scenario}  {outcome.target}".rstrip()]
    if outcome.verdict == "pass":
        lines.append(f"{_capital(outcome.message)}.")
        if outcome.search:
            lines.append(f"Search: {outcome.search}.")
    else:
        if outcome.property:
            lines.append(f"Property violated: {outcome.property}")
        lines.extend(_indent(outcome.message, bool(outcome.blocked)))
        if outcome.blocked:
            lines.extend(step_table(outcome.blocked, numbered=False, indent="    "))
        if outcome.search:
            lines.append(f"Found after {plural(outcome.schedules, 'schedule')} "
                         f"({outcome.search}).")
        if outcome.trace_scenario:
            lines.append(f"Shown in the smaller scenario {outcome.trace_scenario}, "
                         "which fails the same way.")
        if outcome.trace:
            total = _steps(outcome.trace)
            preemptions = sum(step.get("preempted", False) for step in outcome.trace)
            lines.append("")
            lines.append(f"Shrunk interleaving ({plural(total, 'step')}, "
                         f"{plural(preemptions, 'preemption')}; * = preemption):")
            lines.extend(step_table(outcome.trace))
        if outcome.replay:
            lines.append("")
            lines.append("Replay it with:")
            lines.append(f"  {outcome.replay}")
            if (outcome.trace_scenario or outcome.scenario).endswith("-line"):
                version = f"{sys.version_info[0]}.{sys.version_info[1]}"
                lines.append(f"(A line-granularity schedule can depend on the CPython minor "
                             f"version: replay it with Python {version}.)")
    if timings:
        lines.append(f"Time: {outcome.elapsed:.2f} s")
    return "\n".join(lines) + "\n"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _indent(message: str, blocked: bool) -> list[str]:
    head, found, _ = message.partition("every thread is blocked: ")
    if blocked and found:  # the table of blocked threads below says the rest
        return [f"  {head}every thread is blocked:"]
    return [f"  {line}" for line in message.splitlines() if line.strip()]


def _steps(trace: Sequence[dict[str, Any]]) -> int:
    last = trace[-1]
    repeat = last.get("repeat")
    extra = repeat["times"] * repeat["steps"] - 1 if repeat else 0
    return int(last.get("step", len(trace))) + extra


def step_table(trace: Sequence[dict[str, Any]], numbered: bool = True,
               indent: str = "  ") -> list[str]:
    """Aligned rows: step (``*`` marks a preemption), thread, operation, object, location, source."""
    rows = []
    notes: dict[int, str] = {}
    skip_to = -1
    for index, step in enumerate(trace):
        if index <= skip_to or (numbered and _folded(trace, index)):
            continue
        op = step["op"] + (f" ({step['detail']})" if step.get("detail") else "")
        obj = step["object"] or ""
        first = last = index
        while numbered and first > 0 and _folded(trace, first - 1):
            first -= 1
        if numbered and step["op"] == "start":
            while (last + 1 < len(trace) and trace[last + 1]["op"] == "start"
                   and trace[last + 1]["thread"] == step["thread"]
                   and not trace[last + 1].get("preempted") and "repeat" not in trace[last + 1]):
                last += 1
            obj = ", ".join(row["object"] for row in trace[index:last + 1])
            skip_to = last
        number = str(trace[first].get("step", first + 1))
        if last > first:
            number += f"-{trace[last].get('step', last + 1)}"
        if trace[first].get("preempted") or step.get("preempted"):
            number += "*"
        where = f"{step['file']}:{step['line']}" if step["file"] else ""
        rows.append((number if numbered else "", step["thread"], op, obj,
                     where, step.get("source", "")))
        repeat = step.get("repeat")
        if repeat:
            last = index + repeat["steps"] - 1
            times, length = repeat["times"], repeat["steps"]
            first = int(step.get("step", index + 1))
            notes[last] = (f"... the {length} step{'s' if length > 1 else ''} from step "
                           f"{first} repeat {times} times in a row, up to step "
                           f"{first + times * length - 1}")
    header = _COLUMNS if numbered else ("",) + _COLUMNS[1:]
    widths = [min(max(len(row[i]) for row in [header, *rows]), 40) for i in range(5)]
    out = []
    for index, row in enumerate([header, *rows]):
        cells = ([row[0].rjust(widths[0])] if numbered else []) + [
            cell.ljust(width) for cell, width in zip(row[1:5], widths[1:])
        ]
        out.append((indent + "  ".join(cells) + "  " + row[5]).rstrip())
        if index - 1 in notes:
            out.append(f"  {notes[index - 1]}")
    return out if numbered else out[1:]


def _folded(trace: Sequence[dict[str, Any]], index: int) -> bool:
    """Is row ``index`` shown as part of the next one?

    A thread's ``begin`` (its next row shows where it went), and a ``line``
    step followed by the same thread's next step at the same location (the
    line's store or lock operation) are folded into the next row, unless that
    row is a preemption or part of a repeated block.
    """
    step = trace[index]
    if "repeat" in step or index + 1 >= len(trace):
        return False
    after = trace[index + 1]
    if after.get("preempted") or "repeat" in after or after["thread"] != step["thread"]:
        return False
    if step["op"] == "begin":
        return True
    return (step["op"] == "line" and after["file"] == step["file"]
            and after["line"] == step["line"])


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def grade_table(rows: Sequence[tuple[Outcome, float]]) -> str:
    header = ("scenario", "verdict", "property", "schedules", "seconds")
    cells = [
        (o.scenario, o.verdict, o.property or "-", str(o.schedules), f"{seconds:.1f}")
        for o, seconds in rows
    ]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    lines = []
    for row in [header, *cells]:
        lines.append("  ".join(
            cell.rjust(w) if i >= 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))
        ).rstrip())
    return "\n".join(lines) + "\n"


def junit(target: str, outcomes: Sequence[Outcome], timings: Sequence[float] | None = None) -> bytes:
    """One <testcase> per scenario; failures carry the property and trace, errors the reason."""
    failures = sum(o.verdict == "fail" for o in outcomes)
    errors = sum(o.verdict == "error" for o in outcomes)
    suite = ET.Element("testsuite", {
        "name": f"model grade {target}",
        "tests": str(len(outcomes)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
    })
    for i, outcome in enumerate(outcomes):
        attrs = {"classname": target, "name": outcome.scenario}
        if timings is not None:
            attrs["time"] = f"{timings[i]:.3f}"
        case = ET.SubElement(suite, "testcase", attrs)
        if outcome.verdict == "fail":
            node = ET.SubElement(case, "failure", {
                "type": outcome.property or "fail",
                "message": _xml(f"{outcome.property}: {_first_line(outcome.message)}"),
            })
            node.text = _xml(text(outcome))
        elif outcome.verdict == "error":
            node = ET.SubElement(case, "error", {
                "type": "error", "message": _xml(_first_line(outcome.message)),
            })
            node.text = _xml(text(outcome))
        else:
            out = ET.SubElement(case, "system-out")
            out.text = _xml(text(outcome))
    suites = ET.Element("testsuites", {
        "tests": str(len(outcomes)), "failures": str(failures), "errors": str(errors),
    })
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (a submission's message may hold any)."""
    return _NOT_XML.sub("\ufffd", text)


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else ""
