"""Bug: the conditions have their own locks, not the lock that guards the items.

A consumer checks for items under `lock`, releases it, then waits on
`not_empty`; a put in between notifies nobody, and the wake-up is lost.
"""

import collections
import threading

EXPECT = "deadlock"


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.lock = threading.Lock()
        self.not_full = threading.Condition()
        self.not_empty = threading.Condition()

    def put(self, item):
        while True:
            with self.lock:
                if len(self.items) < self.capacity:
                    self.items.append(item)
                    break
            with self.not_full:
                self.not_full.wait()
        with self.not_empty:
            self.not_empty.notify()

    def get(self):
        while True:
            with self.lock:
                if self.items:
                    item = self.items.popleft()
                    break
            with self.not_empty:
                self.not_empty.wait()
        with self.not_full:
            self.not_full.notify()
        return item

    def qsize(self):
        with self.lock:
            return len(self.items)
