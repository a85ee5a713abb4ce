"""Steps, readable object names, the trace table and replay tokens.

Nothing here runs per step: the scheduler keeps raw tuples (thread, operation,
object, (file, line)) and this module turns them into ``Step`` records and text
once a failing schedule has been chosen.
"""

from __future__ import annotations

import base64
import binascii
import linecache
import os
import re
import zlib
from dataclasses import dataclass

from model.errors import TokenError


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a schedule: ``thread`` performed ``op`` on ``object`` at ``file``:``line``.

    ``source`` is the stripped text of that line; ``detail`` says what a step
    decided when it matters (which waiter a notify woke, a spurious wake-up);
    ``preempted`` is True when the previous thread could have carried on.
    """

    thread: str
    op: str
    object: str
    file: str
    line: int
    source: str
    detail: str = ""
    preempted: bool = False

    def location(self) -> str:
        return f"{display_path(self.file)}:{self.line}" if self.file else "-"


def display_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    if not path or path.startswith("<"):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def source_line(site) -> str:
    if not site:
        return ""
    return linecache.getline(site[0], site[1]).strip()


def format_site(site) -> str:
    return f"{display_path(site[0])}:{site[1]}" if site else "?"


# ---------------------------------------------------------------- object names
_ASSIGNED = re.compile(r"^\s*(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)")


def base_name(obj) -> str:
    """A readable name: the variable it was assigned to where it was created, else Kind#n.

    A line with several statements or targets (``a = Lock(); b = Lock()``) is
    ambiguous and gives Kind#n.
    """
    from model.scheduler import CLOCK, LINE_OBJ, ThreadState

    if isinstance(obj, ThreadState):
        return obj.name
    if obj is CLOCK:
        return "clock"
    if obj is LINE_OBJ:
        return ""
    parent = getattr(obj, "_parent", None)
    if parent is not None:
        return base_name(parent) + ".lock"
    site = getattr(obj, "_site", None)
    if site:
        text = linecache.getline(site[0], site[1])
        m = _ASSIGNED.match(text)
        if m and ";" not in text and "," not in text[:m.end()]:
            return m.group(1)
    return f"{obj.kind_name}#{obj.ordinal}"


class Namer:
    """Names the objects of one report, keeping distinct objects distinct."""

    def __init__(self, objects):
        from model.scheduler import ThreadState

        seen: dict[int, object] = {}
        for o in objects:
            seen.setdefault(id(o), o)
        names = {k: base_name(o) for k, o in seen.items()}
        by_name: dict[str, list] = {}
        for k, n in names.items():
            if not isinstance(seen[k], ThreadState):
                by_name.setdefault(n, []).append(k)
        for n, keys in by_name.items():
            if len(keys) > 1 and n:
                for k in keys:
                    o = seen[k]
                    names[k] = f"{n}:{o.kind_name}"
                kinds: dict[str, list] = {}
                for k in keys:
                    kinds.setdefault(names[k], []).append(k)
                for n2, ks in kinds.items():
                    if len(ks) > 1:
                        for k in ks:
                            names[k] = f"{n2}#{seen[k].ordinal}"
        self._names = names

    def __call__(self, obj) -> str:
        n = self._names.get(id(obj))
        return n if n is not None else base_name(obj)


def describe_blocked(blocked, namer=None) -> str:
    """One line per stuck thread: what it waits on, and where."""
    namer = namer or base_name
    parts = []
    for m, kind, obj, site in blocked:
        what = namer(obj)
        on = f" on {what}" if what else ""
        parts.append(f"{m.name} waits in {kind}{on} ({format_site(site)})")
    return "; ".join(parts) if parts else "(no thread)"


def build_steps(entries, namer: Namer) -> tuple[Step, ...]:
    steps = []
    for m, kind, obj, site, detail, preempted in entries:
        if kind in ("sleep", "begin", "exit"):
            name = ""
        else:
            name = namer(obj)
        file, line = site if site else ("", 0)
        steps.append(Step(m.name, kind, name, file, line, source_line(site), detail, preempted))
    return tuple(steps)


def _line_folded(steps, i: int) -> bool:
    """A ``line`` step shown as part of the next row: the same thread's next step, same line."""
    st = steps[i]
    if st.op != "line" or i + 1 >= len(steps):
        return False
    nxt = steps[i + 1]
    return (nxt.thread == st.thread and not nxt.preempted
            and (nxt.file, nxt.line) == (st.file, st.line))


