"""Hostile: get is missing."""

import queue


class Buffer:
    def __init__(self, capacity):
        self.queue = queue.Queue(capacity)

    def put(self, item):
        self.queue.put(item)
