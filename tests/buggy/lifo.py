"""Bug: pop() instead of popleft(): a stack, so a consumer sees a producer's items out of order."""

import collections
import threading

EXPECT = "order"
SCENARIO = {"producers": 1, "consumers": 1, "items": 3, "capacity": 2}


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
            while not self.items:
                self.not_empty.wait()
            item = self.items.pop()
            self.not_full.notify()
            return item

    def qsize(self):
        with self.lock:
            return len(self.items)