def format_table(steps, indent: str = "  ", numbered: bool = True) -> list[str]:
    """The steps as aligned text lines (step, thread, op, object, location, source).

    To keep a report short: a thread's ``begin`` step is not shown unless it
    was a preemption (its next row shows where it went); a ``line`` step is
    shown in the row of the same thread's next step on that line (its store
    or lock operation), numbered as a range; consecutive
    ``start`` steps of one thread share a row; and a block of up to 8 steps
    repeated 3 or more times in a row is shown once, followed by a line
    saying how often it repeats.  Rows keep the numbers of the steps they show.
    """
    header = ("step", "thread", "op", "object", "location", "source")
    rows = []
    i = 0
    while i < len(steps):
        st = steps[i]
        if numbered and st.op == "begin" and not st.preempted:
            i += 1
            continue
        if numbered and _line_folded(steps, i):
            i += 1
            continue
        op = st.op + (f" ({st.detail})" if st.detail else "")
        num = (f"{i + 1}*" if st.preempted else str(i + 1)) if numbered else ""
        if numbered and i > 0 and _line_folded(steps, i - 1):
            num = f"{i}-{i + 1}" + ("*" if steps[i - 1].preempted else "")
        obj = st.object
        if numbered and st.op == "start":
            j = i
            while (j + 1 < len(steps) and steps[j + 1].op == "start"
                   and steps[j + 1].thread == st.thread and not steps[j + 1].preempted):
                j += 1
            if j > i:
                names = [x.object for x in steps[i:j + 1]]
                obj = ", ".join(names)
                if len(obj) > 40:
                    obj = f"{names[0]} ... {names[-1]} ({len(names)} threads)"
                num = f"{num}-{j + 1}"
                i = j
        rows.append((num, st.thread, op, obj, st.location(), st.source))
        i += 1
    widths = [len(h) if numbered else 0 for h in header]
    for r in rows:
        for j in range(5):
            widths[j] = min(max(widths[j], len(r[j])), 40)

    def line(r):
        cells = ([r[0].rjust(widths[0])] if numbered else []) + [
            r[j].ljust(widths[j]) for j in range(1, 5)] + [r[5]]
        return (indent + "  ".join(cells)).rstrip()

    out = [line(header)] if numbered else []
    keys = [r[1:] for r in rows]
    i = 0
    while i < len(rows):
        best_p, best_k = 0, 0
        for p in range(1, 9):
            k = 1
            while keys[i + k * p:i + (k + 1) * p] == keys[i:i + p] and i + (k + 1) * p <= len(rows):
                k += 1
            if k >= 3 and p * k > best_p * best_k:
                best_p, best_k = p, k
        if best_k:
            out += [line(r) for r in rows[i:i + best_p]]
            first = rows[i + best_p][0].rstrip("*").split("-")[0]
            last = rows[i + best_p * best_k - 1][0].rstrip("*").split("-")[-1]
            out.append(f"{indent}  ... the {_plural(best_p, 'row')} above repeat "
                       f"{_plural(best_k - 1, 'more time')}: steps {first}-{last}")
            i += best_p * best_k
        else:
            out.append(line(rows[i]))
            i += 1
    return out


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# ---------------------------------------------------------------------- tokens
TOKEN_PREFIX = "mq1:"
_TOKEN_VERSION = 1


@dataclass(frozen=True)
class TokenData:
    """What a replay token holds: the settings that shape a schedule, and its choices."""

    granularity: str
    spurious: bool
    max_steps: int
    on_deadlock: bool
    body: int  # crc32 of the body's qualified name
    modules: int  # crc32 of the target modules' names
    property: str
    choices: tuple[int, ...]


def name_hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def _varint(n: int, out: bytearray) -> None:
    if n < 0:
        raise ValueError(f"cannot encode negative {n}")
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def encode_token(d: TokenData) -> str:
    out = bytearray()
    flags = (d.granularity == "line") | (d.spurious << 1) | (d.on_deadlock << 2)
    for n in (_TOKEN_VERSION, flags, d.max_steps, d.body, d.modules):
        _varint(n, out)
    prop = d.property.encode("utf-8")
    _varint(len(prop), out)
    out += prop
    _varint(len(d.choices), out)
    for c in d.choices:
        _varint(c, out)
    raw = zlib.compress(bytes(out), 9)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(token: str) -> TokenData:
    if not isinstance(token, str):
        raise TokenError(f"a replay token is a str, not {type(token).__name__}")
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX):
        raise TokenError(
            f"not a replay token: {token[:20]!r}... does not start with {TOKEN_PREFIX!r}; "
            "copy the whole token from the report"
        )
    body = token[len(TOKEN_PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = zlib.decompress(raw)
    except (binascii.Error, ValueError, zlib.error) as e:
        raise TokenError(f"malformed replay token (truncated or altered?): {e}") from None
    pos = 0

    def read() -> int:
        nonlocal pos
        n = shift = 0
        while True:
            if pos >= len(data):
                raise TokenError("malformed replay token: it ends in the middle of a number")
            b = data[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n

    version = read()
    if version != _TOKEN_VERSION:
        raise TokenError(f"replay token version {version} is not supported (expected {_TOKEN_VERSION})")
    flags, max_steps, body_id, modules_id = read(), read(), read(), read()
    n = read()
    if pos + n > len(data):
        raise TokenError("malformed replay token: property name truncated")
    try:
        prop = data[pos:pos + n].decode("utf-8")
    except UnicodeDecodeError:
        raise TokenError("malformed replay token: property name is not UTF-8") from None
    pos += n
    count = read()
    choices = tuple(read() for _ in range(count))
    if pos != len(data):
        raise TokenError("malformed replay token: trailing data")
    return TokenData(
        granularity="line" if flags & 1 else "sync",
        spurious=bool(flags & 2),
        max_steps=max_steps,
        on_deadlock=bool(flags & 4),
        body=body_id,
        modules=modules_id,
        property=prop,
        choices=choices,
    )
