"""Correct, if wasteful: wait in short timed slices and re-check (polling under virtual time)."""

import threading
from collections import deque

EXPECT = None


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = deque()
        self.lock = threading.Lock()  # guards items
        self.changed = threading.Condition(self.lock)

    def put(self, item):
        with self.lock:
            while len(self.items) >= self.capacity:
                self.changed.wait(timeout=0.01)
            self.items.append(item)
            self.changed.notify_all()

    def get(self):
        with self.lock:
            while not self.items:
                self.changed.wait(timeout=0.01)
            item = self.items.popleft()
            self.changed.notify_all()
            return item

    def qsize(self):
        with self.lock:
            return len(self.items)

