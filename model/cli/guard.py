"""Guards around foreign code: what a submission must not do to the checking process.

``install()`` runs once, before the submission is imported:

- ``_thread.start_new_thread`` (and its aliases) raise ``UncontrolledThread``:
  a thread started behind ``threading``'s back would run outside the
  checker's control, so the check could neither see nor schedule it;
- ``os._exit`` raises ``SubmissionExit`` instead of ending the process, so a
  submission cannot make ``check`` exit 0 (or any code) on its own.

Both are ``Exception`` subclasses on purpose: raised inside ``put``/``get``,
the scenario reports them as the ``exception`` property, like any other
exception of the submission.  ``quiet()`` swallows what the submission prints
during a check (thousands of schedules would flood the report) and counts it.
``foreign_threads()`` is the backstop for threads started some other way
(C code, ``threading._start_new_thread``): it counts the OS threads of the
process.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import sys
from typing import Any, Iterator


class UncontrolledThread(RuntimeError):
    """The submission started a thread the checker cannot control."""


class SubmissionExit(RuntimeError):
    """The submission called ``os._exit``."""


_real_exit = os._exit
_sleep = __import__("time").sleep  # the real one, whatever a check patches later
_installed = False
_baseline_threads = 0
printed = 0  # characters the submission printed under quiet()


def _no_thread(*args: Any, **kwargs: Any) -> Any:
    raise UncontrolledThread(
        "_thread.start_new_thread starts a thread the checker cannot control; "
        "use threading.Thread"
    )


def _no_exit(status: Any = 0) -> Any:
    raise SubmissionExit(f"os._exit({status!r}) called: a submission must not end the process")


def install() -> None:
    """Install the guards (idempotent); call before importing the submission."""
    global _installed, _baseline_threads
    if _installed:
        return
    _installed = True
    _baseline_threads = _os_threads()
    for name in ("start_new_thread", "start_new", "start_joinable_thread"):
        if hasattr(_thread, name):
            setattr(_thread, name, _no_thread)
    os._exit = _no_exit


def _os_threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # not Linux: rely on the _thread guard alone
        return 0


def foreign_threads() -> int:
    """OS threads started since install() that are still running.

    The checker's own watchdog thread is told to stop at the end of a check
    but may take a moment to vanish from /proc, so a surplus is re-counted for
    up to a fifth of a second before it is believed.
    """
    if not _installed:
        return 0
    surplus = _os_threads() - _baseline_threads
    tries = 0
    while surplus > 0 and tries < 100:
        _sleep(0.002)
        surplus = _os_threads() - _baseline_threads
        tries += 1
    return max(0, surplus)


class _Sink:
    """A text stream that counts what is written and keeps none of it."""

    encoding = "utf-8"
    errors = "replace"

    def write(self, text: str) -> int:
        global printed
        printed += len(text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("the submission's output is discarded during a check")


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Discard what the submission prints inside the block, through sys.stdout/stderr or fds 1, 2."""
    saved = sys.stdout, sys.stderr
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = []
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            saved_fds.append((fd, os.dup(fd)))
            os.dup2(null, fd)
        os.close(null)
    except OSError:  # no real fds (embedded, captured): the Python-level sink still works
        pass
    sys.stdout = sys.stderr = _Sink()  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for fd, copy in saved_fds:
            os.dup2(copy, fd)
            os.close(copy)


def exit_now(code: int) -> None:
    """Exit with ``code`` even if the submission left threads behind that would block exit."""
    import threading

    sys.stdout.flush()
    sys.stderr.flush()
    if foreign_threads() or threading.active_count() > 1:
        _real_exit(code)
    sys.exit(code)
