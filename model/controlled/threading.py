"""Controlled stand-ins for the primitives of ``threading``.

Each operation takes one scheduling point first (``s.point``), recording what
it is about to do, then performs it.  A thread whose operation cannot proceed
is disabled before the point and enabled again by whichever operation makes
it possible (a release, a notify, a set, a thread's exit); so when a thread is
chosen, its operation can always complete at once.

While a check runs, ``threading.Lock`` and friends are these classes (see
model/controlled/__init__.py).  Called outside a check, or from an OS thread
other than the checker's, their constructors return the real primitive, so a
foreign thread that looks ``threading.Lock`` up during a check is unaffected.

``threading.Thread`` is not replaced but *grafted*: during a check its
``__init__``, ``start``, ``join``, ``is_alive``, ``daemon`` and ``__repr__`` are
the functions below, so subclasses of ``threading.Thread`` defined before the
check (``class Producer(threading.Thread)``), ``threading.Timer`` and
``threading.Barrier`` (pure Python over Condition/Lock) are controlled too.
"""

from __future__ import annotations

import _thread
import sys
import threading as _threading
from _thread import get_ident as _get_ident

from greenlet import GreenletExit

from model import scheduler as _sched
from model.errors import Unsupported
from model.scheduler import DEAD, TIMEOUT, MisuseAssertion, ThreadState, internal_file, seconds_to_ns

internal_file(__file__)

# The originals, captured before anything is patched.
REAL = {
    "Lock": _thread.allocate_lock,
    "RLock": _threading.RLock,
    "Condition": _threading.Condition,
    "Semaphore": _threading.Semaphore,
    "BoundedSemaphore": _threading.BoundedSemaphore,
    "Event": _threading.Event,
    "local": _thread._local,
    "current_thread": _threading.current_thread,
    "get_ident": _thread.get_ident,
    "get_native_id": _thread.get_native_id,
    "main_thread": _threading.main_thread,
    "enumerate": _threading.enumerate,
    "active_count": _threading.active_count,
}
_RealThread = _threading.Thread
_REAL_THREAD_ATTRS = {
    name: _RealThread.__dict__[name]
    for name in ("__init__", "start", "join", "is_alive", "daemon", "__repr__")
}


def _here():
    """The active scheduler if the caller is one of its controlled threads, else None."""
    s = _sched._active
    if s is None or s.busy or s.cur is None or _get_ident() != s.os_ident:
        return None
    return s


def _stale(obj, what: str):
    """An object of a finished schedule was used."""
    site = obj._site
    where = f" (created at {site[0]}:{site[1]})" if site else ""
    advice = (
        f"this {obj.kind_name}{where} was created during an earlier schedule; the "
        "body is run afresh for every schedule, so it must create its locks, "
        "conditions and threads itself instead of keeping them between runs"
    )
    a = _here()
    if a is not None:
        a.unsupported(f"{type(obj).__name__}.{what}()", advice, depth=3)
    raise Unsupported(f"{type(obj).__name__}.{what}(): {advice}")


class _Primitive:
    __slots__ = ("_s", "serial", "ordinal", "_site", "__weakref__")
    kind_name = "?"

    def __new__(cls, *args, **kwargs):
        s = _here()
        if s is None:
            return REAL[cls.kind_name](*args, **kwargs)
        self = object.__new__(cls)
        s.register(self, cls.kind_name)
        return self

    def __reduce__(self):
        raise TypeError(f"cannot pickle a controlled {self.kind_name}")


