"""Bug: get spins on the emptiness test while holding the lock, so no producer can ever put.

There is no synchronisation operation inside the spin, so it only shows at
line granularity, as a livelock (the step bound is exceeded).
"""

import collections
import threading

EXPECT = "livelock"
SCENARIO = {"producers": 1, "consumers": 1, "items": 1}
GRANULARITY = "line"


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.lock = threading.Lock()
        self.not_full = threading.Condition(self.lock)

    def put(self, item):
        with self.lock:
            while len(self.items) >= self.capacity:
                self.not_full.wait()
            self.items.append(item)

    def get(self):
        with self.lock:
            while not self.items:
                pass
            item = self.items.popleft()
            self.not_full.notify()
            return item
