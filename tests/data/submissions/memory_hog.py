"""Hostile: put allocates memory until there is none left."""

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
            hog = []
            while True:
                hog.append(bytearray(1 << 20))
            self.changed.notify_all()

    def get(self):
        with self.lock:
            while not self.items:
                self.changed.wait()
            item = self.items.popleft()
            self.changed.notify_all()
            return item