# ---------------------------------------------------------------------- locks
class Lock(_Primitive):
    """``threading.Lock`` under the checker: which contender gets it is the schedule's choice."""

    __slots__ = ("_owner", "_q")
    kind_name = "Lock"
    mutex = True  # Op.mutex: one holder at a time

    def __init__(self):
        self._owner = None  # the thread that acquired it (any thread may release)
        self._q = []  # threads at a point whose next operation acquires this lock

    def acquire(self, blocking=True, timeout=-1):
        s = self._s
        if s.mode:
            return self._acquire_off(blocking)
        t = s.cur
        if timeout != -1:
            if not blocking:
                raise ValueError("can't specify a timeout for a non-blocking call")
            if timeout < 0:
                raise ValueError("timeout value must be positive")
            if timeout == 0:
                blocking = False
            else:
                seconds_to_ns(timeout)  # NaN or inf: raise now, before queueing, as the real lock does
        if not blocking:
            s.point(t, "try_acquire", self)
            if self._owner is not None:
                return False
            self._take(t)
            return True
        q = self._q
        q.append(t)
        if self._owner is not None:
            s.disable(t)
        if timeout != -1:
            s.set_deadline(t, timeout)
        s.point(t, "acquire", self)
        q.remove(t)
        if t.deadline is not None:
            s.untime(t)
        elif t.wake is TIMEOUT:
            t.wake = None
            return False
        # Invariant: a thread is only chosen when its operation can proceed.
        assert self._owner is None, f"{self!r} taken by thread {t.tid} while held"
        self._owner = t
        for w in q:
            s.disable(w)
        return True

    __enter__ = acquire

    def _take(self, t):
        # Invariant: a thread is only chosen when its operation can proceed.
        assert self._owner is None, f"{self!r} taken by thread {t.tid} while held"
        self._owner = t
        s = self._s
        for w in self._q:
            s.disable(w)

    def release(self):
        s = self._s
        if s.mode:
            return self._release_off()
        s.point(s.cur, "release", self)
        if self._owner is None:
            raise RuntimeError("release unlocked lock")
        self._owner = None
        for w in self._q:
            s.enable(w)

    def __exit__(self, *exc):
        # release(), inlined: this runs at the end of every ``with lock:``.
        s = self._s
        if s.mode:
            return self._release_off()
        s.point(s.cur, "release", self)
        if self._owner is None:
            raise RuntimeError("release unlocked lock")
        self._owner = None
        for w in self._q:
            s.enable(w)

    def locked(self):
        s = self._s
        if not s.mode:
            s.point(s.cur, "locked", self)
        return self._owner is not None

    # Teardown: no switching; a blocking acquire unwinds the thread.
    def _acquire_off(self, blocking):
        if self._s.mode == DEAD:
            _stale(self, "acquire")
        if self._owner is None:
            self._owner = self._s.cur
            return True
        if not blocking:
            return False
        raise GreenletExit

    def _release_off(self):
        if self._s.mode == DEAD:
            _stale(self, "release")
        if self._owner is None:
            raise RuntimeError("release unlocked lock")
        self._owner = None

    # The interface Condition uses (no scheduling points of their own).
    def _is_owned_by(self, t):
        return self._owner is not None  # like CPython: "locked" counts as owned

    def _free_for(self, t):
        return self._owner is None

    def _release_all(self, t):
        self._owner = None
        s = self._s
        for w in self._q:
            s.enable(w)
        return None

    def _restore(self, t, saved):
        self._take(t)

    def __repr__(self):
        state = "locked" if self._owner is not None else "unlocked"
        return f"<{state} model.Lock #{self.ordinal}>"


