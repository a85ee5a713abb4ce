"""Hostile: get crashes the interpreter (a segmentation fault through ctypes)."""

import ctypes
import collections
import threading


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = collections.deque()
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)

    def put(self, item):
        with self.lock:
            while len(self.items) >= self.capacity:
                self.changed.wait()
            self.items.append(item)
            self.changed.notify_all()

    def get(self):
        with self.lock:
            while not self.items:
                self.changed.wait()
            ctypes.string_at(0)
            item = self.items.popleft()
            self.changed.notify_all()
            return item
