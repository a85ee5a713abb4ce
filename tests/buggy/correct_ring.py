"""Correct: a fixed array with head and count, all under one lock."""

import threading

EXPECT = None


class Buffer:
    def __init__(self, capacity):
        self.slots = [None] * capacity
        self.head = 0
        self.count = 0
        self.lock = threading.Lock()  # guards slots, head, count; 0 <= count <= len(slots)
        self.not_full = threading.Condition(self.lock)
        self.not_empty = threading.Condition(self.lock)

    def put(self, item):
        with self.not_full:
            while self.count == len(self.slots):
                self.not_full.wait()
            self.slots[(self.head + self.count) % len(self.slots)] = item
            self.count += 1
            self.not_empty.notify()

    def get(self):
        with self.not_empty:
            while self.count == 0:
                self.not_empty.wait()
            item, self.slots[self.head] = self.slots[self.head], None
            self.head = (self.head + 1) % len(self.slots)
            self.count -= 1
            self.not_full.notify()
            return item

    def qsize(self):
        with self.lock:
            return self.count