class RLock(_Primitive):
    """``threading.RLock`` under the checker: reentrant, released only by its owner."""

    __slots__ = ("_owner", "_count", "_q", "_parent")
    kind_name = "RLock"
    mutex = True  # Op.mutex: one holder at a time

    def __init__(self):
        self._owner = None
        self._count = 0
        self._q = []
        self._parent = None  # the Condition that created it, if any (for naming)

    def acquire(self, blocking=True, timeout=-1):
        s = self._s
        if s.mode:
            return self._acquire_off(blocking)
        t = s.cur
        if timeout != -1:
            if not blocking:
                raise ValueError("can't specify a timeout for a non-blocking call")
            if timeout < 0:
                raise ValueError("timeout value must be positive")
            if timeout == 0:
                blocking = False
            else:
                seconds_to_ns(timeout)  # NaN or inf: raise now, before queueing, as the real lock does
        if not blocking:
            s.point(t, "try_acquire", self)
            o = self._owner
            if o is not None and o is not t:
                return False
            self._take(t)
            return True
        q = self._q
        q.append(t)
        o = self._owner
        if o is not None and o is not t:
            s.disable(t)
        if timeout != -1:
            s.set_deadline(t, timeout)
        s.point(t, "acquire", self)
        q.remove(t)
        if t.deadline is not None:
            s.untime(t)
        elif t.wake is TIMEOUT:
            t.wake = None
            return False
        self._take(t)
        return True

    __enter__ = acquire

    def _take(self, t):
        if self._owner is t:
            self._count += 1
            return
        # Invariant: a thread is only chosen when its operation can proceed.
        assert self._owner is None, f"{self!r} taken by thread {t.tid} while held"
        self._owner = t
        self._count = 1
        s = self._s
        for w in self._q:
            s.disable(w)

    def release(self):
        s = self._s
        if s.mode:
            return self._release_off()
        t = s.cur
        s.point(t, "release", self)
        if self._owner is not t:
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._owner = None
            for w in self._q:
                s.enable(w)

    def __exit__(self, *exc):
        self.release()

    def _acquire_off(self, blocking):
        s = self._s
        if s.mode == DEAD:
            _stale(self, "acquire")
        if self._owner is None or self._owner is s.cur:
            self._owner = s.cur
            self._count += 1
            return True
        if not blocking:
            return False
        raise GreenletExit

    def _release_off(self):
        s = self._s
        if s.mode == DEAD:
            _stale(self, "release")
        if self._owner is not s.cur:
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._owner = None

    def _is_owned_by(self, t):
        return self._owner is t

    def _is_owned(self):
        return self._owner is not None and self._owner is self._s.cur

    def _free_for(self, t):
        return self._owner is None or self._owner is t

    def _release_all(self, t):
        saved = self._count
        self._owner = None
        self._count = 0
        s = self._s
        for w in self._q:
            s.enable(w)
        return saved

    def _restore(self, t, saved):
        assert self._owner is None, f"{self!r} restored by thread {t.tid} while held"
        self._owner = t
        self._count = saved
        s = self._s
        for w in self._q:
            s.disable(w)

    def __repr__(self):
        o = self._owner
        owner = o.name if o is not None else None
        return f"<model.RLock #{self.ordinal} owner={owner!r} count={self._count}>"


def _reacquire(lock, t, saved):
    """After a wait that was not notified: take the lock back, through a point."""
    s = lock._s
    q = lock._q
    q.append(t)
    if not lock._free_for(t):
        s.disable(t)
    try:
        s.point(t, "reacquire", lock)
    except GreenletExit:
        _unwound(lock, t, saved)
        raise
    q.remove(t)
    lock._restore(t, saved)


def _unwound(lock, t, saved):
    """A waiter unwound after a failure leaves wait() holding the lock, as CPython's does.

    Only if the lock is free: nothing runs any more, so nobody could release
    it for the waiter.  No scheduling: the schedule is over.
    """
    if t in lock._q:
        lock._q.remove(t)
    if lock._free_for(t):
        lock._owner = t
        if hasattr(lock, "_count"):
            lock._count = saved


