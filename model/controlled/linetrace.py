"""Line granularity: a scheduling point before every line of the target modules.

Also before every store to shared memory within a line (``STORE_ATTR``,
``STORE_SUBSCR``, ``STORE_GLOBAL``, ``STORE_DEREF``, and the matching
deletes), so the read and the write of ``self.count += 1`` can be split:
such steps are ``Op("store", WILDCARD)``, line steps ``Op("line", WILDCARD)``.

A global trace function (``sys.settrace``) returns a local tracer for frames
whose code lives in one of the target files; the local tracer takes a
scheduling point (``Op("line", WILDCARD)``) at each ``line`` event.  It chains
to the tracer that was installed before (coverage.py's), passing every event
on, so the suite keeps running under coverage; coverage's C tracer reinstalls
itself when called for a ``call`` event, so we reinstall ours right after.

Switching greenlets inside a trace function needs care: CPython marks the
thread as "inside a tracer" (``tstate->tracing``) for the duration of the
call, and a greenlet resumed there would run untraced.  So a line point leaves
that state (``PyThreadState_LeaveTracing``, public since 3.11) before it may
switch and re-enters it before returning.  An exception escaping a trace
function makes CPython drop the tracer (the GreenletExit that unwinds threads
after a failure does), so the tracer is re-installed before every schedule.
"""

from __future__ import annotations

import ctypes
import dis
import sys

from model import scheduler as _sched
from model.scheduler import internal_file

internal_file(__file__)

try:
    _api = ctypes.pythonapi
    _api.PyThreadState_Get.restype = ctypes.c_void_p
    _enter = _api.PyThreadState_EnterTracing
    _leave = _api.PyThreadState_LeaveTracing
    _enter.argtypes = _leave.argtypes = [ctypes.c_void_p]
    _enter.restype = _leave.restype = None
except (AttributeError, OSError):  # pragma: no cover - not CPython >= 3.11
    _enter = _leave = None


class LineTracer:
    """Installs the line tracer for the target ``files`` during a check."""

    def __init__(self, files):
        if _enter is None:
            raise RuntimeError(
                "granularity='line' needs CPython >= 3.11 (PyThreadState_EnterTracing); "
                "use granularity='sync'"
            )
        self.files = frozenset(files)
        self.prev = None
        self._global = self._make_global()
        self._ts = None

    def install(self) -> None:
        self.prev = sys.gettrace()
        self._ts = _api.PyThreadState_Get()
        sys.settrace(self._global)

    def ensure(self) -> None:
        """Re-install after CPython dropped the tracer (an exception escaped it)."""
        if sys.gettrace() is not self._global:
            sys.settrace(self._global)

    def uninstall(self) -> None:
        sys.settrace(self.prev)

    def _make_global(self):
        files = self.files
        tracer = self

        # Trace functions run with tracing off for their thread, so no tracer,
        # coverage's included, sees their lines: tests/model/test_line_mode.py
        # checks what they do.
        def global_trace(frame, event, arg):  # pragma: no cover - runs inside the trace callback
            prev = tracer.prev
            local_prev = None
            if prev is not None:
                local_prev = prev(frame, event, arg)
                if sys.gettrace() is not global_trace:
                    sys.settrace(global_trace)
            if frame.f_code.co_filename in files:
                frame.f_trace_opcodes = True
                return _local(local_prev, tracer._ts)
            return local_prev

        return global_trace


_STORES = frozenset({
    "STORE_ATTR", "STORE_SUBSCR", "STORE_GLOBAL", "STORE_DEREF",
    "DELETE_ATTR", "DELETE_SUBSCR", "DELETE_GLOBAL", "DELETE_DEREF",
})
_store_offsets: dict[object, frozenset[int]] = {}


def stores_of(code) -> frozenset[int]:  # pragma: no cover - called from the trace callback
    """Bytecode offsets of the shared-memory stores of ``code`` (cached)."""
    offsets = _store_offsets.get(code)
    if offsets is None:
        offsets = _store_offsets[code] = frozenset(
            ins.offset for ins in dis.get_instructions(code) if ins.opname in _STORES)
    return offsets


def _local(local_prev, ts):  # pragma: no cover - called from the trace callback
    def local_trace(frame, event, arg):
        nonlocal local_prev
        if local_prev is not None and event != "opcode":
            local_prev = local_prev(frame, event, arg)
        if event == "line":
            kind = "line"
        elif event == "opcode" and frame.f_lasti in stores_of(frame.f_code):
            kind = "store"
        else:
            return local_trace
        s = _sched._active
        if s is not None and not s.mode and not s.busy:
            _leave(ts)
            try:
                s.line_point(frame, kind)
            finally:
                _enter(ts)
        return local_trace

    return local_trace
