"""Hostile: put spins forever without any synchronisation: a hang in real time."""

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
            while item is not None:  # never false
                pass
            self.items.append(item)
            self.changed.notify_all()

    def get(self):
        with self.lock:
            while not self.items:
                self.changed.wait()
            item = self.items.popleft()
            self.changed.notify_all()
            return item