# ------------------------------------------------------------------ conditions
class Condition(_Primitive):
    """``threading.Condition``: which waiter ``notify`` wakes is a value choice."""

    __slots__ = ("_lock", "_waiters", "acquire", "release")
    kind_name = "Condition"
    mutex = True  # Op.mutex: its wait releases its lock until "reacquire"

    def __init__(self, lock=None):
        if lock is None:
            lock = RLock()
            lock._parent = self
        elif not isinstance(lock, (Lock, RLock)):
            s = self._s
            s.unsupported(
                f"threading.Condition({type(lock).__name__} object)",
                "the lock was not created under the checker (it was created before "
                "the check, or is not a Lock/RLock), so waiting on it cannot be "
                "controlled; create the lock inside the body",
                depth=2,
            )
        self._lock = lock
        self._waiters = []  # threads waiting for a notify, oldest first
        self.acquire = lock.acquire
        self.release = lock.release

    def __enter__(self):
        return self._lock.acquire()

    def __exit__(self, *exc):
        self._lock.release()

    def _is_owned(self):
        return self._lock._is_owned_by(self._s.cur)

    def wait(self, timeout=None):
        s = self._s
        if s.mode:
            return self._wait_off()
        t = s.cur
        s.point(t, "wait", self)
        lock = self._lock
        if not lock._is_owned_by(t):
            raise RuntimeError("cannot wait on un-acquired lock")
        # CPython tests ``timeout > 0``: zero, negatives and NaN mean "do not block".
        if timeout is not None and timeout > 0:
            seconds_to_ns(timeout)  # validates
        saved = lock._release_all(t)
        if timeout is not None and not timeout > 0:
            result = False
        elif s.spurious and s.value("spurious", 2):
            s.note("spurious wake-up")
            result = True
        else:
            self._waiters.append(t)
            s.disable(t)
            if timeout is not None:
                s.set_deadline(t, timeout)
            try:
                s.point(t, "wait", self)
            except GreenletExit:
                if t in self._waiters:
                    self._waiters.remove(t)
                _unwound(lock, t, saved)
                raise
            if t.wake is not TIMEOUT:
                # Notified: the notifier made our next operation "reacquire the
                # lock", and we were chosen when the lock was free.
                lock._q.remove(t)
                lock._restore(t, saved)
                return True
            t.wake = None
            self._waiters.remove(t)
            result = False
        _reacquire(lock, t, saved)
        return result

    def _wait_off(self):
        if self._s.mode == DEAD:
            _stale(self, "wait")
        raise GreenletExit

    def wait_for(self, predicate, timeout=None):
        s = self._s
        end = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if end is None:
                    end = s.now + seconds_to_ns(waittime)
                else:
                    waittime = (end - s.now) / 1e9
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n=1):
        s = self._s
        if s.mode:
            if s.mode == DEAD:
                _stale(self, "notify")
        else:
            s.point(s.cur, "notify", self)
        if not self._lock._is_owned_by(s.cur):
            raise RuntimeError("cannot notify on un-acquired lock")
        if self._waiters:
            self._notify(n)

    def notify_all(self):
        s = self._s
        if s.mode:
            if s.mode == DEAD:
                _stale(self, "notify_all")
        else:
            s.point(s.cur, "notify_all", self)
        if not self._lock._is_owned_by(s.cur):
            raise RuntimeError("cannot notify on un-acquired lock")
        self._notify(len(self._waiters))

    notifyAll = notify_all

    def _notify(self, n):
        waiters = self._waiters
        if n <= 0 or not waiters:
            return
        s = self._s
        if n >= len(waiters):
            woken = waiters[:]
            waiters.clear()
        else:
            woken = []
            for _ in range(n):
                i = s.value("notify", len(waiters)) if len(waiters) > 1 else 0
                woken.append(waiters.pop(i))
        lock = self._lock
        for w in woken:
            s.untime(w)
            w.kind = "reacquire"
            w.obj = lock
            w.op = None
            lock._q.append(w)
            if lock._free_for(w):
                s.enable(w)
        if s.trace is not None:
            s.note("wakes " + ", ".join(w.name for w in woken))

    def __repr__(self):
        return f"<model.Condition #{self.ordinal} waiters={len(self._waiters)}>"


