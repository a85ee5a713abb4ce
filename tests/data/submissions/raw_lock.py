"""Unsupported: a raw _thread lock, which blocks in C where the checker cannot control it."""

import _thread
import collections
import threading


class Buffer:
    def __init__(self, capacity):
        self.items = collections.deque()
        self.mutex = _thread.allocate_lock()  # guards items
        self.free_slots = threading.Semaphore(capacity)
        self.filled_slots = threading.Semaphore(0)

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
