"""The safety net for blocking calls the checker does not control.

Every controlled thread runs on the OS thread that called ``check``.  If one of
them blocks inside C (a real lock created before the check and contended
inside it, a ``queue.SimpleQueue`` created before the check, ...), no
scheduling point is ever reached again and the check would hang.  A watchdog
OS thread notices that the schedule made no progress for ``seconds`` and
interrupts the main thread with SIGUSR1, whose handler raises ``Stuck`` where
the thread is blocked (CPython's lock waits are interruptible by signals).  The
schedule then fails with property "unsupported" and the blocked stack.

Signals can only be handled by the main thread, so the watchdog is active only
when the check runs in the main thread of the main interpreter.
"""

from __future__ import annotations

import _thread
import linecache
import signal
import threading as _threading
import time as _time

from model import scheduler as _sched
from model.scheduler import ACTIVE, internal_file

internal_file(__file__)

# threading captured the original at interpreter start-up, before anyone
# (a grader's guard, or the checker itself) replaced _thread.start_new_thread.
_start_new_thread = _threading._start_new_thread
_allocate_lock = _thread.allocate_lock
_monotonic = _time.monotonic
_main_thread = _threading.main_thread
_current_thread = _threading.current_thread
_SIGNAL = signal.SIGUSR1


class Stuck(BaseException):
    """Raised in a controlled thread that made no scheduling progress for too long."""

    def __init__(self, message: str, site):
        super().__init__(message)
        self.site = site


def _progress():
    s = _sched._active
    if s is None or s.mode != ACTIVE:
        return None
    return (id(s), s.step)


class Watchdog:
    """Interrupts a schedule stuck for ``seconds`` without a scheduling point."""

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f"'watchdog' must be a positive number of seconds or None, not {seconds!r}")
        self.seconds = seconds
        self.active = False
        self._fired_at = None
        self._old_handler = None

    def start(self) -> None:
        if _current_thread() is not _main_thread():
            return  # signals need the main thread; see the module docstring
        self._old_handler = signal.signal(_SIGNAL, self._handler)
        self._stop = _allocate_lock()
        self._stop.acquire()
        self._done = _allocate_lock()
        self._done.acquire()
        self._main = _thread.get_ident()
        self.active = True
        _start_new_thread(self._watch, ())

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        self._stop.release()
        self._done.acquire()
        signal.signal(_SIGNAL, self._old_handler)

    def _watch(self) -> None:
        try:
            poll = min(self.seconds / 4, 1.0)
            last = _progress()
            since = _monotonic()
            while not self._stop.acquire(timeout=poll):
                mark = _progress()
                now = _monotonic()
                if mark is None or mark != last:
                    last, since = mark, now
                    continue
                if now - since >= self.seconds:
                    self._fired_at = mark
                    since = now
                    signal.pthread_kill(self._main, _SIGNAL)
        finally:
            self._done.release()

    def _handler(self, signum, frame):
        mark = _progress()
        if mark is None or mark != self._fired_at:
            return  # the schedule moved on meanwhile
        s = _sched._active
        stack = []
        f = frame
        while f is not None:
            code = f.f_code
            if code.co_filename not in _sched._INTERNAL_FILES:
                stack.append((code.co_filename, f.f_lineno, code.co_name))
            f = f.f_back
        stack.reverse()
        site = (stack[-1][0], stack[-1][1]) if stack else None
        name = s.cur.name if s is not None and s.cur is not None else "a thread"
        where = ""
        if site:
            src = linecache.getline(site[0], site[1]).strip()
            where = f" at {site[0]}:{site[1]}" + (f" `{src}`" if src else "")
        lines = "".join(f"\n    {fn}:{ln} in {func}" for fn, ln, func in stack[-8:])
        raise Stuck(
            f"no scheduling point for {self.seconds:g} s: {name} is stuck{where}. "
            "It is probably blocked on a lock, queue or I/O the checker does not "
            "control (created before the check, or imported into a module not "
            "passed in modules=), or spinning without any scheduling point (try "
            "granularity='line'). Stack (innermost last):" + lines,
            site,
        )