# ------------------------------------------------------------------ semaphores
class Semaphore(_Primitive):
    """``threading.Semaphore``: a released unit goes to whichever waiter is chosen."""

    __slots__ = ("_value", "_q")
    kind_name = "Semaphore"

    def __init__(self, value=1):
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._value = value
        self._q = []

    def acquire(self, blocking=True, timeout=None):
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        s = self._s
        if s.mode:
            return self._acquire_off(blocking)
        t = s.cur
        if timeout is not None:
            if timeout > 0:
                seconds_to_ns(timeout)
            else:  # zero, negative or NaN: do not block
                blocking = False
        if not blocking:
            s.point(t, "try_acquire", self)
            if self._value == 0:
                return False
            self._take()
            return True
        q = self._q
        q.append(t)
        if self._value == 0:
            s.disable(t)
        if timeout is not None:
            s.set_deadline(t, timeout)
        s.point(t, "acquire", self)
        q.remove(t)
        if t.deadline is not None:
            s.untime(t)
        elif t.wake is TIMEOUT:
            t.wake = None
            return False
        self._take()
        return True

    __enter__ = acquire

    def _take(self):
        # Invariant: chosen only while a unit is available.
        assert self._value > 0, f"{self!r} acquired at zero"
        self._value -= 1
        if self._value == 0:
            s = self._s
            for w in self._q:
                s.disable(w)

    def release(self, n=1):
        if n < 1:
            raise ValueError("n must be one or more")
        s = self._s
        if s.mode:
            if s.mode == DEAD:
                _stale(self, "release")
        else:
            s.point(s.cur, "release", self)
        self._check_release(n)
        was = self._value
        self._value = was + n
        if was == 0:
            for w in self._q:
                s.enable(w)

    def _check_release(self, n):
        pass

    def __exit__(self, *exc):
        self.release()

    def _acquire_off(self, blocking):
        if self._s.mode == DEAD:
            _stale(self, "acquire")
        if self._value > 0:
            self._value -= 1
            return True
        if not blocking:
            return False
        raise GreenletExit

    def __repr__(self):
        return f"<model.{type(self).__name__} #{self.ordinal} value={self._value}>"


class BoundedSemaphore(Semaphore):
    """``threading.BoundedSemaphore``: releasing above the initial value raises ValueError."""

    __slots__ = ("_initial",)
    kind_name = "BoundedSemaphore"

    def __init__(self, value=1):
        Semaphore.__init__(self, value)
        self._initial = value

    def _check_release(self, n):
        if self._value + n > self._initial:
            raise ValueError("Semaphore released too many times")


# ---------------------------------------------------------------------- events
class Event(_Primitive):
    """``threading.Event``: waiters woken by ``set`` return True even if cleared again."""

    __slots__ = ("_flag", "_q", "_woken")
    kind_name = "Event"

    def __init__(self):
        self._flag = False
        self._q = []  # threads whose next operation is wait() on this event
        self._woken = 0  # bits of waiters released by set() (they return True)

    def is_set(self):
        s = self._s
        if not s.mode:
            s.point(s.cur, "is_set", self)
        return self._flag

    isSet = is_set

    def set(self):
        s = self._s
        if s.mode:
            if s.mode == DEAD:
                _stale(self, "set")
        else:
            s.point(s.cur, "set", self)
        self._flag = True
        for w in self._q:
            self._woken |= w.bit
            s.enable(w)

    def clear(self):
        s = self._s
        if s.mode:
            if s.mode == DEAD:
                _stale(self, "clear")
        else:
            s.point(s.cur, "clear", self)
        self._flag = False
        for w in self._q:
            if not self._woken & w.bit:
                s.disable(w)

    def wait(self, timeout=None):
        s = self._s
        if s.mode:
            if s.mode == DEAD:
                _stale(self, "wait")
            if self._flag:
                return True
            raise GreenletExit
        t = s.cur
        if timeout is not None:
            if not timeout > 0:  # zero, negative or NaN: do not block (CPython tests ``timeout > 0``)
                s.point(t, "wait", self)
                return self._flag
            seconds_to_ns(timeout)
        q = self._q
        q.append(t)
        if not self._flag:
            s.disable(t)
        if timeout is not None:
            s.set_deadline(t, timeout)
        s.point(t, "wait", self)
        q.remove(t)
        woken = self._woken & t.bit
        self._woken &= ~t.bit
        if t.deadline is not None:
            s.untime(t)
        elif t.wake is TIMEOUT:
            t.wake = None
            return False
        # Invariant: chosen only when set, or released by a set().
        assert self._flag or woken, f"{self!r}: wait returned while clear"
        return True

    def __repr__(self):
        return f"<model.Event #{self.ordinal} {'set' if self._flag else 'unset'}>"


