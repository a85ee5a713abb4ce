"""Hostile: put prints a flood of output, through print and straight to the file descriptors."""

import os
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
            print("flood " * 20_000)
            os.write(1, b"x" * 200_000)
            os.write(2, b"y" * 200_000)
            self.items.append(item)
            self.changed.notify_all()

    def get(self):
        with self.lock:
            while not self.items:
                self.changed.wait()
            item = self.items.popleft()
            self.changed.notify_all()
            return item
