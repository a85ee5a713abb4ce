"""Hostile: the constructor starts a thread behind threading's back, with _thread."""

import _thread
import collections
import threading


class Buffer:
    def __init__(self, capacity):
        self.capacity = capacity
        _thread.start_new_thread(_spin, ())
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
            item = self.items.popleft()
            self.changed.notify_all()
            return item


def _spin():
    while True:
        pass
