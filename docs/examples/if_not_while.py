"""Bug: `if` instead of `while` around the wait in get.

A woken consumer does not re-check: another consumer may have taken the item
between the notify and the wake-up, and popleft() on an empty deque raises.
"""

import collections
import threading


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.lock = threading.Lock()
        self.not_full = threading.Condition(self.lock)
        self.not_empty = threading.Condition(self.lock)

    def put(self, item):
        with self.lock:
            while len(self.items) >= self.capacity:
                self.not_full.wait()
            self.items.append(item)
            self.not_empty.notify()

    def get(self):
        with self.lock:
            if not self.items:
                self.not_empty.wait()
            item = self.items.popleft()
            self.not_full.notify()
            return item

    def qsize(self):
        with self.lock:
            return len(self.items)
