"""Hostile: importing it starts a real thread through threading's private helper."""

import queue
import threading


def _spin():
    while True:
        pass


threading._start_new_thread(_spin, ())


class Buffer:
    def __init__(self, capacity):
        self.queue = queue.Queue(capacity)

    def put(self, item):
        self.queue.put(item)

    def get(self):
        return self.queue.get()
