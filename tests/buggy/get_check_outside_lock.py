"""Bug: get tests for an item without the lock, then takes the lock to pop it.

Two consumers can both see the one item; the second popleft() raises.
"""

import collections
import threading

EXPECT = "exception"


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
            self.not_empty.notify_all()

    def get(self):
        while not self.items:
            with self.lock:
                self.not_empty.wait_for(lambda: self.items)
        with self.lock:
            item = self.items.popleft()
            self.not_full.notify()
            return item

    def qsize(self):
        with self.lock:
            return len(self.items)
