"""Hostile: get raises an exception whose message holds characters XML cannot carry."""

import queue


class Buffer:
    def __init__(self, capacity):
        self.queue = queue.Queue(capacity)

    def put(self, item):
        self.queue.put(item)

    def get(self):
        raise ValueError("bad \x00 byte \x1b[31m and a bell \x07")
