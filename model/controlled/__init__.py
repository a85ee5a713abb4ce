"""The controlled runtime: what is patched while a check runs, and its restoration.

``Environment`` replaces, for the duration of one ``model.check`` call:

- module attributes of ``threading`` (Lock, RLock, Condition, Semaphore,
  BoundedSemaphore, Event, local, current_thread, get_ident, get_native_id,
  main_thread, enumerate, active_count) and of ``time`` (sleep, monotonic,
  time, perf_counter and their ``_ns`` forms) by the controlled versions;
- methods of ``threading.Thread`` (grafted, see controlled/threading.py), so
  Thread subclasses defined before the check, Timer and Barrier work;
- ``queue``'s private ``time`` (``from time import monotonic as time``) and
  ``queue.SimpleQueue`` (the C class; the pure-Python one is controlled);
- raw ``_thread`` thread and lock creation, socket I/O and ``select`` by
  stand-ins that report "unsupported";
- in each *target module* (the body's module and those passed in
  ``modules=``), every global bound to one of the originals above (what
  ``from threading import Lock`` or ``from time import sleep`` left there).

Everything is restored in ``__exit__``, whatever happened.
"""

from __future__ import annotations

import _thread
import os
import queue as _queue
import sys
import threading as _threading
import time as _time
import types

from model.controlled import threading as cthreading
from model.controlled import time as ctime
from model.controlled.linetrace import LineTracer
from model.controlled.watchdog import Watchdog
from model.controlled.unsupported import (
    IO, OLD_THREAD, RAW_LOCK, RAW_THREAD, SELECT_FUNCTIONS, SOCKET_METHODS,
    make_unsupported,
)
from model.errors import CheckerBug, ModelError
from model.scheduler import _INTERNAL_FILES, internal_file

internal_file(_threading.__file__)
internal_file(_queue.__file__)

_MISSING = object()
_installed_in = None  # OS thread ident of the check that has patched, if any


def _threading_twins() -> dict[str, object]:
    c = cthreading
    return {
        "Lock": c.Lock, "RLock": c.RLock, "Condition": c.Condition,
        "Semaphore": c.Semaphore, "BoundedSemaphore": c.BoundedSemaphore,
        "Event": c.Event, "local": c.local,
        "current_thread": c.current_thread, "currentThread": c.current_thread,
        "get_ident": c.get_ident, "get_native_id": c.get_native_id,
        "main_thread": c.main_thread, "enumerate": c.enumerate,
        "active_count": c.active_count, "activeCount": c.active_count,
        "_time": ctime.monotonic,
        "_start_new_thread": make_unsupported(
            "threading.Thread.start", _threading._start_new_thread, OLD_THREAD),
    }


def _time_twins() -> dict[str, object]:
    return {name: getattr(ctime, name) for name in ctime.REAL}


