"""A module that imported threading and time names before any check (for test_patching)."""

from threading import Condition, Lock
from time import monotonic, sleep


def two_locks_in_opposite_orders():
    first = Lock()
    second = Lock()
    return first, second


def nap(seconds):
    start = monotonic()
    sleep(seconds)
    return monotonic() - start


def new_condition():
    return Condition()
