"""Correct: a single condition for both predicates, so every change wakes everyone."""

import threading
from collections import deque

EXPECT = None


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = deque()
        self.changed = threading.Condition()  # guards items

    def put(self, item):
        with self.changed:
            self.changed.wait_for(lambda: len(self.items) < self.capacity)
            self.items.append(item)
            self.changed.notify_all()

    def get(self):
        with self.changed:
            self.changed.wait_for(lambda: self.items)
            item = self.items.popleft()
            self.changed.notify_all()
            return item

    def qsize(self):
        with self.changed:
            return len(self.items)
