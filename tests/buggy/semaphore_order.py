"""Bug: put takes the mutex before waiting for a free slot.

A producer that finds the buffer full sleeps holding the mutex, and no
consumer can ever take an item to free a slot.
"""

import collections
import threading

EXPECT = "deadlock"


class Buffer:
    def __init__(self, capacity):
        self.items = collections.deque()
        self.mutex = threading.Lock()
        self.free_slots = threading.Semaphore(capacity)
        self.filled_slots = threading.Semaphore(0)

    def put(self, item):
        with self.mutex:
            self.free_slots.acquire()
            self.items.append(item)
        self.filled_slots.release()

    def get(self):
        self.filled_slots.acquire()
        with self.mutex:
            item = self.items.popleft()
        self.free_slots.release()
        return item
