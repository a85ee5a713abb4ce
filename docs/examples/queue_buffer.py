"""Correct: delegate to the standard library's queue.Queue."""

import queue


class Buffer:
    def __init__(self, capacity):
        self.queue = queue.Queue(capacity)

    def put(self, item):
        self.queue.put(item)

    def get(self):
        return self.queue.get()

    def qsize(self):
        return self.queue.qsize()
