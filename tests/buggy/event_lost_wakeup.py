"""Bug: a lost wake-up with Event: the consumer clears the event after checking, outside the lock.

A put that lands between the emptiness check and `clear()` sets the event,
the clear erases it, and the consumer waits for a signal that already came.
"""

import collections
import threading

EXPECT = "deadlock"


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.lock = threading.Lock()
        self.not_full = threading.Condition(self.lock)
        self.item_ready = threading.Event()

    def put(self, item):
        with self.lock:
            while len(self.items) >= self.capacity:
                self.not_full.wait()
            self.items.append(item)
        self.item_ready.set()

    def get(self):
        while True:
            with self.lock:
                if self.items:
                    item = self.items.popleft()
                    self.not_full.notify()
                    return item
            self.item_ready.clear()
            self.item_ready.wait()

    def qsize(self):
        with self.lock:
            return len(self.items)
