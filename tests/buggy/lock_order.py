"""Bug: put takes lock A then B, get takes B then A: a lock-order deadlock."""

import collections
import threading

EXPECT = "deadlock"
SCENARIO = {"capacity": 2}  # a producer and a consumer inside at once needs room for two


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.slots = threading.Semaphore(capacity)
        self.filled = threading.Semaphore(0)
        self.put_lock = threading.Lock()
        self.get_lock = threading.Lock()

    def put(self, item):
        self.slots.acquire()
        with self.put_lock:
            with self.get_lock:
                self.items.append(item)
        self.filled.release()

    def get(self):
        self.filled.acquire()
        with self.get_lock:
            with self.put_lock:
                item = self.items.popleft()
        self.slots.release()
        return item