class Environment:
    """Patches the process for one check; a context manager."""

    def __init__(self, targets=(), line_files=None, watchdog=None):
        self.targets = tuple(targets)
        self.line_files = line_files
        self.watchdog_seconds = watchdog
        self.line_tracer = None
        self.watchdog = None
        self._saved: list[tuple[object, str, object, bool]] = []

    # -------------------------------------------------------------- patching
    def _set(self, owner, name: str, value, *, is_dict=False) -> None:
        if is_dict:
            old = owner.get(name, _MISSING)
            self._saved.append((owner, name, old, True))
            owner[name] = value
            return
        old = vars(owner).get(name, _MISSING)
        self._saved.append((owner, name, old, False))
        setattr(owner, name, value)

    def __enter__(self):
        global _installed_in
        if _installed_in is not None:
            raise ModelError(
                "model.check() is already running"
                + (" in this thread: checks cannot be nested"
                   if _installed_in == _thread.get_ident() else " in another thread")
                + "; the checker patches threading and time process-wide, so "
                "only one check can run at a time in a process"
            )
        _installed_in = _thread.get_ident()
        try:
            self._install()
        except BaseException:
            self._restore()
            _installed_in = None
            raise
        return self

    def _install(self) -> None:
        originals: dict[int, object] = {}  # id(original) -> twin, for targets

        for name, twin in _threading_twins().items():
            orig = getattr(_threading, name)
            originals[id(orig)] = twin
            self._set(_threading, name, twin)
        originals[id(cthreading.REAL["get_ident"])] = cthreading.get_ident
        for name, graft in cthreading.THREAD_GRAFTS.items():
            self._set(_threading.Thread, name, graft)
        for name, twin in _time_twins().items():
            originals[id(getattr(_time, name))] = twin
            self._set(_time, name, twin)

        for name, advice in (("start_new_thread", RAW_THREAD), ("start_new", RAW_THREAD),
                             ("allocate_lock", RAW_LOCK), ("allocate", RAW_LOCK)):
            orig = getattr(_thread, name, None)
            if orig is not None:
                twin = make_unsupported(f"_thread.{name}", orig, advice)
                if name in ("start_new_thread", "start_new"):
                    originals[id(orig)] = twin
                self._set(_thread, name, twin)

        self._set(_queue, "time", ctime.monotonic)
        if _queue.SimpleQueue is not _queue._PySimpleQueue:
            originals[id(_queue.SimpleQueue)] = _queue._PySimpleQueue
            self._set(_queue, "SimpleQueue", _queue._PySimpleQueue)

        sock = sys.modules.get("socket")
        if sock is not None:
            for name in SOCKET_METHODS:
                orig = getattr(sock.socket, name, None)
                if orig is not None:
                    self._set(sock.socket, name, make_unsupported(f"socket.{name}", orig, IO))
            orig = getattr(sock, "getaddrinfo", None)
            if orig is not None:
                self._set(sock, "getaddrinfo", make_unsupported("socket.getaddrinfo", orig, IO))
        sel = sys.modules.get("select")
        if sel is not None:
            for name in SELECT_FUNCTIONS:
                orig = getattr(sel, name, None)
                if orig is not None:
                    self._set(sel, name, make_unsupported(f"select.{name}", orig, IO))

        for mod in self.targets:
            if getattr(mod, "__file__", None) in _INTERNAL_FILES:
                continue
            d = mod.__dict__
            for key, value in list(d.items()):
                twin = originals.get(id(value))
                if twin is not None and twin is not value:
                    self._set(d, key, twin, is_dict=True)

        if self.line_files:
            self.line_tracer = LineTracer(self.line_files)
            self.line_tracer.install()
        if self.watchdog_seconds:
            self.watchdog = Watchdog(self.watchdog_seconds)
            self.watchdog.start()

    def __exit__(self, *exc):
        global _installed_in
        try:
            self._restore()
        finally:
            _installed_in = None
        return False

    def _restore(self) -> None:
        errors = []
        if self.watchdog is not None:
            try:
                self.watchdog.stop()
            except Exception as e:  # pragma: no cover
                errors.append(e)
            self.watchdog = None
        if self.line_tracer is not None:
            try:
                self.line_tracer.uninstall()
            except Exception as e:  # pragma: no cover
                errors.append(e)
            self.line_tracer = None
        while self._saved:
            owner, name, old, is_dict = self._saved.pop()
            try:
                if is_dict:
                    if old is _MISSING:
                        owner.pop(name, None)
                    else:
                        owner[name] = old
                elif old is _MISSING:
                    delattr(owner, name)
                else:
                    setattr(owner, name, old)
            except Exception as e:  # pragma: no cover
                errors.append(e)
        if errors:  # pragma: no cover
            raise CheckerBug(f"could not restore the patched runtime: {errors!r}")


def resolve_modules(body, modules) -> list[types.ModuleType]:
    """The target modules: the one defining ``body``, then those in ``modules``."""
    out: list[types.ModuleType] = []
    mod = sys.modules.get(module_name_of(body) or "")
    if mod is not None:
        out.append(mod)
    if isinstance(modules, (str, types.ModuleType)):
        modules = (modules,)
    for m in modules:
        if isinstance(m, str):
            import importlib

            m = importlib.import_module(m)
        if not isinstance(m, types.ModuleType):
            raise TypeError(f"'modules' must hold modules or module names, not {m!r}")
        if m not in out:
            out.append(m)
    return out


def module_name_of(body) -> str | None:
    fn = getattr(body, "func", body)  # functools.partial
    name = getattr(fn, "__module__", None)
    if name is None:
        name = type(fn).__module__
    return name


def code_file_of(body) -> str | None:
    fn = getattr(body, "func", body)
    code = getattr(fn, "__code__", None)
    if code is None:
        code = getattr(getattr(fn, "__call__", None), "__code__", None)
    return code.co_filename if code is not None else None


def line_files(body, modules) -> set[str]:
    """The source files whose lines are scheduling points at line granularity."""
    files = set()
    for m in modules:
        f = getattr(m, "__file__", None)
        if f:
            files.add(f)
            files.add(os.path.abspath(f))
    f = code_file_of(body)
    if f:
        files.add(f)
    # The checker's own package (the scenario harness included) is trusted:
    # its lines are never scheduling points.
    return {f for f in files if not os.path.abspath(f).startswith(_MODEL_DIR)}


_MODEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
