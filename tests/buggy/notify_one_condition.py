"""Bug: one condition for both predicates, woken with notify() instead of notify_all().

A producer's notify can wake another producer (and a consumer's another
consumer); the woken thread goes back to sleep and the signal is gone.
"""

import collections
import threading

EXPECT = "deadlock"


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.changed = threading.Condition()

    def put(self, item):
        with self.changed:
            while len(self.items) >= self.capacity:
                self.changed.wait()
            self.items.append(item)
            self.changed.notify()

    def get(self):
        with self.changed:
            while not self.items:
                self.changed.wait()
            item = self.items.popleft()
            self.changed.notify()
            return item

    def qsize(self):
        with self.changed:
            return len(self.items)
