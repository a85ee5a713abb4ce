"""Hostile: put takes no item."""

import queue


class Buffer:
    def __init__(self, capacity):
        self.queue = queue.Queue(capacity)

    def put(self):
        self.queue.put(None)

    def get(self):
        return self.queue.get()
