"""Hostile: the constructor takes no capacity."""

import queue


class Buffer:
    def __init__(self):
        self.queue = queue.Queue(1)

    def put(self, item):
        self.queue.put(item)

    def get(self):
        return self.queue.get()
