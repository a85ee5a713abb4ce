"""Argument checks shared by the modules of `mq`.

Each check names the argument and the value it got, and returns the value to
use, so call sites read ``capacity = check_capacity(capacity)``.  ``bool`` is
refused wherever a number is expected: ``True`` is an ``int`` to Python but
never what the caller meant.
"""

from __future__ import annotations

import math
import numbers


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int_at_least_one(name: str, value: object, *, allow_none: bool) -> int | None:
    """``value`` as an int >= 1 (or None when allowed); TypeError/ValueError naming ``name``."""
    if value is None and allow_none:
        return None
    expected = "an int >= 1 or None" if allow_none else "an int >= 1"
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"'{name}' must be {expected}, got {value!r}")
    if value < 1:
        raise ValueError(f"'{name}' must be {expected}, got {value!r}")
    return value


def check_capacity(value: object) -> int | None:
    """A queue or topic capacity: None (unbounded) or an int >= 1."""
    return check_int_at_least_one("capacity", value, allow_none=True)


def check_timeout(value: object, name: str = "timeout") -> float | None:
    """A blocking timeout in seconds: None (wait forever) or a number >= 0."""
    if value is None:
        return None
    if not _is_real(value):
        raise TypeError(f"'{name}' must be a non-negative number or None, got {value!r}")
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"'{name}' must be a non-negative number or None, got {value!r}")
    return value


def check_positive(name: str, value: object) -> float | None:
    """A duration that must be > 0 when given (ttl, ack_timeout, intervals); None allowed."""
    if value is None:
        return None
    if not _is_real(value):
        raise TypeError(f"'{name}' must be a positive number of seconds or None, got {value!r}")
    if not value > 0:  # also refuses NaN
        raise ValueError(f"'{name}' must be a positive number of seconds or None, got {value!r}")
    return value


def check_priority(value: object) -> float:
    """A message priority: any real number but NaN (higher is served first)."""
    if not _is_real(value):
        raise TypeError(f"'priority' must be a number, got {value!r}")
    if isinstance(value, float) and math.isnan(value):
        raise ValueError(f"'priority' must be a number that is not NaN, got {value!r}")
    return value


def check_name(name: str, value: object, *, allow_none: bool = False) -> str | None:
    """A topic or group name: a non-empty str (or None when allowed)."""
    if value is None and allow_none:
        return None
    expected = "a non-empty str or None" if allow_none else "a non-empty str"
    if not isinstance(value, str):
        raise TypeError(f"'{name}' must be {expected}, got {value!r}")
    if not value:
        raise ValueError(f"'{name}' must be {expected}, got {value!r}")
    return value
