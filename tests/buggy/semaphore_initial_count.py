"""Bug: the filled-slots semaphore starts at the capacity instead of 0.

A consumer passes it before anything was put, and popleft() on the empty
deque raises.
"""

import collections
import threading

EXPECT = "exception"


class Buffer:
    def __init__(self, capacity):
        self.items = collections.deque()
        self.mutex = threading.Lock()
        self.free_slots = threading.Semaphore(capacity)
        self.filled_slots = threading.Semaphore(capacity)

    def put(self, item):
        self.free_slots.acquire()
        with self.mutex:
            self.items.append(item)
        self.filled_slots.release()

    def get(self):
        self.filled_slots.acquire()
        with self.mutex:
            item = self.items.popleft()
        self.free_slots.release()
        return item
