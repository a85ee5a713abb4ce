"""Argument checks of the broker spec: each returns the error an argument gets, or None.

``bool`` is refused wherever a number is expected (docs/broker.md: preconditions
name the argument; the type decides TypeError, the value ValueError).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

from model.specs import Raised

def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def name_error(value: Any, *, allow_none: bool = False) -> Raised | None:
    # A topic or group name: a non-empty str (or None when allowed).
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        return Raised("TypeError")
    return None if value else Raised("ValueError")


def count_error(value: Any) -> Raised | None:
    # capacity, max_deliveries: None or an int >= 1.
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return Raised("TypeError")
    return None if value >= 1 else Raised("ValueError")


def duration_error(value: Any) -> Raised | None:
    # ttl, ack_timeout: None or a number > 0.
    if value is None:
        return None
    if not _real(value):
        return Raised("TypeError")
    return None if value > 0 else Raised("ValueError")  # NaN is not > 0


def timeout_error(value: Any) -> Raised | None:
    # None or a number >= 0.
    if value is None:
        return None
    if not _real(value):
        return Raised("TypeError")
    return None if value >= 0 else Raised("ValueError")


def priority_error(value: Any) -> Raised | None:
    # Any number but NaN.
    if not _real(value):
        return Raised("TypeError")
    return None if value == value else Raised("ValueError")


def headers_error(value: Any) -> Raised | None:
    return None if value is None or isinstance(value, Mapping) else Raised("TypeError")
