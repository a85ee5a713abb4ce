"""Correct: Dijkstra's bounded buffer with counting semaphores and a mutex."""

from collections import deque
from threading import Lock, Semaphore  # imported before the check: must still be controlled

EXPECT = None


class Buffer:
    def __init__(self, capacity):
        self.items = deque()
        self.mutex = Lock()  # guards items
        self.free_slots = Semaphore(capacity)
        self.filled_slots = Semaphore(0)

    def put(self, item):
        self.free_slots.acquire()
        with self.mutex:
            self.items.append(item)
        self.filled_slots.release()

    def get(self):
        self.filled_slots.acquire()
        with self.mutex:
            item = self.items.popleft()
        self.free_slots.release()
        return item
