"""Unsupported: queue.SimpleQueue.get blocks in C, where the checker cannot control it."""

import queue
import threading


class Buffer:
    def __init__(self, capacity):
        self.items = queue.SimpleQueue()
        self.free_slots = threading.Semaphore(capacity)

    def put(self, item):
        self.free_slots.acquire()
        self.items.put(item)

    def get(self):
        item = self.items.get()
        self.free_slots.release()
        return item
