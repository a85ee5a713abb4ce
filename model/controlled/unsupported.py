"""Stand-ins that turn uncontrollable blocking calls into a clear failure.

During a check every controlled thread shares one OS thread, so a call that
blocks in C (a raw ``_thread`` lock, a socket read, ``select``) would block all
of them for ever.  These stand-ins fail the schedule with property
"unsupported", naming the call and the caller's line.  Called from another OS
thread, outside a check, or from the import machinery, they behave like the
original.
"""

from __future__ import annotations

import sys
from _thread import get_ident as _get_ident

from model import scheduler as _sched
from model.scheduler import internal_file

internal_file(__file__)


def make_unsupported(qualname: str, original, advice: str):
    """A function that fails the schedule instead of calling ``original``."""

    def unsupported_call(*args, **kwargs):
        s = _sched._active
        if (s is None or s.busy or s.mode or s.cur is None
                or _get_ident() != s.os_ident
                or sys._getframe(1).f_code.co_filename.startswith("<frozen")):
            return original(*args, **kwargs)
        s.unsupported(f"{qualname}()", advice)

    unsupported_call.__name__ = getattr(original, "__name__", qualname)
    unsupported_call.__qualname__ = unsupported_call.__name__
    unsupported_call.__wrapped__ = original
    return unsupported_call


RAW_THREAD = (
    "threads started with _thread are invisible to the checker; use threading.Thread"
)
RAW_LOCK = (
    "a raw _thread lock would block every controlled thread; use threading.Lock"
)
OLD_THREAD = (
    "this threading.Thread was created before the check, so the checker cannot "
    "run it; create and start threads inside the body"
)
IO = (
    "blocking I/O cannot be controlled: every controlled thread shares one OS "
    "thread; replace the I/O with an in-memory stand-in for the check"
)

SOCKET_METHODS = (
    "accept", "connect", "connect_ex", "recv", "recvfrom", "recv_into",
    "recvfrom_into", "send", "sendall", "sendto", "sendfile",
)
SELECT_FUNCTIONS = ("select", "poll", "epoll")
