"""The errors of the checker.

Two kinds of failure must never be confused: *your code is wrong* (a property
the checker found violated, reported in a ``model.Result``; or a misuse of the
API, raised as a ``ModelError``) and *the checker is wrong* (``CheckerBug``,
which says so and asks for a report).
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of every error the checker raises at its caller."""


class CheckerBug(ModelError):
    """An internal error of the checker, not of the code under test."""

    def __init__(self, message: str):
        super().__init__(
            f"{message}\nThis is a bug in the checker (package `model`), not in "
            "your code; please report it with the replay token if there is one."
        )


class Unsupported(ModelError):
    """The code under test made a call the checker cannot control.

    Raised (and reported as property "unsupported") for blocking calls
    implemented in C that would block the one OS thread every controlled
    thread runs on: raw ``_thread`` use, sockets, ``select``, and real locks
    created before the check and contended inside it (caught by the watchdog).
    """


class Nondeterminism(ModelError):
    """Replaying a recorded schedule did not reproduce it.

    The body depends on something the checker does not control (``random``,
    the wall clock read in C, ``id()`` or set iteration order, input files),
    or it changed since the schedule was recorded.
    """


class TokenError(ModelError, ValueError):
    """A replay token could not be decoded or does not fit this body."""


class Violation(Exception):
    """Raised by a body or one of its threads to report a named property.

    ``raise model.Violation("duplicate", "item (0, 1) was got twice")`` makes the
    check fail with ``result.property == "duplicate"``.
    """

    def __init__(self, property: str, message: str = ""):
        if not isinstance(property, str) or not property:
            raise TypeError(f"'property' must be a non-empty str, not {property!r}")
        super().__init__(property, message)
        self.property = property
        self.message = message

    def __str__(self) -> str:
        return f"{self.property}: {self.message}" if self.message else self.property


class CheckFailed(AssertionError):
    """Raised by ``model.assert_passes`` when a check finds a failure; its text is the report."""

    def __init__(self, result):
        super().__init__(result.report())
        self.result = result