# --------------------------------------------------------------- thread-locals
def _local_key():
    s = _here()
    if s is None:
        return ("os", _get_ident())
    return (id(s), s.cur.tid)


class local:
    """``threading.local`` keyed by controlled thread (all of them share one OS thread)."""

    __slots__ = ("_local__args", "_local__dicts", "__dict__", "__weakref__")

    def __new__(cls, *args, **kw):
        if (args or kw) and cls.__init__ is object.__init__:
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        object.__setattr__(self, "_local__args", (args, kw))
        d = {}
        object.__setattr__(self, "_local__dicts", {_local_key(): d})
        object.__setattr__(self, "__dict__", d)
        return self

    def __getattribute__(self, name):
        _local_switch(self)
        return object.__getattribute__(self, name)

    def __setattr__(self, name, value):
        if name == "__dict__":
            raise AttributeError(f"{type(self).__name__!r} object attribute '__dict__' is read-only")
        _local_switch(self)
        return object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name == "__dict__":
            raise AttributeError(f"{type(self).__name__!r} object attribute '__dict__' is read-only")
        _local_switch(self)
        return object.__delattr__(self, name)


def _local_switch(self):
    """Point ``self.__dict__`` at the calling thread's dict, creating it on first use."""
    dicts = object.__getattribute__(self, "_local__dicts")
    key = _local_key()
    d = dicts.get(key)
    if d is None:
        d = dicts[key] = {}
        object.__setattr__(self, "__dict__", d)
        args, kw = object.__getattribute__(self, "_local__args")
        init = type(self).__init__
        if init is not object.__init__:
            init(self, *args, **kw)
    else:
        object.__setattr__(self, "__dict__", d)


# ------------------------------------------------------------------- threads
def _state(thread):
    return thread.__dict__.get("_model_state")


def _thread_init(self, group=None, target=None, name=None, args=(), kwargs=None, *, daemon=None):
    s = _here()
    if s is None:
        return _REAL_THREAD_ATTRS["__init__"](self, group, target, name, args, kwargs, daemon=daemon)
    if group is not None:  # CPython asserts this: the same error, reported as the body's
        raise MisuseAssertion("group argument must be None for now")
    if kwargs is None:
        kwargs = {}
    if name:
        name = str(name)
    else:
        s.thread_names += 1
        name = f"Thread-{s.thread_names}"
        if target is not None:
            try:
                name += f" ({target.__name__})"
            except AttributeError:
                pass
    if daemon is None:
        daemon = s.cur.daemon
    _init_fields(self, target, name, args, kwargs, daemon)
    m = ThreadState(s, self, bool(daemon))
    s._ordinals["Thread"] = m.ordinal = s._ordinals.get("Thread", 0) + 1
    if s.tracing:
        m._site = _sched.caller_site()
    self._model_state = m


def _init_fields(self, target, name, args, kwargs, daemon):
    self._target = target
    self._name = name
    self._args = args
    self._kwargs = kwargs
    self._daemonic = bool(daemon)
    self._ident = None
    self._native_id = None
    self._initialized = True
    self._stderr = sys.stderr


def _thread_start(self):
    m = _state(self)
    if m is None:
        return _REAL_THREAD_ATTRS["start"](self)
    s = m.s
    if s.mode:
        if s.mode == DEAD:
            _stale(m, "start")
        raise GreenletExit
    s.point(s.cur, "start", m)
    if m.started:
        raise RuntimeError("threads can only be started once")
    if s.tracing:
        m.begin_site = _code_site(self._target if self._target is not None else type(self).run)
    s.spawn(m)
    self._ident = self._native_id = m.tid + 1


