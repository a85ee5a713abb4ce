"""Output: the text report of one scenario, JSON, the grade table and JUnit XML.

Nothing here reads a clock: timings appear only where the caller passes them
(the grade table, ``--timings``), so the same outcome always prints the same
bytes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, Sequence

from model.cli.check import Outcome

_COLUMNS = ("step", "thread", "operation", "object", "location", "source")


def text(outcome: Outcome, timings: bool = False) -> str:
    """The human report of one scenario."""
    head = f"{outcome.verdict.upper()}  {outcome.scenario}  {outcome.target}".rstrip()
    lines = [head]
    if outcome.verdict == "pass":
        lines.append(f"{_capital(outcome.message)}.")
        if outcome.search:
            lines.append(f"Search: {outcome.search}.")
    else:
        if outcome.property:
            lines.append(f"Property violated: {outcome.property}")
        lines.extend(_indent(outcome.message))
        if outcome.schedules:
            lines.append(f"Found after {outcome.schedules} schedules ({outcome.search}); "
                         f"shrunk trace of {len(outcome.trace)} steps:")
        if outcome.trace:
            lines.append("")
            lines.extend(trace_table(outcome.trace))
        if outcome.replay:
            lines.append("")
            lines.append("Replay it with:")
            lines.append(f"  {outcome.replay}")
    if timings:
        lines.append(f"Time: {outcome.elapsed:.2f} s")
    return "\n".join(lines) + "\n"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _indent(message: str) -> list[str]:
    return [f"  {line}" for line in message.splitlines() if line.strip()]


def trace_table(trace: Sequence[dict[str, Any]]) -> list[str]:
    rows = [
        (str(i), step["thread"], step["op"], step["object"] or "",
         f"{step['file']}:{step['line']}" if step["file"] else "", step.get("source", ""))
        for i, step in enumerate(trace, 1)
    ]
    widths = [max(len(row[i]) for row in [_COLUMNS, *rows]) for i in range(len(_COLUMNS) - 1)]
    out = []
    for row in [_COLUMNS, *rows]:
        cells = [row[0].rjust(widths[0])] + [
            cell.ljust(width) for cell, width in zip(row[1:-1], widths[1:])
        ]
        out.append(("  " + "  ".join(cells) + "  " + row[-1]).rstrip())
    return out


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
                "message": f"{outcome.property}: {_first_line(outcome.message)}",
            })
            node.text = text(outcome)
        elif outcome.verdict == "error":
            node = ET.SubElement(case, "error", {
                "type": "error", "message": _first_line(outcome.message),
            })
            node.text = text(outcome)
        else:
            out = ET.SubElement(case, "system-out")
            out.text = text(outcome)
    suites = ET.Element("testsuites", {
        "tests": str(len(outcomes)), "failures": str(failures), "errors": str(errors),
    })
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else ""