def _code_site(fn):
    code = getattr(fn, "__code__", None)
    if code is None:
        code = getattr(getattr(fn, "__func__", None), "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code is not None else None


def _thread_join(self, timeout=None):
    m = _state(self)
    if m is None:
        return _REAL_THREAD_ATTRS["join"](self, timeout)
    s = m.s
    if not m.started:
        raise RuntimeError("cannot join thread before it is started")
    if s.mode:
        if s.mode == DEAD:
            _stale(m, "join")
        if m.done:
            return
        raise GreenletExit
    t = s.cur
    if m is t:
        raise RuntimeError("cannot join current thread")
    if timeout is not None and timeout <= 0:
        s.point(t, "try_join", m)  # never blocks: may run before the thread exits
        return
    if m.done:
        s.point(t, "join", m)
        return
    if timeout is not None:
        seconds_to_ns(timeout)
    m.joiners.append(t)
    s.disable(t)
    if timeout is not None:
        s.set_deadline(t, timeout)
    s.point(t, "join", m)
    m.joiners.remove(t)
    if t.wake is TIMEOUT:
        t.wake = None
    else:
        s.untime(t)


def _thread_is_alive(self):
    m = _state(self)
    if m is None:
        return _REAL_THREAD_ATTRS["is_alive"](self)
    s = m.s
    if not s.mode:
        s.point(s.cur, "is_alive", m)
    return m.started and not m.done


def _daemon_get(self):
    if _state(self) is None:
        return _REAL_THREAD_ATTRS["daemon"].fget(self)
    return self._daemonic


def _daemon_set(self, daemonic):
    m = _state(self)
    if m is None:
        return _REAL_THREAD_ATTRS["daemon"].fset(self, daemonic)
    if m.started:
        raise RuntimeError("cannot set daemon status of active thread")
    self._daemonic = m.daemon = bool(daemonic)


def _thread_repr(self):
    m = _state(self)
    if m is None:
        return _REAL_THREAD_ATTRS["__repr__"](self)
    status = "initial"
    if m.started:
        status = "stopped" if m.done else "started"
    if self._daemonic:
        status += " daemon"
    if self._ident is not None:
        status += " %s" % self._ident
    return "<%s(%s, %s)>" % (self.__class__.__name__, self._name, status)


THREAD_GRAFTS = {
    "__init__": _thread_init,
    "start": _thread_start,
    "join": _thread_join,
    "is_alive": _thread_is_alive,
    "daemon": property(_daemon_get, _daemon_set),
    "__repr__": _thread_repr,
}

Thread = _RealThread  # grafted during a check; see the module docstring
Timer = _threading.Timer
Barrier = _threading.Barrier


def make_main(s) -> ThreadState:
    """The controlled main thread (id 0, "MainThread") of schedule ``s``."""
    obj = _RealThread.__new__(_threading._MainThread)
    _init_fields(obj, None, "MainThread", (), {}, False)
    m = ThreadState(s, obj, False)
    obj._model_state = m
    obj._ident = obj._native_id = 1
    return m


def make_probe(s) -> ThreadState:
    """The thread that runs ``on_deadlock`` once every other thread is stuck."""
    obj = _RealThread.__new__(_RealThread)
    _init_fields(obj, s.on_deadlock, "on_deadlock", (), {}, True)
    m = ThreadState(s, obj, True)
    m.probe = True
    obj._model_state = m
    if s.tracing:
        m.begin_site = _code_site(s.on_deadlock)
    return m


# --------------------------------------------------------- module functions
def current_thread():
    s = _here()
    if s is None:
        return REAL["current_thread"]()
    return s.cur.tobj


def get_ident():
    s = _here()
    if s is None:
        return REAL["get_ident"]()
    return s.cur.tid + 1


def get_native_id():
    s = _here()
    if s is None:
        return REAL["get_native_id"]()
    return s.cur.tid + 1


def main_thread():
    s = _here()
    if s is None:
        return REAL["main_thread"]()
    return s.threads[0].tobj


def enumerate():
    s = _here()
    if s is None:
        return REAL["enumerate"]()
    return [m.tobj for m in s.threads if not m.done and not m.probe]


def active_count():
    s = _here()
    if s is None:
        return REAL["active_count"]()
    return len(enumerate())
